"""Login with Amazon's token endpoint (``POST /auth/o2/token``) as the service states its rules, for the
Amazon emulator. Written from the LWA documentation (access tokens, refresh tokens, grantless calls of the
SP-API) and RFC 6749, never from the adapter's own token request.

Rules checked, in the order a server meets them:

* the body is ``application/x-www-form-urlencoded`` (RFC 6749 4.1.3, 6) and decoded as such: ``+`` is a
  space and ``%2B`` a plus, so a secret holding ``+``, ``&``, ``=``, ``%`` or non-ASCII text arrives intact
  only when the client encoded it; no parameter may appear twice (RFC 6749 3.2);
* the client authenticates once: ``client_id``/``client_secret`` in the body, or HTTP Basic with the
  form-encoded id and secret (RFC 6749 2.3.1), never both; failure is ``invalid_client`` (HTTP 401);
* ``grant_type=refresh_token`` needs the refresh token issued to THIS client (``invalid_grant``);
  ``grant_type=client_credentials`` (grantless SP-API calls) needs a ``scope`` the SP-API knows
  (``invalid_scope``); any other grant is ``unsupported_grant_type``; a missing parameter is
  ``invalid_request``;
* the answer: ``access_token`` beginning ``Atza|`` (at least 350 characters), ``token_type`` ``bearer``,
  ``expires_in`` 3600, the refresh token again for the refresh grant, and ``Cache-Control: no-store``
  (RFC 6749 5.1).

Grantless tokens are kept apart: they open grantless operations only, never a seller's listings,
feeds or orders.
"""

from __future__ import annotations

import base64
import binascii
import random
from collections.abc import Callable, Mapping
from urllib.parse import parse_qsl, unquote_plus

import httpx

LIFETIME = 3600.0
GRANTLESS_SCOPES = frozenset({"sellingpartnerapi::notifications", "sellingpartnerapi::client_credential:rotation"})
FORM = "application/x-www-form-urlencoded"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class LwaRefusal(Exception):
    """An OAuth 2.0 error answer: ``error``, its description and the HTTP status."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error, self.description, self.status = error, description, status

    def response(self) -> httpx.Response:
        body = {"error": self.error, "error_description": self.description}
        return httpx.Response(self.status, json=body, headers=NO_STORE)


def read_form(request: httpx.Request) -> dict[str, str]:
    """The form parameters of a token request, each at most once."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != FORM:
        raise LwaRefusal("invalid_request", f"Content-Type must be {FORM}, not {media or 'missing'}")
    try:
        text = request.content.decode("utf-8")
    except UnicodeDecodeError:
        raise LwaRefusal("invalid_request", "the form body is not UTF-8") from None
    pairs = parse_qsl(text, keep_blank_values=True)
    names = [name for name, _ in pairs]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise LwaRefusal("invalid_request", f"parameter {repeated[0]} is included more than once")
    return dict(pairs)


def basic_client(request: httpx.Request) -> tuple[str, str] | None:
    """(client_id, client_secret) of an HTTP Basic ``Authorization`` header: base64 of the form-encoded
    id, a colon and the form-encoded secret (RFC 6749 2.3.1); None without such a header."""
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        raise LwaRefusal("invalid_client", "only HTTP Basic client authentication is supported", 401)
    try:
        raw = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise LwaRefusal("invalid_client", "malformed Basic credentials", 401) from None
    client_id, colon, secret = raw.partition(":")
    if not colon:
        raise LwaRefusal("invalid_client", "malformed Basic credentials", 401)
    return unquote_plus(client_id), unquote_plus(secret)


class LwaService:
    """The token endpoint of one app (``credentials``: client_id, client_secret, refresh_token), issuing
    into ``tokens`` (access token -> expiry on ``clock``) and ``grantless`` (the same for grantless)."""

    def __init__(
        self,
        credentials: Mapping[str, str],
        tokens: dict[str, float],
        grantless: dict[str, float],
        clock: Callable[[], float],
        rng: random.Random,
    ) -> None:
        self.credentials = credentials
        self.tokens = tokens
        self.grantless = grantless
        self.clock = clock
        self.rng = rng

    def answer(self, request: httpx.Request) -> httpx.Response:
        try:
            return self._issue(request)
        except LwaRefusal as refusal:
            return refusal.response()

    def _issue(self, request: httpx.Request) -> httpx.Response:
        form = read_form(request)
        self._authenticate(request, form)
        grant = form.get("grant_type")
        if not grant:
            raise LwaRefusal("invalid_request", "grant_type is required")
        if grant == "refresh_token":
            return self._refresh(form)
        if grant == "client_credentials":
            return self._grantless(form)
        raise LwaRefusal("unsupported_grant_type", f"the grant type {grant} is not supported")

    def _authenticate(self, request: httpx.Request, form: Mapping[str, str]) -> None:
        basic = basic_client(request)
        in_body = "client_secret" in form
        if basic is not None and in_body:
            raise LwaRefusal("invalid_request", "the client authenticated more than once (Basic and body)")
        client_id, secret = basic if basic is not None else (form.get("client_id"), form.get("client_secret"))
        if basic is not None and form.get("client_id") not in (None, basic[0]):
            raise LwaRefusal("invalid_request", "client_id differs from the authenticated client")
        if not client_id or secret is None:
            raise LwaRefusal("invalid_client", "Client authentication failed", 401)
        if (client_id, secret) != (self.credentials.get("client_id"), self.credentials.get("client_secret")):
            raise LwaRefusal("invalid_client", "Client authentication failed", 401)

    def _refresh(self, form: Mapping[str, str]) -> httpx.Response:
        refresh = form.get("refresh_token")
        if not refresh:
            raise LwaRefusal("invalid_request", "refresh_token is required for grant_type=refresh_token")
        if refresh != self.credentials.get("refresh_token"):
            raise LwaRefusal("invalid_grant", "The request has an invalid grant parameter : refresh_token")
        token = self._new_token(self.tokens)
        body = {"access_token": token, "refresh_token": refresh, "token_type": "bearer", "expires_in": 3600}
        return httpx.Response(200, json=body, headers=NO_STORE)

    def _grantless(self, form: Mapping[str, str]) -> httpx.Response:
        scope = form.get("scope")
        if not scope:
            raise LwaRefusal("invalid_request", "scope is required for grant_type=client_credentials")
        if scope not in GRANTLESS_SCOPES:
            raise LwaRefusal("invalid_scope", f"the scope {scope} is not valid for this client")
        token = self._new_token(self.grantless)
        return httpx.Response(
            200, json={"access_token": token, "token_type": "bearer", "expires_in": 3600}, headers=NO_STORE
        )

    def _new_token(self, into: dict[str, float]) -> str:
        token = "Atza|" + base64.urlsafe_b64encode(self.rng.randbytes(270)).decode().rstrip("=")
        into[token] = self.clock() + LIFETIME
        return token

    def refusal(self, token: str | None) -> str | None:
        """Why an ``x-amz-access-token`` does not open a seller operation, or None when it does."""
        expiry = self.tokens.get(token or "")
        if expiry is not None and self.clock() < expiry:
            return None
        if expiry is not None:
            return "The access token you provided has expired."
        if (token or "") in self.grantless:
            return "The access token you provided is a grantless token; this operation needs the seller's."
        return "The access token you provided is revoked, malformed or invalid."
