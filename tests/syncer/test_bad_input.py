"""Bad input never tracebacks (#25 fault 5): every case as the user met it, through the real command.
Each is refused with a message naming what is wrong (and where, for files), exit 1, nothing applied."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from listing_sync.config.settings import get_settings
from listing_sync.syncer.cli.app import app
from openpyxl import Workbook, load_workbook
from typer.testing import CliRunner

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "catalog.csv"
EVIL = '=HYPERLINK("http://evil","x")'


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SYNCER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("SYNCER_CHANNELS_FILE", raising=False)
    get_settings.cache_clear()
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, list(args), catch_exceptions=False)

    assert invoke("init").exit_code == 0
    invoke("warehouse", "add", "SH")
    invoke("warehouse", "add", "GZ")
    assert invoke("catalog", "import", str(EXAMPLE)).exit_code == 0
    yield invoke
    get_settings.cache_clear()


def refused(result, *expected: str) -> str:
    """The command exited 1 with one message holding every ``expected`` text, and no traceback."""
    text = " ".join(result.output.split())
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and "unexpected" not in text, result.output
    for part in expected:
        assert part in text, result.output
    return text


def price_of(run, sku: str) -> str:
    return json.loads(run("catalog", "show", sku, "--format", "json").output)["base_price"]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------------ huge numbers (OverflowError)
def test_a_huge_price_or_stock_in_a_catalog_import_is_a_row_and_column_problem(run, tmp_path: Path) -> None:
    bad = write(
        tmp_path / "big.csv",
        "sku,title,base_price,cost,currency,stock[SH],weight_grams\n"
        "TEA-LJ-250,t,100000000000000000000000000,1,CNY,5,1\n"
        "NEW-1,t,1,1e30,CNY,99999999999999999999,1000000001\n",
    )
    refused(
        run("catalog", "import", str(bad)),
        "row 2, column base_price: 100000000000000000000000000 is too large",
        "row 3, column cost: 1E+30 is too large",
        "row 3, column stock[SH]: 99999999999999999999 is too large (at most 1,000,000,000)",
        "row 3, column weight_grams: 1000000001 is too large",
    )
    assert run("catalog", "show", "NEW-1").exit_code == 1


def test_a_huge_price_or_stock_in_an_edits_file_is_a_row_and_column_problem(run, tmp_path: Path) -> None:
    bad = write(tmp_path / "edits.csv", "sku,price,stock[SH]\nTEA-LJ-250,1e40,5\nTEA-PE-357,1,10000000000\n")
    before = price_of(run, "TEA-LJ-250")
    refused(
        run("changes", "apply", str(bad), "--yes"),
        "row 2, column price: 1E+40 is too large (amounts must be below 10,000,000,000.00 CNY)",
        "row 3, column stock[SH]: 10000000000 is too large",
    )
    assert price_of(run, "TEA-LJ-250") == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("price", "adjust", "--percent", "1e30"), "--percent: 1E+30 is out of range"),
        (("price", "adjust", "--percent", "1001"), "--percent: 1001 is out of range"),
        (("price", "adjust", "--amount", "1e30"), "--amount: 1E+30 is too large"),
        (("price", "set", "99999999999"), "99999999999 is too large"),
        (("stock", "set", "10000000000", "--warehouse", "SH"), "10000000000 is too large (at most 1,000,000,000)"),
        (("stock", "adjust", "--by", "-10000000000", "--warehouse", "SH"), "--by: -10000000000 is too large"),
        (("stock", "adjust", "--by", "999999999", "--warehouse", "SH"), "would be 1000000119, above 1,000,000,000"),
    ],
)
def test_bulk_change_parameters_out_of_bounds_are_refused(run, args: tuple[str, ...], message: str) -> None:
    before = price_of(run, "TEA-LJ-250")
    refused(run(*args, "--sku", "TEA-*", "--yes"), message)
    assert price_of(run, "TEA-LJ-250") == before


def test_a_huge_exchange_rate_is_refused_in_a_file_and_on_the_command_line(run, tmp_path: Path) -> None:
    bad = write(tmp_path / "rates.csv", "date,base,quote,rate\n2026-01-01,CNY,USD,1e30\n2026-01-01,CNY,EUR,1e-30\n")
    refused(
        run("fx", "import", str(bad)),
        "row 2, column rate: rate 1E+30 is too large",
        "row 3, column rate: 1E-30 has more than 6 decimal places",
    )
    refused(run("fx", "set", "CNY", "USD", "1e30"), "rate 1E+30 is too large")


# -------------------------------------------------------------------------------- a 10 MB cell
def test_a_ten_megabyte_cell_is_a_row_problem(run, tmp_path: Path) -> None:
    bad = write(tmp_path / "huge.csv", f"sku,title,base_price,currency\nA-1,t,1,CNY\nA-2,{'x' * 10_000_000},1,CNY\n")
    refused(run("catalog", "import", str(bad)), "row 3: a cell is longer than 131,072 characters")
    edits = write(tmp_path / "edits.csv", f"sku,price\nTEA-LJ-250,{'9' * 10_000_000}\n")
    refused(run("changes", "apply", str(edits), "--yes"), "row 2: a cell is longer than 131,072 characters")


# ----------------------------------------------------------------------------- control characters
def test_nul_and_control_characters_are_refused_at_import_with_row_and_column(run, tmp_path: Path) -> None:
    bad = write(
        tmp_path / "ctrl.csv",
        "sku,title,base_price,currency,description\nC-1,tea\x00pot,1,CNY,fine\nC-2,tea,1,CNY,esc\x1b[31m red\n",
    )
    refused(
        run("catalog", "import", str(bad)),
        "row 2, column title: contains the control character U+0000 at position 4",
        "row 3, column description: contains the control character U+001B at position 4",
    )
    assert run("catalog", "show", "C-1").exit_code == 1
    workbook = Workbook()
    workbook.active.append(["sku", "title", "base_price", "currency"])
    workbook.active.append(["C-3", "csi\x9b", 1, "CNY"])  # (XLSX itself cannot hold C0 controls)
    workbook.save(tmp_path / "ctrl.xlsx")
    refused(run("catalog", "import", str(tmp_path / "ctrl.xlsx")), "row 2, column title: contains the control")


def test_tabs_and_line_breaks_in_descriptions_are_fine(run, tmp_path: Path) -> None:
    good = write(tmp_path / "ok.csv", 'sku,title,base_price,currency,description\nC-1,t,1,CNY,"a\tb\r\nc"\n')
    assert run("catalog", "import", str(good)).exit_code == 0


# ------------------------------------------------------------------------------- --out nowhere
@pytest.mark.parametrize(
    "args",
    [
        ("catalog", "export"),
        ("orders", "export"),
        ("report", "inventory", "--format", "csv"),
        ("categories", "export"),
    ],
)
def test_out_into_a_missing_folder_is_one_message(run, args: tuple[str, ...]) -> None:
    refused(run(*args, "--out", "/nonexistent/dir/x.csv"), "the folder /nonexistent/dir does not exist")


# ------------------------------------------------------------------------ formulas in every writer
def test_the_catalog_export_neutralizes_formulas_and_imports_back_unchanged(run, tmp_path: Path) -> None:
    src = write(
        tmp_path / "evil.csv",
        f'sku,title,base_price,currency,brand\nEVIL-1,"{EVIL.replace(chr(34), chr(34) * 2)}",1,CNY,-5\n'
        "EVIL-2,@SUM(A1),1,CNY,+cmd|' /C calc'!A0\n",
    )
    assert run("catalog", "import", str(src)).exit_code == 0, run("catalog", "import", str(src)).output
    out_csv, out_xlsx = tmp_path / "out.csv", tmp_path / "out.xlsx"
    assert run("catalog", "export", "--out", str(out_csv)).exit_code == 0
    text = out_csv.read_text(encoding="utf-8")
    assert "'=HYPERLINK" in text and ",'@SUM(A1)," in text and "'+cmd|" in text
    assert ",-5," in text  # a signed number stays a number
    assert run("catalog", "export", "--format", "xlsx", "--out", str(out_xlsx)).exit_code == 0
    cells = [c for row in load_workbook(out_xlsx).active.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"], "a formula cell was written"
    assert any(c.value == "'" + EVIL for c in cells)
    for exported in (out_csv, out_xlsx):
        assert "nothing changed" in run("catalog", "import", str(exported)).output
    assert json.loads(run("catalog", "show", "EVIL-1", "--format", "json").output)["title"] == EVIL


def test_a_nul_already_in_the_database_does_not_break_an_xlsx_export(run, tmp_path: Path) -> None:
    from listing_sync.syncer.context import Context
    from listing_sync.syncer.models import Product
    from sqlalchemy import func, select, update

    context = Context(settings=get_settings())
    with context.session() as session:  # as an order's or an older version's data could hold one
        first = session.scalar(select(func.min(Product.id)))
        session.execute(update(Product).where(Product.id == first).values(title="tea\x00pot"))
    out = tmp_path / "out.xlsx"
    assert run("catalog", "export", "--format", "xlsx", "--out", str(out)).exit_code == 0
    titles = [row[2] for row in load_workbook(out).active.iter_rows(values_only=True)]
    assert "tea\ufffdpot" in titles
    assert run("report", "inventory", "--format", "xlsx", "--out", str(tmp_path / "inv.xlsx")).exit_code == 0


def test_every_csv_and_xlsx_writer_goes_through_the_one_guard() -> None:
    root = Path(__file__).resolve().parents[2]
    writers = {}
    for path in sorted((root / "syncer").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if "csv.writer(" in text or "Workbook(" in text:
            writers[path.relative_to(root).as_posix()] = "safe_cell(" in text
    assert {"syncer/tabular.py", "syncer/cli/app.py"} <= set(writers)
    assert [name for name, guarded in writers.items() if not guarded] == []
    assert "escape_formula" not in "".join(p.read_text(encoding="utf-8") for p in (root / "syncer").rglob("*.py"))


def test_a_workbook_whose_sheet_breaks_after_the_header_is_a_row_problem(tmp_path: Path) -> None:
    import zipfile

    from listing_sync.syncer.tabular import InputRejected, read_table

    good = tmp_path / "good.xlsx"
    workbook = Workbook()
    workbook.active.append(["sku", "title"])
    for n in range(50):
        workbook.active.append([f"S-{n}", "t"])
    workbook.save(good)
    broken = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(broken, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data[: len(data) // 2]  # the XML stops in the middle of the rows
            target.writestr(item, data)
    with pytest.raises(InputRejected) as info:
        header, rows = read_table(broken)
        list(rows)
    assert "cannot read the row: unclosed token" in str(info.value)
