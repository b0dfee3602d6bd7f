"""The huey instance, built from settings. Nothing else lives here."""

from __future__ import annotations

from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey
from listing_sync.config.settings import Settings, get_settings


def build_huey(settings: Settings | None = None) -> Huey:
    """SqliteHuey in the data directory by default, RedisHuey for several machines, MemoryHuey for tests."""
    settings = settings or get_settings()
    immediate = settings.huey_immediate
    if settings.huey_backend == "redis":
        return RedisHuey(settings.queue_name, url=settings.redis_url.get_secret_value(), immediate=immediate)
    if settings.huey_backend == "memory":
        return MemoryHuey("listing-sync", immediate=immediate)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("listing-sync", filename=str(settings.huey_sqlite_path), immediate=immediate)


huey = build_huey()
