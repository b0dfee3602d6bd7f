"""What a listing says on a channel: the draft sent on publish and the hash that tells when it changed.

Content is resolved per channel:

* **language**: the channel's ``language`` (BCP 47). A product's text in that language
  (:class:`~syncer.models.ProductText`) wins over its own ``title``/``description``; a text stored for the
  channel itself (an override, e.g. an Amazon-specific title) wins over both. ``en-US`` falls back to
  ``en``. Descriptions are sanitized HTML (nh3) on the way out, whatever was imported.
* **category**: our category is mapped per channel (:class:`~syncer.models.CategoryMapping`) to the
  marketplace's category id or product type. Where the marketplace's content rules require a category,
  an unmapped one refuses the publish with a message naming the missing mapping.
* **attributes**: :class:`~syncer.models.AttributeMapping` rows say which marketplace attribute each of
  our attributes fills (per category, or ``*`` for all), translate values (白色 -> White), add constants
  and the brand. Values localized per SKU (:class:`~syncer.models.SkuText`) are used when no translation
  applies. Attributes without a mapping keep our name (refused where the marketplace wants numeric ids).
  Attributes the category requires are checked for every SKU before publishing.
* **images**: count (and HTTPS where required) against the marketplace's limits.

What each marketplace accepts is its adapter's :class:`~adapters.base.ContentRules` (``content_rules``),
read through the registry: this module names no marketplace.

Everything that reaches the wire is in :func:`content_fields`, so any change to texts, mappings or
images changes :func:`content_hash` and the listing becomes dirty on the next refresh.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any, TypedDict

import nh3
from listing_sync.adapters import registry
from listing_sync.adapters.base import ContentRules, ListingDraft, ListingRef, Money, Variation
from listing_sync.config.channels import ChannelConfig
from listing_sync.syncer.models import AttributeMapping, CategoryMapping, Product, ProductText, Sku, SkuText
from sqlalchemy import select
from sqlalchemy.orm import Session

ALL_CATEGORIES = "*"
BRAND = "@brand"


# ---------------------------------------------------------------------------------------- languages
_LANGUAGE = re.compile(
    r"^(?P<lang>[A-Za-z]{2,3})(?:-(?P<script>[A-Za-z]{4}))?(?:-(?P<region>[A-Za-z]{2}|\d{3}))?"
    r"(?P<variants>(?:-(?:[A-Za-z0-9]{5,8}|\d[A-Za-z0-9]{3}))*)$"
)


def normalize_language(tag: str) -> str | None:
    """A BCP 47 tag in canonical case (``zh-cn`` -> ``zh-CN``, ``zh-hant`` -> ``zh-Hant``); None if it
    is not one (``zh_CN`` and ``english`` are not)."""
    match = _LANGUAGE.match(tag.strip())
    if not match:
        return None
    out = match["lang"].lower()
    if match["script"]:
        out += "-" + match["script"].title()
    if match["region"]:
        out += "-" + match["region"].upper()
    if match["variants"]:
        out += match["variants"].lower()
    return out


def language_chain(tag: str) -> list[str]:
    """Tags to look content up by, most specific first: ``zh-Hant-TW`` -> zh-Hant-TW, zh-Hant, zh."""
    return list(_chain(tag))


@lru_cache(maxsize=256)
def _chain(tag: str) -> tuple[str, ...]:
    canonical = normalize_language(tag) or tag
    parts = canonical.split("-")
    return tuple("-".join(parts[:n]) for n in range(len(parts), 0, -1))


@lru_cache(maxsize=4096)
def sanitize_html(text: str) -> str:
    """Description HTML with scripts, event handlers and unknown tags removed (nh3 defaults). Cached: a
    product's description is the same on each of its SKUs and on every channel of one language."""
    return nh3.clean(text) if text else ""


# -------------------------------------------------------------------------------------- kind rules
def category_target_problem(kind: str, target: str) -> str | None:
    """Why ``target`` cannot be a category id / product type on this kind of channel (None = fine)."""
    rules = registry.content_rules(kind)
    if not target.strip():
        return "is empty"
    if rules.category_pattern and not re.match(rules.category_pattern, target):
        return f"{target!r} is not a {kind} {rules.category_hint}"
    return None


