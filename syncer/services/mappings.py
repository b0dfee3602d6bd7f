"""Category and attribute mappings per channel: map, unmap, list, import, export. Every change
recomputes the listings of the affected categories, so they become dirty and the next sync publishes
the new content."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from listing_sync.syncer import mapping, reconcile
from listing_sync.syncer.context import Context
from listing_sync.syncer.mapping import MappingError, MappingImport
from listing_sync.syncer.services.common import (
    FileFormat,
    InvalidRequest,
    NotFound,
    Written,
    prepare,
    require_out,
    write_table,
)
from sqlalchemy.orm import Session


@dataclass(frozen=True, slots=True)
class Mapped:
    """``changed`` False: it was mapped so already; ``dirty`` listings will be republished."""

    changed: bool
    dirty: int


@dataclass(frozen=True, slots=True)
class Unmapped:
    dirty: int


@dataclass(frozen=True, slots=True)
class MappingTable:
    columns: tuple[str, ...]
    rows: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class MappingsImported:
    result: MappingImport
    dirty: int


@contextmanager
def _refused() -> Iterator[None]:
    try:
        yield
    except MappingError as exc:
        raise InvalidRequest(str(exc)) from None


def _refresh(session: Session, context: Context, affected: Mapping[str, set[str]]) -> int:
    """Recompute the listings of the affected categories on the affected channels; how many became dirty."""
    dirty = 0
    for name, categories in affected.items():
        if not categories:
            continue
        config = context.channel(name)
        ids = mapping.skus_in_categories(session, categories)
        if ids is not None and not ids:
            continue
        dirty += reconcile.refresh(session, [config], ids, channel_names=[name])
    return dirty


# ------------------------------------------------------------------------------------------ categories
def map_category(context: Context, channel: str, category: str, target: str, required: Sequence[str] = ()) -> Mapped:
    """Map one of our categories to a channel's category (replaces an existing mapping), with the
    marketplace attributes that category requires."""
    prepare(context)
    config = context.channel(channel)
    with _refused(), context.session() as session:
        changed = mapping.map_category(session, config, category, target, list(required))
        dirty = _refresh(session, context, {channel: {category}}) if changed else 0
    return Mapped(changed, dirty)


def unmap_category(context: Context, channel: str, category: str) -> Unmapped:
    """Remove a category mapping (its SKUs can no longer be published on that channel)."""
    prepare(context)
    context.channel(channel)
    with context.session() as session:
        if not mapping.unmap_category(session, channel, category):
            raise NotFound(f"{channel}: category {category!r} is not mapped")
        dirty = _refresh(session, context, {channel: {category}})
    return Unmapped(dirty)


def list_categories(context: Context, channel: str | None = None) -> MappingTable:
    with context.session() as session:
        return MappingTable(tuple(mapping.CATEGORY_COLUMNS), mapping.category_rows(session, channel))


def import_categories(context: Context, path: Path) -> MappingsImported:
    """Import category mappings: the whole file is validated first; nothing is applied unless it is clean."""
    return _import(context, path, mapping.import_categories)


def export_categories(context: Context, *, fmt: FileFormat, out: Path | None = None, bom: bool = False) -> Written:
    """Category mappings in the import column set (``bom``: a CSV starts with a UTF-8 BOM)."""
    return _export(context, mapping.category_rows, mapping.CATEGORY_COLUMNS, fmt, out, "categories", bom)


# ------------------------------------------------------------------------------------------ attributes
def map_attribute(
    context: Context,
    channel: str,
    target: str,
    *,
    attribute: str = "",
    constant: str = "",
    category: str = "*",
    values: Mapping[str, str] | None = None,
    replace_values: bool = False,
) -> Mapped:
    """Map a marketplace attribute to one of our attributes (or a constant) for a category ('*' = all),
    translating our values to theirs (added to the existing translations unless ``replace_values``)."""
    prepare(context)
    config = context.channel(channel)
    with _refused(), context.session() as session:
        changed = mapping.map_attribute(
            session,
            config,
            target,
            category=category,
            attribute=attribute.strip(),
            constant=constant.strip(),
            values=dict(values or {}),
            replace_values=replace_values,
        )
        dirty = _refresh(session, context, {channel: {category or "*"}}) if changed else 0
    return Mapped(changed, dirty)


def unmap_attribute(context: Context, channel: str, target: str, category: str = "*") -> Unmapped:
    prepare(context)
    context.channel(channel)
    with context.session() as session:
        if not mapping.unmap_attribute(session, channel, target, category):
            raise NotFound(f"{channel}: attribute {target!r} ({category}) is not mapped")
        dirty = _refresh(session, context, {channel: {category}})
    return Unmapped(dirty)


def list_attributes(context: Context, channel: str | None = None) -> MappingTable:
    with context.session() as session:
        return MappingTable(tuple(mapping.ATTRIBUTE_COLUMNS), mapping.attribute_rows(session, channel))


def import_attributes(context: Context, path: Path) -> MappingsImported:
    """Import attribute mappings: the whole file is validated first; nothing is applied unless it is clean."""
    return _import(context, path, mapping.import_attributes)


def export_attributes(context: Context, *, fmt: FileFormat, out: Path | None = None, bom: bool = False) -> Written:
    """Attribute mappings in the import column set (``bom``: a CSV starts with a UTF-8 BOM)."""
    return _export(context, mapping.attribute_rows, mapping.ATTRIBUTE_COLUMNS, fmt, out, "attributes", bom)


# ------------------------------------------------------------------------------------------------ shared
def _import(
    context: Context, path: Path, load: Callable[[Session, Path, dict[str, Any]], MappingImport]
) -> MappingsImported:
    if not path.exists():
        raise NotFound(f"{path}: no such file")
    prepare(context)
    with context.session() as session:
        result = load(session, path, {c.name: c for c in context.channels})
        dirty = _refresh(session, context, result.affected)
    return MappingsImported(result, dirty)


def _export(
    context: Context,
    read: Callable[[Session], list[dict[str, Any]]],
    columns: Sequence[str],
    fmt: FileFormat,
    out: Path | None,
    sheet: str,
    bom: bool,
) -> Written:
    with context.session() as session:
        rows = read(session)
    require_out(fmt, out)
    return write_table(columns, ([r[c] for c in columns] for r in rows), fmt=fmt, out=out, sheet=sheet, bom=bom)
