"""``syncer categories`` and ``syncer attributes``: the per-channel category and attribute mappings.
Every change recomputes the affected listings, so they become dirty and the next sync publishes the new
content."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from listing_sync.syncer.cli.app import (
    FormatOption,
    TableFormat,
    announce_encoding,
    attributes_app,
    categories_app,
    console,
    ctx,
    emit,
    friendly,
    show_written,
)
from listing_sync.syncer.cli.options import BomOpt, FileFormatOpt, OutOpt
from listing_sync.syncer.context import UserError
from listing_sync.syncer.services.common import FileFormat

if TYPE_CHECKING:
    from listing_sync.syncer.services.mappings import MappingsImported

ChannelArg = Annotated[str, typer.Argument(help="Channel name (from the channels file).")]
ChannelFilter = Annotated[str | None, typer.Option("--channel", help="Only this channel.")]


def _summary(kind: str, imported: MappingsImported) -> None:
    result, dirty = imported.result, imported.dirty
    console.print(
        f"{kind}: {result.created} created, {result.updated} updated, {result.unchanged} unchanged"
        + (f"; {dirty} listing(s) to republish" if dirty else "")
        + ("" if result.changed else "; nothing changed")
    )


def _republish(dirty: int) -> str:
    return f"; {dirty} listing(s) to republish" if dirty else ""


# ------------------------------------------------------------------------------------ categories
@categories_app.command("map")
@friendly
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
    from listing_sync.syncer.services import mappings

    done = mappings.map_category(ctx(), channel, category, target, require or [])
    state = "mapped" if done.changed else "already mapped"
    console.print(f"{channel}: {category} -> {target} {state}" + _republish(done.dirty))


@categories_app.command("unmap")
@friendly
def categories_unmap(channel: ChannelArg, category: str) -> None:
    """Remove a category mapping (its SKUs can no longer be published on that channel)."""
    from listing_sync.syncer.services import mappings

    mappings.unmap_category(ctx(), channel, category)
    console.print(f"{channel}: {category} unmapped")


@categories_app.command("list")
@friendly
def categories_list(channel: ChannelFilter = None, fmt: FormatOption = TableFormat.TABLE) -> None:
    """Show category mappings."""
    from listing_sync.syncer.services import mappings

    table = mappings.list_categories(ctx(), channel)
    emit(table.rows, table.columns, fmt, title="category mappings")


@categories_app.command("import")
@friendly
def categories_import(
    file: Annotated[Path, typer.Argument(help="CSV or XLSX: channel, category, target, required.")],
) -> None:
    """Import category mappings. The whole file is validated first; nothing is applied unless it is clean."""
    from listing_sync.syncer.services import mappings

    announce_encoding(file)
    _summary("category mappings", mappings.import_categories(ctx(), file))


@categories_app.command("export")
@friendly
def categories_export(fmt: FileFormatOpt = FileFormat.CSV, out: OutOpt = None, bom: BomOpt = False) -> None:
    """Export category mappings in the import column set."""
    from listing_sync.syncer.services import mappings

    written = mappings.export_categories(ctx(), fmt=fmt, out=out, bom=bom)
    show_written(written, f"wrote {written.path}")


# ------------------------------------------------------------------------------------ attributes
@attributes_app.command("map")
@friendly
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
    from listing_sync.syncer.services import mappings

    values: dict[str, str] = {}
    for pair in value or []:
        ours, sep, theirs = pair.partition("=")
        if not sep or not ours.strip() or not theirs.strip():
            raise UserError(f"--value {pair!r}: use OURS=THEIRS, e.g. --value 白色=White")
        values[ours.strip()] = theirs.strip()
    done = mappings.map_attribute(
        ctx(),
        channel,
        target,
        attribute=source or "",
        constant=constant or "",
        category=category,
        values=values,
        replace_values=replace_values,
    )
    state = "mapped" if done.changed else "already mapped"
    console.print(f"{channel}: {target} ({category}) {state}" + _republish(done.dirty))


@attributes_app.command("unmap")
@friendly
def attributes_unmap(
    channel: ChannelArg,
    target: str,
    category: Annotated[str, typer.Option("--category", help="The mapping's category ('*' = all).")] = "*",
) -> None:
    """Remove an attribute mapping."""
    from listing_sync.syncer.services import mappings

    mappings.unmap_attribute(ctx(), channel, target, category)
    console.print(f"{channel}: {target} ({category}) unmapped")


@attributes_app.command("list")
@friendly
def attributes_list(channel: ChannelFilter = None, fmt: FormatOption = TableFormat.TABLE) -> None:
    """Show attribute mappings and their value translations."""
    from listing_sync.syncer.services import mappings

    table = mappings.list_attributes(ctx(), channel)
    emit(table.rows, table.columns, fmt, title="attribute mappings")


@attributes_app.command("import")
@friendly
def attributes_import(
    file: Annotated[
        Path, typer.Argument(help="CSV or XLSX: channel, category, target, attribute, constant, value, target_value.")
    ],
) -> None:
    """Import attribute mappings. The whole file is validated first; nothing is applied unless it is clean."""
    from listing_sync.syncer.services import mappings

    announce_encoding(file)
    _summary("attribute mappings", mappings.import_attributes(ctx(), file))


@attributes_app.command("export")
@friendly
def attributes_export(fmt: FileFormatOpt = FileFormat.CSV, out: OutOpt = None, bom: BomOpt = False) -> None:
    """Export attribute mappings in the import column set."""
    from listing_sync.syncer.services import mappings

    written = mappings.export_attributes(ctx(), fmt=fmt, out=out, bom=bom)
    show_written(written, f"wrote {written.path}")
