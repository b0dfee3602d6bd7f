"""The CLI end to end on a fresh data directory (the way a new user runs it)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from listing_sync.config.settings import get_settings
from listing_sync.syncer.cli.app import app
from typer.testing import CliRunner

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "catalog.csv"


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SYNCER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SYNCER_CHANNELS_FILE", str(tmp_path / "none.toml"))
    get_settings.cache_clear()
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, list(args), catch_exceptions=False)

    yield invoke
    get_settings.cache_clear()


def test_commands_need_a_database_first(run) -> None:
    result = run("catalog", "show", "X")
    assert result.exit_code == 1
    assert "syncer init" in result.output


def test_import_show_export_round_trip(run, tmp_path: Path) -> None:
    assert run("db", "upgrade").exit_code == 0
    assert run("warehouse", "add", "SH").exit_code == 0
    assert run("warehouse", "add", "GZ").exit_code == 0
    assert run("warehouse", "add", "GZ").exit_code == 1
    first = run("catalog", "import", str(EXAMPLE))
    assert first.exit_code == 0, first.output
    assert "18 SKUs created" in first.output
    again = run("catalog", "import", str(EXAMPLE))
    assert "nothing changed" in again.output
    shown = run("catalog", "show", "TEA-LJ-250", "--format", "json")
    data = json.loads(shown.output)
    assert data["title"].startswith("西湖龙井") and {s["warehouse"]: s["on_hand"] for s in data["stock"]} == {
        "SH": 120,
        "GZ": 40,
    }
    out = tmp_path / "export.xlsx"
    assert run("catalog", "export", "--format", "xlsx", "--out", str(out)).exit_code == 0
    assert "nothing changed" in run("catalog", "import", str(out)).output


def test_bad_file_exits_non_zero_with_every_problem(run, tmp_path: Path) -> None:
    run("db", "upgrade")
    bad = tmp_path / "bad.csv"
    bad.write_text("sku,title,base_price,currency\nA,t,x,CNY\nB,t,1,QQQ\n", encoding="utf-8")
    result = run("catalog", "import", str(bad))
    assert result.exit_code == 1
    assert "row 2, column base_price" in result.output and "row 3, column currency" in result.output
    assert "Traceback" not in result.output
    assert run("catalog", "show", "A").exit_code == 1


def test_missing_file_and_unknown_sku(run) -> None:
    run("db", "upgrade")
    assert run("catalog", "import", "/nonexistent.csv").exit_code == 1
    result = run("catalog", "show", "NOPE")
    assert result.exit_code == 1 and "NOPE" in result.output


def test_emulator_faults_setting_is_validated(tmp_path: Path) -> None:
    from listing_sync.config.settings import Settings
    from listing_sync.syncer.context import Context, UserError

    context = Context(settings=Settings(_env_file=None, data_dir=tmp_path / "a", emulator_faults="meltdown=1"))
    with pytest.raises(UserError, match="SYNCER_EMULATOR_FAULTS.*meltdown"):
        _ = context.hub
    good = Context(settings=Settings(_env_file=None, data_dir=tmp_path / "b", emulator_faults="throttle=0.25"))
    assert good.hub.faults.throttle == 0.25


def test_a_catalog_saved_by_chinese_excel_imports_and_names_its_encoding(run, tmp_path: Path) -> None:
    """Trap 3: GBK (Chinese Excel's "CSV") was refused with "'utf-8' codec can't decode byte 0xd1"."""
    assert run("db", "upgrade").exit_code == 0
    for code in ("SH", "GZ"):
        assert run("warehouse", "add", code).exit_code == 0
    gbk = tmp_path / "catalog-gbk.csv"
    gbk.write_bytes(EXAMPLE.read_text(encoding="utf-8").encode("gbk"))
    first = run("catalog", "import", str(gbk))
    assert first.exit_code == 0, first.output
    assert "catalog-gbk.csv: read as GB18030 (GBK)" in first.output and "18 SKUs created" in first.output
    utf16 = tmp_path / "catalog-utf16.csv"
    utf16.write_bytes(EXAMPLE.read_text(encoding="utf-8").encode("utf-16"))
    again = run("catalog", "import", str(utf16))
    assert "read as UTF-16" in again.output and "nothing changed" in again.output
    data = json.loads(run("catalog", "show", "TEA-LJ-250", "--format", "json").stdout)
    assert data["title"].startswith("西湖龙井")


def test_catalog_export_has_bom_and_numbers_as_numbers_in_xlsx(run, tmp_path: Path) -> None:
    """Trap 3: catalog export had no --bom; its XLSX stored cost and base_price as text."""
    from openpyxl import load_workbook

    assert run("db", "upgrade").exit_code == 0
    for code in ("SH", "GZ"):
        assert run("warehouse", "add", code).exit_code == 0
    assert run("catalog", "import", str(EXAMPLE)).exit_code == 0
    csv_out = tmp_path / "catalog.csv"
    assert run("catalog", "export", "--bom", "--out", str(csv_out)).exit_code == 0
    assert csv_out.read_bytes().startswith(b"\xef\xbb\xbfsku,")
    assert "nothing changed" in run("catalog", "import", str(csv_out)).output
    xlsx = tmp_path / "catalog.xlsx"
    assert run("catalog", "export", "--format", "xlsx", "--out", str(xlsx)).exit_code == 0
    sheet = load_workbook(xlsx).active
    header = [c.value for c in sheet[1]]
    row = {name: cell for name, cell in zip(header, sheet[2], strict=True)}
    assert row["base_price"].data_type == "n" and row["base_price"].number_format == "#,##0.00"
    assert row["cost"].data_type == "n" and row["stock[SH]"].data_type == "n"
    assert sheet.auto_filter.ref == f"A1:{sheet.cell(1, len(header)).column_letter}{sheet.max_row}"
    assert sheet.column_dimensions["A"].width >= len("TEA-LJ-250")
    for command in (("categories", "export", "--bom"), ("attributes", "export", "--bom")):
        result = run(*command)
        assert result.exit_code == 0 and result.stdout.startswith("\ufeff"), command


def test_an_old_export_does_not_put_old_stock_back(run, tmp_path: Path) -> None:
    """Trap 2: export, `stock adjust --by -4`, import the export again: on hand went back to the old count."""
    import csv
    import io

    assert run("db", "upgrade").exit_code == 0
    for code in ("SH", "GZ"):
        assert run("warehouse", "add", code).exit_code == 0
    assert run("catalog", "import", str(EXAMPLE)).exit_code == 0
    (tmp_path / "none.toml").write_text("", encoding="utf-8")  # no channels: stock changes need the file
    export = tmp_path / "export.csv"
    assert run("catalog", "export", "--out", str(export)).exit_code == 0
    rows = list(csv.DictReader(io.StringIO(export.read_text(encoding="utf-8"))))
    assert rows[0]["stock_as_of"].isdigit() and len({r["stock_as_of"] for r in rows}) == 1
    sold = run("stock", "adjust", "--by", "-4", "--warehouse", "SH", "--sku", "TEA-LJ-250", "--yes", "--reason", "sold")
    assert sold.exit_code == 0, sold.output
    for row in rows:  # the same file with a new price: the price imports, the old stock does not
        if row["sku"] == "TEA-LJ-250":
            row["base_price"] = "199.00"
    with export.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    def show() -> dict:
        return json.loads(run("catalog", "show", "TEA-LJ-250", "--format", "json").stdout)

    again = run("catalog", "import", str(export))
    assert again.exit_code == 4, again.output  # done except the stock it lists
    assert "NOT imported" in again.output and "TEA-LJ-250 in SH: the file says 120" in again.output
    assert "adjust -4 (sold)" in again.output and "on hand is 116" in again.output
    data = show()
    assert data["base_price"] == "199.00" and {s["warehouse"]: s["on_hand"] for s in data["stock"]}["SH"] == 116
    no_stock = run("catalog", "import", "--no-stock", str(export))
    assert no_stock.exit_code == 0 and "NOT imported" not in no_stock.output
    forced = run("catalog", "import", "--stock-as-of-file", str(export))
    assert forced.exit_code == 0 and "1 stock movements" in forced.output
    assert {s["warehouse"]: s["on_hand"] for s in show()["stock"]}["SH"] == 120


def test_a_catalog_import_change_set_counts_its_items(run, tmp_path: Path) -> None:
    """Trap 6: catalog-import change sets showed `items 0`."""
    assert run("db", "upgrade").exit_code == 0
    for code in ("SH", "GZ"):
        assert run("warehouse", "add", code).exit_code == 0
    assert run("catalog", "import", str(EXAMPLE)).exit_code == 0
    (tmp_path / "none.toml").write_text("", encoding="utf-8")
    listed = json.loads(run("changes", "list", "--format", "json").stdout)
    assert listed[0]["command"] == "catalog import" and listed[0]["items"] == 18
    import csv

    with EXAMPLE.open(encoding="utf-8", newline="") as source:
        rows = list(csv.DictReader(source))
    next(r for r in rows if r["sku"] == "TEA-LJ-250")["barcode"] = "6900000000999"
    changed = tmp_path / "changed.csv"
    with changed.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    assert run("catalog", "import", str(changed)).exit_code == 0
    shown = json.loads(run("changes", "show", str(listed[0]["id"] + 1), "--format", "json").stdout)
    assert [(c["sku"], c["field"], c["new"]) for c in shown["changes"]] == [("TEA-LJ-250", "catalog", "barcode")]
