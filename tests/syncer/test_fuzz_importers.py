"""Hypothesis fuzz of every importer (#25 5d): the catalog (CSV and XLSX), the edits file of `changes
apply`, the FX rates file, the category and attribute mapping files, and the channels file. Whatever
the input, the importer either succeeds or raises its typed error listing problems by row and column
(InputRejected, ChannelsFileError): never any other exception. The catalog and the edits are applied
too (then rolled back), so what validation lets through must also be storable, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from listing_sync.adapters.registry import channel_problems
from listing_sync.config.channels import ChannelsFileError, load_channels
from listing_sync.syncer import catalog, changes, db, fx, mapping
from listing_sync.syncer.models import Channel, Warehouse
from listing_sync.syncer.tabular import InputRejected, Problem
from openpyxl import Workbook
from scenario import CHANNEL_TEMPLATES

#: examples per importer and backend (a longer soak: SYNCER_FUZZ_EXAMPLES=2000)
EXAMPLES = int(os.environ.get("SYNCER_FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
ROOT = Path(__file__).resolve().parents[2]

#: cell values that have broken importers somewhere, and values that make rows valid
NASTY = [
    "",
    " ",
    "0",
    "1",
    "-1",
    "12.50",
    "1e30",
    "1E+999999",
    "-1E-999999",
    "NaN",
    "-Infinity",
    "1_000",
    "9" * 5000,
    "0.0000001",
    "1,5",
    "CNY",
    "usd",
    "JPY",
    "XXX",
    "true",
    "no",
    "SH",
    "GZ",
    "cn",
    "us",
    "base",
    '=HYPERLINK("http://evil","x")',
    "'=1+1",
    "@x",
    "tea\x00pot",
    "a\x1bb",
    "\ufeff",
    "\u202e",
    "2026-01-01",
    "2026-13-45",
    "2026-01-01T25:00",
    "TEA-LJ-250",
    "TEA-PE-357",
    "A-1",
    "a" * 130,
    "t" * 600,
    "https://img.test/a.png",
    "ftp://x",
    "a|b||c",
    ";;",
    "\n",
    '"',
    "白色",
    "x" * 70,
]
CELL = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=25),
    st.integers(min_value=-(10**25), max_value=10**25).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
)


def tables(columns: list[str]) -> st.SearchStrategy[tuple[list[str], list[list[str]]]]:
    pool = st.sampled_from([*columns, "", "unknown", "stock[NOPE]", "x[", "SKU"])
    header = st.one_of(
        st.permutations(columns).flatmap(lambda cols: st.lists(pool, max_size=3).map(lambda extra: list(cols) + extra)),
        st.lists(pool, max_size=8),
    )
    rows = st.lists(st.lists(CELL, max_size=len(columns) + 2), max_size=6)
    return st.tuples(header, rows)


def csv_bytes(table: tuple[list[str], list[list[str]]], well_formed: bool) -> bytes:
    header, rows = table
    if well_formed:
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(rows)
        return buffer.getvalue().encode("utf-8", "surrogatepass")
    return "\n".join(",".join(r) for r in [header, *rows]).encode("utf-8", "surrogatepass")


def files(columns: list[str]) -> st.SearchStrategy[tuple[str, bytes | tuple[list[str], list[list[str]]]]]:
    """(format, content): CSV well formed or hand-joined, raw bytes, or a table for an XLSX."""
    table = tables(columns)
    return st.one_of(
        st.tuples(st.just("csv"), st.builds(csv_bytes, table, st.booleans())),
        st.tuples(st.just("csv"), st.binary(max_size=300)),
        st.tuples(st.just("xlsx"), table),
        st.tuples(st.just("xlsx"), st.binary(max_size=300)),
    )


def write_file(directory: Path, kind: str, content: Any) -> Path:
    path = directory / f"input.{kind}"
    if kind == "csv" or isinstance(content, bytes):
        path.write_bytes(content)
        return path
    header, rows = content
    workbook = Workbook()
    sheet = workbook.active
    for row in [header, *rows]:
        sheet.append([_xlsx_value(v) for v in row])
    workbook.save(path)
    return path


def _xlsx_value(text: str) -> Any:
    """Cells as a spreadsheet holds them: numbers as numbers where they parse; text XLSX can hold."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    try:
        number = float(text)
    except ValueError:
        return ILLEGAL_CHARACTERS_RE.sub("", text).encode("utf-8", "replace").decode("utf-8")
    return number if math.isfinite(number) or text.lower() in ("nan", "inf") else text


