"""A second opinion on the Amazon emulator: the python-amazon-sp-api client (PyPI ``python-amazon-sp-api``),
not our adapter, driven against the emulator served over loopback HTTP through the flows the adapter uses.
What the client sends must be accepted, and what the emulator answers must parse in the client.

Serving: ``AmazonEmulator.serve()`` on 127.0.0.1 with the channel's LWA credentials (the fixture below; the
``syncer emulator serve`` CLI is not involved). The client is pointed at it by its own knobs: ``endpoint``
for the SP-API and an ``AccessTokenClient`` subclass for LWA. The client writes its ``Host`` header as
``endpoint[8:]`` (it assumes ``https://``), so a request hook sets it from the URL; another hook refuses
any request that would leave loopback. Orders use the client's Orders API v2026-01-01 (``searchOrders``,
``getOrder``); its v0 client is used only to show the removal answer and the old call count.
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

sp_api = pytest.importorskip("sp_api", reason="python-amazon-sp-api is in the test extra")

from listing_sync.adapters.amazon.emulated_orders import V0_REMOVAL  # noqa: E402
from listing_sync.adapters.amazon.emulator import AmazonEmulator  # noqa: E402
from sp_api.api import Feeds, ListingsItems, Orders  # noqa: E402
from sp_api.auth import AccessTokenClient  # noqa: E402
from sp_api.auth import access_token_client as token_module  # noqa: E402
from sp_api.base import Marketplaces, SellingApiException  # noqa: E402
from sp_api.base._transport_httpx import HttpxTransport  # noqa: E402
from sp_api.base.credential_provider import CredentialProvider  # noqa: E402

from tests.adapters.amazon.conftest import CREDS, SELLER, US, Clock  # noqa: E402

FEED_TYPE = "application/json; charset=UTF-8"


def _loopback_only(request: httpx.Request) -> None:
    if request.url.host != "127.0.0.1":
        raise AssertionError(f"the official-client test would leave loopback: {request.url}")
    request.headers["host"] = request.url.netloc.decode()  # the client's own is endpoint[8:]


class Served:
    """The served emulator and factories of official clients pointed at it."""

    def __init__(self, emulator: AmazonEmulator, port: int, clock: Clock) -> None:
        self.emulator, self.port, self.clock = emulator, port, clock
        self.base = f"http://127.0.0.1:{port}"
        self.token_client = type(
            "LoopbackLwa", (AccessTokenClient,), {"scheme": "http://", "host": f"127.0.0.1:{port}"}
        )

    def client(self, cls: Any, **kwargs: Any) -> Any:
        credentials = {"lwa_app_id": CREDS["client_id"], "lwa_client_secret": CREDS["client_secret"]}
        client = cls(
            marketplace=Marketplaces.US,
            refresh_token=CREDS["refresh_token"],
            credentials=credentials,
            auth_token_client_class=self.token_client,
            **kwargs,
        )
        client.endpoint = self.base
        client._transport = HttpxTransport(client=httpx.Client(event_hooks={"request": [_loopback_only]}))
        return client

    def settle(self, seconds: float = 1) -> None:
        self.clock.now += seconds


@pytest.fixture
def served(monkeypatch) -> Iterator[Served]:
    for name in ("NO_PROXY", "no_proxy"):  # loopback goes direct, whatever proxy the environment names
        monkeypatch.setenv(name, "127.0.0.1")
    clock = Clock()
    emulator = AmazonEmulator(
        credentials=dict(CREDS), options={"seller_id": SELLER, "feed_seconds": 30}, clock=clock, now=clock.utc
    )
    server = emulator.serve()
    token_module.cache.clear()  # the client caches tokens per refresh token, process-wide
    try:
        yield Served(emulator, server.server_address[1], clock)
    finally:
        token_module.cache.clear()
        server.shutdown()
        server.server_close()


def offer(price: str, quantity: int | None = None) -> list[dict[str, Any]]:
    patches = [
        {
            "op": "replace",
            "path": "/attributes/purchasable_offer",
            "value": [
                {
                    "marketplace_id": US,
                    "currency": "USD",
                    "audience": "ALL",
                    "our_price": [{"schedule": [{"value_with_tax": float(price)}]}],
                }
            ],
        }
    ]
    if quantity is not None:
        patches.append(
            {
                "op": "merge",
                "path": "/attributes/fulfillment_availability",
                "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": quantity}],
            }
        )
    return patches


def put_body(title: str, price: str, quantity: int, ean: str) -> dict[str, Any]:
    mp = {"marketplace_id": US}
    return {
        "productType": "LUGGAGE",
        "requirements": "LISTING",
        "attributes": {
            "item_name": [{"value": title, "language_tag": "en_US", **mp}],
            "condition_type": [{"value": "new_new", **mp}],
            "externally_assigned_product_identifier": [{"type": "ean", "value": ean, **mp}],
            **{p["path"].rsplit("/", 1)[1]: p["value"] for p in offer(price, quantity)},
        },
    }


def publish(served: Served, skus: dict[str, str]) -> Any:
    client = served.client(ListingsItems, version="2021-08-01")
    for n, (sku, ean) in enumerate(skus.items()):
        answer = client.put_listings_item(SELLER, sku, marketplaceIds=[US], body=put_body(sku, "10.00", 5 + n, ean))
        assert answer.payload["status"] == "ACCEPTED" and answer.payload["sku"] == sku
    served.settle()
    return client


# ------------------------------------------------------------------------------------------------ flows
def test_lwa_token_from_the_served_emulator(served):
    """The client's own token request (form body, no Basic) is accepted; the token opens seller calls."""
    credentials = CredentialProvider(
        credentials={"lwa_app_id": CREDS["client_id"], "lwa_client_secret": CREDS["client_secret"]}
    ).credentials
    token = served.token_client(refresh_token=CREDS["refresh_token"], credentials=credentials).get_auth()
    assert token.access_token.startswith("Atza|") and token.expires_in == 3600
    assert served.emulator.state["tokens"][token.access_token] > served.clock.now


