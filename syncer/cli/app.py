"""The ``syncer`` Typer app: the command tree, the global options, the error wrapper, the typed
``--format`` choices and the rendering helpers (tables, JSON, CSV, progress bars) the command modules share.

The command groups are created here, in the order ``syncer --help`` lists them; each command module
adds its commands to them.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from enum import StrEnum
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from listing_sync.syncer.context import Context
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, ProgressColumn, Task, TextColumn, TimeElapsedColumn
from rich.text import Text

if TYPE_CHECKING:
    from listing_sync.syncer.services.common import Written

console = Console()
err_console = Console(stderr=True)

app = typer.Typer(
    name="syncer",
    help="listing-sync: one central catalog, pushed to every marketplace; orders pulled back.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)


def group(name: str, help: str) -> typer.Typer:
    """A command group (``syncer NAME ...``) registered on the app."""
    sub = typer.Typer(help=help, no_args_is_help=True)
    app.add_typer(sub, name=name)
    return sub


db_app = group("db", "Database migrations.")
catalog_app = group("catalog", "Import, export and inspect the central catalog.")
warehouse_app = group("warehouse", "Warehouses that hold stock.")
channels_app = group("channels", "Configured sales channels.")
emulator_app = group("emulator", "Built-in marketplace emulators.")
price_app = group("price", "Bulk price changes (base price, or one channel's override).")
stock_app = group("stock", "Bulk on-hand stock changes in one warehouse (ledger movements).")
changes_app = group("changes", "Change sets: list, show, undo, and apply a file of edits.")
categories_app = group("categories", "Our categories mapped to each channel's category id / product type.")
attributes_app = group(
    "attributes", "Which of our attributes fill which marketplace attributes, with value translations."
)
listings_app = group("listings", "Put catalog SKUs on channels, take them down and back up.")
orders_app = group("orders", "Pull, list and work orders.")
fx_app = group("fx", "Exchange rates used for channel prices and reports.")
report_app = group("report", "Sales, inventory and reorder reports (table, CSV or XLSX).")
users_app = group("users", "People who log in to the web console and HTTP API, and their roles.")
tokens_app = group("tokens", "Bearer tokens for the HTTP API (shown once, stored hashed).")
webhooks_app = group("webhooks", "Order webhooks: marketplaces tell `syncer serve` about orders as they happen.")


# ------------------------------------------------------------------------------------ --format choices
class TableFormat(StrEnum):
    """Rows shown as a table, or written as JSON or CSV."""

    TABLE = "table"
    JSON = "json"
    CSV = "csv"


class ShowFormat(StrEnum):
    """One record shown as a table, or written as JSON."""

    TABLE = "table"
    JSON = "json"


class ReportFormat(StrEnum):
    """A report shown as a table, or written as CSV, XLSX or JSON."""

    TABLE = "table"
    CSV = "csv"
    XLSX = "xlsx"
    JSON = "json"


FormatOption = Annotated[TableFormat, typer.Option("--format", help="table, json or csv.")]


# ---------------------------------------------------------------------------------- context, errors
class State:
    context: Context | None = None


def ctx() -> Context:
    """The context of this invocation (settings, the database, the channels)."""
    if State.context is None:
        State.context = Context()
    return State.context


F = TypeVar("F", bound=Callable[..., Any])


#: exit codes (sysexits.h): 1 = a problem the user can fix, 70 = an internal error (a bug; see the log)
EXIT_USER, EXIT_INTERNAL, EXIT_INTERRUPTED = 1, 70, 130
#: done except for parts the command lists as not applied (a script must not read it as done)
EXIT_PARTIAL = 4


def friendly(fn: F) -> F:
    """Turn every failure into one clear message and a non-zero exit, never a traceback: expected ones
    (typed errors, bad settings, files that cannot be written) exit 1; anything else exits 70 with the
    path of the log file that holds its traceback."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except KeyboardInterrupt:
            err_console.print("[bold red]interrupted[/]", highlight=False)
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except Exception as exc:  # the one place that catches everything: it decides what the user sees
            code, message = explain(exc)
            err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, markup=True, soft_wrap=True)
            raise typer.Exit(code) from None

    return wrapper  # type: ignore[return-value]


def explain(exc: Exception) -> tuple[int, str]:
    """The exit code and the message for a failure (an unexpected one is logged with its traceback)."""
    from listing_sync.adapters.base import ChannelError
    from listing_sync.config.channels import ChannelsFileError
    from listing_sync.syncer.context import UserError
    from listing_sync.syncer.tabular import InputRejected
    from pydantic import ValidationError

    if isinstance(exc, (UserError, ChannelsFileError, InputRejected, ChannelError)):
        return getattr(exc, "exit_code", EXIT_USER), str(exc)
    if isinstance(exc, ValidationError):
        return EXIT_USER, settings_problems(exc)
    if isinstance(exc, OSError) and exc.filename is not None:
        return EXIT_USER, f"cannot use {exc.filename}: {exc.strerror or exc}"
    if isinstance(exc, OSError):  # the machine's, not ours: a port in use, a full disk, a refused connection
        return EXIT_USER, f"system error: {exc.strerror or exc}"
    from listing_sync.syncer.crashlog import record_crash

    log = record_crash(exc, _data_dir(), sys.argv)
    where = f"the traceback is in {log}" if log is not None else "no log file could be written"
    from listing_sync.adapters.privacy import mask

    summary = (mask(str(exc).strip()) or "").splitlines()[0][:200] if str(exc).strip() else ""
    return EXIT_INTERNAL, (
        f"unexpected {type(exc).__name__}{': ' + summary if summary else ''} "
        f"(an internal error; {where}; please report it)"
    )


