"""Bulk changes over HTTP: preview then apply by preview id, the price guard per role, a preview whose data
moved since, change sets and undo, publish/delist/relist, and bad input refused with a message."""

from __future__ import annotations

from typing import Any

import pytest

TEA_UP_5 = {"kind": "price_adjust", "selection": {"categories": ["tea"]}, "percent": "5"}
TEA_UP_80 = {"kind": "price_adjust", "selection": {"categories": ["tea"]}, "percent": "80"}


def preview(api, request: dict[str, Any]) -> dict[str, Any]:
    done = api.post("/api/changes/preview", json=request)
    assert done.status_code == 200, done.text
    return done.json()


def apply(api, request: dict[str, Any], preview_id: str, **options: Any):
    return api.post("/api/changes/apply", json={"request": request, "preview_id": preview_id, **options})


def base_price(api, sku: str) -> str:
    return api.get(f"/api/catalog/skus/{sku}").json()["details"]["data"]["base_price"]


def test_preview_shows_each_amount_with_its_currency_and_changes_nothing(api_as) -> None:
    api = api_as("viewer")
    shown = preview(api, TEA_UP_5)
    assert len(shown["preview_id"]) == 32 and not shown["empty"] and shown["violations"] == []
    assert shown["summary"]["skus"] == 3 and shown["summary"]["api_calls"] > 0
    rows = {(r["sku"], r["channel"], r["field"]): r for r in shown["rows"]}
    catalog = rows[("TEA-LJ-250", "(catalog)", "base_price")]
    assert (catalog["currency"], catalog["change_pct"]) == ("CNY", "+5.0")
    assert rows[("TEA-LJ-250", "shopify", "price")]["currency"] == "USD"
    assert rows[("TEA-LJ-250", "taobao", "price")]["currency"] == "CNY"
    assert preview(api, TEA_UP_5)["preview_id"] == shown["preview_id"]  # same data, same id
    assert base_price(api, "TEA-LJ-250") == "168.00"


def test_apply_records_the_web_user_and_queues_the_sync(api_as, web_app) -> None:
    shown = preview(api_as("viewer"), TEA_UP_5)
    refused = apply(api_as("viewer"), TEA_UP_5, shown["preview_id"])
    assert refused.status_code == 403 and refused.json()["detail"] == "this needs the operator role; viewer is viewer"
    done = apply(api_as("operator"), TEA_UP_5, shown["preview_id"], reason="autumn prices")
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["user"] == "operator" and body["sync"]["mode"] == "queued"
    assert base_price(api_as("viewer"), "TEA-LJ-250") == "176.40"
    synced = web_app.state.scheduler.synced
    assert {channel for channel, _, _ in synced} == {
        "taobao",
        "shopify",
        "woocommerce",
        "aliexpress",
        "ebay-us",
        "amazon-us",
    }
    assert {user for _, _, user in synced} == {"operator"}
    change_sets = api_as("viewer").get("/api/changes").json()
    assert (change_sets[0]["id"], change_sets[0]["user"], change_sets[0]["reason"]) == (
        body["change_set_id"],
        "operator",
        "autumn prices",
    )
    details = api_as("viewer").get(f"/api/changes/{body['change_set_id']}").json()
    assert {(c["sku"], c["old"], c["new"], c["currency"]) for c in details["changes"]} >= {
        ("TEA-LJ-250", "168.00", "176.40", "CNY")
    }


def test_the_guard_operator_cannot_force_admin_can(api_as) -> None:
    shown = preview(api_as("operator"), TEA_UP_80)
    assert shown["violations"] and shown["guard_percent"] == "30.0"
    assert {v["sku"] for v in shown["violations"]} == {"TEA-LJ-250", "TEA-PE-357", "TEA-TGY-500"}
    guarded = apply(api_as("operator"), TEA_UP_80, shown["preview_id"])
    assert guarded.status_code == 409 and guarded.json()["error"] == "GuardRefused"
    assert "refused by the price guard" in guarded.json()["detail"]
    forced = apply(api_as("operator"), TEA_UP_80, shown["preview_id"], force=True)
    assert forced.status_code == 403
    assert forced.json()["detail"] == (
        "forcing past the price guard (it refuses channel price moves over 30%, SYNCER_PRICE_GUARD_PERCENT) "
        "needs the admin role; operator is operator"
    )
    assert base_price(api_as("viewer"), "TEA-LJ-250") == "168.00"
    done = apply(api_as("admin"), TEA_UP_80, shown["preview_id"], force=True, sync="none")
    assert done.status_code == 200 and done.json()["sync"]["mode"] is None
    assert base_price(api_as("viewer"), "TEA-LJ-250") == "302.40"


def test_apply_refuses_a_preview_whose_data_moved_since(api_as) -> None:
    api = api_as("operator")
    old = preview(api, TEA_UP_5)
    before = base_price(api, "TEA-PE-357")
    other = {"kind": "price_set", "selection": {"skus": ["TEA-LJ-250"]}, "amount": "170"}
    assert apply(api, other, preview(api, other)["preview_id"]).status_code == 200
    moved = apply(api, TEA_UP_5, old["preview_id"])
    assert moved.status_code == 409 and moved.json()["error"] == "PreviewMismatch"
    assert "the data changed since the preview you confirmed; nothing was applied" in moved.json()["detail"]
    assert base_price(api, "TEA-PE-357") == before


