"""WooCommerce's server side of OAuth 1.0a one-legged, for the emulator (never used by the adapter).

Written from ``WC_REST_Authentication`` (woocommerce/woocommerce ``includes/class-wc-rest-authentication.php``:
``get_oauth_parameters``, ``check_oauth_signature``, ``normalize_parameters``, ``join_with_equals_sign``)
and ``wc_rest_urlencode_rfc3986`` in ``wc-rest-functions.php``, plus how PHP fills ``$_GET``/``$_POST``:

- the parameters are PHP's ``$_GET`` merged with ``$_POST`` (form bodies only), then the ``oauth_*`` of an
  ``Authorization: OAuth`` header; PHP decodes ``+`` as a space, keeps the LAST of repeated names, turns
  spaces and dots in names into ``_`` and ``name[key]`` into arrays;
- the signature sent is ``rawurldecode``-d once more (after spaces are put back to ``+``);
- parameters are sorted by their decoded names (``uksort`` with ``strcmp``: byte order), each name and
  value is percent-encoded (``rawurlencode``: only ``A-Z a-z 0-9 - . _ ~`` stay), and then each
  ``name=value`` pair is percent-encoded AGAIN; pairs are joined with ``%26``;
- the string to sign is ``METHOD&rawurlencode(home URL + request path)&pairs`` and the key is
  ``consumer_secret + "&"``; HMAC-SHA1 or HMAC-SHA256, base64.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, unquote, unquote_plus

import httpx

#: a PHP request parameter: a string, or (``name[key]=...``) a nested array
PhpValue = str | dict[str, Any]

DIGESTS = {"HMAC-SHA1": hashlib.sha1, "HMAC-SHA256": hashlib.sha256}
_HEADER_PARAM = re.compile(r'(oauth_[a-z_-]*)=(:?"([^"]*)"|([^,]*))')


def rawurlencode(value: str) -> str:
    """PHP ``rawurlencode`` (RFC 3986): every byte but ``A-Z a-z 0-9 - . _ ~`` as ``%XX``."""
    return quote(value.encode("utf-8"), safe="~")


def _php_name(name: str) -> tuple[str, list[str]] | None:
    """PHP's variable name and array keys for a raw parameter name (``a.b[x][]`` -> ``a_b``, [x, ""])."""
    name = name.lstrip(" ")
    bracket = name.find("[")
    keys: list[str] = []
    if bracket > 0 and "]" in name[bracket:]:
        rest = name[bracket:]
        name = name[:bracket]
        for match in re.finditer(r"\[([^\]]*)\]", rest):
            keys.append(match.group(1))
    base = re.sub(r"[ .\[]", "_", name)
    return (base, keys) if base else None


def php_parse(raw: str) -> dict[str, PhpValue]:
    """A query string or form body as PHP fills ``$_GET``/``$_POST``."""
    out: dict[str, PhpValue] = {}
    for piece in raw.split("&"):
        if not piece:
            continue
        raw_name, _, raw_value = piece.partition("=")
        parsed = _php_name(unquote_plus(raw_name))
        if parsed is None:
            continue
        base, keys = parsed
        value = unquote_plus(raw_value)
        if not keys:
            out[base] = value
            continue
        holder = out.get(base)
        if not isinstance(holder, dict):
            holder = out[base] = {}
        for key in keys[:-1]:
            inner = holder.get(key)
            if not isinstance(inner, dict):
                inner = holder[key] = {}
            holder = inner
        last = keys[-1] if keys[-1] else str(sum(1 for k in holder if k.isdigit()))
        holder[last] = value
    return out


def oauth_parameters(request: httpx.Request) -> dict[str, PhpValue]:
    """``get_oauth_parameters``: ``$_GET`` + ``$_POST`` (form bodies), then the OAuth header's ``oauth_*``."""
    params = php_parse(request.url.query.decode("ascii", "replace"))
    if "application/x-www-form-urlencoded" in request.headers.get("Content-Type", ""):
        params.update(php_parse(request.content.decode("utf-8", "replace")))
    header = request.headers.get("Authorization", "").strip()
    if header.startswith("OAuth "):
        for match in _HEADER_PARAM.finditer(header):
            params[match.group(1)] = unquote_plus(match.group(3) or match.group(4))
    return params


def _encode_tree(value: PhpValue) -> PhpValue:
    """``wc_rest_urlencode_rfc3986`` on a value: arrays map over their values (their keys stay raw)."""
    if isinstance(value, dict):
        return {k: _encode_tree(v) for k, v in value.items()}
    return rawurlencode(value)


def _pairs(params: Mapping[str, PhpValue], prefix: str = "") -> list[str]:
    """``join_with_equals_sign``: each ``name=value`` (arrays as ``name%5Bkey%5D``) encoded again."""
    out: list[str] = []
    for name, value in params.items():
        key = f"{prefix}%5B{name}%5D" if prefix else name
        if isinstance(value, dict):
            out.extend(_pairs(value, key))
        else:
            out.append(rawurlencode(f"{key}={value}"))
    return out


def string_to_sign(request: httpx.Request, params: Mapping[str, PhpValue]) -> str:
    """What the server signs for ``request`` (``params`` without ``oauth_signature``)."""
    ordered = sorted(params.items(), key=lambda kv: kv[0].encode("utf-8"))
    normalized = {rawurlencode(k): _encode_tree(v) for k, v in ordered}
    url = request.url
    port = f":{url.port}" if url.port else ""
    path = url.raw_path.split(b"?", 1)[0].decode("ascii", "replace")
    base_uri = rawurlencode(f"{url.scheme}://{url.host}{port}{path}")
    return f"{request.method.upper()}&{base_uri}&{'%26'.join(_pairs(normalized))}"


def signature_matches(request: httpx.Request, params: Mapping[str, PhpValue], consumer_secret: str) -> bool:
    """``check_oauth_signature``'s verdict on the signature of ``request``."""
    given = params.get("oauth_signature")
    method = params.get("oauth_signature_method")
    if not isinstance(given, str) or method not in DIGESTS:
        return False
    signed = {k: v for k, v in params.items() if k != "oauth_signature"}
    key = f"{consumer_secret}&".encode()
    digest = hmac.new(key, string_to_sign(request, signed).encode("utf-8"), DIGESTS[str(method)]).digest()
    expected = base64.b64encode(digest).decode("ascii")
    return hmac.compare_digest(expected.encode(), unquote(given.replace(" ", "+")).encode("utf-8"))
