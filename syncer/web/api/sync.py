"""Sync: trigger it (queued for the workers, or here and now), what it would do, and each channel's status."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from listing_sync.syncer.reconcile import PushReport
from listing_sync.syncer.services import sync
from listing_sync.syncer.services.sync import ChannelPlan, ChannelStatus, SyncMode
from listing_sync.syncer.web.api.common import CHANGE_ERRORS, READ_ERRORS, scheduler
from listing_sync.syncer.web.deps import ContextDep, Operator, Viewer
from pydantic import BaseModel, Field

router = APIRouter(tags=["sync"])

ChannelNames = Annotated[list[str] | None, Query(max_length=50, description="Only these channels (repeatable).")]


class SyncIn(BaseModel):
    #: the channels to push (default: every enabled one)
    channels: list[Annotated[str, Field(min_length=1, max_length=63)]] = Field(default_factory=list, max_length=50)
    #: queue: for the workers; inline: pushed here and now (the answer waits for it)
    mode: SyncMode = SyncMode.QUEUE


class SyncOut(BaseModel):
    mode: SyncMode
    #: the channels queued (mode queue) or pushed (inline)
    channels: list[str]
    #: per channel, what the push did (mode inline)
    reports: list[PushReport] = Field(default_factory=list)


@router.post("/sync", response_model=SyncOut, responses=CHANGE_ERRORS)
def trigger_sync(request: Request, context: ContextDep, user: Operator, body: SyncIn) -> SyncOut:
    """Push each channel's dirty listings: queued for the workers, or inline (its new orders are pulled first).
    ``none`` is not a trigger and is refused."""
    from listing_sync.syncer.services.common import InvalidRequest

    channels = list(body.channels)
    if body.mode is SyncMode.INLINE:
        reports = sync.run_sync(context, channels, user=user.name)
        return SyncOut(mode=body.mode, channels=[r.channel for r in reports], reports=reports)
    if body.mode is SyncMode.NONE:
        raise InvalidRequest("mode none triggers nothing: use queue or inline")
    queued = sync.queue_sync(context, channels, user=user.name, scheduler=scheduler(request))
    return SyncOut(mode=body.mode, channels=list(queued.channels))


@router.get("/sync/plan", response_model=list[ChannelPlan], responses=READ_ERRORS)
def sync_plan(context: ContextDep, user: Viewer, channel: ChannelNames = None) -> list[ChannelPlan]:
    """What the next sync of each channel would do (items per operation, API calls); pushes nothing."""
    return sync.plan_sync(context, channel)


@router.get("/sync/status", response_model=list[ChannelStatus], responses=READ_ERRORS)
def sync_status(context: ContextDep, user: Viewer) -> list[ChannelStatus]:
    """Per channel: listings clean, dirty, submitted and parked (by reason), retries waiting, shipments, the
    last sync and the last order pull."""
    return sync.status(context)
