"""The console's pages: each renders for each role, bad input gets a clear message (never a 500 or JSON),
viewers see no change buttons and cannot post, operators cannot force past the price guard, admins can."""

from __future__ import annotations

import html
import re

import pytest

ROLES = ("viewer", "operator", "admin")
PAGES = {
    "/": "taobao",
    "/listings": "CHOP-EB-5",
    "/listings?state=listed&sort=price&desc=1&channel=shopify&per_page=25": "TEA-PE-357",
    "/skus/TEA-PE-357": "TEA-PE-357",
    "/changes/new": 'name="op"',
    "/changes/preview?op=price_adjust&sku=TEA-*&value=5": 'id="preview-table"',
    "/changes": "test",
    "/orders": 'id="pick-list"',
    "/reports?period=last-7-days": "<svg",
    "/fx": "0.138 USD",
}


@pytest.mark.parametrize("role", ROLES)
def test_every_page_renders_for_every_role(client_as, role: str) -> None:
    client = client_as(role)
    for path, expected in PAGES.items():
        answer = client.get(path)
        assert answer.status_code == 200, (path, answer.text[:500])
        assert expected in answer.text, path
        assert 'name="csrf_token"' in answer.text  # the logout form, at least
        changes = ("Apply this change", "应用此更改", 'action="/fx"', "/undo", 'action="/sync"')
        if role == "viewer":
            assert not any(button in answer.text for button in changes), path


def test_the_language_switch_and_cookie(client_as) -> None:
    client = client_as("viewer")
    assert "概览" in client.get("/").text  # zh-CN by default
    english = client.get("/?lang=en")
    assert "Dashboard" in english.text and "概览" not in english.text
    assert english.cookies.get("lang") == "en" or client.cookies.get("lang") == "en"
    assert "Listings" in client.get("/listings").text  # the cookie keeps it
    assert "商品刊登" in client.get("/listings?lang=zh-CN").text


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/listings?state=sold&page=x", "state 'sold'"),
        ("/listings?sort=colour", "sort 'colour'"),
        ("/listings?channel=nowhere", "channel 'nowhere'"),
        ("/changes/preview?op=price_adjust&value=abc", "select SKUs"),
        ("/changes/preview?op=price_adjust&sku=*&value=abc", "percent 'abc'"),
        ("/changes/preview?op=stock_set&sku=*&value=3", "warehouse"),
        ("/changes/preview?op=price_adjust&sku=NOPE-*&value=5", "no SKU matches"),
        ("/changes/preview?op=explode&sku=*", "operation 'explode'"),
        ("/skus/NOPE", "NOPE"),
        ("/changes/999", "999"),
        ("/reports?from=2026-13-01", "from '2026-13-01'"),
        ("/reports?period=someday", "someday"),
        ("/orders?channel=nowhere", "channel 'nowhere'"),
    ],
)
def test_bad_input_shows_a_clear_message(client_as, path: str, message: str) -> None:
    answer = client_as("operator").get(path + ("&" if "?" in path else "?") + "lang=en")
    assert 400 <= answer.status_code < 500, answer.text[:300]
    assert answer.headers["content-type"].startswith("text/html")
    assert message in html.unescape(answer.text)
    assert 'class="msg error"' in answer.text


def _preview_id(text: str) -> str:
    found = re.search(r'name="preview_id" value="([0-9a-f]+)"', text)
    assert found, text[:2000]
    return found[1]


def test_the_guard_refuses_an_operator_and_an_admin_can_force(client_as) -> None:
    query = {"op": "price_adjust", "sku": "TEA-PE-357", "value": "80"}
    operator = client_as("operator")
    shown = operator.get("/changes/preview", params=query)
    assert 'id="guard-refused"' in shown.text and "disabled" in shown.text and 'name="force"' not in shown.text
    refused = operator.post("/changes/apply", data={**query, "preview_id": _preview_id(shown.text)})
    assert refused.status_code == 409 and 'id="change-error"' in refused.text
    forced = operator.post("/changes/apply", data={**query, "preview_id": _preview_id(shown.text), "force": "1"})
    assert forced.status_code == 403
    admin = client_as("admin")
    shown = admin.get("/changes/preview", params=query)
    assert 'name="force"' in shown.text
    done = admin.post(
        "/changes/apply", data={**query, "preview_id": _preview_id(shown.text), "force": "1"}, follow_redirects=False
    )
    assert done.status_code == 303 and re.fullmatch(r"/changes/\d+\?applied=1", done.headers["location"])


