"""Reports (JSON and downloads), FX rates and mappings over HTTP, per role and with bad input; the
admin-only users and audit routes."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook


def test_sales_report_json_money_as_text(api_as) -> None:
    done = api_as("viewer").get("/api/reports/sales", params={"period": "last-7-days", "currency": "USD"})
    if done.status_code == 400:  # the preset names are the service's; use the explicit days then
        done = api_as("viewer").get("/api/reports/sales", params={"from": "2020-01-01", "currency": "USD"})
    assert done.status_code == 200, done.text
    report = done.json()
    assert report["currency"] == "USD" and report["groupings"]["channel"]
    shopify = next(r for r in report["groupings"]["channel"] if r.get("channel") == "shopify")
    assert shopify["orders"] == 2
    money = [v for v in shopify.values() if isinstance(v, str) and v.replace(".", "", 1).isdigit()]
    assert money and not any(isinstance(v, float) for v in shopify.values())  # never a float


def test_sales_report_downloads(api_as) -> None:
    api = api_as("viewer")
    csv = api.get("/api/reports/sales", params={"from": "2020-01-01", "format": "csv"})
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv") and "shopify" in csv.text
    xlsx = api.get("/api/reports/sales", params={"from": "2020-01-01", "format": "xlsx", "lang": "zh-CN"})
    assert xlsx.status_code == 200 and 'filename="sales.xlsx"' in xlsx.headers["content-disposition"]
    assert len(load_workbook(io.BytesIO(xlsx.content)).worksheets) >= 2


@pytest.mark.parametrize(
    ("params", "status", "words"),
    [
        ({}, 400, "give --period"),
        ({"period": "someday"}, 400, "unknown period 'someday'"),
        ({"from": "2020-01-01", "by": "planet"}, 400, "planet"),
        ({"from": "2020-13-01"}, 422, "date"),
        ({"from": "2020-01-01", "currency": "US"}, 422, "pattern"),
    ],
)
def test_sales_report_bad_input(api_as, params, status, words) -> None:
    done = api_as("viewer").get("/api/reports/sales", params=params)
    assert done.status_code == status and words in done.text


def test_inventory_and_reorder(api_as) -> None:
    api = api_as("viewer")
    inventory = api.get("/api/reports/inventory", params={"days": 7}).json()
    assert inventory["skus"] == 18 and "sku" in inventory["columns"] and len(inventory["rows"]) == 18
    assert all(isinstance(v, str) for v in inventory["stock_value"].values())
    xlsx = api.get("/api/reports/inventory", params={"format": "xlsx"})
    assert load_workbook(io.BytesIO(xlsx.content)).worksheets[0].max_row >= 19
    reorder = api.get("/api/reports/reorder", params={"lead_time": 30}).json()
    assert "reorder_point" in reorder["columns"] or reorder["columns"]
    assert api.get("/api/reports/reorder", params={"service_level": 100}).status_code == 422
    assert api.get("/api/reports/inventory", params={"days": 0}).status_code == 422


def test_fx_list_set_import(api_as) -> None:
    rates = api_as("viewer").get("/api/fx", params={"quote": "usd"}).json()
    assert [(r["base"], r["quote"], r["rate"]) for r in rates] == [("CNY", "USD", "0.138")]
    body = {"base": "CNY", "quote": "USD", "rate": "0.1400", "day": "2026-02-01"}
    assert api_as("viewer").put("/api/fx", json=body).status_code == 403
    done = api_as("operator").put("/api/fx", json=body)
    assert done.status_code == 200 and done.json()["repriced"] > 0 and done.json()["rate"] == "0.1400"
    same = api_as("operator").put("/api/fx", json={**body, "quote": "CNY"})
    assert same.status_code == 400 and same.json()["detail"]
    assert api_as("operator").put("/api/fx", json={**body, "rate": "-1"}).status_code == 422
    upload = "date,base,quote,rate\n2026-03-01,CNY,EUR,0.1300\n"
    imported = api_as("operator").post("/api/fx/import", files={"file": ("rates.csv", upload.encode(), "text/csv")})
    assert imported.status_code == 200 and imported.json()["changed"] == 1
    bad = "date,base,quote,rate\nnot-a-day,CNY,EUR,x\n"
    refused = api_as("operator").post("/api/fx/import", files={"file": ("rates.csv", bad.encode(), "text/csv")})
    assert refused.status_code == 400 and refused.json()["problems"]


def test_mappings(api_as) -> None:
    viewer, operator = api_as("viewer"), api_as("operator")
    table = viewer.get("/api/mappings/categories", params={"channel": "taobao"}).json()
    assert "category" in table["columns"] and any(r["category"] == "tea" for r in table["rows"])
    body = {"channel": "taobao", "category": "food", "target": "50002766"}
    assert viewer.put("/api/mappings/categories", json=body).status_code == 403
    mapped = operator.put("/api/mappings/categories", json=body)
    assert mapped.status_code == 200 and mapped.json()["changed"] is True
    unknown = operator.put("/api/mappings/categories", json={**body, "channel": "nowhere"})
    assert unknown.status_code == 400 and "no channel named 'nowhere'" in unknown.json()["detail"]
    gone = operator.delete("/api/mappings/categories", params={"channel": "taobao", "category": "food"})
    assert gone.status_code == 200
    again = operator.delete("/api/mappings/categories", params={"channel": "taobao", "category": "food"})
    assert again.status_code == 404
    attribute = {"channel": "shopify", "target": "Color", "attribute": "colour", "values": {"白色": "White"}}
    assert operator.put("/api/mappings/attributes", json=attribute).status_code == 200
    assert any(r["target"] == "Color" for r in viewer.get("/api/mappings/attributes").json()["rows"])
    exported = viewer.get("/api/mappings/attributes/export")
    assert exported.status_code == 200 and "Color" in exported.text
    reimported = operator.post(
        "/api/mappings/attributes/import", files={"file": ("a.csv", exported.content, "text/csv")}
    )
    assert reimported.status_code == 200 and reimported.json()["created"] == 0
    csv = viewer.get("/api/mappings/categories/export", params={"format": "xlsx"})
    assert load_workbook(io.BytesIO(csv.content)).worksheets[0].cell(1, 1).value == "channel"
    bad = operator.post("/api/mappings/categories/import", files={"file": ("c.csv", b"channel\nx\n", "text/csv")})
    assert bad.status_code == 400


def test_users_and_audit_are_for_admins(api_as, client_as) -> None:
    client_as("viewer")  # a login, audited
    assert api_as("operator").get("/api/users").status_code == 403
    assert api_as("operator").get("/api/audit").status_code == 403
    users = api_as("admin").get("/api/users").json()
    assert {(u["name"], u["role"]) for u in users} == {
        ("admin", "admin"),
        ("operator", "operator"),
        ("viewer", "viewer"),
    }
    assert not any("hash" in key for u in users for key in u)
    audit = api_as("admin").get("/api/audit", params={"name": "viewer"}).json()
    assert audit[0]["event"] == "login" and audit[0]["ip"] == "testclient"