def typed(call: Callable[[], Any], *errors: type[Exception]) -> None:
    """``call`` succeeds, or raises one of ``errors`` whose problems each name a row (or the file) and why."""
    try:
        call()
        event("accepted")
    except InputRejected as exc:
        event(f"refused: {len(exc.problems)} problem(s)" if len(exc.problems) < 3 else "refused: 3+ problems")
        assert InputRejected in errors
        assert exc.problems and all(isinstance(p, Problem) and p.row >= 0 and p.message for p in exc.problems)
        assert str(exc).startswith(exc.source)
    except ChannelsFileError as exc:
        event("refused")
        assert ChannelsFileError in errors
        assert exc.problems and all(why for _, _, why in exc.problems)


@pytest.fixture
def seeded(db_url: str) -> str:
    """A database with warehouses SH and GZ, channels cn and us, and the example catalog."""
    with db.unit_of_work(db_url) as s:
        s.add_all([Warehouse(code="SH", name="SH"), Warehouse(code="GZ", name="GZ")])
    with db.unit_of_work(db_url) as s:
        catalog.import_file(s, ROOT / "examples" / "catalog.csv", user="fuzz")
    with db.unit_of_work(db_url) as s:
        s.add_all(
            [Channel(name="cn", kind="taobao", currency="CNY"), Channel(name="us", kind="shopify", currency="USD")]
        )
    return db_url


def rolled_back(url: str, work: Callable[[Any], Any]) -> Callable[[], Any]:
    def run() -> Any:
        session = db.session_factory(url)()
        try:
            result = work(session)
            session.flush()
            return result
        finally:
            session.rollback()
            session.close()

    return run


CATALOG_COLUMNS = [
    *catalog.PLAIN_COLUMNS,
    "stock[SH]",
    "attr[颜色]",
    "title[en]",
    "description[zh-CN]@cn",
    "bullets[en]",
]


@FUZZ
@given(data=files(CATALOG_COLUMNS))
def test_catalog_import(seeded: str, data) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = write_file(Path(directory), *data)
        typed(rolled_back(seeded, lambda s: catalog.import_file(s, path, user="fuzz")), InputRejected)


@FUZZ
@given(data=files(["sku", "channel", "price", "stock[SH]", "stock[GZ]"]))
def test_edits_file(seeded: str, data) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = write_file(Path(directory), *data)
        typed(rolled_back(seeded, lambda s: changes.plan_file(s, path, {"cn": "CNY", "us": "USD"})), InputRejected)


@FUZZ
@given(data=files(list(fx.RATE_COLUMNS)))
def test_fx_rates_file(seeded: str, data) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = write_file(Path(directory), *data)
        typed(rolled_back(seeded, lambda s: fx.import_rates(s, path)), InputRejected)


def _channels() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "channels.toml"
        path.write_text(CHANNEL_TEMPLATES["taobao"] + CHANNEL_TEMPLATES["shopify"], encoding="utf-8")
        return {c.name: c for c in load_channels(path, {})}


CHANNELS = _channels()


@FUZZ
@given(data=files(list(mapping.CATEGORY_COLUMNS)))
def test_category_mappings_file(seeded: str, data) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = write_file(Path(directory), *data)
        typed(rolled_back(seeded, lambda s: mapping.import_categories(s, path, CHANNELS)), InputRejected)


@FUZZ
@given(data=files(list(mapping.ATTRIBUTE_COLUMNS)))
def test_attribute_mappings_file(seeded: str, data) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = write_file(Path(directory), *data)
        typed(rolled_back(seeded, lambda s: mapping.import_attributes(s, path, CHANNELS)), InputRejected)


