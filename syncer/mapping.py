"""Category and attribute mappings per channel: management, CSV/XLSX import and export, and the
publish gap report (``syncer listings publish --dry-run``).

Category map file columns (order free):

============  ===============================================================================
``channel``   required; a configured channel name
``category``  required; our category (the catalog's ``category``)
``target``    required; the channel's category id / product type (eBay categoryId, Amazon
              productType, AliExpress category id, Taobao cid, Shopify product type,
              WooCommerce category id or ids ``12,15``)
``required``  ``;``-separated marketplace attributes every SKU of that category must have
============  ===============================================================================

Attribute map file columns (order free); one row per mapping, plus one row per value translation:

================  ===========================================================================
``channel``       required
``category``      our category, or ``*`` (or empty) for every category of the channel
``target``        required; the marketplace attribute (eBay aspect, Amazon attribute, Taobao pid)
``attribute``     our attribute name (``attr[NAME]`` in the catalog), or ``@brand``
``constant``      instead of ``attribute``: a fixed value for every SKU of the category
``value``         with ``target_value``: translate our value (白色) ...
``target_value``  ... to the marketplace's (White, or a Taobao vid)
================  ===========================================================================

Both imports validate the whole file first (every problem with row and column) and apply nothing
unless it is clean. Each mapping (channel, category, target) named in an attribute file is replaced
whole by the file's rows, so importing the same file again changes nothing.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from listing_sync.adapters import registry
from listing_sync.config.channels import ChannelConfig
from listing_sync.syncer import content, fx, limits
from listing_sync.syncer.models import AttributeMapping, CategoryMapping, Product, Sku
from listing_sync.syncer.tabular import InputRejected, Problem, read_rows
from sqlalchemy import select
from sqlalchemy.orm import Session

CATEGORY_COLUMNS = ("channel", "category", "target", "required")
ATTRIBUTE_COLUMNS = ("channel", "category", "target", "attribute", "constant", "value", "target_value")


class MappingError(ValueError):
    """A mapping that cannot be stored (unknown channel, bad id for the channel's kind, ...)."""


# ------------------------------------------------------------------------------------ validation
def category_problems(channel: ChannelConfig, category: str, target: str, required: Sequence[str]) -> list[str]:
    problems = []
    if not category.strip():
        problems.append("category: is empty")
    why = content.category_target_problem(channel.kind, target)
    if why:
        problems.append(f"target: {why}")
    rules = registry.content_rules(channel.kind)
    if rules.numeric_attributes:
        bad = [name for name in required if not name.isdigit()]
        if bad:
            problems.append(f"required: {', '.join(bad)}: {channel.kind} property ids are numeric")
    return problems


def attribute_problems(
    channel: ChannelConfig, target: str, attribute: str, constant: str, values: Mapping[str, str]
) -> list[tuple[str, str]]:
    """Problems as (column, why)."""
    problems = []
    if not target.strip():
        problems.append(("target", "is empty"))
    if bool(attribute) == bool(constant):
        problems.append(("attribute", "give exactly one of attribute (ours, or @brand) and constant"))
    if constant and values:
        problems.append(("value", "a constant takes no value translations"))
    if registry.content_rules(channel.kind).numeric_attributes:
        if target and not target.isdigit():
            problems.append(("target", f"{target!r}: {channel.kind} property ids (pid) are numeric"))
        if constant and not constant.isdigit():
            problems.append(("constant", f"{constant!r}: {channel.kind} value ids (vid) are numeric"))
        bad = [v for v in values.values() if not str(v).isdigit()]
        if bad:
            problems.append(("target_value", f"{', '.join(bad)}: {channel.kind} value ids (vid) are numeric"))
    return problems


# ------------------------------------------------------------------------------------ management
def map_category(
    session: Session, channel: ChannelConfig, category: str, target: str, required: Sequence[str] = ()
) -> bool:
    """Create or change one category mapping. Returns whether anything changed."""
    category, target = category.strip(), target.strip()
    required = [r.strip() for r in required if r.strip()]
    problems = category_problems(channel, category, target, required)
    if problems:
        raise MappingError(f"{channel.name} {category}: " + "; ".join(problems))
    row = session.scalar(
        select(CategoryMapping).where(CategoryMapping.channel == channel.name, CategoryMapping.category == category)
    )
    if row is None:
        session.add(CategoryMapping(channel=channel.name, category=category, target=target, required=required))
        session.flush()
        return True
    if row.target == target and list(row.required or []) == required:
        return False
    row.target, row.required = target, required
    session.flush()
    return True


def unmap_category(session: Session, channel: str, category: str) -> bool:
    row = session.scalar(
        select(CategoryMapping).where(CategoryMapping.channel == channel, CategoryMapping.category == category)
    )
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def map_attribute(
    session: Session,
    channel: ChannelConfig,
    target: str,
    *,
    category: str = content.ALL_CATEGORIES,
    attribute: str = "",
    constant: str = "",
    values: Mapping[str, str] | None = None,
    replace_values: bool = False,
) -> bool:
    """Create or change one attribute mapping; ``values`` are merged into its translations unless
    ``replace_values``. Returns whether anything changed."""
    category = category.strip() or content.ALL_CATEGORIES
    row = session.scalar(
        select(AttributeMapping).where(
            AttributeMapping.channel == channel.name,
            AttributeMapping.category == category,
            AttributeMapping.target == target,
        )
    )
    merged = {} if (row is None or replace_values or constant) else dict(row.values or {})
    merged.update(values or {})
    if row is not None and not attribute and not constant:
        attribute, constant = row.attribute, row.constant  # only adding translations
    problems = attribute_problems(channel, target, attribute, constant, merged)
    if problems:
        raise MappingError(f"{channel.name} {target}: " + "; ".join(f"{c}: {why}" for c, why in problems))
    if row is None:
        session.add(
            AttributeMapping(
                channel=channel.name,
                category=category,
                target=target,
                attribute=attribute,
                constant=constant,
                values=merged,
            )
        )
        session.flush()
        return True
    if (row.attribute, row.constant, dict(row.values or {})) == (attribute, constant, merged):
        return False
    row.attribute, row.constant, row.values = attribute, constant, merged
    session.flush()
    return True


def unmap_attribute(session: Session, channel: str, target: str, category: str = content.ALL_CATEGORIES) -> bool:
    row = session.scalar(
        select(AttributeMapping).where(
            AttributeMapping.channel == channel,
            AttributeMapping.category == (category or content.ALL_CATEGORIES),
            AttributeMapping.target == target,
        )
    )
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def category_rows(session: Session, channel: str | None = None) -> list[dict[str, Any]]:
    query = select(CategoryMapping).order_by(CategoryMapping.channel, CategoryMapping.category)
    if channel:
        query = query.where(CategoryMapping.channel == channel)
    return [
        {"channel": r.channel, "category": r.category, "target": r.target, "required": ";".join(r.required or [])}
        for r in session.scalars(query)
    ]


def attribute_rows(session: Session, channel: str | None = None) -> list[dict[str, Any]]:
    """One row per mapping and one per value translation: the attribute file's rows."""
    query = select(AttributeMapping).order_by(AttributeMapping.channel, AttributeMapping.category, AttributeMapping.id)
    if channel:
        query = query.where(AttributeMapping.channel == channel)
    out = []
    for r in session.scalars(query):
        base = {"channel": r.channel, "category": r.category, "target": r.target}
        head = {**base, "attribute": r.attribute, "constant": r.constant, "value": "", "target_value": ""}
        out.append(head)
        for ours, theirs in sorted((r.values or {}).items()):
            out.append({**head, "value": ours, "target_value": theirs})
    return out


# ----------------------------------------------------------------------------------------- import
@dataclass(slots=True)
class MappingImport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    #: channel -> our categories whose listings must be recomputed ("*" = all)
    affected: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)