# ----------------------------------------------------------------------------------------- context
@dataclass(frozen=True, slots=True)
class ListingInput:
    """One SKU to publish with the values computed for this channel."""

    sku: Sku
    price: Decimal
    quantity: int
    ref: ListingRef | None


class ContentProblem(ValueError):
    """A listing that cannot be published as it is (missing mapping, too many images, ...).

    ``gaps`` lists every problem found; ``code`` and the message summarize them."""

    def __init__(self, code: str, message: str, gaps: Sequence[Gap] = ()):
        self.code = code
        self.gaps = list(gaps)
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class Gap:
    """One thing that keeps a SKU from being published on a channel."""

    sku: str
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class AttributeRule:
    target: str
    attribute: str  # our attribute name, BRAND, or "" for a constant
    constant: str
    values: dict[str, str]


@dataclass(slots=True)
class ContentContext:
    """Everything content resolution needs for one channel, loaded in a few queries."""

    channel: ChannelConfig
    categories: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)  # ours -> (target, required)
    attribute_rules: dict[str, list[AttributeRule]] = field(default_factory=dict)  # category -> rules
    texts: dict[int, dict[tuple[str, str], ProductText]] = field(default_factory=dict)
    sku_texts: dict[int, dict[str, dict[str, Any]]] = field(default_factory=dict)
    #: product id -> its resolved (title, description, bullets): the same for each of its SKUs
    resolved_texts: dict[int, tuple[str, str, tuple[str, ...]]] = field(default_factory=dict)
    rules_by_category: dict[str, list[AttributeRule]] = field(default_factory=dict)

    @classmethod
    def load(
        cls,
        session: Session,
        channel: ChannelConfig,
        product_ids: Iterable[int] = (),
        sku_ids: Iterable[int] = (),
        texts_by_languages: dict[tuple[str, ...], ContentContext] | None = None,
    ) -> ContentContext:
        """``texts_by_languages``: contexts already loaded for the same products and SKUs, by language
        chain; a channel of the same languages shares their texts instead of reading them again."""
        out = cls(channel)
        for row in session.scalars(select(CategoryMapping).where(CategoryMapping.channel == channel.name)):
            out.categories[row.category] = (row.target, tuple(row.required or ()))
        for rule in session.scalars(
            select(AttributeMapping).where(AttributeMapping.channel == channel.name).order_by(AttributeMapping.id)
        ):
            out.attribute_rules.setdefault(rule.category, []).append(
                AttributeRule(rule.target, rule.attribute, rule.constant, dict(rule.values or {}))
            )
        languages = language_chain(channel.language)
        loaded = (texts_by_languages or {}).get(tuple(languages))
        if loaded is not None:
            out.texts, out.sku_texts = loaded.texts, loaded.sku_texts
            return out
        if texts_by_languages is not None:
            texts_by_languages[tuple(languages)] = out
        pids = sorted(set(product_ids))
        for start in range(0, len(pids), 2000):
            for text in session.scalars(
                select(ProductText).where(
                    ProductText.product_id.in_(pids[start : start + 2000]), ProductText.language.in_(languages)
                )
            ):
                out.texts.setdefault(text.product_id, {})[(text.language, text.channel)] = text
        sids = sorted(set(sku_ids))
        for start in range(0, len(sids), 2000):
            for sku_text in session.scalars(
                select(SkuText).where(SkuText.sku_id.in_(sids[start : start + 2000]), SkuText.language.in_(languages))
            ):
                out.sku_texts.setdefault(sku_text.sku_id, {})[sku_text.language] = dict(sku_text.attributes or {})
        return out

    @classmethod
    def for_products(cls, session: Session, channel: ChannelConfig, products: Iterable[Product]) -> ContentContext:
        products = list(products)
        ids = [p.id for p in products]
        sku_ids: list[int] = []
        for start in range(0, len(ids), 2000):
            sku_ids.extend(session.scalars(select(Sku.id).where(Sku.product_id.in_(ids[start : start + 2000]))))
        return cls.load(session, channel, ids, sku_ids)

    def rules(self, category: str) -> list[AttributeRule]:
        """The attribute rules for a category: its own, then the channel-wide ones for other targets."""
        found = self.rules_by_category.get(category)
        if found is None:
            found = self.rules_by_category[category] = self._rules(category)
        return list(found)

    def _rules(self, category: str) -> list[AttributeRule]:
        own = list(self.attribute_rules.get(category, [])) if category != ALL_CATEGORIES else []
        targets = {r.target for r in own}
        return own + [r for r in self.attribute_rules.get(ALL_CATEGORIES, []) if r.target not in targets]