# ------------------------------------------------------------------------------------ channels file
KEYS = ["name", "kind", "currency", "enabled", "base_url", "warehouses", "language", "credentials", "options",
        "price", "stock", "content", "markup", "x", "channels"]  # fmt: skip
SCALAR = st.one_of(
    st.sampled_from(
        [
            "taobao",
            "shopify",
            "woocommerce",
            "ebay",
            "amazon",
            "aliexpress",
            "emulator:",
            "CNY",
            "USD",
            "SH",
            "en",
            "zh-CN",
            "",
            "nope",
            "API_KEY",
            "1.5",
            "-1",
        ]
    ),  # fmt: skip
    st.text(max_size=12),
    st.integers(),
    st.floats(),
    st.booleans(),
    st.datetimes(),
)
VALUE = st.recursive(
    SCALAR,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(KEYS), inner, max_size=4)),
    max_leaves=12,
)


def toml_value(value: Any) -> str:
    """A TOML inline value (also for what TOML cannot hold, so the parser gets to refuse it)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value).replace("inf", "inf").replace("nan", "nan")
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    return json.dumps(value)


def toml_file(tables: list[dict[str, Any]], top: dict[str, Any]) -> str:
    lines = [f"{json.dumps(k)} = {toml_value(v)}" for k, v in top.items()]
    for table in tables:
        lines.append("[[channels]]")
        lines += [f"{json.dumps(k)} = {toml_value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


CHANNELS_FILES = st.one_of(
    st.builds(
        toml_file,
        st.lists(st.dictionaries(st.sampled_from(KEYS), VALUE, max_size=8), max_size=3),
        st.dictionaries(st.sampled_from(KEYS), VALUE, max_size=2),
    ),
    st.text(max_size=200),
    st.sampled_from([CHANNEL_TEMPLATES["taobao"], CHANNEL_TEMPLATES["shopify"] * 2, "[[channels]]\n"]),
)


@FUZZ
@given(text=CHANNELS_FILES)
def test_channels_file(text: str) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "channels.toml"
        path.write_bytes(text.encode("utf-8", "surrogatepass"))
        typed(lambda: load_channels(path, {"API_KEY": "k"}, check=channel_problems), ChannelsFileError)


@FUZZ
@given(data=files(["order", "carrier", "tracking", "channel", "lines", "warehouse"]))
def test_shipments_file(data) -> None:
    from listing_sync.syncer.services.shipping import read_shipments_file

    with tempfile.TemporaryDirectory() as directory:
        path = write_file(Path(directory), *data)
        typed(lambda: read_shipments_file(path), InputRejected)


def ecb_xml(days: list[tuple[str, list[tuple[str, str]]]], namespaced: bool) -> str:
    from xml.sax.saxutils import quoteattr

    ns = ' xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref"' if namespaced else ""
    cubes = "".join(
        f"<Cube time={quoteattr(day)}>"
        + "".join(f"<Cube currency={quoteattr(c)} rate={quoteattr(r)}/>" for c, r in rates)
        + "</Cube>"
        for day, rates in days
    )
    envelope = '<gesmes:Envelope xmlns:gesmes="x">'
    return f'<?xml version="1.0" encoding="UTF-8"?>{envelope}<Cube{ns}>{cubes}</Cube></gesmes:Envelope>'


XML_TEXT = st.one_of(st.sampled_from(NASTY), st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12))
ECB_FILES = st.one_of(
    st.builds(
        ecb_xml,
        st.lists(st.tuples(XML_TEXT, st.lists(st.tuples(XML_TEXT, XML_TEXT), max_size=4)), max_size=3),
        st.booleans(),
    ),
    st.text(max_size=200),
)


@FUZZ
@given(text=ECB_FILES)
def test_ecb_rates_xml(seeded: str, text: str) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "eurofxref.xml"
        path.write_bytes(text.encode("utf-8", "surrogatepass"))
        typed(rolled_back(seeded, lambda s: fx.import_rates(s, path)), InputRejected)