def settings_problems(exc: Any) -> str:
    """A pydantic ValidationError as 'SETTING: problem' lines (settings by their SYNCER_* names; the
    values themselves are not repeated: they may be secrets)."""
    is_settings = exc.title == "Settings"
    lines = []
    for error in exc.errors(include_url=False, include_input=False):
        where = ".".join(str(part) for part in error["loc"]) or exc.title
        name = f"SYNCER_{where.upper()}" if is_settings else where
        lines.append(f"  {name}: {error['msg'].removeprefix('Value error, ')}")
    head = "invalid settings (environment or .env):" if is_settings else f"invalid {exc.title}:"
    return head + "\n" + "\n".join(lines)


def _data_dir() -> Path | None:
    if State.context is not None:
        return State.context.settings.data_dir
    raw = os.environ.get("SYNCER_DATA_DIR")
    return Path(raw).expanduser() if raw else None


# ------------------------------------------------------------------------------------------- rendering
class _Count(ProgressColumn):
    """``1,200/20,000`` with a total; the count alone without one (never ``0/?``)."""

    def render(self, task: Task) -> Text:
        done = f"{int(task.completed):,}"
        return Text(done if task.total is None else f"{done}/{int(task.total):,}", style="progress.download")


def progress_bar(description: str, total: int | None) -> Progress:
    """A transient progress bar on standard error (hidden when that is not a terminal); a task without a
    total pulses and shows its count."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        _Count(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    )


def records(items: Iterable[Any]) -> list[dict[str, Any]]:
    """Typed results (dataclasses) as plain rows for :func:`emit`."""
    return [dataclasses.asdict(item) for item in items]


def emit(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str],
    fmt: str,
    title: str | None = None,
    labels: dict[str, str] | None = None,
) -> None:
    """Print rows as a table (narrow: :mod:`.tables`; ``labels``: shorter headers), JSON (a stable list
    of objects) or CSV."""
    if fmt == "json":
        console.print_json(json.dumps(rows, default=str, ensure_ascii=False))
    elif fmt == "csv":
        from listing_sync.syncer.tabular import write_csv

        sys.stdout.write(write_csv(None, columns, ([r.get(c) for c in columns] for r in rows)))
    else:
        from listing_sync.syncer.cli.tables import narrow_table

        console.print(narrow_table(rows, columns, title=title, labels=labels, width=console.width))


@contextmanager
def json_list() -> Iterator[Callable[[dict[str, Any]], None]]:
    """A JSON list written to standard output item by item (one object a line), for a long answer that is
    never held whole; yields a function taking one item."""
    first = True

    def write(item: dict[str, Any]) -> None:
        nonlocal first
        sys.stdout.write(("[\n  " if first else ",\n  ") + json.dumps(item, default=str, ensure_ascii=False))
        first = False

    yield write
    sys.stdout.write("[]\n" if first else "\n]\n")
    sys.stdout.flush()


def announce_encoding(path: Path | None) -> None:
    """Name the encoding a CSV input is read in (on standard error), e.g. ``read as GB18030 (GBK)``.
    A file that cannot be read says nothing here: its importer refuses it with the reason."""
    if path is None or path.suffix.lower() != ".csv" or not path.is_file():
        return
    from listing_sync.syncer.tabular import detect_encoding

    try:
        encoding = detect_encoding(path)
    except (OSError, ValueError):
        return
    err_console.print(f"{escape(path.name)}: read as {encoding.name}", highlight=False)


def write_plain_csv(rows: Iterable[dict[str, Any]], columns: Sequence[str]) -> None:
    """CSV of rows streamed to standard output, every cell through the one formula guard
    (``tabular.safe_cell``: a signed number like -5.0 stays a number)."""
    from listing_sync.syncer.tabular import safe_cell

    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow([safe_cell(c) for c in columns])
    for row in rows:
        writer.writerow(["" if row.get(c) is None else safe_cell(row[c]) for c in columns])
    sys.stdout.flush()


def print_json(data: Any) -> None:
    """One JSON document, pretty-printed."""
    console.print_json(json.dumps(data, ensure_ascii=False, default=str))


def show_written(written: Written, message: str, *, to_stderr: bool = True) -> None:
    """A table a service wrote: its CSV text to standard output, or ``message`` about the file."""
    if written.text is not None:
        sys.stdout.write(written.text)
    else:
        (err_console if to_stderr else console).print(message)


# ------------------------------------------------------------------------------------------ the app
@app.callback()
@friendly
def main_callback(
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Where every file the service writes lives (SYNCER_DATA_DIR).")
    ] = None,
    trace_http: Annotated[
        Path | None, typer.Option("--trace-http", help="Append every HTTP request as a JSON line to FILE.")
    ] = None,
) -> None:
    from listing_sync.config.settings import get_settings

    if data_dir is not None:
        os.environ["SYNCER_DATA_DIR"] = str(data_dir.expanduser().resolve())
    get_settings.cache_clear()
    State.context = Context(settings=get_settings(), trace_path=trace_http)


def main() -> None:
    """The ``syncer`` console script."""
    try:
        app()
    except Exception as exc:  # a last net for what fails outside a command (every command is ``friendly``)
        code, message = explain(exc)
        err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
        sys.exit(code)
