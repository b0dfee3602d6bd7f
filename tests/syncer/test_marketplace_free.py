"""Nothing in syncer/ names a marketplace: what differs per marketplace is declared by its adapter (content
rules, limits, call counting) and read through the registry. Docstrings, comments and CLI help may name
marketplaces as examples; code (identifiers, string values) may not."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from listing_sync.adapters import registry

SYNCER = Path(__file__).resolve().parents[2] / "syncer"
MARKETPLACES = re.compile("|".join([*registry.KINDS, "tmall"]), re.IGNORECASE)


def _prose(tree: ast.AST) -> set[int]:
    """ids of the string nodes that are documentation: docstrings and ``help=`` texts."""
    prose: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                prose.add(id(first.value))
        if isinstance(node, ast.keyword) and node.arg == "help":
            prose.update(id(sub) for sub in ast.walk(node.value))
    return prose


def marketplace_names_in_code(source: str) -> list[tuple[int, str]]:
    tree = ast.parse(source)
    prose = _prose(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in prose:
            text = node.value
        elif isinstance(node, ast.Name):
            text = node.id
        elif isinstance(node, ast.Attribute):
            text = node.attr
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.alias):
            text = node.name
        else:
            continue
        if MARKETPLACES.search(text):
            found.append((getattr(node, "lineno", 0), text))
    return found


@pytest.mark.parametrize("path", sorted(SYNCER.rglob("*.py")), ids=lambda p: str(p.relative_to(SYNCER)))
def test_syncer_code_names_no_marketplace(path: Path) -> None:
    assert marketplace_names_in_code(path.read_text(encoding="utf-8")) == []


def test_the_scan_finds_a_per_marketplace_table_or_branch() -> None:
    table = 'RULES = {"ebay": 24}\n'
    branch = 'def f(channel):\n    """Amazon wants it (prose may say so)."""\n    return channel.kind == "amazon"\n'
    assert marketplace_names_in_code(table) == [(1, "ebay")]
    assert marketplace_names_in_code(branch) == [(3, "amazon")]
    assert marketplace_names_in_code('x = typer.Option(help="e.g. ebay-us")\n') == []
