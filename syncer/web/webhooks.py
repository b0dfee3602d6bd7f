"""``POST /webhooks/{channel}``: marketplaces' order webhooks (no login: the signature is the proof).

The raw body is verified and the delivery recorded once (:func:`services.webhooks.receive`), then its order
is handed to the app's :class:`~listing_sync.syncer.services.webhooks.WebhookRunner` (queued for the workers
or run in a background thread) and the marketplace gets its 200 at once. A missing or wrong signature is a
401 with one log line naming the channel and what was wrong, never the body or a secret.
"""

from __future__ import annotations

import logging
import threading

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from listing_sync.syncer.context import Context
from listing_sync.syncer.services import webhooks
from listing_sync.syncer.services.common import NotFound
from listing_sync.syncer.web.deps import get_context
from starlette.concurrency import run_in_threadpool

log = logging.getLogger("syncer.web.webhooks")

router = APIRouter(prefix="/webhooks", tags=["webhooks"])
_runner_lock = threading.Lock()


def runner(app: FastAPI, context: Context) -> webhooks.WebhookRunner:
    """The app's one webhook runner (made on the first delivery)."""
    with _runner_lock:
        found = getattr(app.state, "webhook_runner", None)
        if found is None:
            from listing_sync.jobs.scheduler import HueyScheduler

            found = app.state.webhook_runner = webhooks.WebhookRunner(context, scheduler=HueyScheduler())
        return found


@router.post(
    "/{channel}",
    summary="Receive a marketplace's order webhook",
    responses={
        200: {"description": "Received: accepted, duplicate, stale, ignored or ping"},
        401: {"description": "Signature missing or invalid"},
        404: {"description": "No such channel, or its marketplace sends no webhooks"},
    },
)
async def receive(channel: str, request: Request) -> JSONResponse:
    """Verify the signature of the raw body, record the delivery once, set off its order's fetch and push."""
    body = await request.body()
    context = get_context(request)
    try:
        received = await run_in_threadpool(webhooks.receive, context, channel, dict(request.headers), body)
    except webhooks.WebhookRejected as exc:
        client = request.client.host if request.client else "unknown"
        log.warning("webhook to %s refused (401) from %s: %s", channel, client, exc)
        return JSONResponse({"detail": "webhook signature missing or invalid"}, status_code=401)
    except NotFound as exc:
        return JSONResponse({"detail": str(exc)}, status_code=404)
    how = runner(request.app, context).submit(received)
    return JSONResponse({"outcome": received.outcome, "processing": how})
