"""CLI: ``syncer categories`` and ``syncer attributes``, the per-channel category and attribute mappings
(registered on the main ``syncer`` app). Every change recomputes the affected listings, so they become
dirty and the next sync publishes the new content."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from listing_sync.syncer.cli import FormatOption, _check_format, app, console, ctx, emit, err_console, friendly
from listing_sync.syncer.context import UserError

categories_app = typer.Typer(
    help="Our categories mapped to each channel's category id / product type.", no_args_is_help=True
)
attributes_app = typer.Typer(
    help="Which of our attributes fill which marketplace attributes, with value translations.", no_args_is_help=True
)
app.add_typer(categories_app, name="categories")
app.add_typer(attributes_app, name="attributes")

ChannelArg = Annotated[str, typer.Argument(help="Channel name (from the channels file).")]
ChannelFilter = Annotated[str | None, typer.Option("--channel", help="Only this channel.")]


def _context():
    from listing_sync.syncer import service

    context = ctx()
    service.prepare(context)
    return context


def _refresh(session: Any, context: Any, affected: dict[str, set[str]]) -> int:
    """Recompute the listings of the affected categories on the affected channels; returns how many
    became dirty."""
    from listing_sync.syncer import mapping, reconcile

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


def _mapping_error(fn):
    from functools import wraps

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from listing_sync.syncer.mapping import MappingError

        try:
            return fn(*args, **kwargs)
        except MappingError as exc:
            raise UserError(str(exc)) from None

    return wrapper


def _write(rows: list[dict[str, Any]], columns: tuple[str, ...], out: Path | None, fmt: str, title: str) -> None:
    from listing_sync.syncer.tabular import escape_formula, write_csv, write_xlsx

    if fmt == "xlsx":
        if out is None:
            raise UserError("--out FILE is required for xlsx")
        write_xlsx(out, [(title, columns, ([r[c] for c in columns] for r in rows))])
    elif out is not None:
        write_csv(out, columns, ([escape_formula(r[c]) for c in columns] for r in rows))
    else:
        emit(rows, list(columns), "csv")
        return
    err_console.print(f"wrote {out}")


def _summary(kind: str, result: Any, dirty: int) -> None:
    console.print(
        f"{kind}: {result.created} created, {result.updated} updated, {result.unchanged} unchanged"
        + (f"; {dirty} listing(s) to republish" if dirty else "")
        + ("" if result.changed else "; nothing changed")
    )


# ------------------------------------------------------------------------------------ categories
@categories_app.command("map")
@friendly
@_mapping_error
def categories_map(
    channel: ChannelArg,
    category: Annotated[str, typer.Argument(help="Our category (the catalog's `category`).")],
    target: Annotated[
        str,
        typer.Argument(
            help="The channel's category: eBay categoryId, Amazon productType, AliExpress category id, "
            "Taobao cid, Shopify product type, WooCommerce category id(s)."
        ),
    ],
    require: Annotated[
        list[str] | None,
        typer.Option("--require", "-r", help="A marketplace attribute this category requires (repeatable)."),
    ] = None,
) -> None:
    """Map one of our categories to a channel's category (replaces an existing mapping)."""
    from listing_sync.syncer import mapping

    context = _context()
    config = context.channel(channel)
    with context.session() as session:
        changed = mapping.map_category(session, config, category, target, require or [])
        dirty = _refresh(session, context, {channel: {category}}) if changed else 0
    state = "mapped" if changed else "already mapped"
    console.print(
        f"{channel}: {category} -> {target} {state}" + (f"; {dirty} listing(s) to republish" if dirty else "")
    )


@categories_app.command("unmap")
@friendly
def categories_unmap(channel: ChannelArg, category: str) -> None:
    """Remove a category mapping (its SKUs can no longer be published on that channel)."""
    from listing_sync.syncer import mapping

    context = _context()
    context.channel(channel)
    with context.session() as session:
        if not mapping.unmap_category(session, channel, category):
            raise UserError(f"{channel}: category {category!r} is not mapped")
        _refresh(session, context, {channel: {category}})
    console.print(f"{channel}: {category} unmapped")


@categories_app.command("list")
@friendly
def categories_list(channel: ChannelFilter = None, fmt: FormatOption = "table") -> None:
    """Show category mappings."""
    from listing_sync.syncer import mapping

    _check_format(fmt)
    with ctx().session() as session:
        rows = mapping.category_rows(session, channel)
    emit(rows, list(mapping.CATEGORY_COLUMNS), fmt, title="category mappings")


@categories_app.command("import")
@friendly
def categories_import(
    file: Annotated[Path, typer.Argument(help="CSV or XLSX: channel, category, target, required.")],
) -> None:
    """Import category mappings. The whole file is validated first; nothing is applied unless it is clean."""
    from listing_sync.syncer import mapping

    if not file.exists():
        raise UserError(f"{file}: no such file")
    context = _context()
    with context.session() as session:
        result = mapping.import_categories(session, file, {c.name: c for c in context.channels})
        dirty = _refresh(session, context, result.affected)
    _summary("category mappings", result, dirty)


@categories_app.command("export")
@friendly
def categories_export(
    fmt: Annotated[str, typer.Option("--format", help="csv or xlsx.")] = "csv",
    out: Annotated[Path | None, typer.Option(help="Output file (default: standard output for CSV).")] = None,
) -> None:
    """Export category mappings in the import column set."""
    from listing_sync.syncer import mapping

    _check_format(fmt, ("csv", "xlsx"))
    with ctx().session() as session:
        rows = mapping.category_rows(session)
    _write(rows, mapping.CATEGORY_COLUMNS, out, fmt, "categories")