def test_listings_put_get_patch_price_and_quantity_search_delete(served):
    client = publish(served, {"BAG-1": "4006381333931", "BAG-2": "5012345678900"})
    got = client.get_listings_item(
        SELLER, "BAG-1", marketplaceIds=[US], includedData=["summaries", "offers", "fulfillmentAvailability", "issues"]
    )
    assert got.payload["sku"] == "BAG-1" and got.payload["summaries"][0]["status"] == ["DISCOVERABLE", "BUYABLE"]
    price = got.payload["offers"][0]["price"]
    assert price["currencyCode"] == "USD" and Decimal(price["amount"]) == Decimal("10.00")  # a decimal string
    assert got.payload["fulfillmentAvailability"] == [{"fulfillmentChannelCode": "DEFAULT", "quantity": 5}]

    patched = client.patch_listings_item(
        SELLER, "BAG-1", marketplaceIds=[US], body={"productType": "LUGGAGE", "patches": offer("12.50", 9)}
    )
    assert patched.payload["status"] == "ACCEPTED" and patched.payload["submissionId"]
    served.settle()
    again = client.get_listings_item(
        SELLER, "BAG-1", marketplaceIds=[US], includedData=["offers", "fulfillmentAvailability"]
    )
    assert Decimal(again.payload["offers"][0]["price"]["amount"]) == Decimal("12.50")
    assert again.payload["fulfillmentAvailability"][0]["quantity"] == 9

    bad = client.patch_listings_item(
        SELLER,
        "BAG-1",
        marketplaceIds=[US],
        body={"productType": "LUGGAGE", "patches": [{"op": "replace", "path": "/attributes/a/b", "value": [{}]}]},
    )
    assert bad.payload["status"] == "INVALID" and bad.payload["issues"][0]["categories"]

    page = client.search_listings_items(SELLER, marketplaceIds=[US], pageSize=1, sortBy="sku", sortOrder="ASC")
    assert page.payload["numberOfResults"] == 2 and [i["sku"] for i in page.payload["items"]] == ["BAG-1"]
    assert page.next_token == "1"
    rest = client.search_listings_items(
        SELLER, marketplaceIds=[US], pageSize=1, sortBy="sku", sortOrder="ASC", pageToken=page.next_token
    )
    assert [i["sku"] for i in rest.payload["items"]] == ["BAG-2"] and rest.next_token is None
    found = client.search_listings_items(
        SELLER, marketplaceIds=[US], identifiers=["5012345678900"], identifiersType="EAN"
    )
    assert [i["sku"] for i in found.payload["items"]] == ["BAG-2"]

    deleted = client.delete_listings_item(SELLER, "BAG-2", marketplaceIds=[US])
    assert deleted.payload["status"] == "ACCEPTED"
    served.settle()
    with pytest.raises(SellingApiException) as missing:
        client.get_listings_item(SELLER, "BAG-2", marketplaceIds=[US])
    assert missing.value.code == 404


