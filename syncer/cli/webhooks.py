"""``syncer webhooks register | list``: subscribe `syncer serve` to a marketplace's order webhooks."""

from __future__ import annotations

from typing import Annotated

import typer
from listing_sync.syncer.cli.app import FormatOption, TableFormat, console, ctx, emit, friendly, webhooks_app


@webhooks_app.command("register")
@friendly
def webhooks_register(
    channel: Annotated[str, typer.Argument(help="The channel whose order webhooks to register.")],
    url: Annotated[
        str,
        typer.Option(
            "--url",
            help="Public address of `syncer serve` (e.g. https://sync.example.com); /webhooks/CHANNEL is appended.",
        ),
    ],
) -> None:
    """Subscribe the channel's order topics to URL/webhooks/CHANNEL (topics already there are kept)."""
    from listing_sync.syncer.services import webhooks

    done = webhooks.register(ctx(), channel, url)
    console.print(f"{done.channel}: {len(done.subscriptions)} order topic(s) delivered to {done.url}")
    for subscription in done.subscriptions:
        console.print(f"  {subscription.topic}  (id {subscription.id})", markup=False)


@webhooks_app.command("list")
@friendly
def webhooks_list(
    channel: Annotated[list[str] | None, typer.Option("--channel", "-c", help="Only these channels.")] = None,
    fmt: FormatOption = TableFormat.TABLE,
) -> None:
    """The webhook subscriptions each channel's marketplace holds."""
    from listing_sync.syncer.services import webhooks

    rows = []
    for found in webhooks.list_webhooks(ctx(), channel):
        if found.problem:
            rows.append({"channel": found.channel, "topic": "-", "url": found.problem, "status": "-", "id": "-"})
        for s in found.subscriptions:
            rows.append({"channel": found.channel, "topic": s.topic, "url": s.url, "status": s.status, "id": s.id})
    emit(rows, ["channel", "topic", "url", "status", "id"], fmt)