def _read(path: Path, columns: Sequence[str], required: Sequence[str]) -> tuple[list[tuple[int, dict[str, str]]], list]:
    try:
        header, rows = read_rows(path)
        data = list(rows)
    except InputRejected:
        raise
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise InputRejected(str(path), [Problem(0, "", f"cannot read the file: {exc}")]) from None
    except Exception as exc:  # openpyxl raises many types for a corrupt workbook
        raise InputRejected(str(path), [Problem(0, "", f"cannot read the file as a workbook: {exc}")]) from None
    if not header:
        raise InputRejected(str(path), [Problem(0, "", "the file is empty (no header row)")])
    problems = []
    seen: set[str] = set()
    for name in header:
        if name in seen:
            problems.append(Problem(1, name, "duplicate column"))
        seen.add(name)
        if name not in columns:
            problems.append(Problem(1, name or "(empty)", f"unknown column (known: {', '.join(columns)})"))
    problems.extend(Problem(1, name, "required column is missing") for name in required if name not in seen)
    records = [(number, {h: c.strip() for h, c in zip(header, cells, strict=False)}) for number, cells in data]
    for number, cells in records:
        problems.extend(limits.control_problems(number, cells))
    return records, problems


def _channel(
    number: int, name: str, channels: Mapping[str, ChannelConfig], problems: list[Problem], skip_unknown: bool = False
) -> ChannelConfig | None:
    if not name:
        problems.append(Problem(number, "channel", "is empty"))
        return None
    if name not in channels and skip_unknown:
        return None
    if name not in channels:
        known = ", ".join(sorted(channels)) or "none"
        problems.append(Problem(number, "channel", f"unknown channel {name!r} (known: {known})"))
        return None
    return channels[name]


