"""The bulk-change commands end to end: price, stock, listings, changes apply/list/show/undo, history,
--format json/csv, confirmation, the guard, and the sync they trigger."""

from __future__ import annotations

import csv
import io
import json
import os
import re
from decimal import Decimal
from pathlib import Path

import pytest
from listing_sync.config.settings import get_settings
from listing_sync.jobs.app import huey
from listing_sync.syncer import db
from listing_sync.syncer.cli.app import app
from listing_sync.syncer.context import current_user
from listing_sync.syncer.models import ChangeItem, ChangeSet, Channel, ChannelListing, Sku, StockLevel, StockMovement
from scenario import CHANNEL_TEMPLATES, mark_published
from sqlalchemy import select
from typer.testing import CliRunner

CATALOG = (
    "sku,title,category,tags,base_price,cost,currency,stock[SH]\n"
    "TEA-1,Green tea,tea,gift;spring,100.00,40,CNY,10\n"
    "TEA-2,Black tea,tea,,200.00,80,CNY,10\n"
    "HONEY-1,Honey,honey,gift,50.00,20,CNY,10\n"
)


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    data = tmp_path / "data"
    channels = tmp_path / "channels.toml"
    channels.write_text(CHANNEL_TEMPLATES["taobao"] + CHANNEL_TEMPLATES["shopify"], encoding="utf-8")
    monkeypatch.setenv("SYNCER_DATA_DIR", str(data))
    monkeypatch.setenv("SYNCER_CHANNELS_FILE", str(channels))
    get_settings.cache_clear()
    runner = CliRunner()
    huey.flush()

    def run(*args: str, input: str | None = None):
        return runner.invoke(app, list(args), input=input, catch_exceptions=False)

    assert run("db", "upgrade").exit_code == 0
    catalog = tmp_path / "catalog.csv"
    catalog.write_text(CATALOG, encoding="utf-8")
    assert run("catalog", "import", str(catalog)).exit_code == 0
    published = run("listings", "publish", "--sku", "*", "--yes")
    assert published.exit_code == 0, published.output
    run.url = f"sqlite:///{data / 'syncer.db'}"
    with db.unit_of_work(run.url) as s:  # as if the first sync had published everything
        mark_published(s)
    huey.flush()
    yield run
    huey.flush()
    get_settings.cache_clear()


def snapshot(url: str) -> dict[str, list[tuple]]:
    out = {}
    with db.unit_of_work(url) as s:
        for model in (Sku, ChannelListing, ChangeSet, ChangeItem, StockMovement, StockLevel):
            out[model.__tablename__] = sorted(tuple(str(v) for v in row) for row in s.execute(select(model.__table__)))
    return out


def base(url: str, sku: str) -> Decimal:
    with db.unit_of_work(url) as s:
        return s.scalar(select(Sku.base_price).where(Sku.sku == sku))


