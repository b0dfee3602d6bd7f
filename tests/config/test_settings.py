"""Settings: env prefix, .env support, defaults under the data directory."""

from __future__ import annotations

from pathlib import Path

import pytest
from listing_sync.config.settings import Settings, get_settings
from pydantic import ValidationError


def test_defaults_live_under_the_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNCER_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("SYNCER_HUEY_BACKEND", raising=False)
    settings = Settings(_env_file=None)
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'syncer.db'}"
    assert settings.resolved_channels_file == tmp_path / "channels.toml"
    assert settings.huey_sqlite_path.parent == tmp_path
    assert settings.base_currency == "CNY" and settings.huey_backend == "sqlite"


def test_env_prefix_and_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = tmp_path / ".env"
    env.write_text("SYNCER_BASE_CURRENCY=usd\nSYNCER_HUEY_BACKEND=redis\n", encoding="utf-8")
    monkeypatch.setenv("SYNCER_DATABASE_URL", "postgresql://db/x")
    monkeypatch.delenv("SYNCER_HUEY_BACKEND", raising=False)  # the environment wins over .env
    settings = Settings(_env_file=env)
    assert settings.base_currency == "USD"
    assert settings.huey_backend == "redis"
    assert settings.resolved_database_url == "postgresql://db/x"


def test_bad_values_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNCER_BASE_CURRENCY", "XYZ")
    with pytest.raises(ValidationError, match="XYZ"):
        Settings(_env_file=None)
    monkeypatch.setenv("SYNCER_BASE_CURRENCY", "CNY")
    monkeypatch.setenv("SYNCER_HUEY_BACKEND", "kafka")
    with pytest.raises(ValidationError):
        Settings(_env_file=None)


def test_redis_url_is_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNCER_REDIS_URL", "redis://:hunter2pass@host:6379/0")
    settings = Settings(_env_file=None)
    assert "hunter2pass" not in repr(settings) and "hunter2pass" not in str(settings.model_dump())


def test_get_settings_is_cached_until_cleared(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNCER_DATA_DIR", str(tmp_path / "a"))
    get_settings.cache_clear()
    first = get_settings()
    monkeypatch.setenv("SYNCER_DATA_DIR", str(tmp_path / "b"))
    assert get_settings() is first
    get_settings.cache_clear()
    assert get_settings().data_dir == tmp_path / "b"
    get_settings.cache_clear()
