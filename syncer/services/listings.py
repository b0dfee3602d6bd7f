"""Listings: publishing, delisting and relisting are change requests (:class:`.changes.ListingsChange`,
previewed and applied like a price change); here is the publish check, which lists every gap that would
make a marketplace refuse a SKU (category or attribute mapping, required attribute, images, ...)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from listing_sync.syncer import mapping
from listing_sync.syncer.changes import Selection
from listing_sync.syncer.context import Context
from listing_sync.syncer.mapping import PublishGap
from listing_sync.syncer.services.changes import (
    ChangePreview,
    ListingAction,
    ListingsChange,
    preview_change,
    selected_skus,
)
from listing_sync.syncer.services.common import InvalidRequest, prepare


@dataclass(frozen=True, slots=True)
class PublishGaps:
    """Every gap of ``skus`` selected SKUs on ``channels`` (none: they can all be published)."""

    gaps: list[PublishGap]
    skus: int
    channels: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PublishCheck:
    """A publish dry run: the change preview (when asked for) and the gap report."""

    preview: ChangePreview | None
    gaps: PublishGaps


def publish_gaps(context: Context, selection: Selection, channels: Sequence[str] | None = None) -> PublishGaps:
    """Every reason the selected SKUs would be refused when published on these channels (default: every
    enabled one); nothing is changed."""
    if selection.empty:
        raise InvalidRequest(
            "select SKUs with --sku PATTERN (e.g. --sku '*'), --category NAME, --tag TAG or --skus-file FILE"
        )
    prepare(context)
    configs = context.selected_channels(list(channels or []))
    with context.session() as session:
        ids = selected_skus(session, selection)
        gaps = mapping.publish_gaps(session, configs, ids)
        session.rollback()  # a dry run writes nothing
    return PublishGaps(gaps, len(ids), tuple(c.name for c in configs))


def check_publish(
    context: Context, selection: Selection, channels: Sequence[str] | None = None, *, preview: bool = True
) -> PublishCheck:
    """What publishing the selection would change (``preview``) and every gap in the way; changes nothing."""
    planned = None
    if preview:
        planned = preview_change(context, ListingsChange(ListingAction.PUBLISH, selection, tuple(channels or ())))
    return PublishCheck(planned, publish_gaps(context, selection, channels))
