"""No command prints a traceback: typed failures are one clear message (exit 1); anything unexpected is
one line pointing at the log file that holds the traceback (exit 70)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from listing_sync.config.settings import get_settings
from listing_sync.syncer.cli.app import EXIT_INTERNAL, app
from typer.testing import CliRunner


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SYNCER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SYNCER_CHANNELS_FILE", str(tmp_path / "none.toml"))
    get_settings.cache_clear()
    runner = CliRunner()

    def invoke(*args: str, env: dict[str, str] | None = None):
        return runner.invoke(app, list(args), catch_exceptions=False, env=env)

    yield invoke
    get_settings.cache_clear()


def one_message(output: str) -> str:
    assert "Traceback" not in output and 'File "' not in output, output
    return " ".join(output.split())


def test_an_unexpected_exception_is_one_line_and_a_log_file(run, tmp_path: Path, monkeypatch) -> None:
    from listing_sync.syncer.services import catalog

    def broken(*args, **kwargs):
        raise RuntimeError("the frobnicator is jammed")

    assert run("db", "upgrade").exit_code == 0
    monkeypatch.setattr(catalog, "show_sku", broken)
    result = run("catalog", "show", "X")
    assert result.exit_code == EXIT_INTERNAL == 70
    text = one_message(result.output)
    log = tmp_path / "data" / "logs" / "errors.log"
    assert "unexpected RuntimeError: the frobnicator is jammed" in text and str(log) in text
    assert len(result.output.strip().splitlines()) <= 3  # one line (wrapped at most by the terminal width)
    logged = log.read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in logged and "raise RuntimeError" in logged


def test_unreachable_database_is_typed_and_hides_the_password(run) -> None:
    url = "postgresql://shop:hunter22@127.0.0.1:1/listing"
    result = run("catalog", "show", "X", env={"SYNCER_DATABASE_URL": url})
    assert result.exit_code == 1
    text = one_message(result.output)
    assert "cannot reach the database at postgresql://shop:***@127.0.0.1:1/listing" in text
    assert "hunter22" not in result.output


@pytest.mark.parametrize("url", ["foo://bar", "not a url at all", "postgresql://h:notaport/db"])
def test_malformed_database_url_is_typed(run, url: str) -> None:
    result = run("db", "upgrade", env={"SYNCER_DATABASE_URL": url})
    assert result.exit_code == 1
    text = one_message(result.output)
    assert "SYNCER_DATABASE_URL" in text or "cannot reach the database" in text


def test_bad_settings_are_setting_problem_lines(run) -> None:
    result = run("catalog", "show", "X", env={"SYNCER_HTTP_MAX_ATTEMPTS": "lots", "SYNCER_BASE_CURRENCY": "ZZZ"})
    assert result.exit_code == 1
    assert "Traceback" not in result.output and "validation error for" not in result.output
    assert "lots" not in result.output  # values are not repeated (a bad value may be a secret)
    lines = result.output.strip().splitlines()
    assert any(line.strip().startswith("SYNCER_HTTP_MAX_ATTEMPTS: Input should be a valid integer") for line in lines)
    assert any(line.strip().startswith("SYNCER_BASE_CURRENCY: unknown currency") for line in lines)


def test_out_into_a_missing_folder_is_refused_before_any_work(run) -> None:
    assert run("db", "upgrade").exit_code == 0
    result = run("catalog", "export", "--out", "/nonexistent/dir/x.csv")
    assert result.exit_code == 1
    assert "the folder /nonexistent/dir does not exist" in one_message(result.output)


def test_a_toml_error_names_its_line_and_column(run, tmp_path: Path) -> None:
    bad = tmp_path / "channels.toml"
    bad.write_text('[[channels]]\nname = "a"\nkind = \n', encoding="utf-8")
    result = run("channels", "list", env={"SYNCER_CHANNELS_FILE": str(bad)})
    assert result.exit_code == 1
    assert f"{bad}: line 3, column 8: not valid TOML: Invalid value" in one_message(result.output)


def test_redis_down_is_a_typed_message_from_the_real_command(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "SYNCER_DATA_DIR": str(tmp_path / "data"),
        "SYNCER_HUEY_BACKEND": "redis",
        "SYNCER_REDIS_URL": "redis://127.0.0.1:1/0",
        "COLUMNS": "200",
    }
    run = [sys.executable, "-m", "listing_sync.syncer"]
    subprocess.run([*run, "init"], env=env, check=True, capture_output=True)
    done = subprocess.run([*run, "sync"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert "cannot reach the Redis job queue (SYNCER_REDIS_URL)" in " ".join(done.stderr.split())


def test_the_worker_checks_the_queue_before_consuming(monkeypatch) -> None:
    from listing_sync.jobs import scheduler
    from listing_sync.syncer.services.scheduler import QueueUnavailable
    from redis.exceptions import ConnectionError as RedisConnectionError

    def down() -> None:
        raise RedisConnectionError("Error 111 connecting to 127.0.0.1:1. Connection refused.")

    with pytest.raises(QueueUnavailable, match="cannot reach the Redis job queue"), scheduler.queue_errors():
        down()


def test_the_worker_logs_one_line_and_keeps_the_traceback_in_its_log(tmp_path: Path, capsys) -> None:
    import logging

    from listing_sync.syncer.crashlog import configure_worker_logging

    root = logging.getLogger()
    before = list(root.handlers), root.level
    try:
        path = configure_worker_logging(tmp_path / "data")
        assert configure_worker_logging(tmp_path / "data") == path  # a second call replaces, not adds
        assert sum(getattr(h, "_syncer_worker", False) for h in root.handlers) == 2
        try:
            raise ValueError("a task blew up")
        except ValueError:
            logging.getLogger("huey").exception("Unhandled exception in task %s", "sync_channel")
        for handler in root.handlers:
            handler.flush()
    finally:
        for handler in [h for h in root.handlers if h not in before[0]]:
            root.removeHandler(handler)
            handler.close()
        root.setLevel(before[1])
    err = capsys.readouterr().err
    line = [x for x in err.splitlines() if "Unhandled exception" in x]
    assert len(line) == 1 and "Traceback" not in err
    assert f"(ValueError; the traceback is in {path})" in line[0]
    logged = path.read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in logged and "a task blew up" in logged


def test_a_system_error_is_one_message(run, monkeypatch) -> None:
    from listing_sync.syncer.services import catalog

    def busy(*args, **kwargs):
        raise OSError(98, "Address already in use")

    assert run("db", "upgrade").exit_code == 0
    monkeypatch.setattr(catalog, "show_sku", busy)
    result = run("catalog", "show", "X")
    assert result.exit_code == 1 and one_message(result.output) == "error: system error: Address already in use"
