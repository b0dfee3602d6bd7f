"""The CLI is a face: no database code, no reaching into another CLI module's private names, typed
``--format`` choices that Typer itself refuses."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import typer
from listing_sync.syncer.cli.app import app
from typer.testing import CliRunner

CLI = Path(__file__).resolve().parents[3] / "syncer" / "cli"
MODULES = sorted(CLI.glob("*.py"))
PACKAGE = "listing_sync.syncer.cli"


def test_the_package_is_where_it_is_looked_for() -> None:
    names = {m.stem for m in MODULES}
    assert {"__init__", "app", "catalog", "changes", "listings", "sync", "orders", "reports"} <= names


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.name)
def test_no_database_code_in_the_face(module: Path) -> None:
    text = module.read_text(encoding="utf-8")
    assert not re.search(r"session|sqlalchemy", text, re.IGNORECASE), f"{module.name} holds database code"
    imported = [
        name
        for node in ast.walk(ast.parse(text))
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


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.name)
def test_no_private_names_of_another_cli_module(module: Path) -> None:
    private = []
    for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(PACKAGE):
            private += [f"{node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            base = node.value
            if isinstance(base, ast.Name) and base.id in _cli_module_aliases(module):
                private.append(f"{base.id}.{node.attr}")
    assert private == [], f"{module.name} uses private names of other CLI modules: {private}"


def _cli_module_aliases(module: Path) -> set[str]:
    """Names a module binds to CLI modules (``from listing_sync.syncer.cli import changes``)."""
    out = set()
    for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module == PACKAGE:
            out |= {a.asname or a.name for a in node.names}
        if isinstance(node, ast.Import):
            out |= {a.asname or a.name for a in node.names if a.name.startswith(PACKAGE + ".")}
    return out


def test_the_structure_check_catches_what_it_is_for(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from listing_sync.syncer.cli.changeflow import _json_result\n"
        "from listing_sync.syncer.cli import changes\n"
        "changes._helper()\n",
        encoding="utf-8",
    )
    with pytest.raises(AssertionError, match=r"_json_result.*changes\._helper"):
        test_no_private_names_of_another_cli_module(bad)
    bad.write_text("def f(ctx):\n    with ctx().session() as s:\n        pass\n", encoding="utf-8")
    with pytest.raises(AssertionError, match="database code"):
        test_no_database_code_in_the_face(bad)


def _commands_with_format() -> list[list[str]]:
    found: list[list[str]] = []

    def walk(command: object, path: list[str]) -> None:
        if hasattr(command, "list_commands"):
            for name in command.list_commands(None):  # type: ignore[attr-defined]
                walk(command.get_command(None, name), [*path, name])  # type: ignore[attr-defined]
        elif any("--format" in getattr(p, "opts", ()) for p in command.params):  # type: ignore[attr-defined]
            found.append(path)

    walk(typer.main.get_command(app), [])
    return found


FORMAT_COMMANDS = _commands_with_format()


def test_every_format_option_is_a_choice() -> None:
    assert len(FORMAT_COMMANDS) >= 20 and ["report", "sales"] in FORMAT_COMMANDS and ["status"] in FORMAT_COMMANDS


@pytest.mark.parametrize("path", FORMAT_COMMANDS, ids=" ".join)
def test_format_bogus_is_refused_by_typer_with_the_allowed_values(path: list[str]) -> None:
    result = CliRunner().invoke(app, [*path, "--format", "bogus"])
    assert result.exit_code == 2, result.output  # a usage error: the command never ran
    text = re.sub(r"[│\s]+", " ", result.output)
    assert re.search(r"'bogus' is not one of ('\w+', )+'\w+'", text), text