def validate_category_file(
    path: Path, channels: Mapping[str, ChannelConfig], *, skip_unknown: bool = False
) -> list[tuple[ChannelConfig, str, str, list[str]]]:
    records, problems = _read(path, CATEGORY_COLUMNS, ("channel", "category", "target"))
    out = []
    first: dict[tuple[str, str], int] = {}
    for number, cells in records:
        channel = _channel(number, cells.get("channel", ""), channels, problems, skip_unknown)
        category, target = cells.get("category", ""), cells.get("target", "")
        required = [r.strip() for r in cells.get("required", "").split(";") if r.strip()]
        if channel is None:
            continue
        bad = category_problems(channel, category, target, required)
        for text in bad:
            column, _, why = text.partition(": ")
            problems.append(Problem(number, column, why))
        key = (channel.name, category)
        if key in first:
            problems.append(Problem(number, "category", f"{channel.name} {category} is mapped on row {first[key]}"))
            continue
        first[key] = number
        if not bad:
            out.append((channel, category, target, required))
    if problems:
        raise InputRejected(str(path), problems)
    return out


def import_categories(
    session: Session, path: Path, channels: Mapping[str, ChannelConfig], *, skip_unknown: bool = False
) -> MappingImport:
    """Validate the whole file, then upsert its mappings (``skip_unknown``: ignore rows of channels
    that are not configured instead of refusing the file)."""
    rows = validate_category_file(path, channels, skip_unknown=skip_unknown)
    result = MappingImport()
    existing = {(r.channel, r.category) for r in session.scalars(select(CategoryMapping))}
    for channel, category, target, required in rows:
        if map_category(session, channel, category, target, required):
            if (channel.name, category) in existing:
                result.updated += 1
            else:
                result.created += 1
            result.affected[channel.name].add(category)
        else:
            result.unchanged += 1
    return result


@dataclass(slots=True)
class _AttributeSpec:
    row: int
    channel: ChannelConfig
    category: str
    target: str
    attribute: str = ""
    constant: str = ""
    values: dict[str, str] = field(default_factory=dict)