def test_feed_flow_document_upload_create_poll_result_list_cancel(served):
    publish(served, {"BAG-1": "4006381333931"})
    feeds = served.client(Feeds, version="2021-06-30")
    document = {
        "header": {"sellerId": SELLER, "version": "2.0", "issueLocale": "en_US"},
        "messages": [
            {
                "messageId": 1,
                "sku": "BAG-1",
                "operationType": "PATCH",
                "productType": "LUGGAGE",
                "patches": offer("8.00", 3),
            },
            {
                "messageId": 2,
                "sku": "BAG-1",
                "operationType": "PATCH",
                "productType": "LUGGAGE",
                "patches": [{"op": "replace", "path": "/attributes/x"}],
            },
        ],
    }
    created = feeds.create_feed_document(io.BytesIO(json.dumps(document).encode()), FEED_TYPE)
    doc_id = created.payload["feedDocumentId"]
    stored = served.emulator.state["documents"][doc_id]
    assert json.loads(stored["content"]) == document  # the client's upload reached the presigned URL intact
    feed = feeds.create_feed("JSON_LISTINGS_FEED", doc_id, marketplaceIds=[US])
    feed_id = feed.payload["feedId"]
    assert feeds.get_feed(feed_id).payload["processingStatus"] == "IN_QUEUE"
    served.settle(31)
    done = feeds.get_feed(feed_id).payload
    assert done["processingStatus"] == "DONE" and done["resultFeedDocumentId"]
    report = json.loads(feeds.get_feed_result_document(done["resultFeedDocumentId"]))
    assert report["summary"] == {
        "errors": 1,
        "warnings": 0,
        "messagesProcessed": 2,
        "messagesAccepted": 1,
        "messagesInvalid": 1,
    }
    assert [i["messageId"] for i in report["issues"]] == [2]
    assert Decimal(served.emulator.listing_state("BAG-1")["price"]) == Decimal("8.00")

    second = feeds.submit_feed(
        "JSON_LISTINGS_FEED", io.BytesIO(json.dumps(document).encode()), FEED_TYPE, marketplaceIds=[US]
    )
    second_id = second[1].payload["feedId"]
    listed = feeds.get_feeds(feedTypes=["JSON_LISTINGS_FEED"], pageSize=1)
    assert [f["feedId"] for f in listed.payload["feeds"]] == [second_id] and listed.next_token
    older = feeds.get_feeds(nextToken=listed.next_token)
    assert [f["feedId"] for f in older.payload["feeds"]] == [feed_id]
    feeds.cancel_feed(second_id)
    assert feeds.get_feed(second_id).payload["processingStatus"] == "CANCELLED"
    with pytest.raises(SellingApiException) as late:
        feeds.cancel_feed(feed_id)
    assert late.value.code == 400


def _orders(served: Served, count: int) -> list[str]:
    client = served.client(ListingsItems, version="2021-08-01")
    client.put_listings_item(
        SELLER, "BULK", marketplaceIds=[US], body=put_body("Bulk", "3.00", 10_000, "4006381333931")
    )
    served.settle()
    ids = served.emulator.generate_orders(count)
    served.settle(600)
    return ids