# ------------------------------------------------------------------------------------ attributes
@attributes_app.command("map")
@friendly
@_mapping_error
def attributes_map(
    channel: ChannelArg,
    target: Annotated[
        str, typer.Argument(help="The marketplace attribute (eBay aspect, Amazon attribute, Taobao pid).")
    ],
    source: Annotated[
        str | None, typer.Option("--from", help="Our attribute that fills it (attr[NAME]), or @brand.")
    ] = None,
    constant: Annotated[str | None, typer.Option("--constant", help="A fixed value instead of --from.")] = None,
    category: Annotated[str, typer.Option("--category", help="Only for this category of ours ('*' = all).")] = "*",
    value: Annotated[
        list[str] | None,
        typer.Option("--value", help="Translate one of our values: OURS=THEIRS, e.g. 白色=White (repeatable)."),
    ] = None,
    replace_values: Annotated[
        bool, typer.Option("--replace-values", help="Replace the translations instead of adding to them.")
    ] = False,
) -> None:
    """Map a marketplace attribute to one of our attributes (or a constant), with value translations."""
    from listing_sync.syncer import mapping

    values: dict[str, str] = {}
    for pair in value or []:
        ours, sep, theirs = pair.partition("=")
        if not sep or not ours.strip() or not theirs.strip():
            raise UserError(f"--value {pair!r}: use OURS=THEIRS, e.g. --value 白色=White")
        values[ours.strip()] = theirs.strip()
    context = _context()
    config = context.channel(channel)
    with context.session() as session:
        changed = mapping.map_attribute(
            session,
            config,
            target,
            category=category,
            attribute=(source or "").strip(),
            constant=(constant or "").strip(),
            values=values,
            replace_values=replace_values,
        )
        dirty = _refresh(session, context, {channel: {category or "*"}}) if changed else 0
    state = "mapped" if changed else "already mapped"
    console.print(f"{channel}: {target} ({category}) {state}" + (f"; {dirty} listing(s) to republish" if dirty else ""))


@attributes_app.command("unmap")
@friendly
def attributes_unmap(
    channel: ChannelArg,
    target: str,
    category: Annotated[str, typer.Option("--category", help="The mapping's category ('*' = all).")] = "*",
) -> None:
    """Remove an attribute mapping."""
    from listing_sync.syncer import mapping

    context = _context()
    context.channel(channel)
    with context.session() as session:
        if not mapping.unmap_attribute(session, channel, target, category):
            raise UserError(f"{channel}: attribute {target!r} ({category}) is not mapped")
        _refresh(session, context, {channel: {category}})
    console.print(f"{channel}: {target} ({category}) unmapped")


@attributes_app.command("list")
@friendly
def attributes_list(channel: ChannelFilter = None, fmt: FormatOption = "table") -> None:
    """Show attribute mappings and their value translations."""
    from listing_sync.syncer import mapping

    _check_format(fmt)
    with ctx().session() as session:
        rows = mapping.attribute_rows(session, channel)
    emit(rows, list(mapping.ATTRIBUTE_COLUMNS), fmt, title="attribute mappings")


@attributes_app.command("import")
@friendly
def attributes_import(
    file: Annotated[
        Path, typer.Argument(help="CSV or XLSX: channel, category, target, attribute, constant, value, target_value.")
    ],
) -> None:
    """Import attribute mappings. The whole file is validated first; nothing is applied unless it is clean."""
    from listing_sync.syncer import mapping

    if not file.exists():
        raise UserError(f"{file}: no such file")
    context = _context()
    with context.session() as session:
        result = mapping.import_attributes(session, file, {c.name: c for c in context.channels})
        dirty = _refresh(session, context, result.affected)
    _summary("attribute mappings", result, dirty)


@attributes_app.command("export")
@friendly
def attributes_export(
    fmt: Annotated[str, typer.Option("--format", help="csv or xlsx.")] = "csv",
    out: Annotated[Path | None, typer.Option(help="Output file (default: standard output for CSV).")] = None,
) -> None:
    """Export attribute mappings in the import column set."""
    from listing_sync.syncer import mapping

    _check_format(fmt, ("csv", "xlsx"))
    with ctx().session() as session:
        rows = mapping.attribute_rows(session)
    _write(rows, mapping.ATTRIBUTE_COLUMNS, out, fmt, "attributes")


# ------------------------------------------------------------------------------ publish --dry-run
def publish_dry_run(sku: list[str] | None, category: str | None, channel: list[str] | None, fmt: str) -> None:
    """``syncer listings publish --dry-run``: every gap per SKU and channel; nothing is changed."""
    from listing_sync.syncer import mapping
    from listing_sync.syncer.cli_ops import select_skus

    _check_format(fmt)
    if not sku and not category:
        raise UserError("select SKUs with --sku PATTERN (e.g. --sku '*') or --category NAME")
    context = _context()
    channels = context.selected_channels(channel)
    with context.session() as session:
        ids = select_skus(session, sku or ["*"], category)
        if not ids:
            raise UserError("no SKU matches the selection")
        gaps = mapping.publish_gaps(session, channels, ids)
        session.rollback()  # a dry run writes nothing
    rows = [{"channel": g.channel, "sku": g.sku, "code": g.code, "problem": g.message} for g in gaps]
    if rows or fmt != "table":
        emit(rows, ["channel", "sku", "code", "problem"], fmt, title="publish gaps (dry run)")
    names = ", ".join(c.name for c in channels)
    if gaps:
        err_console.print(
            f"{len(gaps)} gap(s) for {len(ids)} SKU(s) on {names}: these would be refused; nothing was changed",
            highlight=False,
        )
        raise typer.Exit(1)
    console.print(f"{len(ids)} SKU(s) can be published on {names}; nothing was changed (dry run)")
