"""A tiny reader of GraphQL documents for the emulator: the operation and its root fields.

It reads ``query|mutation Name($v: T!, ...) @directive { alias: field(arg: value) @dir(k: $v) { ... } }``
and returns each root field with its alias, resolved arguments, directives and raw sub-selection text.
Enough to route a request and read its arguments; not a validating GraphQL parser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_TOKEN = re.compile(
    r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<num>-?\d+(?:\.\d+)?)|(?P<name>[_A-Za-z][_0-9A-Za-z]*)'
    r"|(?P<var>\$[_A-Za-z][_0-9A-Za-z]*)|(?P<punct>[{}()\[\]:!@=,]))"
)


class GraphQLSyntaxError(ValueError):
    pass


@dataclass
class RootField:
    name: str
    alias: str
    args: dict[str, Any]
    directives: dict[str, dict[str, Any]] = field(default_factory=dict)
    selection: str = ""
    variables: dict[str, Any] = field(default_factory=dict)

    def wants(self, name: str) -> bool:
        return re.search(rf"\b{re.escape(name)}\b", self.selection) is not None

    def nested_arg(self, path: str, arg: str) -> Any:
        """An argument of a nested field, e.g. ``nested_arg('lineItems', 'first')`` (variables resolved)."""
        match = re.search(rf"\b{re.escape(path)}\s*\(([^)]*)\)", self.selection)
        if not match:
            return None
        found = re.search(rf"\b{re.escape(arg)}\s*:\s*(\$?[\w]+)", match.group(1))
        if not found:
            return None
        token = found.group(1)
        if token.startswith("$"):
            return self.variables.get(token[1:])
        return int(token) if token.isdigit() else token


@dataclass
class Operation:
    kind: str  # "query" | "mutation"
    name: str | None
    fields: list[RootField]
    variable_names: list[str]


class _Reader:
    def __init__(self, text: str, variables: dict[str, Any]) -> None:
        self.text = text
        self.pos = 0
        self.variables = variables

    def peek(self) -> tuple[str, str] | None:
        match = _TOKEN.match(self.text, self.pos)
        if not match or match.end() == self.pos and not match.lastgroup:
            return None
        kind = match.lastgroup or ""
        return kind, match.group(kind)

    def next_token(self) -> str | None:
        """The text of the next token without taking it (None at the end)."""
        token = self.peek()
        return token[1] if token is not None else None

    def take(self) -> tuple[str, str]:
        match = _TOKEN.match(self.text, self.pos)
        if not match or not match.lastgroup:
            rest = self.text[self.pos :].strip()
            if not rest:
                raise GraphQLSyntaxError("unexpected end of document")
            raise GraphQLSyntaxError(f"unexpected character at {rest[:20]!r}")
        self.pos = match.end()
        return match.lastgroup, match.group(match.lastgroup)

    def expect(self, value: str) -> None:
        kind, got = self.take()
        if got != value:
            raise GraphQLSyntaxError(f"expected {value!r}, got {got!r}")

    def value(self) -> Any:
        kind, tok = self.take()
        if kind == "var":
            return self.variables.get(tok[1:])
        if kind == "str":
            return bytes(tok[1:-1], "utf-8").decode("unicode_escape")
        if kind == "num":
            return float(tok) if "." in tok else int(tok)
        if kind == "name":
            return {"true": True, "false": False, "null": None}.get(tok, tok)
        if tok == "[":
            items = []
            while self.next_token() not in (None, "]"):
                items.append(self.value())
                if self.next_token() == ",":
                    self.take()
            self.expect("]")
            return items
        if tok == "{":
            obj = {}
            while self.next_token() not in (None, "}"):
                _, key = self.take()
                self.expect(":")
                obj[key] = self.value()
                if self.next_token() == ",":
                    self.take()
            self.expect("}")
            return obj
        raise GraphQLSyntaxError(f"unexpected {tok!r}")

    def arguments(self) -> dict[str, Any]:
        args: dict[str, Any] = {}
        self.expect("(")
        while True:
            _, tok = self.take()
            if tok == ")":
                return args
            if tok == ",":
                continue
            self.expect(":")
            args[tok] = self.value()

    def directives(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        while self.next_token() == "@":
            self.take()
            _, name = self.take()
            out[name] = self.arguments() if self.next_token() == "(" else {}
        return out

    def skip_block(self) -> str:
        """Skip a balanced ``{ ... }`` and return its inner text."""
        start = self.text.index("{", self.pos)
        depth = 0
        for i in range(start, len(self.text)):
            ch = self.text[i]
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth == 0:
                    self.pos = i + 1
                    return self.text[start + 1 : i]
        raise GraphQLSyntaxError("unbalanced braces")


def parse(document: str, variables: dict[str, Any] | None = None) -> Operation:
    reader = _Reader(document, dict(variables or {}))
    kind, tok = reader.take()
    op_kind = "query"
    name = None
    declared: list[str] = []
    if tok in ("query", "mutation"):
        op_kind = tok
        nxt = reader.peek()
        if nxt and nxt[0] == "name":
            name = reader.take()[1]
        if reader.next_token() == "(":
            reader.take()
            depth = 1
            while depth:
                k, t = reader.take()
                if t == "(":
                    depth += 1
                elif t == ")":
                    depth -= 1
                elif k == "var":
                    declared.append(t[1:])
        reader.directives()
        reader.expect("{")
    elif tok != "{":
        raise GraphQLSyntaxError(f"a document starts with query, mutation or '{{', not {tok!r}")
    fields: list[RootField] = []
    while True:
        kind, tok = reader.take()
        if tok == "}":
            break
        if kind != "name":
            raise GraphQLSyntaxError(f"expected a field name, got {tok!r}")
        alias = field_name = tok
        if reader.next_token() == ":":
            reader.take()
            field_name = reader.take()[1]
        args = reader.arguments() if reader.next_token() == "(" else {}
        directives = reader.directives()
        selection = reader.skip_block() if reader.next_token() == "{" else ""
        fields.append(RootField(field_name, alias, args, directives, selection, reader.variables))
    if reader.text[reader.pos :].strip():
        raise GraphQLSyntaxError("text after the operation")
    return Operation(op_kind, name, fields, declared)
