"""Excerpts of marketplace answers: enough to see what was wrong, never a person's data or a secret."""

from __future__ import annotations

import httpx
import pytest
from listing_sync.adapters.base import UnexpectedResponse
from listing_sync.adapters.excerpt import body_excerpt, read_each, unexpected, value_excerpt
from listing_sync.adapters.http import ChannelResponse, Redactor

ORDER = {
    "orderId": "026-1234567-1234567",
    "orderStatus": "Shipped",
    "buyer": {"buyerName": "Jane Doe", "buyerEmail": "jane@example.com"},
    "recipient": {"deliveryAddress": {"name": "Jane Doe", "addressLine1": "1 Main St", "postalCode": "90210",
                                      "city": "Springfield", "countryCode": "US", "phone": "+1 555 0100"}},
    "proceeds": {"grandTotal": {"amount": "x", "currencyCode": "USD"}},
    "orderItems": [{"orderItemId": "1", "quantityOrdered": 2}] * 5,
}  # fmt: skip
PERSONAL = ("Jane", "jane@", "Main St", "90210", "Springfield", "555")


def test_a_value_excerpt_keeps_ids_codes_and_amounts_and_masks_the_person():
    text = value_excerpt(ORDER, limit=2000)
    assert '"orderId": "026-1234567-1234567"' in text and '"amount": "x"' in text and '"currencyCode": "USD"' in text
    assert '"countryCode": "US"' in text and '"quantityOrdered": 2' in text and '"+2 more"' in text
    assert not any(word in text for word in PERSONAL)
    assert len(value_excerpt(ORDER)) <= 240


@pytest.mark.parametrize(
    "body, content_type, shown",
    [
        (b"<html><head><title>Attention Required! | Cloudflare</title></head><body>Jane</body></html>",
         "text/html; charset=UTF-8", "HTML page (text/html) titled 'Attention Required! | Cloudflare'"),
        (b'{"orders":[{"orderId":"12","buyer":{"name":"Jane Doe","email":"jane@exa', "application/json",
         'JSON (application/json), 71 characters: {"orders":[{"orderId":"…","buyer":{"name":"…","email":"…'),
        (b"", "application/json", "empty body (application/json)"),
        (b"Service Unavailable", "text/plain", "text/plain, 19 characters: 'Service Unavailable'"),
    ],
)  # fmt: skip
def test_a_body_excerpt_tells_what_came_without_its_strings(body, content_type, shown):
    text = body_excerpt(body, content_type)
    assert text == shown or text.startswith(shown)
    assert "Jane" not in text


def test_read_each_leaves_out_what_does_not_read_and_carries_on():
    rows = [{"id": 1, "n": "1"}, {"id": 2, "n": "many"}, "not an object", {"id": 4, "n": "4"}]
    got, problems = read_each(rows, lambda row: int(row["n"]), what="orders node", key="id", channel="shop")
    assert got == [1, 4]
    assert [p.message.split(" cannot be read")[0] for p in problems] == ["orders node 2", "orders node (no id)"]
    assert all(isinstance(p, UnexpectedResponse) and p.channel == "shop" for p in problems)
    assert "ValueError: invalid literal for int()" in problems[0].message and '"n": "…"' in problems[0].excerpt


def test_unexpected_redacts_secrets():
    redact = Redactor(["tok-secret-1234"])
    error = unexpected("answer", "token tok-secret-1234 echoed", value={"token": "tok-secret-1234"}, redact=redact)
    assert "tok-secret-1234" not in str(error) and "tok-secret-1234" not in error.excerpt


def test_a_channel_response_that_is_not_json_is_a_typed_error_with_an_excerpt():
    request = httpx.Request("GET", "https://shop.example/orders?access_token=tok-secret-1234")
    response = httpx.Response(
        200, content=b"<html><title>Just a moment...</title></html>", headers={"content-type": "text/html"},
        request=request,
    )  # fmt: skip
    adopted = ChannelResponse.adopt(response, "shop", Redactor(["tok-secret-1234"]))
    with pytest.raises(UnexpectedResponse) as caught:
        adopted.json()
    error = caught.value
    assert error.channel == "shop" and error.status == 200 and error.code == "unexpected_response"
    assert str(error).startswith(
        "[shop] GET https://shop.example/orders answered HTTP 200 with a body that is not the JSON expected "
        "(Expecting value at character 0): HTML page (text/html) titled 'Just a moment...'"
    )
    assert "tok-secret" not in str(error)
    assert ChannelResponse.adopt(httpx.Response(200, json={"a": 1}, request=request), "shop", Redactor()).json() == {
        "a": 1
    }
