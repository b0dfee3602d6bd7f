"""The catalog, listings and dashboard routes: filters, sorting, paging, the SKU page, export and import,
each role, and bad input refused with a message (never a 500)."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook


def test_anonymous_requests_are_refused(web_app) -> None:
    from fastapi.testclient import TestClient

    done = TestClient(web_app).get("/api/catalog")
    assert done.status_code == 401 and "not logged in" in done.json()["detail"]


def test_catalog_grid_filters_sorts_and_pages(api_as) -> None:
    api = api_as("viewer")
    page = api.get("/api/catalog", params={"category": "tea", "sort": "base_price", "desc": True}).json()
    assert page["total"] == 3 and [r["category"] for r in page["rows"]] == ["tea"] * 3
    prices = [float(r["base_price"]) for r in page["rows"]]
    assert prices == sorted(prices, reverse=True)
    first = page["rows"][0]
    assert isinstance(first["base_price"], str) and first["currency"] == "CNY"  # money as exact text
    assert first["available"] == first["on_hand"] - first["reserved"]
    globbed = api.get("/api/catalog", params={"sku": "TEE-HAN-*", "per_page": 3, "page": 2}).json()
    assert globbed["total"] == 4 and len(globbed["rows"]) == 1 and globbed["rows"][0]["sku"] == "TEE-HAN-WH-M"
    tagged = api.get("/api/catalog", params={"tag": "gift"}).json()
    assert {r["sku"] for r in tagged["rows"]} == {"FAN-SILK-01", "INK-SET-01"} | {
        r["sku"] for r in tagged["rows"] if "gift" in r["tags"]
    }
    assert all("gift" in r["tags"] for r in tagged["rows"])
    assert api.get("/api/catalog", params={"product": "lantern"}).json()["total"] == 2


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"sort": "colour"}, "sort 'colour': use one of"),
        ({"per_page": 0}, "greater than or equal to 1"),
        ({"page": "x"}, "valid integer"),
    ],
)
def test_catalog_grid_bad_parameters(api_as, params, message) -> None:
    done = api_as("viewer").get("/api/catalog", params=params)
    assert done.status_code in (400, 422) and message in done.text


def test_listings_grid_by_state_channel_and_reason(api_as, web_context) -> None:
    from listing_sync.syncer import db
    from listing_sync.syncer.models import Channel, ChannelListing, Sku
    from sqlalchemy import select, update

    with db.unit_of_work(web_context.db_url) as session:  # one listing parked with a reason
        listing = session.scalar(
            select(ChannelListing.id)
            .join(Sku, Sku.id == ChannelListing.sku_id)
            .join(Channel, Channel.id == ChannelListing.channel_id)
            .where(Sku.sku == "TEA-LJ-250", Channel.name == "shopify")
        )
        session.execute(
            update(ChannelListing)
            .where(ChannelListing.id == listing)
            .values(status="parked", last_error_code="invalid_price", last_error="price below the minimum")
        )
    api = api_as("viewer")
    everything = api.get("/api/listings", params={"per_page": 500}).json()
    assert everything["total"] == 18 * 6 and everything["reasons"] == ["invalid_price"]
    parked = api.get("/api/listings", params={"state": "parked"}).json()
    assert [(r["sku"], r["channel"], r["error"]) for r in parked["rows"]] == [
        ("TEA-LJ-250", "shopify", "price below the minimum")
    ]
    by_reason = api.get("/api/listings", params={"reason": "invalid_price", "channel": "shopify"}).json()
    assert by_reason["total"] == 1 and by_reason["rows"][0]["currency"] == "USD"
    listed = api.get("/api/listings", params={"state": "listed", "channel": "taobao", "sku": "TEA-*"}).json()
    assert listed["total"] == 3 and {r["currency"] for r in listed["rows"]} == {"CNY"}
    refused = api.get("/api/listings", params={"channel": "nowhere"})
    assert refused.status_code == 400 and "channel 'nowhere': no such channel" in refused.json()["detail"]
    assert api.get("/api/listings", params={"state": "sleeping"}).status_code == 422


def test_sku_page(api_as) -> None:
    page = api_as("viewer").get("/api/catalog/skus/TEA-LJ-250").json()
    assert page["details"]["data"]["sku"] == "TEA-LJ-250"
    assert {s["warehouse"] for s in page["details"]["data"]["stock"]} == {"SH", "GZ"}
    channels = {row["channel"]: row for row in page["listings"]}
    assert len(channels) == 6 and channels["shopify"]["currency"] == "USD" and channels["taobao"]["currency"] == "CNY"
    assert channels["shopify"]["desired_price"] is not None and channels["shopify"]["pushed_price"] is not None
    assert page["ledger"] and page["history"]
    missing = api_as("viewer").get("/api/catalog/skus/NOPE-1")
    assert missing.status_code == 404 and missing.json() == {
        "detail": "no SKU 'NOPE-1' in the catalog",
        "error": "NotFound",
    }


def test_catalog_export_csv_and_xlsx(api_as) -> None:
    api = api_as("viewer")
    csv = api.get("/api/catalog/export")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert 'filename="catalog.csv"' in csv.headers["content-disposition"]
    assert csv.text.splitlines()[0].startswith("sku,") and "TEA-LJ-250" in csv.text
    xlsx = api.get("/api/catalog/export", params={"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(xlsx.content)).worksheets[0]
    assert sheet.cell(1, 1).value == "sku" and sheet.max_row == 19


def test_catalog_import_by_role_and_bad_file(api_as) -> None:
    good = "sku,product,title,category,base_price,currency,stock[SH]\nNEW-1,NEW,New thing,tea,12.50,CNY,3\n"
    files = {"file": ("new.csv", good.encode(), "text/csv")}
    assert api_as("viewer").post("/api/catalog/import", files=files).status_code == 403
    done = api_as("operator").post("/api/catalog/import", files=files)
    assert done.status_code == 200 and done.json()["skus_created"] == 1
    assert api_as("viewer").get("/api/catalog/skus/NEW-1").json()["details"]["data"]["base_price"] == "12.50"
    bad = "sku,product,title,category,base_price,currency\nBAD-1,BAD,Bad,tea,-3,CNY\n"
    refused = api_as("operator").post("/api/catalog/import", files={"file": ("bad.csv", bad.encode(), "text/csv")})
    body = refused.json()
    assert refused.status_code == 400 and body["error"] == "InputRejected" and "nothing was applied" in body["detail"]
    assert any(p.startswith("row 2, column base_price") for p in body["problems"])
    wrong = api_as("operator").post("/api/catalog/import", files={"file": ("x.txt", b"hello", "text/plain")})
    assert wrong.status_code == 400 and "give a .csv or .xlsx file" in wrong.json()["detail"]


def test_dashboard(api_as) -> None:
    rows = api_as("viewer").get("/api/dashboard").json()
    assert [r["channel"] for r in rows] == ["taobao", "shopify", "woocommerce", "aliexpress", "ebay-us", "amazon-us"]
    assert rows[0]["states"]["listed"] == 18 and rows[1]["currency"] == "USD"
