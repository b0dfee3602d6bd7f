"""Where an unexpected failure's traceback goes: a log file in the data directory, never the terminal.

A face shows one line and the path this returns; the traceback, the command line and the time are
appended to ``<data dir>/logs/errors.log`` (or the system's temporary directory when the data directory
cannot be written). Buyers' personal data in it is masked like everywhere else."""

from __future__ import annotations

import os
import tempfile
import traceback
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

LOG_NAME = "errors.log"


def record_crash(exc: BaseException, data_dir: Path | None, argv: Sequence[str]) -> Path | None:
    """Append ``exc``'s traceback to the error log; returns the file, or None when no file could be written."""
    from listing_sync.adapters.privacy import mask

    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    text = mask("".join(traceback.format_exception(exc))) or ""
    entry = f"--- {stamp} pid {os.getpid()}: {' '.join(argv)}\n{text}\n"
    for directory in _candidates(data_dir):
        try:
            directory.mkdir(parents=True, exist_ok=True)
            path = directory / LOG_NAME
            with path.open("a", encoding="utf-8") as log:
                log.write(entry)
            return path
        except OSError:
            continue
    return None


def _candidates(data_dir: Path | None) -> list[Path]:
    fallback = Path(tempfile.gettempdir()) / "listing-sync-logs"
    return [data_dir / "logs", fallback] if data_dir is not None else [fallback]
