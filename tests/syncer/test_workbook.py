"""The sales workbook read back with openpyxl: every column at least as wide as its widest rendered value
(computed here independently of the writer), number formats, autofilter, frozen panes, print setup,
summary first with both charts, the rates sheet, Chinese headers; and rendered to PNG by LibreOffice
(skipped where it is not installed)."""

from __future__ import annotations

import shutil
import subprocess
import unicodedata
from decimal import Decimal
from pathlib import Path

import pytest
from listing_sync.syncer import reports
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from tests.syncer.test_profit import MAR1, MAR31, RULES, TZ, seed


def shown(value, fmt: str) -> str:
    """What a spreadsheet displays for the formats the reports use (written here, not imported)."""
    if value is None:
        return ""
    if not isinstance(value, int | float) or fmt in ("General", "@"):
        return str(value)
    if fmt.endswith("%"):
        return f"{value * 100:.{len(fmt) - 3 if '.' in fmt else 0}f}%"
    number, _, unit = fmt.partition(" ")
    places = len(number.split(".")[1]) if "." in number else 0
    text = f"{value:,.{places}f}" if number.startswith("#,##") else f"{value:.{places}f}"
    return f"{text} {unit.strip(chr(34))}" if unit else text


def width_of(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def write(session, tmp_path: Path, lang: str) -> Path:
    report = reports.sales_report(
        session,
        MAR1,
        MAR31,
        ["channel", "sku", "country"],
        "EUR",
        chart=True,
        tz=TZ,
        via="CNY",
        fee_rules=RULES,
        period="",
    )
    path = tmp_path / f"sales-{lang}.xlsx"
    reports.write_sales(report, path, "xlsx", lang=lang)
    return path


def test_widths_formats_filters_and_print_setup(session, tmp_path: Path) -> None:
    seed(session)
    book = load_workbook(write(session, tmp_path, "en"))
    assert book.sheetnames == ["Summary", "total", "by channel", "by sku", "by country", "rates", "chart data"]
    for sheet in book.worksheets:
        merged = {c for r in sheet.merged_cells.ranges for row in sheet[r.coord] for c in row}  # the title
        for column in sheet.iter_cols():
            widest = max(width_of(shown(c.value, c.number_format)) for c in column if c not in merged)
            letter = get_column_letter(column[0].column)
            assert sheet.column_dimensions[letter].width >= widest, (sheet.title, letter, widest)
        assert sheet.page_setup.orientation == "landscape", sheet.title
        assert (sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight) == (1, 0)
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
        assert "2026-03-01 .. 2026-03-31 (Asia/Shanghai)" in sheet.oddHeader.right.text
        assert sheet.oddHeader.center.text.startswith("Sales and profit")
    for name in ("total", "by channel", "by sku", "by country", "rates"):
        sheet = book[name]
        assert sheet.auto_filter.ref == sheet.dimensions and sheet.freeze_panes == "B2"
        assert sheet.print_title_rows == "$1:$1"
    channel = book["by channel"]
    head = [c.value for c in channel[1]]
    assert head[:3] == ["Channel", "Currency", "Orders"]
    assert "Gross profit (EUR)" in head and "Margin %" in head and "Marketplace fees" in head
    shop = next(r for r in channel.iter_rows(min_row=2) if r[0].value == "shop")
    profit = shop[head.index("Gross profit (EUR)")]
    assert Decimal(str(profit.value)) == Decimal("32.93") and profit.number_format == '#,##0.00 "EUR"'
    assert shop[head.index("Marketplace fees")].number_format == '#,##0.00 "USD"'
    margin = shop[head.index("Margin %")]
    assert margin.number_format == "0.00%" and abs(margin.value - 0.7317) < 0.00005  # 32.925 / 45.00
    summary = book["Summary"]
    assert [c.tagname for c in summary._charts] == ["barChart", "barChart"]  # revenue; sales/profit + margin line
    facts = {r[0].value: r[1].value for r in summary.iter_rows(min_row=2) if r[0].value}
    assert facts["Period"] == "2026-03-01 .. 2026-03-31 (Asia/Shanghai)" and facts["Report currency"] == "EUR"
    assert Decimal(str(facts["Gross profit (EUR)"])) == Decimal("61.72") and facts["Filters"] == "none"
    rates = book["rates"]
    rate_rows = [[c.value for c in r] for r in rates.iter_rows(min_row=2)]
    usd = next(r for r in rate_rows if r[0] == "USD" and r[2] == "2026-03-12")
    assert usd[3] == 0.9 and usd[4] == "via CNY" and "USD->CNY 7.2" in usd[5] and "CNY->EUR 0.125" in usd[5]


def test_chinese_headers(session, tmp_path: Path) -> None:
    seed(session)
    book = load_workbook(write(session, tmp_path, "zh-CN"))
    assert book.sheetnames[0] == "摘要"
    head = [c.value for c in book["by channel"][1]]
    assert head[:3] == ["渠道", "币种", "订单数"] and "毛利 (EUR)" in head and "毛利率 %" in head
    assert book["total"].oddHeader.center.text.startswith("销售与利润")


def render_first_page(xlsx: Path, out: Path) -> subprocess.CompletedProcess:
    """LibreOffice prints the workbook to PDF (its print setup: landscape, one page wide), then poppler
    rasterizes the first page (the summary sheet) to ``out``."""
    done = subprocess.run(
        ["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(xlsx.parent), str(xlsx)],
        capture_output=True,
        text=True,
        timeout=180,
    )
    if done.returncode == 0:
        stem = out.with_suffix("")
        done = subprocess.run(
            [
                "pdftoppm",
                "-png",
                "-r",
                "80",
                "-f",
                "1",
                "-l",
                "1",
                "-singlefile",
                str(xlsx.with_suffix(".pdf")),
                str(stem),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    return done


@pytest.mark.skipif(
    shutil.which("soffice") is None or shutil.which("pdftoppm") is None,
    reason="LibreOffice (soffice) or poppler (pdftoppm) is not installed here",
)
def test_summary_renders_to_png_with_libreoffice(session, tmp_path: Path) -> None:
    seed(session)
    path = write(session, tmp_path, "en")
    png = tmp_path / "summary.png"
    done = render_first_page(path, png)
    assert done.returncode == 0 and png.exists(), done.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