def test_undo_a_change_set(api_as) -> None:
    api = api_as("operator")
    done = apply(api, TEA_UP_5, preview(api, TEA_UP_5)["preview_id"]).json()
    undo = api.post(f"/api/changes/{done['change_set_id']}/undo/preview")
    assert undo.status_code == 200, undo.text
    assert {(r["sku"], r["new"]) for r in undo.json()["rows"] if r["field"] == "base_price"} >= {
        ("TEA-LJ-250", "168.00")
    }
    undone = api.post(
        f"/api/changes/{done['change_set_id']}/undo", json={"preview_id": undo.json()["preview_id"], "sync": "none"}
    )
    assert undone.status_code == 200 and base_price(api, "TEA-LJ-250") == "168.00"
    listed = api.get("/api/changes").json()
    assert listed[0]["undo_of"] == done["change_set_id"] and listed[0]["user"] == "operator"
    again = api.post(f"/api/changes/{done['change_set_id']}/undo/preview")
    assert again.status_code in (400, 409) and again.json()["detail"]
    unknown = api.post("/api/changes/999999/undo/preview")
    assert unknown.status_code == 400 and "999999" in unknown.json()["detail"]


def test_delist_and_relist(api_as) -> None:
    api = api_as("operator")
    body = {"selection": {"skus": ["LAMP-PAPER-*"]}, "channels": ["shopify"]}
    shown = api.post("/api/listings/delist/preview", json=body)
    assert shown.status_code == 200 and shown.json()["summary"]["skus"] == 2
    assert (
        api_as("viewer")
        .post("/api/listings/delist", json={**body, "preview_id": shown.json()["preview_id"]})
        .status_code
        == 403
    )
    done = api.post("/api/listings/delist", json={**body, "preview_id": shown.json()["preview_id"], "sync": "none"})
    assert done.status_code == 200, done.text
    delisted = api.get("/api/listings", params={"sku": "LAMP-PAPER-*", "channel": "shopify"}).json()["rows"]
    assert {r["wanted"] for r in delisted} == {"delisted"}
    relist = api.post("/api/listings/relist/preview", json=body).json()
    assert api.post("/api/listings/relist", json={**body, "preview_id": relist["preview_id"]}).status_code == 200
    assert api.post("/api/listings/vanish/preview", json=body).status_code == 422


def test_a_stock_change_through_the_api(api_as) -> None:
    api = api_as("operator")
    request = {"kind": "stock_set", "selection": {"skus": ["HONEY-LY-500"]}, "warehouse": "SH", "quantity": 7}
    assert apply(api, request, preview(api, request)["preview_id"]).status_code == 200
    stock = api.get("/api/catalog/skus/HONEY-LY-500").json()["details"]["data"]["stock"]
    assert {s["warehouse"]: s["on_hand"] for s in stock}["SH"] == 7
    unknown = {**request, "warehouse": "XX"}
    refused = api.post("/api/changes/preview", json=unknown)
    assert refused.status_code == 400 and "XX" in refused.json()["detail"]


@pytest.mark.parametrize(
    "request_body",
    [
        {"kind": "price_explode", "selection": {"skus": ["*"]}},
        {"kind": "price_adjust", "selection": {"skus": ["*"]}, "percent": "abc"},
        {"kind": "price_set", "selection": {"skus": ["*"]}, "amount": "1e400"},
        {"kind": "stock_set", "selection": {"skus": ["*"]}, "warehouse": "SH", "quantity": -1},
        {"kind": "price_set", "selection": {"skus": ["*"]}, "amount": "5", "currency": "dollars"},
    ],
)
def test_malformed_requests_are_422(api_as, request_body) -> None:
    done = api_as("operator").post("/api/changes/preview", json=request_body)
    assert done.status_code == 422 and done.json()["detail"]


def test_requests_the_service_refuses_are_400_with_its_message(api_as) -> None:
    api = api_as("operator")
    nothing = api.post("/api/changes/preview", json={"kind": "price_adjust", "selection": {}, "percent": "5"})
    assert nothing.status_code == 400 and nothing.json()["detail"]
    both = {"kind": "price_adjust", "selection": {"skus": ["*"]}, "percent": "5", "amount": "1"}
    assert api.post("/api/changes/preview", json=both).status_code == 400
    wrong_id = apply(api, TEA_UP_5, "0" * 32)
    assert wrong_id.status_code == 409 and wrong_id.json()["error"] == "PreviewMismatch"
    assert apply(api, TEA_UP_5, "not-an-id").status_code == 422
    assert api.get("/api/changes/0").status_code == 422
    missing = api.get("/api/changes/424242")
    assert missing.status_code == 404 and missing.json()["detail"] == "no change set 424242"


def test_a_console_session_needs_the_csrf_token_to_apply(client_as) -> None:
    session = client_as("operator")
    shown = preview(session, TEA_UP_5)
    token = session.headers.pop("X-CSRF-Token")
    refused = apply(session, TEA_UP_5, shown["preview_id"])
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    session.headers["X-CSRF-Token"] = token
    done = apply(session, TEA_UP_5, shown["preview_id"])
    assert done.status_code == 200 and done.json()["user"] == "operator"


def test_sku_history(api_as) -> None:
    api = api_as("operator")
    apply(api, TEA_UP_5, preview(api, TEA_UP_5)["preview_id"])
    history = api.get("/api/catalog/skus/TEA-LJ-250/history").json()
    assert any(h["what"] == "base_price" and h["new"] == "176.40" and h["user"] == "operator" for h in history)