def validate_attribute_file(
    path: Path, channels: Mapping[str, ChannelConfig], *, skip_unknown: bool = False
) -> list[_AttributeSpec]:
    records, problems = _read(path, ATTRIBUTE_COLUMNS, ("channel", "target"))
    specs: dict[tuple[str, str, str], _AttributeSpec] = {}
    value_rows: dict[tuple[str, str, str, str], int] = {}
    for number, cells in records:
        channel = _channel(number, cells.get("channel", ""), channels, problems, skip_unknown)
        category = cells.get("category", "") or content.ALL_CATEGORIES
        target, attribute, constant = cells.get("target", ""), cells.get("attribute", ""), cells.get("constant", "")
        value, target_value = cells.get("value", ""), cells.get("target_value", "")
        if not target:
            problems.append(Problem(number, "target", "is empty"))
        if bool(value) != bool(target_value):
            problems.append(Problem(number, "target_value" if value else "value", "value and target_value go together"))
        if channel is None or not target:
            continue
        key = (channel.name, category, target)
        spec = specs.get(key)
        if spec is None:
            spec = specs[key] = _AttributeSpec(number, channel, category, target, attribute, constant)
        else:
            for name, mine, theirs in (("attribute", attribute, spec.attribute), ("constant", constant, spec.constant)):
                if mine and theirs and mine != theirs:
                    problems.append(Problem(number, name, f"differs from row {spec.row} of the same mapping"))
            spec.attribute = spec.attribute or attribute
            spec.constant = spec.constant or constant
        if value and target_value:
            vkey = (*key, value)
            if vkey in value_rows and spec.values.get(value) != target_value:
                problems.append(
                    Problem(number, "value", f"{value!r} is translated differently on row {value_rows[vkey]}")
                )
            value_rows.setdefault(vkey, number)
            spec.values[value] = target_value
    for spec in specs.values():
        for column, why in attribute_problems(spec.channel, spec.target, spec.attribute, spec.constant, spec.values):
            problems.append(Problem(spec.row, column, why))
    if problems:
        raise InputRejected(str(path), problems)
    return list(specs.values())


def import_attributes(
    session: Session, path: Path, channels: Mapping[str, ChannelConfig], *, skip_unknown: bool = False
) -> MappingImport:
    """Validate the whole file, then replace each mapping it names with the file's rows."""
    specs = validate_attribute_file(path, channels, skip_unknown=skip_unknown)
    result = MappingImport()
    existing = {(r.channel, r.category, r.target) for r in session.scalars(select(AttributeMapping))}
    for spec in specs:
        changed = map_attribute(
            session,
            spec.channel,
            spec.target,
            category=spec.category,
            attribute=spec.attribute,
            constant=spec.constant,
            values=spec.values,
            replace_values=True,
        )
        if changed:
            if (spec.channel.name, spec.category, spec.target) in existing:
                result.updated += 1
            else:
                result.created += 1
            result.affected[spec.channel.name].add(spec.category)
        else:
            result.unchanged += 1
    return result


def import_demo_mappings(
    session: Session, channels: Sequence[ChannelConfig], examples: Path
) -> tuple[MappingImport, MappingImport]:
    """The demo's mappings: ``examples/category-map.csv`` and ``examples/attribute-map.csv`` for the
    configured channels (rows of other channels are skipped). The caller refreshes the listings."""
    by_name = {c.name: c for c in channels}
    categories = import_categories(session, examples / "category-map.csv", by_name, skip_unknown=True)
    attributes = import_attributes(session, examples / "attribute-map.csv", by_name, skip_unknown=True)
    return categories, attributes


# ------------------------------------------------------------------------------------ affected SKUs
def skus_in_categories(session: Session, categories: Iterable[str]) -> list[int] | None:
    """SKU ids whose listings a mapping change of these categories affects; None = every SKU."""
    categories = set(categories)
    if content.ALL_CATEGORIES in categories:
        return None
    if not categories:
        return []
    return list(
        session.scalars(
            select(Sku.id).join(Product, Product.id == Sku.product_id).where(Product.category.in_(categories))
        )
    )


# ----------------------------------------------------------------------------------- gap report
@dataclass(frozen=True, slots=True)
class PublishGap:
    channel: str
    sku: str
    code: str
    message: str


