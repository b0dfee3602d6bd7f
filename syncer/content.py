"""What a listing says on a channel: the draft sent on publish and the hash that tells when it changed."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from adapters.base import ListingDraft, ListingRef, Money, Variation
from config.channels import ChannelConfig
from syncer.models import Product, Sku


@dataclass(frozen=True, slots=True)
class ListingInput:
    """One SKU to publish with the values computed for this channel."""

    sku: Sku
    price: Decimal
    quantity: int
    ref: ListingRef | None


class ContentProblem(ValueError):
    """A listing that cannot be published as it is (missing mapping, too many images, ...)."""

    def __init__(self, code: str, message: str):
        self.code = code
        super().__init__(message)


def content_fields(product: Product, sku: Sku, channel: ChannelConfig) -> dict[str, Any]:
    """The content of one SKU's listing on one channel (everything but price and quantity)."""
    return {
        "language": channel.language,
        "title": product.title,
        "description": product.description,
        "category": product.category,
        "brand": product.brand,
        "attributes": dict(sorted((sku.attributes or {}).items())),
        "images": list(sku.images or []),
        "barcode": sku.barcode,
        "weight_grams": sku.weight_grams,
    }


def content_hash(product: Product, sku: Sku, channel: ChannelConfig) -> str:
    payload = json.dumps(content_fields(product, sku, channel), sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]


def build_draft(product: Product, items: Sequence[ListingInput], channel: ChannelConfig) -> ListingDraft:
    """One draft per product on a channel: a single listing, or a parent with one variation per SKU."""
    currency = channel.currency
    first = items[0]
    fields = content_fields(product, first.sku, channel)
    images = tuple(dict.fromkeys(url for item in items for url in (item.sku.images or [])))
    common = {
        "title": fields["title"],
        "description": fields["description"],
        "category_id": fields["category"],
        "language": channel.language,
        "images": images,
        "brand": product.brand or None,
    }
    if len(items) == 1 and not (first.sku.attributes or {}):
        return ListingDraft(
            sku=first.sku.sku,
            price=Money(first.price, currency),
            quantity=first.quantity,
            barcode=first.sku.barcode or None,
            weight_grams=first.sku.weight_grams,
            ref=first.ref,
            **common,
        )
    variations = tuple(
        Variation(
            sku=item.sku.sku,
            price=Money(item.price, currency),
            quantity=item.quantity,
            attributes={str(k): str(v) for k, v in (item.sku.attributes or {}).items()},
            images=tuple(item.sku.images or ()),
            barcode=item.sku.barcode or None,
            ref=item.ref,
        )
        for item in items
    )
    return ListingDraft(
        sku=product.key,
        price=min((v.price for v in variations), key=lambda m: m.amount),
        quantity=sum(v.quantity for v in variations),
        ref=next((i.ref for i in items if i.ref is not None), None),
        variations=variations,
        **common,
    )
