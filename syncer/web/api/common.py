"""What the API's route modules share: the scheduler the app queues work on, files sent as downloads,
uploads kept in a temporary file for the service that reads them, and the typed error answers that
the OpenAPI schema lists."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Any

from fastapi import Request, UploadFile
from fastapi.responses import Response
from listing_sync.syncer.services.common import FileFormat, InvalidRequest, Written
from listing_sync.syncer.services.scheduler import SyncScheduler
from pydantic import BaseModel

MEDIA = {
    FileFormat.CSV: "text/csv; charset=utf-8",
    FileFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
#: an upload larger than this is refused before the service reads it
MAX_UPLOAD = 50 * 1024 * 1024


class Problem(BaseModel):
    """A refusal: what was wrong and what to do (``problems``: every bad row and column of a file)."""

    detail: str
    error: str | None = None
    problems: list[str] | None = None


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route: its typed refusals, for the schema."""
    return {status: {"model": Problem} for status in statuses}


#: the answer of a route that sends a file (a report or an export as CSV or XLSX)
FILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {media: {} for media in MEDIA.values()}, "description": "The file."}
}
#: what every route may answer besides its result
READ_ERRORS = errors(400, 401, 403, 404)
CHANGE_ERRORS = errors(400, 401, 403, 404, 409)


class Download(StrEnum):
    """A table as a file: CSV (UTF-8) or XLSX."""

    CSV = "csv"
    XLSX = "xlsx"


def scheduler(request: Request) -> SyncScheduler:
    """The queue the app hands work to (``create_app(scheduler=...)``; default the huey queue)."""
    return request.app.state.scheduler


def download(fmt: str, name: str, write: Callable[[FileFormat, Path | None], Written | None]) -> Response:
    """Run ``write(format, out)`` (a service's export or report: CSV as text, XLSX to ``out``) and send what
    it wrote as the file ``name.csv|xlsx``."""
    file_format = FileFormat(fmt)
    filename = f"{name}.{file_format.value}"
    with tempfile.TemporaryDirectory(prefix="syncer-web-") as folder:
        out = Path(folder) / filename if file_format is FileFormat.XLSX else None
        written = write(file_format, out)
        body = out.read_bytes() if out is not None else ((written.text if written else "") or "").encode("utf-8")
    return Response(
        body, media_type=MEDIA[file_format], headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


@contextmanager
def uploaded(file: UploadFile, allowed: tuple[str, ...] = (".csv", ".xlsx")) -> Iterator[Path]:
    """An upload as a temporary file of its own name's suffix (the services read files by suffix)."""
    suffix = Path(file.filename or "").suffix.lower()
    if suffix not in allowed:
        raise InvalidRequest(f"upload {file.filename!r}: give a {' or '.join(allowed)} file")
    if file.size is not None and file.size > MAX_UPLOAD:
        raise InvalidRequest(f"upload {file.filename!r}: larger than {MAX_UPLOAD // (1024 * 1024)} MB")
    with tempfile.TemporaryDirectory(prefix="syncer-upload-") as folder:
        path = Path(folder) / f"upload{suffix}"
        with path.open("wb") as out:
            shutil.copyfileobj(file.file, out)
        yield path
