"""FX: rate files validated whole (every problem, nothing applied), the rate book agrees with fx.rate,
missing rates are all named, and the CLI import/list commands."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from listing_sync.config.settings import get_settings
from listing_sync.syncer import db, fx
from listing_sync.syncer.models import FxRate
from listing_sync.syncer.tabular import InputRejected
from openpyxl import Workbook
from sqlalchemy import func, select
from typer.testing import CliRunner

D = Decimal


def test_import_applies_a_clean_file_and_is_idempotent(session, tmp_path: Path) -> None:
    path = tmp_path / "rates.csv"
    path.write_text("date,base,quote,rate\n2026-01-01,usd,CNY,7.2\n2026-02-01,USD,CNY,7.1\n2026-01-01,EUR,CNY,7.8\n")
    assert fx.import_rates(session, path) == (3, 0)
    assert fx.rate(session, "USD", "CNY", date(2026, 1, 31)) == D("7.2")
    assert fx.rate(session, "USD", "CNY", date(2026, 2, 1)) == D("7.1")
    assert fx.import_rates(session, path) == (0, 3)
    path.write_text("rate,quote,base,date,note\n7.15,CNY,USD,2026-02-01,fixed\n")  # any column order
    assert fx.import_rates(session, path) == (1, 0)
    assert fx.rate(session, "USD", "CNY", date(2026, 2, 5)) == D("7.15")


def test_bad_file_lists_every_problem_and_applies_nothing(session, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "date,base,quote,rate\n"
        "2026-01-01,USD,CNY,7.2\n"  # fine, but must not be applied
        "2026-13-01,USD,CNY,7.2\n"  # row 3 date
        "2026-01-02,XXX,CNY,1\n"  # row 4 base
        "2026-01-02,EUR,CNY,-1\n"  # row 5 rate
        "2026-01-02,EUR,EUR,1\n"  # row 6 same currency
        "2026-01-01,USD,CNY,7.3\n"  # row 7 duplicate of row 2
        "2026-01-03,GBP,,abc\n"  # row 8 quote and rate
    )
    with pytest.raises(InputRejected) as raised:
        fx.import_rates(session, path)
    where = {(p.row, p.column) for p in raised.value.problems}
    assert where == {(3, "date"), (4, "base"), (5, "rate"), (6, "quote"), (7, "date"), (8, "quote"), (8, "rate")}
    assert "nothing was applied" in str(raised.value)
    assert session.scalar(select(func.count()).select_from(FxRate)) == 0


def test_each_bad_cell_of_a_row_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "date,base,quote,rate\n"
        "someday,EUR,EUR,0\n"  # date and rate; the same currency is not judged while the date is bad
        "2026-01-02,,xxx,1.0000001\n"  # base empty, quote unknown, rate with 7 places
    )
    with pytest.raises(InputRejected) as raised:
        fx.read_rate_file(path)
    found = {(p.row, p.column): p.message for p in raised.value.problems}
    assert set(found) == {(2, "date"), (2, "rate"), (3, "base"), (3, "quote"), (3, "rate")}
    assert found[(2, "date")] == "'someday' is not a date (YYYY-MM-DD)"
    assert found[(2, "rate")] == "rate must be positive, not 0"
    assert found[(3, "base")] == "empty currency"
    assert found[(3, "rate")] == "1.0000001 has more than 6 decimal places"


def test_missing_columns_are_named(session, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("day,base,rate\n2026-01-01,USD,7\n")
    with pytest.raises(InputRejected) as raised:
        fx.import_rates(session, path)
    assert {(p.row, p.column) for p in raised.value.problems} == {(1, "date"), (1, "quote")}


def test_import_xlsx_with_real_dates(session, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["date", "base", "quote", "rate"])
    sheet.append([date(2026, 1, 1), "GBP", "CNY", 9.125])
    sheet.append(["2026-01-01", "JPY", "CNY", "0.048"])
    path = tmp_path / "rates.xlsx"
    book.save(path)
    assert fx.import_rates(session, path) == (2, 0)
    assert fx.rate(session, "GBP", "CNY", date(2026, 3, 1)) == D("9.125")
    assert fx.rate(session, "JPY", "CNY", date(2026, 3, 1)) == D("0.048")


def test_rate_book_agrees_with_rate_and_names_all_missing(session) -> None:
    fx.set_rate(session, "USD", "CNY", D("7.2"), date(2026, 1, 10))
    fx.set_rate(session, "CNY", "GBP", D("0.11"), date(2026, 1, 1))  # only the inverse pair
    fx.set_rate(session, "EUR", "CNY", D("7.8"), date(2026, 1, 20))
    book = fx.RateBook(session, "CNY")
    for currency, day in [("USD", date(2026, 1, 10)), ("USD", date(2026, 5, 1)), ("GBP", date(2026, 1, 1))]:
        assert book.get(currency, day) == fx.rate(session, currency, "CNY", day)
    assert book.get("GBP", date(2026, 1, 1)) == D("9.090909")  # 1 / 0.11 to 6 places
    assert book.get("CNY", date(2000, 1, 1)) == D(1)
    with pytest.raises(fx.MissingRates) as raised:
        book.resolve(
            [
                ("USD", date(2026, 1, 9)),
                ("USD", date(2026, 1, 5)),
                ("EUR", date(2026, 1, 19)),
                ("EUR", date(2026, 1, 20)),
                ("GBP", date(2025, 12, 31)),
            ]
        )
    assert raised.value.missing == {
        "EUR": [date(2026, 1, 19)],
        "GBP": [date(2025, 12, 31)],
        "USD": [date(2026, 1, 5), date(2026, 1, 9)],
    }
    assert "2026-01-05, 2026-01-09" in str(raised.value)


def test_cli_fx_import_and_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from listing_sync.syncer.cli.app import app

    monkeypatch.setenv("SYNCER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SYNCER_CHANNELS_FILE", str(tmp_path / "none.toml"))
    get_settings.cache_clear()
    try:
        url = get_settings().resolved_database_url
        db.upgrade(url)
        runner = CliRunner()
        good = tmp_path / "rates.csv"
        good.write_text("\ufeffdate,base,quote,rate\n2026-01-01,USD,CNY,7.2\n", encoding="utf-8")
        result = runner.invoke(app, ["fx", "import", str(good)])
        assert result.exit_code == 0 and "1 rate(s) set" in result.output
        bad = tmp_path / "bad.csv"
        bad.write_text("date,base,quote,rate\nx,USD,CNY,7\n2026-01-02,USD,CNY,0\n")
        result = runner.invoke(app, ["fx", "import", str(bad)])
        assert result.exit_code == 1
        assert "row 2, column date" in result.output and "row 3, column rate" in result.output
        listed = runner.invoke(app, ["fx", "list", "--format", "csv"])
        assert listed.exit_code == 0 and listed.output.splitlines() == [
            "date,base,quote,rate",
            "2026-01-01,USD,CNY,7.20",
        ]
        assert (
            runner.invoke(app, ["fx", "list", "--base", "EUR", "--format", "csv"]).output.strip()
            == "date,base,quote,rate"
        )
        db.engine_for(url).dispose()
    finally:
        get_settings.cache_clear()
