"""Each marketplace's ship-to address as a Recipient (for packing), and a Recipient never shows in a repr."""

from __future__ import annotations

from listing_sync.adapters.amazon import mapping as amazon
from listing_sync.adapters.base import Recipient
from listing_sync.adapters.ebay.mapping import _recipient as ebay
from listing_sync.adapters.woocommerce.mapping import recipient as woo


def test_ebay_ship_to() -> None:
    data = {
        "fulfillmentStartInstructions": [
            {
                "shippingStep": {
                    "shipTo": {
                        "fullName": "Jane Roe",
                        "primaryPhone": {"phoneNumber": "+1 408 555 0100"},
                        "contactAddress": {
                            "addressLine1": "2145 Hamilton Ave",
                            "city": "San Jose",
                            "stateOrProvince": "CA",
                            "postalCode": "95125",
                            "countryCode": "US",
                        },
                    }
                }
            }
        ]
    }
    r = ebay(data)
    assert r is not None and (r.name, r.phone, r.city, r.state, r.postal_code) == (
        "Jane Roe",
        "+1 408 555 0100",
        "San Jose",
        "CA",
        "95125",
    )
    assert r.lines() == ["2145 Hamilton Ave", "95125 San Jose CA", "US"]


def test_amazon_delivery_address() -> None:
    r = amazon.recipient(
        {
            "deliveryAddress": {
                "name": "J R",
                "addressLine1": "1 A St",
                "city": "Seattle",
                "stateOrRegion": "WA",
                "postalCode": "98101",
                "countryCode": "US",
            }
        }
    )
    assert r is not None and (r.name, r.state, r.country) == ("J R", "WA", "US")
    assert amazon.recipient({}) is None


def test_woocommerce_shipping_then_billing_phone() -> None:
    r = woo(
        {
            "first_name": "李",
            "last_name": "雷",
            "address_1": "人民路1号",
            "city": "杭州",
            "postcode": "310000",
            "country": "CN",
        },
        {"phone": "13800000000"},
    )
    assert (r.name, r.phone, r.address1, r.city) == ("李 雷", "13800000000", "人民路1号", "杭州")


def test_a_recipient_never_shows_in_a_repr() -> None:
    r = Recipient(name="Jane Roe", phone="555")
    assert repr(r) == "Recipient(***)" and "Jane" not in repr([r]) and not Recipient()