# --------------------------------------------------------------------------------------- resolution
@dataclass(slots=True)
class Resolved:
    """One SKU's content on one channel, and what keeps it from being published."""

    language: str
    title: str
    description: str
    bullet_points: tuple[str, ...]
    category_id: str | None
    required: tuple[str, ...]
    shared: dict[str, str]  # constants and brand: the listing's own attributes
    attributes: dict[str, str]  # the SKU's mapped attributes (its variation attributes)
    gaps: list[Gap]


def _texts(product: Product, channel: ChannelConfig, ctx: ContentContext) -> tuple[str, str, tuple[str, ...]]:
    if product.id is None:  # not stored yet: nothing to share it with
        return _resolve_texts(product, channel, ctx)
    found = ctx.resolved_texts.get(product.id)
    if found is None:
        found = ctx.resolved_texts[product.id] = _resolve_texts(product, channel, ctx)
    return found


def _resolve_texts(product: Product, channel: ChannelConfig, ctx: ContentContext) -> tuple[str, str, tuple[str, ...]]:
    rows = ctx.texts.get(product.id, {})
    chain = _chain(channel.language)
    candidates = [rows.get((lang, channel.name)) for lang in chain] + [rows.get((lang, "")) for lang in chain]
    found = [row for row in candidates if row is not None]
    title = next((r.title for r in found if r.title), product.title)
    description = next((r.description for r in found if r.description), product.description or "")
    bullets = next((tuple(r.bullet_points) for r in found if r.bullet_points), ())
    return title, sanitize_html(description), bullets


def _localized_values(sku: Sku, channel: ChannelConfig, ctx: ContentContext) -> dict[str, str]:
    rows = ctx.sku_texts.get(sku.id, {})
    out: dict[str, str] = {}
    for lang in reversed(_chain(channel.language)):
        out.update({str(k): str(v) for k, v in rows.get(lang, {}).items()})
    return out


def _translate(rule: AttributeRule, raw: str, localized: str | None) -> str:
    if raw in rule.values:
        return str(rule.values[raw])
    if localized is not None and localized in rule.values:
        return str(rule.values[localized])
    return localized if localized is not None else raw


@dataclass(slots=True)
class _ProductView:
    """One product on one channel: what :func:`resolve` shares between the product's SKUs."""

    title: str
    description: str
    bullets: tuple[str, ...]
    category: str
    category_id: str | None
    required: tuple[str, ...]
    category_gap: str | None  # "category_missing" | "category_unmapped" | None
    shared: dict[str, str]  # constants and brand
    by_source: dict[str, list[AttributeRule]]  # our attribute -> the rules it fills


def _product_view(product: Product, channel: ChannelConfig, ctx: ContentContext, rules: ContentRules) -> _ProductView:
    title, description, bullets = _texts(product, channel, ctx)
    category = product.category or ""
    mapped = ctx.categories.get(category)
    category_gap = None
    if mapped is not None:
        category_id, required = mapped[0], mapped[1]
    elif rules.category_required:
        category_id, required = None, ()
        category_gap = "category_unmapped" if category else "category_missing"
    else:
        category_id, required = category, ()
    shared: dict[str, str] = {}
    by_source: dict[str, list[AttributeRule]] = defaultdict(list)
    for rule in ctx.rules(category):
        if rule.attribute == BRAND:
            if product.brand:
                shared[rule.target] = _translate(rule, product.brand, None)
        elif rule.attribute:
            by_source[rule.attribute].append(rule)
        elif rule.constant:
            shared[rule.target] = rule.constant
    return _ProductView(
        title, description, bullets, category, category_id, tuple(required), category_gap, shared, by_source
    )


