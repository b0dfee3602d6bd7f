"""The common channel interface: value types, errors, limits and chunking."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone

import pytest
from listing_sync.adapters.base import (
    AuthError,
    ChannelAdapter,
    ChannelError,
    ConfigurationError,
    DelistRequest,
    ItemResult,
    Limits,
    ListingDraft,
    ListingRef,
    MissingCredential,
    Money,
    Operation,
    Order,
    OrderCursor,
    OrderLine,
    OrderStatus,
    PermanentItemError,
    RateLimited,
    RequestRejected,
    RetryableError,
    StockUpdate,
    TransientError,
    Variation,
    utc,
)
from listing_sync.config import channels as config_channels
from pydantic import BaseModel, ConfigDict, ValidationError

from tests.adapters.toy import ToyAdapter
from tests.conftest import make_channel

CST = timezone(timedelta(hours=8))


def usd(amount: str) -> Money:
    return Money.of(amount, "USD")


# -------------------------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (RateLimited, True),
        (TransientError, True),
        (AuthError, False),
        (ConfigurationError, False),
        (RequestRejected, False),
        (PermanentItemError, False),
    ],
)
def test_error_hierarchy(error: type[ChannelError], retryable: bool) -> None:
    assert issubclass(error, ChannelError)
    assert issubclass(error, RetryableError) is retryable
    assert error("x").retryable is retryable


def test_error_text_names_channel_and_code() -> None:
    error = RateLimited("throttled on GET /orders", channel="ebay-us", code="ApiCallLimit", retry_after=30)
    assert str(error) == "[ebay-us] throttled on GET /orders (ApiCallLimit)"
    assert str(TransientError("timed out")) == "timed out"
    assert error.retry_after == 30


def test_a_missing_credential_is_a_configuration_error_and_a_key_error() -> None:
    adapter = ToyAdapter(make_channel("toy", name="toy-live", credentials={"refresh_token": "rt-1"}))
    assert adapter.credential("refresh_token") == "rt-1"
    with pytest.raises(MissingCredential) as info:
        adapter.credential("client_secret")
    assert isinstance(info.value, ConfigurationError) and isinstance(info.value, KeyError)
    assert isinstance(info.value, config_channels.MissingCredential)  # whoever catches config's error gets it too
    assert not info.value.retryable
    assert str(info.value) == (
        "[toy-live] channel 'toy-live' has no credential 'client_secret' in the channels file: "
        "add it under [channels.credentials]"
    )


def test_item_results() -> None:
    ref = ListingRef("A", "123")
    ok = ItemResult.success("A", ref=ref, state="submitted")
    assert (ok.ok, ok.state, ok.ref, ok.code) == (True, "submitted", ref, None)

    failed = ItemResult.failure("B", "E42", "price too low", retryable=False)
    assert (failed.ok, failed.state, failed.code, failed.message) == (False, "failed", "E42", "price too low")

    throttled = ItemResult.from_error("C", RateLimited("slow down", retry_after=5))
    assert (throttled.code, throttled.retryable, throttled.retry_after) == ("RateLimited", True, 5)
    coded = ItemResult.from_error("D", PermanentItemError("unknown SKU", code="25002"))
    assert (coded.code, coded.message, coded.retryable) == ("25002", "unknown SKU", False)


# --------------------------------------------------------------------------------------- value types
def test_value_types_are_immutable() -> None:
    attributes = {"Color": ("White",)}
    draft = ListingDraft("A", "Mug", "A mug", "123", usd("9.90"), 3, attributes=attributes)
    attributes["Color"] = ("Black",)  # the caller's dict is copied, not shared

    assert draft.attributes["Color"] == ("White",)
    with pytest.raises(dataclasses.FrozenInstanceError):
        draft.title = "Cup"  # type: ignore[misc]
    with pytest.raises(TypeError):
        draft.attributes["Size"] = ("L",)  # type: ignore[index]
    ref = ListingRef("A", "1", {"offer_id": "9"})
    with pytest.raises(TypeError):
        ref.ids["offer_id"] = "10"  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        StockUpdate("A", 1).quantity = 2  # type: ignore[misc]


def test_value_types_are_hashable() -> None:
    ref = ListingRef("A", "1", {"offer_id": "9"})
    variation = Variation("A-W", usd("1"), 1, {"Color": "White"}, ref=ref)
    draft = ListingDraft("A", "Mug", "d", "1", usd("1"), 1, attributes={"c": ("x",)}, variations=(variation,))

    assert {ref, ListingRef("A", "1", {"offer_id": "9"})} == {ref}
    assert len({draft, variation, ItemResult.success("A", ref=ref)}) == 3


@pytest.mark.parametrize(
    "build",
    [
        lambda: ListingDraft("A", "t", "d", "1", usd("1"), -1),
        lambda: Variation("A", usd("1"), -1),
        lambda: StockUpdate("A", -1),
    ],
)
def test_negative_quantities_are_refused(build) -> None:
    with pytest.raises(ValueError, match="negative"):
        build()


def test_listing_draft_helpers() -> None:
    plain = ListingDraft("A", "t", "d", "1", Money.of("100", "JPY"), 1)
    assert plain.currency == "JPY"
    assert plain.all_skus() == ("A",)
    variants = (Variation("A-S", usd("1"), 1), Variation("A-L", usd("1"), 2))
    assert dataclasses.replace(plain, variations=variants).all_skus() == ("A-S", "A-L")


def test_utc_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="naive"):
        utc(datetime(2026, 1, 1, 12))
    converted = utc(datetime(2026, 1, 1, 12, tzinfo=CST))
    assert converted == datetime(2026, 1, 1, 4, tzinfo=UTC)
    assert converted.tzinfo is UTC


def test_orders_carry_utc_times() -> None:
    line = OrderLine("1", "A", 2, usd("5"))
    placed = datetime(2026, 3, 1, 9, tzinfo=CST)
    order = Order("O1", OrderStatus.PAID, "WAIT_SELLER_SEND_GOODS", placed, placed, "USD", (line,), usd("10"))
    assert order.placed_at.tzinfo is UTC and order.placed_at.hour == 1
    with pytest.raises(ValueError, match="naive"):
        Order("O2", OrderStatus.PAID, "paid", datetime(2026, 3, 1), placed, "USD", (line,), usd("10"))


@pytest.mark.parametrize(
    "cursor",
    [
        OrderCursor(datetime(2026, 1, 1, tzinfo=UTC)),
        OrderCursor(datetime(2026, 1, 1, 8, tzinfo=CST), datetime(2026, 1, 2, tzinfo=UTC), "page-token/2=="),
    ],
)
def test_order_cursor_json_round_trip(cursor: OrderCursor) -> None:
    restored = OrderCursor.from_json(cursor.to_json())
    assert restored == cursor
    assert restored.since.tzinfo is UTC


def test_order_cursor_reads_z_suffix() -> None:
    cursor = OrderCursor.from_json('{"since": "2026-01-01T00:00:00Z"}')
    assert cursor == OrderCursor(datetime(2026, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize(
    "ref",
    [ListingRef("A"), ListingRef("A", "123", {"num_iid": "55", "properties": "1627207:28320"})],
)
def test_listing_ref_json_round_trip(ref: ListingRef) -> None:
    restored = ListingRef.from_json(ref.to_json())
    assert restored == ref
    assert restored.get("num_iid") == ref.get("num_iid")


# --------------------------------------------------------------------------------- limits, chunking
LIMITS = Limits(publish=2, price=50, stock=3, delist=4, orders_page=100, rate=2.0)


@pytest.mark.parametrize(
    ("op", "size"),
    [(Operation.PUBLISH, 2), (Operation.PRICE, 50), (Operation.STOCK, 3), (Operation.DELIST, 4), (Operation.RELIST, 4)],
)
def test_limits_batch(op: Operation, size: int) -> None:
    assert LIMITS.batch(op) == size


def test_chunks_never_exceed_the_declared_batch() -> None:
    adapter = ToyAdapter(make_channel("toy"))  # stock: 3 per call
    updates = [StockUpdate(f"S{i}", i) for i in range(7)]

    chunks = list(adapter.chunks(Operation.STOCK, updates))

    assert [len(c) for c in chunks] == [3, 3, 1]
    assert [u for c in chunks for u in c] == updates
    assert list(adapter.chunks(Operation.DELIST, [])) == []
    assert adapter.name == "toy-test"


def test_channel_adapter_is_abstract() -> None:
    with pytest.raises(TypeError):
        ChannelAdapter(make_channel("toy"))  # type: ignore[abstract]


def test_count_calls_follows_the_adapters_own_chunking() -> None:
    class PairsOfAKind(ToyAdapter):
        """Stock batches hold one product's SKUs (the prefix before '-'), as some marketplaces require."""

        def chunks(self, op, items):
            groups: dict[str, list] = {}
            for item in items:
                groups.setdefault(item.sku.split("-")[0], []).append(item)
            yield from groups.values()

    skus = [StockUpdate(sku, 1) for sku in ("A-1", "A-2", "B-1", "C-1", "C-2")]
    assert PairsOfAKind(make_channel("toy")).count_calls(Operation.STOCK, skus) == 3  # A, B, C
    assert ToyAdapter(make_channel("toy")).count_calls(Operation.STOCK, skus) == 2  # flat: 3 per call
    assert ToyAdapter(make_channel("toy")).count_calls(Operation.STOCK, []) == 0


