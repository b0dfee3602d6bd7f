"""Hypothesis strategies from the marketplaces' own OpenAPI / JSON schemas (hypothesis-jsonschema does not
run with the hypothesis we use): every value drawn is valid against the schema, every optional field may
be there or not, strings are any text (or the documented enum, pattern or format), numbers any in range.

Also :func:`reshaped`: documented example answers with fields dropped or replaced by any JSON value, for
the marketplaces that publish shapes but no machine-readable schema (Shopify, WooCommerce, TOP, IOP)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

SPECS = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "specs"
MAX_DEPTH = 8

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


def load(relative: str) -> dict[str, Any]:
    """An official model under shared/reference/specs (e.g. ``amazon/orders_2026-01-01.json``)."""
    return json.loads((SPECS / relative).read_text(encoding="utf-8"))


def from_spec(spec: dict[str, Any], name: str) -> st.SearchStrategy[Any]:
    """Values of the named schema of a Swagger 2 (``definitions``) or OpenAPI 3 (``components``) model."""
    return _Builder(spec).build({"$ref": _ref_prefix(spec) + name}, 0)


def _ref_prefix(spec: dict[str, Any]) -> str:
    return "#/definitions/" if "definitions" in spec else "#/components/schemas/"


class _Builder:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec

    def resolve(self, ref: str) -> dict[str, Any]:
        node: Any = self.spec
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]
        return node

    def build(self, schema: dict[str, Any], depth: int) -> st.SearchStrategy[Any]:
        if "$ref" in schema:
            return self.build(self.resolve(schema["$ref"]), depth + 1)
        strategy = self._typed(schema, depth)
        if schema.get("nullable") or schema.get("x-nullable"):
            strategy = st.none() | strategy
        return strategy

    def _typed(self, schema: dict[str, Any], depth: int) -> st.SearchStrategy[Any]:
        if "enum" in schema:
            return st.sampled_from(schema["enum"])
        for key in ("oneOf", "anyOf"):
            if key in schema:
                return st.one_of([self.build(s, depth + 1) for s in schema[key]])
        if "allOf" in schema:
            merged: dict[str, Any] = {"type": "object", "properties": {}, "required": []}
            for part in schema["allOf"]:
                part = self.resolve(part["$ref"]) if "$ref" in part else part
                merged["properties"].update(part.get("properties") or {})
                merged["required"] += part.get("required") or []
            return self._object(merged, depth)
        kind = schema.get("type") or ("object" if "properties" in schema else None)
        if kind == "object":
            return self._object(schema, depth)
        if kind == "array":
            if depth > MAX_DEPTH:
                return st.just([])
            return st.lists(self.build(schema.get("items") or {}, depth + 1), max_size=3)
        if kind == "string":
            return self._string(schema)
        if kind == "integer":
            return st.integers(schema.get("minimum"), schema.get("maximum"))
        if kind == "number":
            return st.decimals(
                schema.get("minimum"), schema.get("maximum"), allow_nan=False, allow_infinity=False, places=4
            ).map(float)
        if kind == "boolean":
            return st.booleans()
        return JSON  # a schema that says nothing: anything

    def _object(self, schema: dict[str, Any], depth: int) -> st.SearchStrategy[Any]:
        properties = schema.get("properties") or {}
        required = set(schema.get("required") or ())
        if depth > MAX_DEPTH:
            properties = {k: v for k, v in properties.items() if k in required}
        fields = {name: self.build(sub, depth + 1) for name, sub in properties.items()}
        strategy = st.fixed_dictionaries(
            {k: v for k, v in fields.items() if k in required},
            optional={k: v for k, v in fields.items() if k not in required},
        )
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict) and not properties:
            return st.dictionaries(st.text(max_size=8), self.build(extra, depth + 1), max_size=2)
        return strategy

    @staticmethod
    def _string(schema: dict[str, Any]) -> st.SearchStrategy[str]:
        fmt = schema.get("format")
        if fmt == "date-time":
            return st.datetimes(timezones=st.just(UTC), min_value=datetime(2000, 1, 1)).map(
                lambda t: t.isoformat().replace("+00:00", "Z")
            )
        if fmt == "date":
            return st.dates().map(lambda d: d.isoformat())
        if "pattern" in schema:
            return st.from_regex(schema["pattern"], fullmatch=True)
        return st.text(min_size=schema.get("minLength", 0), max_size=min(schema.get("maxLength", 24), 24))


@st.composite
def reshaped(draw: st.DrawFn, example: Any, depth: int = 0) -> Any:
    """``example`` with any of its fields (at any depth) dropped, or replaced by any JSON value."""
    if depth > MAX_DEPTH:
        return example
    if isinstance(example, dict):
        out = {}
        for key, value in example.items():
            choice = draw(st.sampled_from(("keep", "keep", "keep", "recurse", "drop", "replace")))
            if choice == "drop":
                continue
            out[key] = draw(JSON) if choice == "replace" else draw(reshaped(value, depth + 1))
        return out
    if isinstance(example, list):
        items = [draw(reshaped(item, depth + 1)) for item in example]
        return draw(st.sampled_from((items, items, [], items * 2)))
    return draw(JSON) if draw(st.integers(0, 3)) == 0 else example