def _sku_attributes(
    view: _ProductView, sku: Sku, channel: ChannelConfig, ctx: ContentContext, rules: ContentRules
) -> tuple[dict[str, str], list[str]]:
    """The SKU's mapped attributes (unsorted) and the names of its attributes without a mapping where
    the marketplace wants ids (those are left out)."""
    localized = _localized_values(sku, channel, ctx)
    attributes: dict[str, str] = {}
    unmapped: list[str] = []
    for name, value in sorted((sku.attributes or {}).items()):
        raw = str(value)
        if name not in view.by_source:
            if rules.numeric_attributes:
                unmapped.append(name)
                continue
            attributes[name] = localized.get(name, raw)
            continue
        for rule in view.by_source[name]:
            attributes[rule.target] = _translate(rule, raw, localized.get(name))
    return attributes, unmapped


def resolve(product: Product, sku: Sku, channel: ChannelConfig, ctx: ContentContext) -> Resolved:
    """Resolve one SKU's content for a channel; problems are collected in ``gaps``, never raised."""
    rules = registry.content_rules(channel.kind)
    view = _product_view(product, channel, ctx, rules)
    return _resolved(product, sku, channel, ctx, rules, view)


def _resolved(
    product: Product, sku: Sku, channel: ChannelConfig, ctx: ContentContext, rules: ContentRules, view: _ProductView
) -> Resolved:
    gaps: list[Gap] = []
    category, category_id, required, title = view.category, view.category_id, view.required, view.title
    if view.category_gap == "category_missing":
        gaps.append(
            Gap(sku.sku, "category_missing", f"product {product.key} has no category: set `category` in the catalog")
        )
    elif view.category_gap == "category_unmapped":
        gaps.append(
            Gap(
                sku.sku,
                "category_unmapped",
                f"category {category!r} has no mapping for channel {channel.name!r} ({channel.kind} "
                f"{rules.category_hint}): add one with `syncer categories map {channel.name} {category} ID`",
            )
        )
    shared = dict(view.shared)
    attributes, unmapped = _sku_attributes(view, sku, channel, ctx, rules)
    for name in unmapped:
        gaps.append(
            Gap(
                sku.sku,
                "attribute_unmapped",
                f"attribute {name!r} has no mapping for channel {channel.name!r}: map it to a "
                f"{channel.kind} property id with `syncer attributes map {channel.name} PID --from {name}`",
            )
        )
    if rules.numeric_attributes:
        for target, value in [*shared.items(), *attributes.items()]:
            if not (target.isdigit() and value.isdigit()):
                gaps.append(
                    Gap(
                        sku.sku,
                        "attribute_untranslated",
                        f"{target}={value!r} is not a {channel.kind} property id:value id pair: add a value "
                        f"translation with `syncer attributes map {channel.name} {target} --value {value}=VID`",
                    )
                )
    present = set(shared) | set(attributes)
    missing = [name for name in required if name not in present]
    if missing:
        gaps.append(
            Gap(
                sku.sku,
                "attribute_missing",
                f"{channel.name} category {category_id} ({category}) requires {', '.join(missing)}: map one of "
                f"our attributes with `syncer attributes map {channel.name} NAME --category {category} --from ATTR` "
                "or set attr[...] in the catalog",
            )
        )
    if rules.max_title is not None and len(title) > rules.max_title:
        gaps.append(
            Gap(
                sku.sku,
                "title_too_long",
                f"title is {len(title)} characters; {channel.kind} allows {rules.max_title}: set a shorter "
                f"title[{channel.language}] or title[{channel.language}]@{channel.name}",
            )
        )
    return Resolved(
        language=channel.language,
        title=title,
        description=view.description,
        bullet_points=view.bullets,
        category_id=category_id,
        required=tuple(required),
        shared=dict(sorted(shared.items())),
        attributes=dict(sorted(attributes.items())),
        gaps=gaps,
    )


def image_gaps(label: str, images: Sequence[str], channel: ChannelConfig) -> list[Gap]:
    rules = registry.content_rules(channel.kind)
    gaps = []
    if rules.max_images is not None and len(images) > rules.max_images:
        gaps.append(
            Gap(
                label,
                "too_many_images",
                f"{len(images)} images; {channel.kind} takes at most {rules.max_images} per listing: "
                "remove some from `images` in the catalog",
            )
        )
    if len(images) < rules.min_images:
        gaps.append(
            Gap(label, "no_images", f"{channel.kind} needs at least {rules.min_images} image(s) to publish a listing")
        )
    if rules.https_images:
        plain = [url for url in images if not url.lower().startswith("https://")]
        if plain:
            gaps.append(
                Gap(label, "image_not_https", f"{channel.kind} takes HTTPS image URLs only: {', '.join(plain[:3])}")
            )
    return gaps


