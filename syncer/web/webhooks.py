"""``POST /webhooks/{channel}``: marketplaces' order webhooks (no login: the signature is the proof).

The raw body is verified and the delivery recorded once (:func:`services.webhooks.receive`), then its order
is handed to the app's :class:`~listing_sync.syncer.services.webhooks.WebhookRunner` (queued for the workers
or run in a background thread) and the marketplace gets its 200 at once. A missing or wrong signature is a
401 with one log line naming the channel and what was wrong, never the body or a secret.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from dataclasses import dataclass

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from listing_sync.syncer.context import Context
from listing_sync.syncer.services import webhooks
from listing_sync.syncer.services.common import NotFound
from listing_sync.syncer.web.deps import get_context
from starlette.concurrency import run_in_threadpool

log = logging.getLogger("syncer.web.webhooks")

router = APIRouter(prefix="/webhooks", tags=["webhooks"])
#: the largest body read: an order is kilobytes; anything this big is refused (413) before it is held in memory
MAX_BODY_BYTES = 5 * 1024 * 1024
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
        413: {"description": "Body larger than 5 MiB"},
    },
)
async def receive(channel: str, request: Request) -> JSONResponse:
    """Verify the signature of the raw body, record the delivery once, set off its order's fetch and push."""
    body = await _body(request)
    if body is None:
        return JSONResponse({"detail": f"body larger than {MAX_BODY_BYTES} bytes"}, status_code=413)
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


async def _body(request: Request) -> bytes | None:
    """The raw body, or None once it is larger than :data:`MAX_BODY_BYTES` (read no further)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


@dataclass
class BackgroundServer:
    """The web app served by uvicorn from a thread of this process (the demo and the benchmark: their
    emulators live in this process, so the app that receives the webhooks must too)."""

    url: str
    app: FastAPI
    server: object
    thread: threading.Thread

    def wait(self, timeout: float) -> bool:
        """Wait until the work the webhooks received so far set off is done; False on timeout."""
        found = getattr(self.app.state, "webhook_runner", None)
        return True if found is None else found.wait(timeout)

    def close(self) -> None:
        self.server.should_exit = True  # type: ignore[attr-defined]  # uvicorn.Server
        self.thread.join(10)


def serve_in_background(context: Context, host: str = "127.0.0.1") -> BackgroundServer:
    """Serve :func:`~listing_sync.syncer.web.app.create_app` over ``context`` on a free loopback port."""
    import uvicorn
    from listing_sync.syncer.web.app import create_app

    with socket.socket() as sock:
        sock.bind((host, 0))
        port = int(sock.getsockname()[1])
    app = create_app(context)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"the web app did not start on {host}:{port}")
        time.sleep(0.02)
    return BackgroundServer(f"http://{host}:{port}", app, server, thread)