def test_count_calls_falls_back_to_the_batch_maximum_when_chunking_needs_more() -> None:
    class NeedsVariations(ToyAdapter):
        def chunks(self, op, items):
            for item in items:
                yield [item] * len(item.variations)  # items here carry only sku and ref

    items = [StockUpdate(f"S{i}", 1) for i in range(7)]
    assert NeedsVariations(make_channel("toy")).count_calls(Operation.STOCK, items) == 3  # 7 at 3 per call


def test_limits_calls_rounds_up() -> None:
    assert [LIMITS.calls(Operation.PUBLISH, n) for n in (0, 1, 2, 3, 5)] == [0, 1, 1, 2, 3]


class Uncounted(ChannelAdapter):
    """An adapter that reaches no network and forgot to report its calls."""

    kind = "uncounted"
    limits = LIMITS

    def publish(self, drafts):
        return []

    def push_prices(self, updates):
        return []

    def push_stock(self, updates):
        return []

    def delist(self, requests):
        return []

    def relist(self, requests):
        return []

    def orders_since(self, cursor):
        raise NotImplementedError

    def listings(self):
        return iter(())


class ShelfOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    shelf: str
    depth: int = 3


class Offline(Uncounted):
    kind = "offline"
    options_model = ShelfOptions

    @property
    def api_calls(self) -> int:
        return 0


def test_api_calls_is_part_of_the_interface() -> None:
    with pytest.raises(TypeError, match="api_calls"):
        Uncounted(make_channel("toy"))  # type: ignore[abstract]


def test_every_adapter_takes_the_shared_constructor_and_gets_its_options_validated() -> None:
    adapter = Offline(
        make_channel("offline", options={"shelf": "A1"}), transport=None, trace=None, timeout=5.0, retry=None
    )
    assert adapter.options == ShelfOptions(shelf="A1", depth=3)
    with pytest.raises(ValidationError):
        Offline(make_channel("offline", options={"depth": "deep"}))
    assert Uncounted.options_model is None and ToyAdapter(make_channel("toy")).options is None


def test_delist_request_defaults() -> None:
    request = DelistRequest("A")
    assert (request.ref, request.quantity) == (None, None)
