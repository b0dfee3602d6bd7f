"""The GraphQL side of the Shopify emulator: the schema of each API version, documents validated and variables
coerced against it (errors in the shapes Shopify's graphql-ruby server gives), and the calculated query cost.

The schema is ``admin_2026-07.graphql`` beside this file: a subset of Shopify's own introspection of the
Admin API 2026-07 (derived by ``tests/adapters/shopify/schema_subset.py``). Older versions differ where the
adapter cares, as the changelog says: 2026-01 still has ``compareQuantity``/``ignoreCompareQuantity``
(removed in 2026-04) beside the new ``changeFromQuantity`` and ``@idempotent``; before 2026-01 only the
compare fields exist. Those versions are built from the same SDL with exactly these edits.

Cost (shopify.dev "GraphQL Admin API rate limits"): scalars and enums 0, objects 1, a connection 2 plus
``first``/``last`` times the cost of one node, a mutation 10 plus its payload's selections; the requested
cost is computed from the document before it runs, the actual one from what it returned.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from graphql import (
    DirectiveDefinitionNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    InputObjectTypeDefinitionNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    build_ast_schema,
    get_named_type,
    get_operation_ast,
    is_input_type,
    is_leaf_type,
    parse,
    specified_rules,
    type_from_ast,
    validate,
    value_from_ast_untyped,
)
from graphql.utilities import validate_input_value

SDL = Path(__file__).with_name("admin_2026-07.graphql")
#: the compare-and-set fields of inventorySetQuantities that 2026-04 removed
LEGACY_INPUTS = """
extend input InventoryQuantityInput {
  "The current quantity to be compared against the persisted quantity (removed in 2026-04)."
  compareQuantity: Int
}
extend input InventorySetQuantitiesInput {
  "Skip the compare quantity check in the quantities field (removed in 2026-04)."
  ignoreCompareQuantity: Boolean
}
"""
MUTATION_COST = 10


def at_least(version: str, floor: str) -> bool:
    return version == "unstable" or version >= floor


def era(version: str) -> str:
    """Which schema a version gets: ``2026-04`` (and later), ``2026-01``, or ``2025-10`` (and earlier)."""
    if at_least(version, "2026-04"):
        return "2026-04"
    return "2026-01" if at_least(version, "2026-01") else "2025-10"


@lru_cache(maxsize=3)
def schema_for(name: str) -> GraphQLSchema:
    """The schema of one era (see :func:`era`), built once per process."""
    text = SDL.read_text(encoding="utf-8")
    if name == "2026-04":
        return build_ast_schema(parse(text))
    document = parse(text + LEGACY_INPUTS)
    if name == "2025-10":
        document = _without_2026_01(document)
    return build_ast_schema(document)


def _without_2026_01(document: DocumentNode) -> DocumentNode:
    """The document less what 2026-01 added: ``changeFromQuantity`` and the ``@idempotent`` directive."""
    kept = []
    for node in document.definitions:
        if isinstance(node, DirectiveDefinitionNode) and node.name.value == "idempotent":
            continue
        if isinstance(node, InputObjectTypeDefinitionNode) and node.name.value == "InventoryQuantityInput":
            fields = tuple(f for f in node.fields or () if f.name.value != "changeFromQuantity")
            node = InputObjectTypeDefinitionNode(
                name=node.name, description=node.description, directives=node.directives, fields=fields
            )
        kept.append(node)
    return DocumentNode(definitions=tuple(kept))


# ------------------------------------------------------------------------------------------ errors
@dataclass
class Refusal(Exception):
    """A request refused before it runs: ``errors`` in Shopify's shape, no ``data``."""

    errors: list[dict[str, Any]]