def test_orders_2026_search_with_filters_and_paging_and_get_order(served):
    ids = _orders(served, 5)
    served.emulator.set_order_status(ids[0], "SHIPPED")
    served.settle(180)
    orders = served.client(Orders, version="2026-01-01")
    since = (served.clock.utc() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    query = {"lastUpdatedAfter": since, "marketplaceIds": [US], "fulfillmentStatuses": ["UNSHIPPED"]}
    first = orders.search_orders(maxResultsPerPage=3, includedData=["FULFILLMENT", "PROCEEDS", "RECIPIENT"], **query)
    assert len(first.payload["orders"]) == 3 and first.next_token
    order = first.payload["orders"][0]
    assert (
        order["fulfillment"]["fulfillmentStatus"] == "UNSHIPPED"
        and order["orderItems"][0]["product"]["sellerSku"] == "BULK"
    )
    assert order["proceeds"]["grandTotal"]["currencyCode"] == "USD" and "buyer" not in order
    second = orders.search_orders(maxResultsPerPage=3, paginationToken=first.next_token, **query)
    got = [o["orderId"] for o in first.payload["orders"] + second.payload["orders"]]
    assert sorted(got) == sorted(ids[1:]) and second.next_token is None
    shipped = orders.search_orders(lastUpdatedAfter=since, marketplaceIds=[US], fulfillmentStatuses=["SHIPPED"])
    assert [o["orderId"] for o in shipped.payload["orders"]] == [ids[0]]
    one = orders.get_order(ids[0], includedData=["FULFILLMENT", "BUYER"])
    assert (
        one.payload["order"]["orderId"] == ids[0]
        and one.payload["order"]["fulfillment"]["fulfillmentStatus"] == "SHIPPED"
    )
    assert one.payload["order"]["buyer"]["buyerEmail"].endswith("@marketplace.amazon.com")
    with pytest.raises(SellingApiException) as refused:
        orders.search_orders(createdAfter=since, lastUpdatedAfter=since, marketplaceIds=[US])
    assert refused.value.code == 400


def test_calls_per_100_orders_v0_against_v2026(served):
    """The official clients pull the same 100 orders: v0 takes getOrders + one getOrderItems per order,
    v2026-01-01 takes one searchOrders."""
    ids = _orders(served, 100)
    since = (served.clock.utc() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    served.emulator.requests.clear()
    v0 = served.client(Orders)  # the client's default is v0
    listed = v0.get_orders(LastUpdatedAfter=since, MarketplaceIds=[US])
    for order in listed.payload["Orders"]:
        served.settle(2)  # getOrderItems is 0.5/s (burst 30): the client has no limiter of its own
        assert v0.get_order_items(order["AmazonOrderId"]).payload["OrderItems"]
    v0_calls = len([r for r in served.emulator.requests if "/orders/" in r.url.path])
    served.emulator.requests.clear()
    new = served.client(Orders, version="2026-01-01")
    page = new.search_orders(lastUpdatedAfter=since, marketplaceIds=[US])
    assert sorted(o["orderId"] for o in page.payload["orders"]) == sorted(ids)
    v2026_calls = len([r for r in served.emulator.requests if "/orders/" in r.url.path])
    assert (v0_calls, v2026_calls) == (101, 1)


def test_v0_orders_after_the_removal_date_fail_in_the_client(served):
    _orders(served, 1)
    served.emulator.now = lambda: V0_REMOVAL + timedelta(hours=1)
    v0 = served.client(Orders)
    with pytest.raises(SellingApiException) as removed:
        v0.get_orders(LastUpdatedAfter="2027-03-27T00:00:00Z", MarketplaceIds=[US])
    assert removed.value.code == 403 and removed.value.error[0]["code"] == "Unauthorized"
    new = served.client(Orders, version="2026-01-01")
    assert new.search_orders(lastUpdatedAfter="2027-03-27T00:00:00Z", marketplaceIds=[US]).payload["orders"] == []


def test_report_is_gzip_and_the_client_unpacks_it(served):
    """The processing report is stored GZIP (compressionAlgorithm) and the client's own unpacking reads it."""
    publish(served, {"BAG-1": "4006381333931"})
    feeds = served.client(Feeds, version="2021-06-30")
    document = {
        "header": {"sellerId": SELLER, "version": "2.0"},
        "messages": [{"messageId": 1, "sku": "BAG-1", "operationType": "DELETE"}],
    }
    _, feed = feeds.submit_feed(
        "JSON_LISTINGS_FEED", io.BytesIO(json.dumps(document).encode()), FEED_TYPE, marketplaceIds=[US]
    )
    served.settle(31)
    result_id = feeds.get_feed(feed.payload["feedId"]).payload["resultFeedDocumentId"]
    stored = served.emulator.state["documents"][result_id]
    assert (
        stored["gzip"] is True
        and gzip.decompress(gzip.compress(stored["content"].encode())) == stored["content"].encode()
    )
    report = json.loads(feeds.get_feed_result_document(result_id))
    assert report["summary"]["messagesAccepted"] == 1 and served.emulator.listing_state("BAG-1") is None
