"""``syncer listings publish | delist | relist``: listing states changed through the change-set flow
(preview, confirm, one change set, sync); ``publish --dry-run`` adds the report of every publish gap."""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from listing_sync.syncer.cli.app import (
    TableFormat,
    console,
    ctx,
    emit,
    err_console,
    friendly,
    json_list,
    listings_app,
    progress_bar,
)
from listing_sync.syncer.cli.changeflow import ChangeFlags, change_command, command_line, run_change, show_preview
from listing_sync.syncer.cli.options import BomOpt, ChannelOpt
from listing_sync.syncer.context import UserError

if TYPE_CHECKING:
    from listing_sync.syncer.services import listings
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


#: the largest groups of identical gaps a terminal shows (``--output FILE`` writes every gap)
GAP_GROUPS = 12
OutputOpt = Annotated[
    Path | None,
    typer.Option(
        "--output",
        help="With --dry-run: write every gap to FILE as CSV (written while checking); the terminal shows the "
        "largest groups.",
    ),
]


@listings_app.command("publish")
@friendly
@change_command(replace={"dry_run": PublishDryRunOpt})
def listings_publish(
    channel: ChannelOpt = None, output: OutputOpt = None, bom: BomOpt = False, *, flags: ChangeFlags
) -> None:
    """List catalog SKUs on channels (created on the next sync)."""
    if not flags.dry_run:
        if output is not None:
            raise UserError("--output writes the gap report of a dry run: add --dry-run")
        _listing_change("publish", channel, flags)
        return
    from listing_sync.syncer.services import listings
    from listing_sync.syncer.tabular import csv_rows

    # the change preview first in a table; JSON and CSV are the gap report alone
    shown_as_table = flags.fmt == TableFormat.TABLE
    tally = listings.GapTally()
    with progress_bar("publish check", None) as bar:
        task = bar.add_task("previewing the change", total=None)

        def step(name: str, done: int, total: int) -> None:
            bar.update(task, description=f"checking {name}", completed=done, total=total)

        check = listings.check_publish(ctx(), flags.selection, channel, preview=shown_as_table, progress=step)
        report = check.gaps
        with ExitStack() as outputs:  # every gap written as found: a 20,000-SKU report is never held whole
            rows = [outputs.enter_context(csv_rows(output, GAP_COLUMNS, bom=bom))] if output is not None else []
            if flags.fmt == TableFormat.CSV:
                rows.append(outputs.enter_context(csv_rows(None, GAP_COLUMNS, bom=bom)))
            item = outputs.enter_context(json_list()) if flags.fmt == TableFormat.JSON else None
            for gap in report.gaps:
                tally.add(gap)
                cells = (gap.channel, gap.sku, gap.code, gap.message)
                for row in rows:
                    row(cells)
                if item is not None:
                    item(dict(zip(GAP_COLUMNS, cells, strict=True)))
    if check.preview is not None:
        command = command_line("listings publish", flags.selection, channel=",".join(check.preview.channels))
        show_preview(
            check.preview,
            replace(flags, dry_run=True),
            title="listings publish (preview)",
            command=command,
            all_rows="without --dry-run, --format csv lists them all before asking",  # here csv is the gaps
        )
    if shown_as_table and tally.gaps:
        _show_gap_groups(tally, output)
    if output is not None:
        err_console.print(f"wrote {tally.gaps:,} gap(s) to {output}", highlight=False, soft_wrap=True)
    names = ", ".join(report.channels)
    if tally.gaps:
        codes = ", ".join(f"{code} {n:,}" for code, n in tally.by_code.most_common())
        err_console.print(
            f"{tally.gaps:,} gap(s) ({codes}) for {len(tally.skus):,} of {report.skus:,} SKU(s) on {names}: "
            "these would be refused; nothing was changed",
            highlight=False,
        )
        raise typer.Exit(1)
    console.print(f"{report.skus} SKU(s) can be published on {names}; nothing was changed (dry run)")


GAP_COLUMNS = ["channel", "sku", "code", "problem"]


def _by_channel_rank(groups: list[listings.GapGroup]) -> list[listings.GapGroup]:
    """Each channel's largest group first, then each one's second, ...: a capped table names every
    channel's main problem (``groups`` come largest first)."""
    rank: dict[str, int] = {}
    ranked = []
    for group in groups:
        rank[group.channel] = rank.get(group.channel, -1) + 1
        ranked.append((rank[group.channel], group))
    return [group for _, group in sorted(ranked, key=lambda pair: pair[0])]


def _show_gap_groups(tally: listings.GapTally, output: Path | None) -> None:
    """The largest groups of identical problems (channel, code, text): how many SKUs and the first of
    them; then how many groups are not shown and where the whole report is."""
    groups = _by_channel_rank(tally.groups())
    rows = []
    for group in groups[:GAP_GROUPS]:
        more = group.count - len(group.first)
        shown = ", ".join(group.first) + (f" +{more:,}" if more else "")
        skus = f"{group.count:,}: {shown}" if group.count > 1 else shown
        rows.append({"channel": group.channel, "skus": skus, "code": group.code, "problem": group.message})
    emit(rows, ["channel", "skus", "code", "problem"], "table", title="publish gaps (dry run)")
    hidden = groups[GAP_GROUPS:]
    if hidden:
        where = f"{output} lists every gap" if output is not None else "--output FILE writes every gap as CSV"
        console.print(
            f"... and {len(hidden):,} more group(s) of {sum(g.count for g in hidden):,} gap(s): {where}",
            highlight=False,
            soft_wrap=True,  # a file name stays whole
        )


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
