"""Tables at 80 columns: short times, right-aligned grouped numbers, columns that do not fit named."""

from __future__ import annotations

from datetime import UTC, datetime

from listing_sync.syncer.cli.tables import narrow_table, short_time
from rich.console import Console

NOW = datetime(2026, 12, 1, 16, 30, tzinfo=UTC)


def render(table) -> list[str]:
    console = Console(width=80, record=True, color_system=None)
    console.print(table)
    return console.export_text().splitlines()


def test_short_times() -> None:
    assert short_time("2026-12-01T16:02:11+00:00", NOW) == "16:02"
    assert short_time("2026-11-30T08:00:00", NOW) == "11-30 08:00"
    assert short_time("2025-03-01T08:00:00Z", NOW) == "2025-03-01"
    assert short_time("TEA-1", NOW) == "TEA-1"


def test_a_wide_table_fits_80_columns() -> None:
    """Trap 5: `syncer status` and every table were unreadable at 80 columns (`chan…`, `2026…`)."""
    rows = [
        {"channel": f"woocommerce-{i}", "orders": 1234567, "net": "1847.32", "note": "a long note " * 6, "x": 1}
        for i in range(3)
    ]
    columns = ["channel", "orders", "net", "note", *[f"extra_{n}" for n in range(12)]]
    lines = render(narrow_table(rows, columns, title="wide", width=80))
    assert all(len(line) <= 80 for line in lines)
    assert any("woocommerce-0" in line and "1,234,567" in line and "1,847.32" in line for line in lines)
    assert "…" not in "\n".join(lines)
    assert any("not shown at this width: extra_" in line for line in lines)
    header = next(line for line in lines if line.startswith("channel"))
    row = next(line for line in lines if line.startswith("woocommerce-0"))
    assert row.index("1,234,567") + len("1,234,567") == header.index("orders") + len("orders")  # right-aligned


def test_cells_are_data_not_markup() -> None:
    lines = render(narrow_table([{"problem": "add title[en] or [bold]x[/bold]"}], ["problem"], width=80))
    assert any("add title[en] or [bold]x[/bold]" in line for line in lines)
