"""Options several command groups share, and the parsing of option text into typed values."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer
from listing_sync.syncer.context import UserError
from listing_sync.syncer.services.common import FileFormat

ChannelOpt = Annotated[list[str] | None, typer.Option("--channel", help="Channel name (repeatable; default all).")]
UserOpt = Annotated[str | None, typer.Option("--user", help="Who (default: the OS user).")]
FileFormatOpt = Annotated[FileFormat, typer.Option("--format", help="csv or xlsx.")]
BomOpt = Annotated[bool, typer.Option("--bom", help="Start the CSV with a UTF-8 BOM (so Excel shows Chinese text).")]
OutOpt = Annotated[Path | None, typer.Option(help="Output file (default: standard output for CSV).")]


def parse_decimal(text: str, option: str) -> Decimal:
    """A decimal number from option text (never through float)."""
    from listing_sync.adapters.money import parse_decimal as parse

    try:
        return parse(text)
    except ValueError:
        raise UserError(f"{option}: {text!r} is not a decimal number (e.g. 12.50 or -5)") from None


def parse_when(text: str) -> datetime:
    """An ISO 8601 date or date-time (UTC when it names no zone)."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise UserError(
            f"{text!r} is not an ISO 8601 date or date-time (e.g. 2026-11-01 or 2026-11-01T08:00)"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def parse_zoned(text: str, option: str, zone: str) -> datetime:
    """An ISO 8601 date-time; one that names no zone is in ``zone`` (the team's, SYNCER_REPORT_TIMEZONE)."""
    from zoneinfo import ZoneInfo

    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise UserError(f"{option} {text!r} is not an ISO 8601 date-time (e.g. 2026-11-11T00:00+08:00)") from None
    return value if value.tzinfo else value.replace(tzinfo=ZoneInfo(zone))


def parse_date(text: str, option: str) -> date:
    """A day, YYYY-MM-DD."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UserError(f"{option} {text!r} is not a date (YYYY-MM-DD)") from None
