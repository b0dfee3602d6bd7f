"""``syncer users`` and ``syncer tokens``: accounts and API tokens of the web face, from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from listing_sync.config.settings import get_settings
from listing_sync.syncer.cli.app import app
from typer.testing import CliRunner


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SYNCER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SYNCER_CHANNELS_FILE", str(tmp_path / "none.toml"))
    get_settings.cache_clear()
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(app, list(args), input=input, catch_exceptions=False)

    assert invoke("db", "upgrade").exit_code == 0
    yield invoke
    get_settings.cache_clear()


def test_users_add_list_disable(run) -> None:
    added = run("users", "add", "ann", "--role", "operator", "--password-stdin", input="s3cret-enough\n")
    assert added.exit_code == 0 and "user ann added with role operator" in added.output
    prompted = run("users", "add", "bo", "--role", "admin", input="another-pass\nanother-pass\n")
    assert prompted.exit_code == 0, prompted.output
    assert run("users", "add", "ann", "--password-stdin", input="s3cret-enough\n").output.count("exists already") == 1
    bad = run("users", "add", "cy", "--role", "boss", "--password-stdin", input="s3cret-enough\n")
    assert bad.exit_code == 1 and "unknown role 'boss': use viewer, operator or admin" in bad.output
    short = run("users", "add", "cy", "--password-stdin", input="short\n")
    assert short.exit_code == 1 and "at least 8 characters" in short.output
    assert run("users", "disable", "ann").exit_code == 0
    listed = json.loads(run("users", "list", "--format", "json").output)
    assert [(u["name"], u["role"], u["disabled"]) for u in listed] == [
        ("ann", "operator", True),
        ("bo", "admin", False),
    ]
    assert "disabled" not in run("users", "enable", "ann").output
    assert run("users", "disable", "nobody").exit_code == 1


def test_tokens_create_list_revoke(run) -> None:
    run("users", "add", "robot", "--role", "viewer", "--password-stdin", input="s3cret-enough\n")
    created = run("tokens", "create", "--user", "robot", "--name", "nightly export")
    assert created.exit_code == 0
    secret = created.stdout.strip().splitlines()[-1]
    assert secret.startswith("lsk_") and "shown only this once" in created.output
    listed = run("tokens", "list", "--format", "json").output
    assert secret not in listed
    (row,) = json.loads(listed)
    assert (row["user"], row["name"], row["revoked"]) == ("robot", "nightly export", False)
    assert secret.split("_")[1] == row["prefix"]
    assert "revoked" in run("tokens", "revoke", row["prefix"]).output
    assert json.loads(run("tokens", "list", "--format", "json").output)[0]["revoked"] is True
    assert run("tokens", "revoke", "ffffffff").exit_code == 1
    assert run("tokens", "create", "--user", "nobody").exit_code == 1


def test_serve_runs_the_app_under_uvicorn_behind_a_proxy(run, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    seen: dict = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: seen.update(app=app, **options))
    done = run("serve", "--port", "8123", "--forwarded-allow-ips", "10.0.0.5")
    assert done.exit_code == 0, done.output
    assert "no users yet: add one with `syncer users add NAME --role admin`" in done.output
    assert (seen["host"], seen["port"], seen["proxy_headers"], seen["forwarded_allow_ips"]) == (
        "127.0.0.1",
        8123,
        True,
        "10.0.0.5",
    )
    assert seen["app"].openapi_url == "/api/openapi.json"