#: graphql-core's validation rule -> (graphql-ruby's code, a function giving its message)
_RUBY_CODES: dict[str, tuple[str, Callable[[re.Match[str]], str]]] = {
    "FieldsOnCorrectTypeRule": ("undefinedField", lambda m: f"Field '{m[1]}' doesn't exist on type '{m[2]}'"),
    "KnownArgumentNamesRule": ("argumentNotAccepted", lambda m: f"Field '{m[2]}' doesn't accept argument '{m[1]}'"),
    "ProvidedRequiredArgumentsRule": (
        "missingRequiredArguments",
        lambda m: f"Field '{m[1]}' is missing required arguments: {m[2]}",
    ),
    "KnownDirectivesRule": ("undefinedDirective", lambda m: f"Directive @{m[1]} is not defined"),
    "NoUndefinedVariablesRule": ("variableNotDefined", lambda m: f"Variable ${m[1]} is used but not declared"),
    "NoUnusedVariablesRule": ("variableNotUsed", lambda m: f"Variable ${m[1]} is declared but not used"),
    "KnownTypeNamesRule": ("undefinedType", lambda m: f"{m[1]} isn't a defined type"),
}
_CORE_MESSAGES = {
    "FieldsOnCorrectTypeRule": r"Cannot query field '(\w+)' on type '(\w+)'",
    "KnownArgumentNamesRule": r"Unknown argument '(\w+)' on field '[\w.]*?(\w+)'",
    "ProvidedRequiredArgumentsRule": r"Argument '\w+\.(\w+)\((\w+):\)'",
    "KnownDirectivesRule": r"Unknown directive '@(\w+)'",
    "NoUndefinedVariablesRule": r"Variable '\$(\w+)'",
    "NoUnusedVariablesRule": r"Variable '\$(\w+)'",
    "KnownTypeNamesRule": r"Unknown type '(\w+)'",
}