def test_apply_then_undo_as_an_operator(client_as) -> None:
    client = client_as("operator")
    query = {"op": "price_adjust", "sku": "TEA-*", "value": "5", "lang": "en"}
    shown = client.get("/changes/preview", params=query)
    assert "allowed" in shown.text and "CNY" in shown.text and "USD" in shown.text  # every amount has its currency
    done = client.post("/changes/apply", data={**query, "preview_id": _preview_id(shown.text), "reason": "web +5%"})
    assert done.status_code == 200 and 'id="applied"' in done.text
    number = re.search(r"/changes/(\d+)/undo", done.text)
    assert number
    history = client.get("/changes")
    assert "web +5%" in history.text and f"/changes/{number[1]}/undo" in history.text
    undo = client.get(f"/changes/{number[1]}/undo")
    assert undo.status_code == 200
    undone = client.post(
        "/changes/apply", data={"op": "undo", "change_set": number[1], "preview_id": _preview_id(undo.text)}
    )
    assert undone.status_code == 200 and 'id="applied"' in undone.text
    assert "undone" in client.get(f"/changes/{number[1]}?lang=en").text


def test_a_stale_preview_is_refused(client_as) -> None:
    client = client_as("operator")
    query = {"op": "price_adjust", "sku": "TEA-PE-357", "value": "5"}
    shown = client.get("/changes/preview", params=query)
    first = client.post("/changes/apply", data={**query, "preview_id": _preview_id(shown.text)}, follow_redirects=False)
    assert first.status_code == 303
    again = client.post("/changes/apply", data={**query, "preview_id": _preview_id(shown.text)})
    assert again.status_code == 409 and "preview again" in again.text


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/changes/apply", {"op": "price_adjust", "sku": "*", "value": "5", "preview_id": "x"}),
        ("/fx", {"base": "CNY", "quote": "USD", "rate": "0.2"}),
        ("/sync", {"channel": "taobao"}),
    ],
)
def test_a_viewer_cannot_post(client_as, path: str, data: dict[str, str]) -> None:
    answer = client_as("viewer").post(path, data=data)
    assert answer.status_code == 403


def test_posts_need_the_csrf_token(client_as) -> None:
    client = client_as("operator")
    del client.headers["X-CSRF-Token"]
    assert client.post("/fx", data={"base": "CNY", "quote": "USD", "rate": "0.2"}).status_code == 403


def test_fx_set_and_its_bad_input(client_as) -> None:
    client = client_as("operator")
    bad = client.post("/fx?lang=en", data={"base": "CNY", "quote": "USD", "rate": "lots", "day": "soon"})
    text = html.unescape(bad.text)
    assert bad.status_code == 400 and "rate 'lots'" in text and "day 'soon'" in text
    done = client.post("/fx", data={"base": "CNY", "quote": "EUR", "rate": "0.129"})
    assert done.status_code == 200 and "0.129" in done.text and "CNY/EUR" in done.text


def test_report_downloads(client_as) -> None:
    client = client_as("viewer")
    csv = client.get("/reports/sales.csv?period=this-month")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert csv.content.startswith(b"\xef\xbb\xbf") and b"grouping,key,currency" in csv.content
    assert "attachment" in csv.headers["content-disposition"]
    xlsx = client.get("/reports/sales.xlsx?period=this-month&lang=zh-CN")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert client.get("/reports/sales.pdf").status_code == 404


def test_the_htmx_grid_answers_the_table_alone(client_as) -> None:
    client = client_as("viewer")
    fragment = client.get("/listings?sku=TEA-*", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text and 'id="listings"' in fragment.text
    assert "TEA-PE-357" in fragment.text and "CUP-CEL-WH" not in fragment.text


def test_the_packing_export_is_for_operators(client_as) -> None:
    export = client_as("operator").get("/orders/export.csv")
    assert export.status_code == 200 and export.content.startswith(b"\xef\xbb\xbforder,channel")
    assert client_as("viewer").get("/orders/export.csv").status_code == 403
    assert "orders-export" not in client_as("viewer").get("/orders").text


def test_sync_now_queues_for_the_workers(client_as, web_app) -> None:
    queued: list[tuple[str, str]] = []

    class Recording:
        def queue_sync(self, channel: str, *, only_skus=None, user: str) -> None:
            queued.append((channel, user))

    web_app.state.scheduler = Recording()
    client = client_as("operator")
    done = client.post("/sync", data={"channel": "taobao"}, follow_redirects=False)
    assert done.status_code == 303 and queued == [("taobao", "operator")]
    assert 'id="queued"' in client.get(done.headers["location"]).text
    assert client.post("/sync", data={}, follow_redirects=False).status_code == 303 and len(queued) == 7
    bad = client.post("/sync?lang=en", data={"channel": "nowhere"})
    assert bad.status_code == 400 and "nowhere" in bad.text


def test_an_htmx_preview_of_bad_input_is_swapped_in_with_its_message(client_as) -> None:
    fragment = client_as("operator").get(
        "/changes/preview?op=price_adjust&sku=*&value=abc&lang=en", headers={"HX-Request": "true"}
    )
    assert fragment.status_code == 200 and "<html" not in fragment.text  # htmx swaps 2xx only
    assert 'id="change-error"' in fragment.text and "percent" in fragment.text
