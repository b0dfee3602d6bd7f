"""``syncer listings publish | delist | relist``: listing states changed through the change-set flow
(preview, confirm, one change set, sync); ``publish --dry-run`` adds the report of every publish gap."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Annotated

import typer
from listing_sync.syncer.cli.app import TableFormat, console, ctx, emit, err_console, friendly, listings_app
from listing_sync.syncer.cli.changeflow import ChangeFlags, change_command, command_line, run_change, show_preview
from listing_sync.syncer.cli.options import ChannelOpt

if TYPE_CHECKING:
    from listing_sync.syncer.services.changes import ChangePreview

PublishDryRunOpt = Annotated[
    bool,
    typer.Option(
        "--dry-run",
        help="Change nothing; list every gap (category/attribute mapping, required attribute, images) "
        "per SKU and channel. Exits 1 when there are gaps.",
    ),
]


def _listing_change(action: str, channel: list[str] | None, flags: ChangeFlags) -> None:
    """Publish, delist or relist the selection on the channels through the change-set flow."""
    from listing_sync.syncer.services.changes import ListingAction, ListingsChange

    sel = flags.selection

    def command(preview: ChangePreview) -> str:
        return command_line(f"listings {action}", sel, channel=",".join(preview.channels))

    run_change(
        ListingsChange(ListingAction(action), sel, tuple(channel or ())),
        flags,
        title=f"listings {action} (preview)",
        command=command,
    )


@listings_app.command("publish")
@friendly
@change_command(replace={"dry_run": PublishDryRunOpt})
def listings_publish(channel: ChannelOpt = None, *, flags: ChangeFlags) -> None:
    """List catalog SKUs on channels (created on the next sync)."""
    if not flags.dry_run:
        _listing_change("publish", channel, flags)
        return
    from listing_sync.syncer.services import listings

    # the change preview first in a table; JSON and CSV are the gap report alone
    shown_as_table = flags.fmt == TableFormat.TABLE
    check = listings.check_publish(ctx(), flags.selection, channel, preview=shown_as_table)
    if check.preview is not None:
        command = command_line("listings publish", flags.selection, channel=",".join(check.preview.channels))
        show_preview(check.preview, replace(flags, dry_run=True), title="listings publish (preview)", command=command)
    report = check.gaps
    rows = [{"channel": g.channel, "sku": g.sku, "code": g.code, "problem": g.message} for g in report.gaps]
    if rows and shown_as_table:  # a table groups identical problems (JSON and CSV: one row per SKU)
        emit(_grouped_gaps(rows), ["channel", "skus", "code", "problem"], flags.fmt, title="publish gaps (dry run)")
    elif not shown_as_table:
        emit(rows, ["channel", "sku", "code", "problem"], flags.fmt, title="publish gaps (dry run)")
    names = ", ".join(report.channels)
    if report.gaps:
        err_console.print(
            f"{len(report.gaps)} gap(s) for {report.skus} SKU(s) on {names}: these would be refused;"
            " nothing was changed",
            highlight=False,
        )
        raise typer.Exit(1)
    console.print(f"{report.skus} SKU(s) can be published on {names}; nothing was changed (dry run)")


def _grouped_gaps(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """One row per channel, code and problem text: how many SKUs and the first of them."""
    groups: dict[tuple[str, str, str], list[str]] = {}
    for row in rows:
        groups.setdefault((row["channel"], row["code"], row["problem"]), []).append(row["sku"])
    out = []
    for (channel, code, problem), skus in groups.items():
        shown = ", ".join(skus[:3]) + (f" +{len(skus) - 3}" if len(skus) > 3 else "")
        out.append(
            {
                "channel": channel,
                "skus": f"{len(skus)}: {shown}" if len(skus) > 1 else shown,
                "code": code,
                "problem": problem,
            }
        )
    return out


@listings_app.command("delist")
@friendly
@change_command()
def listings_delist(channel: ChannelOpt = None, *, flags: ChangeFlags) -> None:
    """Take listings off sale without deleting them from the catalog."""
    _listing_change("delist", channel, flags)


@listings_app.command("relist")
@friendly
@change_command()
def listings_relist(channel: ChannelOpt = None, *, flags: ChangeFlags) -> None:
    """Put delisted listings back on sale."""
    _listing_change("relist", channel, flags)
