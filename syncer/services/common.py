"""What the service modules share: typed errors, the channels' database rows, and files written."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from listing_sync.syncer.context import Context, UserError, ensure_channel_rows

if TYPE_CHECKING:
    from listing_sync.config.channels import ChannelConfig


class ServiceError(UserError):
    """A service action failed in a way the user can fix; faces show the message as it is."""


class NotFound(ServiceError):
    """The thing asked for does not exist (a SKU, a change set, a mapping, an order)."""


class InvalidRequest(ServiceError):
    """The parameters are not acceptable (nothing was done)."""


class Conflict(ServiceError):
    """Another writer committed what this action was writing meanwhile; nothing of it was applied."""


class FileFormat(StrEnum):
    """Formats of the files a service writes."""

    CSV = "csv"
    XLSX = "xlsx"


@dataclass(frozen=True, slots=True)
class Written:
    """A table written as a file (``path``), or as CSV text when no file was asked for (``text``)."""

    path: Path | None
    text: str | None
    rows: int | None = None


def write_table(
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    fmt: FileFormat,
    out: Path | None,
    sheet: str,
    bom: bool = False,
) -> Written:
    """CSV (to ``out``, or as text) or XLSX (``out`` required; check with :func:`require_out` first)."""
    from listing_sync.syncer.tabular import write_csv, write_xlsx

    if fmt is FileFormat.XLSX:
        if out is None:
            raise InvalidRequest("--out FILE is required for xlsx")
        write_xlsx(out, [(sheet, columns, rows)])
        return Written(out, None)
    text = write_csv(out, columns, rows, bom=bom)
    return Written(out, None if out is not None else text)


def require_out(fmt: FileFormat, out: Path | None, message: str = "--out FILE is required for xlsx") -> None:
    """Refuse an XLSX export without a file, or a file that cannot be written, before doing any work."""
    if fmt is FileFormat.XLSX and out is None:
        raise InvalidRequest(message)
    check_out(out)


def check_out(out: Path | None) -> None:
    """Refuse an output file whose folder does not exist or cannot be written, or that is a folder."""
    if out is None:
        return
    folder = out.expanduser().absolute().parent
    if out.is_dir():
        raise InvalidRequest(f"--out {out}: that is a folder; give a file name")
    if not folder.is_dir():
        raise InvalidRequest(f"--out {out}: the folder {folder} does not exist; create it or choose another")
    if not os.access(folder, os.W_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise InvalidRequest(f"--out {out}: not allowed to write there")


def prepare(context: Context) -> Context:
    """Make sure every configured channel has its database row (cheap; idempotent). Returns the context."""
    with context.session() as session:
        ensure_channel_rows(session, context.channels)
    return context


def configured_channels(context: Context) -> list[ChannelConfig]:
    """The channels of the channels file, or none when there is no channels file yet."""
    return context.channels if context.settings.resolved_channels_file.exists() else []


def iso_utc(value: datetime | None) -> str | None:
    """A stored time as ISO 8601 UTC to the second (SQLite hands back naive UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="seconds")