def _empty(channel: ChannelConfig, ctx: ContentContext | None) -> ContentContext:
    return ctx if ctx is not None else ContentContext(channel)


def content_fields(
    product: Product, sku: Sku, channel: ChannelConfig, ctx: ContentContext | None = None
) -> dict[str, Any]:
    """The content of one SKU's listing on one channel (everything but price and quantity)."""
    resolved = resolve(product, sku, channel, _empty(channel, ctx))
    return {
        "language": resolved.language,
        "title": resolved.title,
        "description": resolved.description,
        "bullet_points": list(resolved.bullet_points),
        "category": product.category,
        "category_id": resolved.category_id,
        "required": list(resolved.required),
        "brand": product.brand,
        "shared": resolved.shared,
        "attributes": resolved.attributes,
        "images": list(sku.images or []),
        "barcode": sku.barcode,
        "weight_grams": sku.weight_grams,
    }


def content_hash(product: Product, sku: Sku, channel: ChannelConfig, ctx: ContentContext | None = None) -> str:
    payload = json.dumps(content_fields(product, sku, channel, ctx), sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]


#: ``json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)`` without building an encoder per call
_dumps = json.JSONEncoder(sort_keys=True, ensure_ascii=False, default=str).encode


class ContentHasher:
    """:func:`content_hash` for many SKUs on one channel, the same value computed faster: each product's
    share (texts, category, shared attributes) is resolved and serialized once for all its SKUs, and each
    SKU's hash input is assembled from those pieces in the key order ``json.dumps(sort_keys=True)`` uses."""

    def __init__(self, channel: ChannelConfig, ctx: ContentContext) -> None:
        self.channel, self.ctx = channel, ctx
        self.rules = registry.content_rules(channel.kind)
        self.language = _dumps(channel.language)
        self.products: dict[int, tuple[_ProductView, str, str]] = {}

    def __call__(self, product: Product, sku: Sku) -> str:
        found = self.products.get(product.id)
        if found is None:
            view = _product_view(product, self.channel, self.ctx, self.rules)
            # keys in sorted order: attributes, barcode | brand ... description | images | language ... title
            middle = (
                f'"brand": {_dumps(product.brand)}, "bullet_points": {_dumps(list(view.bullets))}, '
                f'"category": {_dumps(product.category)}, "category_id": {_dumps(view.category_id)}, '
                f'"description": {_dumps(view.description)}'
            )
            tail = (
                f'"language": {self.language}, "required": {_dumps(list(view.required))}, '
                f'"shared": {_dumps(view.shared)}, "title": {_dumps(view.title)}'
            )
            found = self.products[product.id] = (view, middle, tail)
        view, middle, tail = found
        attributes, _ = _sku_attributes(view, sku, self.channel, self.ctx, self.rules)
        payload = (
            f'{{"attributes": {_dumps(attributes)}, "barcode": {_dumps(sku.barcode)}, {middle}, '
            f'"images": {_dumps(list(sku.images or []))}, {tail}, "weight_grams": {_dumps(sku.weight_grams)}}}'
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]


# ------------------------------------------------------------------------------------- fingerprints
#: Part of every channel fingerprint: raise it whenever :func:`content_fields` or :func:`resolve` change
#: what they produce from the same inputs, so stored hashes are not reused across the change.
HASH_RULES_VERSION = 1
FINGERPRINT_CHARS = 16  # hex characters of each half of a content basis (64 bits each)


def channel_fingerprint(ctx: ContentContext) -> str:
    """What a channel adds to every listing's content hash: its name, kind, language, content rules and
    category and attribute mappings. Equal fingerprints and equal :func:`input_fingerprint` mean an equal
    :func:`content_hash`."""
    channel = ctx.channel
    parts = (
        HASH_RULES_VERSION,
        getattr(nh3, "__version__", ""),  # the sanitizer's output is part of the hash
        channel.name,
        channel.kind,
        channel.language,
        repr(registry.content_rules(channel.kind)),
        sorted(ctx.categories.items()),
        sorted((category, [repr(rule) for rule in rules]) for category, rules in ctx.attribute_rules.items()),
    )
    return _digest(repr(parts))


