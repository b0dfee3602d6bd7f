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
