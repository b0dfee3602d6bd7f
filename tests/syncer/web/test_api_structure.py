"""The web face is a face: no database code in it (the services hold that), and no route without a role."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest
from fastapi.routing import APIRoute

WEB = Path(__file__).resolve().parents[3] / "syncer" / "web"
MODULES = sorted(WEB.rglob("*.py"))


def test_the_package_is_where_it_is_looked_for() -> None:
    assert {"app.py", "deps.py", "auth.py", "changes.py", "catalog.py"} <= {m.name for m in MODULES}


@pytest.mark.parametrize("module", MODULES, ids=lambda m: str(m.relative_to(WEB)))
def test_no_database_code_in_the_web_face(module: Path) -> None:
    imported = [
        name
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8")))
        for name in (
            [node.module or ""]
            if isinstance(node, ast.ImportFrom)
            else [a.name for a in node.names]
            if isinstance(node, ast.Import)
            else []
        )
    ]
    orm = [n for n in imported if n.endswith((".models", ".db")) or n.startswith("sqlalchemy")]
    assert orm == [], f"{module.name} imports {orm}"


def test_every_api_route_needs_a_user() -> None:
    from listing_sync.syncer.web import api as package
    from listing_sync.syncer.web.deps import current_user

    def needs_user(dependant) -> bool:
        return dependant.call is current_user or any(needs_user(d) for d in dependant.dependencies)

    modules = [importlib.import_module(f"{package.__name__}.{m.name}") for m in pkgutil.iter_modules(package.__path__)]
    api = [r for m in modules if hasattr(m, "router") for r in m.router.routes if isinstance(r, APIRoute)]
    assert len(api) >= 40
    assert [r.path for r in api if not needs_user(r.dependant)] == []