def product_inputs(product: Any, texts: Mapping[tuple[str, str], Any], languages: Sequence[str]) -> str:
    """The product's share of a content fingerprint: its own content columns and its texts in
    ``languages`` (a channel's language chain), as one string. ``texts`` are rows with ``title``,
    ``description`` and ``bullet_points``, keyed by (language, channel)."""
    own = sorted(
        (key, row.title, row.description, list(row.bullet_points or ()))
        for key, row in texts.items()
        if key[0] in languages
    )
    return repr((product.title, product.description, product.category, product.brand, own))


def input_fingerprint(product_part: str, sku: Any, sku_texts: Mapping[str, Any], languages: Sequence[str]) -> str:
    """A fingerprint of everything one SKU's content hash is computed from on channels of ``languages``
    (with :func:`product_inputs`): the raw stored values, before any resolution or sanitizing."""
    own = sorted((lang, _pairs(values)) for lang, values in sku_texts.items() if lang in languages)
    sku_part = repr((_pairs(sku.attributes or {}), sku.images, sku.barcode, sku.weight_grams, own))
    return _digest(product_part + "\x1f" + sku_part)


def _pairs(values: Mapping[Any, Any]) -> list[tuple[str, str]]:
    return sorted((str(k), str(v)) for k, v in values.items())


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:FINGERPRINT_CHARS]


def check(
    product: Product, skus: Sequence[Sku], channel: ChannelConfig, ctx: ContentContext | None = None
) -> tuple[list[Resolved], list[Gap]]:
    """Resolve every SKU of one listing and collect every gap (content, mapping, required, images)."""
    ctx = _empty(channel, ctx)
    resolved = [resolve(product, sku, channel, ctx) for sku in skus]
    gaps = [gap for r in resolved for gap in r.gaps]
    images = list(dict.fromkeys(url for sku in skus for url in (sku.images or [])))
    label = skus[0].sku if len(skus) == 1 else product.key
    gaps.extend(image_gaps(label, images, channel))
    return resolved, gaps


class _DraftContent(TypedDict):
    """What a listing's draft shares whether it is one SKU or a parent with variations."""

    title: str
    description: str
    category_id: str
    language: str
    images: tuple[str, ...]
    brand: str | None
    bullet_points: tuple[str, ...]
    attributes: Mapping[str, tuple[str, ...]]


def build_draft(
    product: Product, items: Sequence[ListingInput], channel: ChannelConfig, ctx: ContentContext | None = None
) -> ListingDraft:
    """One draft per product on a channel: a single listing, or a parent with one variation per SKU.

    Raises :class:`ContentProblem` listing every gap when the listing cannot be published as it is."""
    currency = channel.currency
    first = items[0]
    resolved, gaps = check(product, [item.sku for item in items], channel, ctx)
    if gaps:
        codes = list(dict.fromkeys(g.code for g in gaps))
        message = "; ".join(f"{g.sku}: {g.message}" for g in gaps)
        raise ContentProblem(codes[0] if len(codes) == 1 else "content", message, gaps)
    head = resolved[0]
    images = tuple(dict.fromkeys(url for item in items for url in (item.sku.images or [])))
    common: _DraftContent = {
        "title": head.title,
        "description": head.description,
        "category_id": head.category_id or "",
        "language": channel.language,
        "images": images,
        "brand": product.brand or None,
        "bullet_points": head.bullet_points,
        "attributes": {name: (value,) for name, value in head.shared.items()},
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
            attributes=res.attributes,
            images=tuple(item.sku.images or ()),
            barcode=item.sku.barcode or None,
            ref=item.ref,
        )
        for item, res in zip(items, resolved, strict=True)
    )
    return ListingDraft(
        sku=product.key,
        price=min((v.price for v in variations), key=lambda m: m.amount),
        quantity=sum(v.quantity for v in variations),
        ref=next((i.ref for i in items if i.ref is not None), None),
        variations=variations,
        **common,
    )