def test_negative_percent_dry_run_json_previews_and_changes_nothing(cli) -> None:
    before = snapshot(cli.url)
    result = cli("price", "adjust", "--percent", "-5", "--category", "tea", "--dry-run", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["status"] == "dry_run" and doc["change_set"] is None and doc["refused"] == []
    assert doc["summary"]["skus"] == 2 and doc["summary"]["listings"] == 4 and doc["summary"]["api_calls"] >= 2
    assert {
        "sku": "TEA-1",
        "channel": "(catalog)",
        "field": "base_price",
        "old": "100.00",
        "new": "95.00",
        "currency": "CNY",
        "change_pct": "-5.0",
    } in doc["changes"]
    assert {
        "sku": "TEA-2",
        "channel": "taobao",
        "field": "price",
        "old": "200.00",
        "new": "190.00",
        "currency": "CNY",
        "change_pct": "-5.0",
    } in doc["changes"]
    as_csv = cli("price", "adjust", "--percent", "-5", "--category", "tea", "--dry-run", "--format", "csv")
    assert as_csv.exit_code == 0
    assert "TEA-1,(catalog),base_price,100.00,95.00,CNY,-5.0" in as_csv.stdout.splitlines()  # numbers stay numbers
    assert snapshot(cli.url) == before


def test_without_yes_it_asks_and_no_answer_applies_nothing(cli) -> None:
    before = snapshot(cli.url)
    refused = cli("price", "set", "105", "--sku", "TEA-1")
    assert refused.exit_code == 1 and "nothing was applied" in refused.output
    assert "TEA-1" in refused.output and "105.00" in refused.output  # the preview came first
    assert snapshot(cli.url) == before
    said_no = cli("price", "set", "105", "--sku", "TEA-1", input="n\n")
    assert said_no.exit_code == 1 and snapshot(cli.url) == before
    said_yes = cli("price", "set", "105", "--sku", "TEA-1", "--reason", "cost up", "--user", "ann", input="y\n")
    assert said_yes.exit_code == 0, said_yes.output
    assert base(cli.url, "TEA-1") == Decimal("105.00")
    with db.unit_of_work(cli.url) as s:
        change_set = s.scalar(select(ChangeSet).order_by(ChangeSet.id.desc()).limit(1))
        assert (change_set.user, change_set.reason) == ("ann", "cost up")
        assert "price set 105" in change_set.command


def test_yes_applies_one_change_set_and_queues_the_sync_of_the_affected_listings(cli) -> None:
    result = cli("price", "adjust", "--amount", "10", "--tag", "gift", "--yes", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["status"] == "applied" and doc["sync"]["mode"] == "queued"
    with db.unit_of_work(cli.url) as s:
        ids = sorted(s.scalars(select(Sku.id).where(Sku.sku.in_(["TEA-1", "HONEY-1"]))))
        dirty = s.execute(
            select(Channel.name, Sku.sku)
            .join(ChannelListing, ChannelListing.channel_id == Channel.id)
            .join(Sku, Sku.id == ChannelListing.sku_id)
            .where(ChannelListing.status == "dirty")
        ).all()
    assert sorted(dirty) == [("shopify", "HONEY-1"), ("shopify", "TEA-1"), ("taobao", "HONEY-1"), ("taobao", "TEA-1")]
    queued = sorted((t.args[0], t.kwargs.get("only_skus")) for t in huey.pending() if t.name == "sync_channel")
    assert queued == [("shopify", ids), ("taobao", ids)]
    assert base(cli.url, "HONEY-1") == Decimal("60.00") and base(cli.url, "TEA-2") == Decimal("200.00")


def test_sync_now_pushes_inline_instead_of_queueing(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    from listing_sync.syncer import reconcile
    from listing_sync.syncer.services import sync

    calls = []

    def fake_sync(context, channel, *, user="", only_skus=None, **kw):
        calls.append((channel.name, list(only_skus), user))
        return reconcile.PushReport(channel=channel.name, ok=len(only_skus))

    monkeypatch.setattr(sync, "sync_channel", fake_sync)
    result = cli(
        "stock", "adjust", "--by", "-3", "--warehouse", "SH", "--sku", "TEA-2", "--yes", "--sync-now", "--user", "bob"
    )
    assert result.exit_code == 0, result.output
    with db.unit_of_work(cli.url) as s:
        tea2 = s.scalar(select(Sku.id).where(Sku.sku == "TEA-2"))
    assert sorted(calls) == [("shopify", [tea2], "bob"), ("taobao", [tea2], "bob")]
    assert not [t for t in huey.pending() if t.name == "sync_channel"]


def test_the_guard_refuses_naming_skus_and_force_applies(cli) -> None:
    before = snapshot(cli.url)
    refused = cli("price", "adjust", "--percent", "40", "--sku", "TEA-*", "--yes")
    assert refused.exit_code == 1
    assert "price guard" in refused.output and "TEA-1, TEA-2" in refused.output and "+40.0%" in refused.output
    assert snapshot(cli.url) == before
    as_json = cli("price", "set", "10", "--sku", "HONEY-1", "--yes", "--format", "json")
    assert as_json.exit_code == 1
    doc = json.loads(as_json.stdout)
    assert doc["status"] == "refused" and {r["sku"] for r in doc["refused"]} == {"HONEY-1"}
    assert any("below the cost floor" in r["message"] for r in doc["refused"])
    assert snapshot(cli.url) == before
    forced = cli("price", "adjust", "--percent", "40", "--sku", "TEA-*", "--yes", "--force")
    assert forced.exit_code == 0 and base(cli.url, "TEA-2") == Decimal("280.00")


def test_stock_set_and_adjust(cli) -> None:
    assert cli("stock", "set", "25", "--warehouse", "SH", "--category", "honey", "--yes").exit_code == 0
    before = snapshot(cli.url)
    too_many = cli("stock", "adjust", "--by", "-11", "--warehouse", "SH", "--sku", "*", "--yes")
    assert too_many.exit_code == 1 and "TEA-1: on-hand in SH would be -1" in too_many.output
    assert snapshot(cli.url) == before
    unknown = cli("stock", "set", "1", "--warehouse", "NOPE", "--sku", "*", "--yes")
    assert unknown.exit_code == 1 and "no warehouse 'NOPE'" in unknown.output
    with db.unit_of_work(cli.url) as s:
        levels = dict(s.execute(select(Sku.sku, StockLevel.on_hand).join(Sku, Sku.id == StockLevel.sku_id)).all())
    assert levels == {"TEA-1": 10, "TEA-2": 10, "HONEY-1": 25}


def test_changes_apply_a_bad_file_lists_every_problem(cli, tmp_path: Path) -> None:
    before = snapshot(cli.url)
    bad = tmp_path / "edits.csv"
    bad.write_text("sku,channel,price,stock[SH]\nTEA-1,,x,\nGHOST,,1,\nTEA-2,mars,1,\nHONEY-1,,,-4\n", encoding="utf-8")
    result = cli("changes", "apply", str(bad), "--yes")
    assert result.exit_code == 1
    for where in ("row 2, column price", "row 3, column sku", "row 4, column channel", "row 5, column stock[SH]"):
        assert where in result.output
    assert "nothing was applied" in result.output and snapshot(cli.url) == before
    good = tmp_path / "good.csv"
    good.write_text("sku,channel,price,stock[SH]\nTEA-1,,110,12\nTEA-2,shopify,190,\n", encoding="utf-8")
    applied = cli("changes", "apply", str(good), "--yes")
    assert applied.exit_code == 0, applied.output
    with db.unit_of_work(cli.url) as s:
        items = s.execute(
            select(ChangeItem.field, ChangeItem.old_value, ChangeItem.new_value)
            .join(ChangeSet)
            .where(ChangeSet.reason == "changes apply good.csv")
        ).all()
    assert sorted(items) == [("base_price", "100.00", "110"), ("price_override", None, "190"), ("stock:SH", "10", "12")]


def test_list_show_undo_and_history(cli) -> None:
    assert cli("price", "adjust", "--percent", "10", "--sku", "*", "--yes", "--user", "ann").exit_code == 0
    assert cli("price", "set", "120", "--sku", "TEA-1", "--yes", "--user", "bob").exit_code == 0
    listed = json.loads(cli("changes", "list", "--format", "json").stdout)
    assert [c["user"] for c in listed[:2]] == ["bob", "ann"]
    assert set(listed[0]) == {"id", "created_at", "user", "reason", "command", "status", "undo_of", "items"}
    first = listed[1]["id"]
    shown = cli("changes", "show", str(first), "--format", "csv").stdout
    rows = list(csv.DictReader(io.StringIO(shown)))
    assert {r["sku"]: (r["old"], r["new"]) for r in rows} == {
        "TEA-1": ("100.00", "110.00"),
        "TEA-2": ("200.00", "220.00"),
        "HONEY-1": ("50.00", "55.00"),
    }
    before = snapshot(cli.url)
    refused = cli("changes", "undo", str(first), "--yes")
    assert refused.exit_code == 1 and f"changed again by change set {listed[0]['id']} (bob" in refused.output
    assert snapshot(cli.url) == before
    undone = cli("changes", "undo", str(first), "--yes", "--force", "--format", "json")
    assert undone.exit_code == 0, undone.output
    assert json.loads(undone.stdout)["status"] == "applied"
    assert [base(cli.url, s) for s in ("TEA-1", "TEA-2", "HONEY-1")] == [
        Decimal("100.00"),
        Decimal("200.00"),
        Decimal("50.00"),
    ]
    shown = json.loads(cli("changes", "show", str(first), "--format", "json").stdout)
    assert shown["status"] == "undone" and shown["undone_by"] is not None
    history = json.loads(cli("history", "TEA-1", "--format", "json").stdout)
    assert [(h["kind"], h["old"], h["new"], h["user"]) for h in history if h["what"] == "base_price"] == [
        ("change", "100.00", "110.00", "ann"),
        ("change", "110.00", "120.00", "bob"),
        ("change", "120.00", "100.00", current_user()),
    ]
    assert cli("history", "NOPE").exit_code == 1


def test_listings_delist_and_relist_with_selectors(cli, tmp_path: Path) -> None:
    listed = tmp_path / "skus.txt"
    listed.write_text("TEA-2\nHONEY-1\n", encoding="utf-8")
    result = cli("listings", "delist", "--skus-file", str(listed), "--channel", "shopify", "--yes", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["summary"]["api_calls_by_channel"] == {"shopify": {"delist": 1}}
    with db.unit_of_work(cli.url) as s:
        state = dict(
            s.execute(
                select(Sku.sku, ChannelListing.wanted)
                .join(ChannelListing, ChannelListing.sku_id == Sku.id)
                .join(Channel, Channel.id == ChannelListing.channel_id)
                .where(Channel.name == "shopify")
            ).all()
        )
    assert state == {"TEA-1": "active", "TEA-2": "delisted", "HONEY-1": "delisted"}
    relisted = cli("listings", "relist", "--sku", "HONEY-*", "--channel", "shopify", "--yes")
    assert relisted.exit_code == 0, relisted.output
    nothing = cli("listings", "relist", "--sku", "TEA-1", "--channel", "taobao", "--yes")
    assert "nothing to change" in nothing.output
    with db.unit_of_work(cli.url) as s:
        fields = s.execute(
            select(ChangeItem.field, ChangeItem.old_value, ChangeItem.new_value).where(
                ChangeItem.field == "wanted", ChangeItem.old_value.is_not(None)
            )
        ).all()
    assert sorted(fields) == [("wanted", "active", "delisted")] * 2 + [("wanted", "delisted", "active")]


def test_status_and_orders_list_take_csv(cli) -> None:
    status = cli("status", "--format", "csv")
    assert status.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(status.stdout)))
    assert {r["channel"]: r["listings"] for r in rows} == {"taobao": "3", "shopify": "3"}
    orders = cli("orders", "list", "--format", "csv")
    assert orders.exit_code == 0 and orders.stdout.splitlines()[0].startswith("channel,order,status")
    refused = cli("changes", "list", "--format", "xml")  # a typed choice: refused before the command runs
    assert refused.exit_code == 2
    assert "'xml' is not one of 'table', 'json', 'csv'" in re.sub(r"[│\s]+", " ", refused.output)


def test_a_channel_price_is_entered_in_the_channel_currency(cli) -> None:
    """Trap 1: `price set 99 --channel shopify` sets 99 in shopify's currency, not a base price x rules;
    `--currency` defaults to the channel's and another one is refused; the preview names the currency."""
    refused = cli("price", "set", "99", "--sku", "TEA-1", "--channel", "shopify", "--currency", "USD", "--yes")
    assert refused.exit_code != 0 and "shopify sells in CNY" in refused.output
    result = cli("price", "set", "99", "--sku", "TEA-1", "--channel", "shopify", "--dry-run", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["changes"]
    assert [(r["field"], r["new"], r["currency"]) for r in rows if r["channel"] == "shopify"] == [
        ("price_override", "99.00", "CNY"),
        ("price", "99.00", "CNY"),
    ]
    other = cli("price", "set", "99", "--sku", "TEA-1", "--currency", "USD", "--yes")
    assert other.exit_code != 0 and "TEA-1 (CNY)" in other.output


def test_a_dry_run_the_guard_would_refuse_exits_1_and_stock_has_no_force(cli, tmp_path: Path) -> None:
    """Trap 6: `changes apply --dry-run` exited 0 when the guard would refuse; `stock set --help` offered
    --force (the price guard's)."""
    edits = tmp_path / "edits.csv"
    edits.write_text("sku,channel,price\nTEA-1,,1000\n", encoding="utf-8")
    refused = cli("changes", "apply", str(edits), "--dry-run")
    assert refused.exit_code == 1 and "price guard" in refused.output and "nothing was applied" in refused.output
    forced = cli("changes", "apply", str(edits), "--dry-run", "--force")
    assert forced.exit_code == 0
    for command in (("stock", "set", "--help"), ("stock", "adjust", "--help")):
        shown = cli(*command)
        assert shown.exit_code == 0 and "--force" not in shown.output and "--dry-run" in shown.output
    assert "--force" in cli("price", "set", "--help").output


def test_a_taobao_delist_of_part_of_an_item_is_refused_in_the_preview(cli, tmp_path: Path) -> None:
    """Trap 4: delisting one SKU of a multi-SKU item on Taobao passed the preview, then parked `unsupported`
    (Taobao delists whole items) while the change set said delisted. By default it is delisted as stock 0
    (tests/syncer/test_delist_sku_as.py); with ``delist_sku_as = "delist"`` the preview refuses it."""
    variants = tmp_path / "variants.csv"
    variants.write_text(
        "sku,product,title,category,base_price,cost,currency,stock[SH]\n"
        "CUP-S,CUP,Cup,tea,30.00,10,CNY,5\nCUP-L,CUP,Cup,tea,40.00,12,CNY,5\n",
        encoding="utf-8",
    )
    imported = cli("catalog", "import", str(variants))
    assert imported.exit_code == 0, imported.output
    published = cli("listings", "publish", "--sku", "CUP-*", "--yes")
    assert published.exit_code == 0, published.output
    with db.unit_of_work(cli.url) as s:
        mark_published(s)
    default = re.sub(
        r"\s+", " ", cli("listings", "delist", "--sku", "CUP-S", "--channel", "taobao", "--dry-run").output
    )
    assert "taken off sale as stock 0" in default and 'delist_sku_as = "zero_stock"' in default  # Taobao's default
    channels = Path(os.environ["SYNCER_CHANNELS_FILE"])  # the marketplace's own delist: refused for part of an item
    channels.write_text(
        channels.read_text(encoding="utf-8").replace(
            'kind = "taobao"\n', 'kind = "taobao"\ndelist_sku_as = "delist"\n'
        ),
        encoding="utf-8",
    )
    one = cli("listings", "delist", "--sku", "CUP-S", "--channel", "taobao", "--dry-run")
    assert one.exit_code == 1, one.output
    text = re.sub(r"\s+", " ", one.output)
    assert "delists whole items only" in text and "CUP-L" in text and "stock set 0 --sku CUP-S" in text
    whole = cli("listings", "delist", "--sku", "CUP-*", "--channel", "taobao", "--dry-run")
    assert whole.exit_code == 0, whole.output
    elsewhere = cli("listings", "delist", "--sku", "CUP-S", "--channel", "shopify", "--dry-run")
    assert elsewhere.exit_code == 0, elsewhere.output


def test_status_groups_parked_errors_by_reason(cli) -> None:
    """Trap 5: parked errors printed one line per SKU and channel with no grouping."""
    from sqlalchemy import update

    with db.unit_of_work(cli.url) as s:
        taobao = s.scalar(select(Channel.id).where(Channel.name == "taobao"))
        s.execute(
            update(ChannelListing)
            .where(ChannelListing.channel_id == taobao)
            .values(status="parked", last_error_code="fx_rate_missing", last_error="no CNY->USD rate")
        )
    shown = cli("status")
    text = re.sub(r"\s+", " ", shown.output)
    assert "parked taobao: 3 x fx_rate_missing: no CNY->USD rate (HONEY-1, TEA-1, TEA-2)" in text
    assert "taobao TEA-1: fx_rate_missing" not in text and "syncer status --parked" in text
    listed = re.sub(r"\s+", " ", cli("status", "--parked").output)
    assert "taobao TEA-1: fx_rate_missing: no CNY->USD rate" in listed
    doc = json.loads(cli("status", "--format", "json").stdout)
    groups = next(row for row in doc if row["channel"] == "taobao")["parked_by_reason"]
    assert groups == [
        {"code": "fx_rate_missing", "count": 3, "message": "no CNY->USD rate", "skus": ["HONEY-1", "TEA-1", "TEA-2"]}
    ]
