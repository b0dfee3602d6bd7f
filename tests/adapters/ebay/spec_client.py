"""A plain eBay client written from the official OpenAPI (OAS3) files alone, and response checks from them.

It knows nothing of the adapter: an operation is found by its ``operationId``, its URL comes from the file's
``servers`` and ``paths``, required headers and query parameters are checked, the JSON body is validated
against the request schema (what a generated client's models would refuse), and every answer is checked
against the operation's declared responses (:func:`check_response`).
"""

from __future__ import annotations

import base64
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import jsonschema

SPECS = Path(__file__).resolve().parents[3].parent / "shared" / "reference" / "specs" / "ebay"
FILES = ("sell_inventory_v1_oas3.json", "sell_fulfillment_v1_oas3.json")
#: what the client sends for required headers the caller did not give
HEADER_DEFAULTS = {"Content-Language": "en-US", "Content-Type": "application/json"}


@cache
def spec(name: str) -> dict[str, Any]:
    return json.loads((SPECS / name).read_text(encoding="utf-8"))


def base_path(doc: dict[str, Any]) -> str:
    return doc["servers"][0]["variables"]["basePath"]["default"]


@cache
def operations() -> dict[str, tuple[str, str, str]]:
    """operationId -> (spec file, METHOD, path template)."""
    out = {}
    for name in FILES:
        for template, item in spec(name)["paths"].items():
            for method, op in item.items():
                if isinstance(op, dict) and "operationId" in op:
                    out[op["operationId"]] = (name, method.upper(), template)
    return out


def operation_of(request: httpx.Request) -> tuple[dict, dict] | None:
    """(spec, operation) for a request to the Sell APIs; None for anything else (OAuth)."""
    for name in FILES:
        doc = spec(name)
        root = base_path(doc)
        if not request.url.path.startswith(root):
            continue
        rest = request.url.path[len(root) :]
        for template, item in doc["paths"].items():
            pattern = "^" + re.sub(r"\\\{(\w+)\\\}", r"[^/]+", re.escape(template)) + "$"
            if re.match(pattern, rest) and request.method.lower() in item:
                return doc, item[request.method.lower()]
        raise AssertionError(f"{request.method} {request.url.path} is not in {name}")
    return None


def validate(doc: dict, schema: dict, value: Any, where: str) -> None:
    """JSON Schema validation (the OAS files are draft-4 style) plus: no property the schema does not declare."""
    jsonschema.Draft4Validator({**schema, "components": doc["components"]}).validate(value)
    extra = undeclared(doc, schema, value, where)
    assert not extra, f"{where}: undeclared fields {extra}"


def undeclared(doc: dict, schema: dict, value: Any, where: str = "body") -> list[str]:
    """Property names in ``value`` that its schema does not declare (recursively; the files never say
    ``additionalProperties: false``, so a misspelled field would otherwise pass)."""
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    if isinstance(value, dict) and "properties" in schema:
        out = [f"{where}.{k}" for k in value if k not in schema["properties"]]
        for key, sub in value.items():
            if key in schema["properties"]:
                out += undeclared(doc, schema["properties"][key], sub, f"{where}.{key}")
        return out
    if isinstance(value, list) and "items" in schema:
        return [p for i, v in enumerate(value) for p in undeclared(doc, schema["items"], v, f"{where}[{i}]")]
    return []


ERRORS = {
    "type": "object",
    "properties": {"errors": {"type": "array", "items": {"$ref": "#/components/schemas/Error"}}},
}


def check_response(request: httpx.Request, response: httpx.Response) -> str:
    """The answer is one the spec declares: a 2xx status of the operation with a body of its schema (or no
    body where it declares none); an error answer is ``{"errors": [Error]}``. Returns ``operationId status``.

    207 Multi-Status is declared without content in the files; eBay documents its body as the 200 one.
    """
    found = operation_of(request)
    if found is None:
        return "oauth"
    doc, op = found
    status = response.status_code
    label = f"{op['operationId']} {status}"
    if status >= 400:
        validate(doc, ERRORS, response.json(), label)
        assert response.json()["errors"], label
        return label
    declared = op["responses"]
    assert str(status) in declared, f"{label}: status not declared ({sorted(declared)})"
    source = declared["200"] if status == 207 else declared[str(status)]
    content = (source.get("content") or {}).get("application/json")
    if content is None:
        assert response.content == b"", f"{label}: a body where the spec declares none"
        return label
    assert response.content, f"{label}: no body where the spec declares {content['schema']}"
    assert response.headers["Content-Type"].startswith("application/json"), label
    validate(doc, content["schema"], response.json(), label)
    return label


class SpecClient:
    """Calls eBay operations by ``operationId`` against ``root`` (e.g. a served emulator), with a user token."""

    def __init__(self, root: str, *, client_id: str, client_secret: str, refresh_token: str, scopes: list[str]):
        self.root = root.rstrip("/")
        self.http = httpx.Client(timeout=10)
        basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
        # eBay's OAuth refresh grant (developer.ebay.com "Using a refresh token"), not in the Sell API files
        answer = self.http.post(
            f"{self.root}/identity/v1/oauth2/token",
            headers={"Authorization": f"Basic {basic}"},
            data={"grant_type": "refresh_token", "refresh_token": refresh_token, "scope": " ".join(scopes)},
        )
        assert answer.status_code == 200, answer.text
        self.token = answer.json()["access_token"]
        self.checked: list[str] = []

    def close(self) -> None:
        self.http.close()

    def call(
        self,
        operation_id: str,
        *,
        path: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
        body: Any = None,
    ) -> httpx.Response:
        name, method, template = operations()[operation_id]
        doc = spec(name)
        op = doc["paths"][template][method.lower()]
        headers = {"Authorization": f"Bearer {self.token}"}
        for param in op.get("parameters", []):
            if param["in"] == "header" and param.get("required"):
                headers[param["name"]] = HEADER_DEFAULTS[param["name"]]
            if param["in"] == "query" and param.get("required"):
                assert param["name"] in (query or {}), f"{operation_id}: {param['name']} is required"
        declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}
        assert set(query or {}) <= declared, f"{operation_id}: undeclared query {set(query or {}) - declared}"
        url = self.root + base_path(doc) + re.sub(r"\{(\w+)\}", lambda m: (path or {})[m.group(1)], template)
        content = None
        if body is not None:
            schema = op["requestBody"]["content"]["application/json"]["schema"]
            validate(doc, schema, body, f"{operation_id} request")
            content = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
            # the bulk calls' descriptions ask for it too, though their parameter lists leave it out
            headers["Content-Language"] = HEADER_DEFAULTS["Content-Language"]
        request = self.http.build_request(method, url, params=query, headers=headers, content=content)
        response = self.http.send(request)
        self.checked.append(check_response(request, response))
        return response
