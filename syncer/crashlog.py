"""Where an unexpected failure's traceback goes: a log file in the data directory, never the terminal.

A face shows one line and the path this returns; the traceback, the command line and the time are
appended to ``<data dir>/logs/errors.log`` (or the system's temporary directory when the data directory
cannot be written). Buyers' personal data in it is masked like everywhere else."""

from __future__ import annotations

import json
import logging
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


class OneLineFormatter(logging.Formatter):
    """A log line without its traceback: the traceback goes to the log file named instead."""

    def __init__(self, log_file: Path) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s", "%Y-%m-%dT%H:%M:%S")
        self.log_file = log_file

    def format(self, record: logging.LogRecord) -> str:
        line = logging.Formatter.formatMessage(self, _without_traceback(record, self))
        if record.exc_info or record.exc_text:
            kind = record.exc_info[0].__name__ if record.exc_info and record.exc_info[0] else "error"
            line += f" ({kind}; the traceback is in {self.log_file})"
        return line


def _without_traceback(record: logging.LogRecord, formatter: logging.Formatter) -> logging.LogRecord:
    record.message = record.getMessage()
    if formatter.usesTime():
        record.asctime = formatter.formatTime(record, formatter.datefmt)
    return record


class JsonLineFormatter(logging.Formatter):
    """One JSON object per record: ``time`` (UTC ISO), ``level``, ``logger``, ``message`` and the record's
    structured ``fields`` (a job's channel, task, items, calls, duration, outcome); a failure names its
    type and the log file holding its traceback instead of the traceback."""

    def __init__(self, log_file: Path) -> None:
        super().__init__()
        self.log_file = log_file

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(getattr(record, "fields", None) or {})
        if record.exc_info or record.exc_text:
            line["error"] = record.exc_info[0].__name__ if record.exc_info and record.exc_info[0] else "error"
            line["traceback_in"] = str(self.log_file)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure_worker_logging(data_dir: Path, level: int = logging.INFO, fmt: str = "text") -> Path:
    """A long-running worker logs one line per record on standard error (readable text, or one JSON
    object per line with ``fmt="json"``), never a traceback, and every record with its traceback to
    ``<data dir>/logs/worker.log``, which it returns. The ``worker`` logger's lines (start, stop) show at
    any level; huey's per-task lines and httpx's per-request lines only at DEBUG."""
    directory = _candidates(data_dir)[0]
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:
        directory = _candidates(None)[0]
        directory.mkdir(parents=True, exist_ok=True)
    path = directory / "worker.log"
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "_syncer_worker", False)]:
        root.removeHandler(handler)
    to_file = logging.FileHandler(path, encoding="utf-8")
    to_file.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(threadName)s]: %(message)s"))
    console = logging.StreamHandler()
    console.setFormatter(JsonLineFormatter(path) if fmt == "json" else OneLineFormatter(path))
    handlers: tuple[logging.Handler, ...] = (to_file, console)
    for handler in handlers:
        setattr(handler, "_syncer_worker", True)  # noqa: B010 (marks ours, to replace them on a second call)
        handler.setLevel(min(level, logging.INFO))
        root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("worker").setLevel(logging.INFO)  # its start and stop lines, even when quiet
    # huey's "Executing ..." lines repeat ours without the outcome, httpx's name every request: debug only
    for chatty in ("huey", "httpx", "httpcore"):
        logging.getLogger(chatty).setLevel(logging.DEBUG if level <= logging.DEBUG else logging.WARNING)
    return path


def _candidates(data_dir: Path | None) -> list[Path]:
    fallback = Path(tempfile.gettempdir()) / "listing-sync-logs"
    return [data_dir / "logs", fallback] if data_dir is not None else [fallback]
