"""A preview's call counting reads each listing's stored ref with ``_parse``: it must read exactly
what ``json.loads`` reads, so the adapters' one estimate sees the same refs."""

from __future__ import annotations

import json

import pytest
from listing_sync.adapters.base import ListingRef
from listing_sync.syncer.changes.preview import _CallItem, _parse

DOCUMENTS = [
    '{"sku":"SKU-1","external_id":"X1","ids":{"product_id":"X1"}}',
    '{"sku": "SKU-1", "external_id": null, "ids": {"num_iid": "9", "sku_id/SKU-1": "7"}}',
    '  {"sku": "SKU-1", "ids": {}}\n',  # whitespace around the document
    '{"sku":"\\u00e9t\\u00e9","external_id":"1","ids":{"variation_id:A":"2","disabled":"1"}}',
    '{"sku":"S","external_id":"E","ids":{"n":1.5,"big":12345678901234567890,"list":[1,{"a":null}]}}',
    "{}",
    "null",
    "[]",
    '"text"',
]


@pytest.mark.parametrize("raw", DOCUMENTS)
def test_parse_reads_what_json_loads_reads(raw: str) -> None:
    assert _parse(raw) == json.loads(raw)


@pytest.mark.parametrize("raw", ['{"sku": "S"} x', '{"sku": ', "", "nul", '{"a":1}{"b":2}'])
def test_parse_refuses_what_json_loads_refuses(raw: str) -> None:
    with pytest.raises(json.JSONDecodeError):
        json.loads(raw)
    with pytest.raises(json.JSONDecodeError):
        _parse(raw)


@pytest.mark.parametrize("raw", [*DOCUMENTS[:6], None, ""])
def test_call_item_ref_is_the_stored_ref(raw: str | None) -> None:
    data = json.loads(raw) if raw else None
    expected = ListingRef(data.get("sku") or "SKU-1", data.get("external_id"), data.get("ids") or {}) if data else None
    assert _CallItem("SKU-1", raw).ref == expected
