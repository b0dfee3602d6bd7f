"""The wheel holds every folder of the repository under the one import name ``listing_sync``."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ("adapters", "config", "examples", "jobs", "migrations", "syncer")


def _declared() -> set[str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    return set(data["tool"]["setuptools"]["packages"])


def _on_disk() -> set[str]:
    found = set()
    for top in SHIPPED:
        for folder in [ROOT / top, *sorted((ROOT / top).rglob("*"))]:
            if folder.is_dir() and folder.name != "__pycache__" and any(folder.glob("*.*")):
                found.add("listing_sync." + ".".join(folder.relative_to(ROOT).parts))
    return found


def test_every_shipped_folder_is_a_declared_package() -> None:
    assert _declared() == _on_disk()


def test_the_console_script_points_into_the_namespace() -> None:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    assert data["project"]["scripts"]["syncer"] == "listing_sync.syncer.cli:main"