def _error(message: str, code: str, error: GraphQLError | None = None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"message": message}
    if error is not None and error.locations:
        out["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    out["extensions"] = {"code": code, **extra}
    return out


def _ruby(rule: Any, error: GraphQLError) -> dict[str, Any]:
    """A validation error as graphql-ruby words it, where we know its wording; else graphql-core's."""
    name = rule.__name__
    known = _RUBY_CODES.get(name)
    match = re.search(_CORE_MESSAGES.get(name, r"$^"), error.message)
    if known is None or match is None:
        return _error(error.message, "validationError", error)
    code, words = known
    return _error(words(match), code, error)


@lru_cache(maxsize=256)
def prepared(era_name: str, query: str) -> DocumentNode:
    """The parsed and validated document, or :class:`Refusal` with every problem (cached: adapters send
    the same documents again and again)."""
    schema = schema_for(era_name)
    try:
        document = parse(query)
    except GraphQLError as exc:
        raise Refusal([_error(f"Parse error: {exc.message}", "PARSE_ERROR", exc)]) from None
    if not validate(schema, document):
        return document
    problems = [_ruby(rule, e) for rule in specified_rules for e in validate(schema, document, [rule])]
    raise Refusal(problems)


def operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode:
    op = get_operation_ast(document, name)
    if op is None:
        message = f'No operation named "{name}"' if name else "An operation name is required"
        raise Refusal([_error(message, "operationNotFound")])
    return op


def check_variables(schema: GraphQLSchema, op: OperationDefinitionNode, variables: Mapping[str, Any]) -> None:
    """Coerce each declared variable; a value its type refuses is graphql-ruby's INVALID_VARIABLE:
    ``Variable $input of type T! was provided invalid value for a.0.b`` with ``value`` and ``problems``."""
    errors = []
    for definition in op.variable_definitions or ():
        name = definition.variable.name.value
        var_type = type_from_ast(schema, definition.type)
        if not is_input_type(var_type):
            continue  # validation already refused an unknown or output type
        value = variables.get(name)
        if name not in variables and definition.default_value is not None:
            continue
        problems: list[dict[str, Any]] = []

        def note(error: GraphQLError, path: Any, into: list[dict[str, Any]] = problems) -> None:
            into.append(_problem(list(path), error.message))

        validate_input_value(value, var_type, note, hide_suggestions=True)
        if problems:
            where = sorted({".".join(str(p) for p in pr["path"]) for pr in problems if pr["path"]})
            message = f"Variable ${name} of type {var_type} was provided invalid value"
            message += f" for {', '.join(where)}" if where else ""
            errors.append(_error(message, "INVALID_VARIABLE", value=value, problems=problems))
    if errors:
        raise Refusal(errors)


def _problem(path: list[Any], core: str) -> dict[str, Any]:
    """One coercion problem as graphql-ruby reports it: the path to the offending field and its words
    (graphql-core's own words where we do not know graphql-ruby's)."""
    if match := re.match(r"Expected value of type '(\w+)' not to include unknown field '(\w+)'", core):
        return {"path": [*path, match[2]], "explanation": f"Field is not defined on {match[1]}"}
    if match := re.match(r"Expected value of type '(\w+)' to include required field '(\w+)'", core):
        return {"path": [*path, match[2]], "explanation": "Expected value to not be null"}
    if re.match(r"Expected value of non-null type '[^']+' not to be (None|null)", core):
        return {"path": path, "explanation": "Expected value to not be null"}
    return {"path": path, "explanation": core}


# -------------------------------------------------------------------------------------------- cost
@dataclass
class Coster:
    """Requested cost of an operation, computed from the document (see the module docstring)."""

    schema: GraphQLSchema
    document: DocumentNode
    variables: Mapping[str, Any]
    fragments: dict[str, FragmentDefinitionNode] = field(init=False)

    def __post_init__(self) -> None:
        self.fragments = {d.name.value: d for d in self.document.definitions if isinstance(d, FragmentDefinitionNode)}

    def operation(self, op: OperationDefinitionNode) -> int:
        mutation = op.operation == OperationType.MUTATION
        root = self.schema.mutation_type if mutation else self.schema.query_type
        assert root is not None
        total = 0
        for node, parent in self._fields(op.selection_set, root):
            cost = self._field(node, parent)
            total += MUTATION_COST + cost - 1 if mutation else cost
        return max(1, total)

    def _fields(self, selections: SelectionSetNode | None, parent: GraphQLNamedType) -> Iterable[tuple[FieldNode, Any]]:
        for selection in selections.selections if selections else ():
            if isinstance(selection, FieldNode):
                yield selection, parent
            elif isinstance(selection, InlineFragmentNode):
                on = self.schema.get_type(selection.type_condition.name.value) if selection.type_condition else parent
                yield from self._fields(selection.selection_set, on or parent)
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value in self.fragments:
                fragment = self.fragments[selection.name.value]
                on = self.schema.get_type(fragment.type_condition.name.value) or parent
                yield from self._fields(fragment.selection_set, on)

    def _selection(self, selections: SelectionSetNode | None, parent: Any) -> int:
        return sum(self._field(node, owner) for node, owner in self._fields(selections, parent))

    def _field(self, node: FieldNode, parent: Any) -> int:
        fields = getattr(parent, "fields", {})
        definition = fields.get(node.name.value)
        if definition is None:
            return 0  # __typename and the like
        named = get_named_type(definition.type)
        if is_leaf_type(named) or node.name.value == "pageInfo":
            return 0
        if named.name.endswith("Connection") and isinstance(named, GraphQLObjectType):
            return 2 + self._size(node) * self._node(node, named)
        return 1 + self._selection(node.selection_set, named)

    def _node(self, connection: FieldNode, named: GraphQLObjectType) -> int:
        """Cost of one node of a connection: ``nodes { ... }`` or ``edges { node { ... } }``."""
        node_type = get_named_type(named.fields["nodes"].type) if "nodes" in named.fields else None
        worst = 0
        for child, _ in self._fields(connection.selection_set, named):
            if child.name.value == "nodes":
                worst = max(worst, 1 + self._selection(child.selection_set, node_type))
            elif child.name.value == "edges":
                edge_type = get_named_type(named.fields["edges"].type)
                for inner, _ in self._fields(child.selection_set, edge_type):
                    if inner.name.value == "node":
                        worst = max(worst, 1 + self._selection(inner.selection_set, node_type))
        return worst

    def _size(self, node: FieldNode) -> int:
        for argument in node.arguments or ():
            if argument.name.value in ("first", "last"):
                value = value_from_ast_untyped(argument.value, dict(self.variables))
                return value if isinstance(value, int) else 0
        return 0


def response_cost(value: Any) -> int:
    """Actual cost of what came back: objects 1, lists (connections) 2 plus their elements."""
    if isinstance(value, dict):
        return 1 + sum(response_cost(v) for v in value.values())
    if isinstance(value, list):
        return 2 + sum(response_cost(v) for v in value)
    return 0