#: (channel, SKU checks done, SKU checks in all: SKUs x channels) while the publish gaps are checked
GapProgress = Callable[[str, int, int], None]


def publish_gaps(session: Session, channels: Sequence[ChannelConfig], sku_ids: Iterable[int]) -> list[PublishGap]:
    """Every reason the selected SKUs would be refused when published on these channels (missing
    category mapping, required attributes without a value, untranslated values, image limits, ...)."""
    return list(iter_publish_gaps(session, channels, sku_ids))


def iter_publish_gaps(
    session: Session,
    channels: Sequence[ChannelConfig],
    sku_ids: Iterable[int],
    progress: GapProgress | None = None,
) -> Iterator[PublishGap]:
    """:func:`publish_gaps` as they are found, channel by channel and product by product (a long report
    is written while it is checked); ``progress`` is told after each product."""
    ids = sorted(set(sku_ids))
    skus: list[tuple[Sku, Product]] = []
    for start in range(0, len(ids), 2000):
        query = (
            select(Sku, Product)
            .join(Product, Product.id == Sku.product_id)
            .where(Sku.id.in_(ids[start : start + 2000]))
            .order_by(Product.key, Sku.sku)
        )
        skus.extend((sku, product) for sku, product in session.execute(query))
    groups: dict[int, tuple[Product, list[Sku]]] = {}
    for sku, product in skus:
        groups.setdefault(product.id, (product, []))[1].append(sku)
    day = datetime.now(UTC).date()
    total, done = len(skus) * len(channels), 0
    loaded: dict[tuple[str, ...], content.ContentContext] = {}  # channels of one language share their texts
    for channel in channels:
        if progress is not None:
            progress(channel.name, done, total)
        ctx = content.ContentContext.load(session, channel, list(groups), ids, texts_by_languages=loaded)
        rates: dict[str, str | None] = {}  # SKU currency -> why there is no rate into the channel's
        for product, members in groups.values():
            resolved, gaps = content.check(product, members, channel, ctx)
            yield from (PublishGap(channel.name, g.sku, g.code, g.message) for g in gaps)
            for sku, text in zip(members, resolved, strict=True):
                yield from _sync_gaps(session, channel, sku, text, rates, day)
            done += len(members)
            if progress is not None:
                progress(channel.name, done, total)


#: a script a title in one of these languages is written in (CJK ideographs, kana, hangul)
CJK = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
CJK_LANGUAGES = ("zh", "ja", "ko")


def _sync_gaps(
    session: Session,
    channel: ChannelConfig,
    sku: Sku,
    text: content.Resolved,
    rates: dict[str, str | None],
    day: date,
) -> list[PublishGap]:
    """What the sync would park the SKU for that content checks do not see: no FX rate from its
    currency into the channel's; a title in Chinese (Japanese, Korean) on a channel of another language."""
    gaps = []
    if sku.currency not in rates:
        try:
            fx.rate(session, sku.currency, channel.currency, day)
            rates[sku.currency] = None
        except fx.MissingRate as exc:
            rates[sku.currency] = str(exc)
    missing = rates[sku.currency]
    if missing is not None:
        gaps.append(
            PublishGap(
                channel.name,
                sku.sku,
                "fx_rate_missing",
                f"{missing}: the sync would park it; set one with "
                f"`syncer fx set {sku.currency} {channel.currency} RATE` or `syncer fx import FILE`",
            )
        )
    primary = channel.language.split("-")[0].lower()
    if primary not in CJK_LANGUAGES and CJK.search(text.title):
        gaps.append(
            PublishGap(
                channel.name,
                sku.sku,
                "content_language",
                # the same words for every SKU, so a long report groups them (the SKU is in its own column)
                f"the title is in Chinese, Japanese or Korean script, not {channel.language} (the channel's "
                f"language): add "
                f"title[{channel.language}] (and description[{channel.language}]) in the catalog, or "
                f"title[{channel.language}]@{channel.name}",
            )
        )
    return gaps
