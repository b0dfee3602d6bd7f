"""Service settings: one tree, read once from ``SYNCER_*`` environment variables and ``.env``."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Literal

from listing_sync.config.currencies import require_currency
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "listing-sync"


class Settings(BaseSettings):
    """Everything the service can be configured with. Nothing else reads the environment."""

    model_config = SettingsConfigDict(env_prefix="SYNCER_", env_file=".env", env_file_encoding="utf-8", extra="ignore")

    data_dir: Path = Field(default_factory=_default_data_dir)
    database_url: str | None = None
    huey_backend: Literal["sqlite", "redis", "memory"] = "sqlite"
    redis_url: SecretStr = SecretStr("redis://127.0.0.1:6379/0")
    huey_immediate: bool = False
    #: the queue's name: huey's on Redis, and the prefix of the leases kept there (one per deployment)
    queue_name: str = "listing-sync"
    #: a channel lease's time to live; its holder renews it every third of that (the heartbeat)
    lease_seconds: float = Field(default=60.0, ge=3.0, le=3600.0)
    base_currency: str = "CNY"
    channels_file: Path | None = None
    http_trace: Path | None = None
    http_timeout_seconds: float = 30.0
    http_max_attempts: int = 5
    http_max_retry_seconds: float = 120.0
    sync_interval_minutes: int = 5
    sync_parallel_channels: int = Field(default=6, ge=1)  # `sync --inline`: channels pushed at once (1 = in turn)
    orders_interval_minutes: int = 2
    orders_initial_lookback_hours: int = 24
    #: what an order webhook sets off: "queue" = a job for the workers, "inline" = background threads of the
    #: process that received it (`syncer serve`), "auto" = queue when the queue is on Redis, else inline
    webhook_mode: Literal["auto", "queue", "inline"] = "auto"
    orders_pull_reuse_seconds: int = Field(default=60, ge=0)  # a pull this recent is not repeated before a push
    drift_check_hour_utc: int = 3
    price_guard_percent: float = 30.0
    report_folder: Path | None = None
    report_timezone: str = "Asia/Shanghai"  # the team's days: report periods, order days, schedules
    report_language: Literal["en", "zh-CN"] = "en"  # workbook headers and titles
    report_recipients: str = ""  # comma-separated e-mail addresses for the scheduled reports
    smtp_host: str | None = None  # no host: scheduled reports are only written to report_folder
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_sender: str = "listing-sync@localhost"
    smtp_starttls: bool = True
    emulator_faults: str = ""  # e.g. "throttle=0.05,server_error=0.05": faults of the in-process emulators
    emulator_seed: int = 7
    # where OAuth/LWA access tokens are shared: "auto" = Redis when the queue is on Redis, else a 0600 file
    # per credential in DATA_DIR/tokens; "memory" = this process only
    token_cache: Literal["auto", "file", "redis", "memory"] = "auto"
    # where each marketplace credential's rate budget is kept: "auto" = Redis when the queue is on Redis
    # (every worker process shares it), else "local" = one bucket per credential shared within this process
    rate_limits: Literal["auto", "redis", "local"] = "auto"
    #: while a channel pushes price or content work, its stock lane looks for quantity pushes (from orders
    #: and stock changes) this often and sends them first; 0 = off (quantities wait for the backlog)
    stock_lane_seconds: float = Field(default=0.5, ge=0.0, le=60.0)
    #: until this UTC time the HTTP trace keeps buyers' personal data (a debugging window); unset: masked
    trace_personal_data_until: datetime | None = None
    #: buyers' personal data kept in the database (packing, shipping) is purged this many days after the order
    personal_data_retention_days: int = Field(default=90, ge=1, le=3650)
    #: the web console's session cookies are signed with this; unset: a random key kept (0600) in the data dir
    web_secret_key: SecretStr | None = None
    #: mark the session cookie Secure (send it over HTTPS only): set it when the console is served over HTTPS
    web_secure_cookies: bool = False
    web_session_hours: float = Field(default=12.0, gt=0, le=24 * 30)  # a console login lasts this long
    #: failed logins of one user from one address within the window before further attempts are refused (429)
    web_login_attempts: int = Field(default=5, ge=1, le=1000)
    web_login_window_minutes: int = Field(default=15, ge=1, le=24 * 60)

    @field_validator("trace_personal_data_until")
    @classmethod
    def _aware_utc(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    @field_validator("base_currency")
    @classmethod
    def _upper_currency(cls, value: str) -> str:
        return require_currency(value.upper())

    @field_validator("report_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}: use an IANA name such as Asia/Shanghai or UTC") from None
        return value

    @field_validator("data_dir", mode="after")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'syncer.db'}"

    @property
    def resolved_channels_file(self) -> Path:
        return self.channels_file or self.data_dir / "channels.toml"

    @property
    def huey_sqlite_path(self) -> Path:
        return self.data_dir / "huey.db"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings. Tests change the environment, then call ``get_settings.cache_clear()``."""
    return Settings()
