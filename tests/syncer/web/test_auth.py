"""Logins, sessions, CSRF, the login rate limit, roles and API tokens of the web face."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from listing_sync.syncer.context import Context
from listing_sync.syncer.services import users
from listing_sync.syncer.web.deps import CurrentUser, Operator, Role

from .conftest import PASSWORD, Template, login


def _csrf(client: TestClient) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert found
    return found[1]


def _events(context: Context, user: str) -> list[tuple[str, str]]:
    return [(e.event, e.ip) for e in users.audit_log(context, user=user)]


def test_a_login_opens_a_session_and_is_audited_with_the_address(web_app: FastAPI, web_context: Context) -> None:
    client = TestClient(web_app)
    done = client.post(
        "/login",
        data={"username": "operator", "password": PASSWORD, "csrf_token": _csrf(client), "next": "/orders?x=1"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/orders?x=1"
    cookie = done.headers["set-cookie"]
    assert cookie.startswith("syncer_session=") and "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    assert "secure" not in cookie.lower()
    me = client.get("/api/me").json()
    assert (me["name"], me["role"], me["via"]) == ("operator", "operator", "session") and len(me["csrf_token"]) >= 32
    assert _events(web_context, "operator")[0] == ("login", "testclient")


def test_secure_cookies_when_configured(web_context: Context) -> None:
    from listing_sync.syncer.web.app import create_app

    web_context.settings.web_secure_cookies = True
    client = TestClient(create_app(web_context), base_url="https://testserver")
    cookie = client.get("/login").headers["set-cookie"].lower()
    assert "secure" in cookie and "httponly" in cookie


def test_a_wrong_password_is_refused_and_audited(web_app: FastAPI, web_context: Context) -> None:
    client = TestClient(web_app)
    done = client.post("/login", data={"username": "admin", "password": "nope-nope", "csrf_token": _csrf(client)})
    assert done.status_code == 401 and "wrong user name or password" in done.text
    assert _events(web_context, "admin")[0] == ("login_failed", "testclient")
    assert client.get("/api/me").status_code == 401


def test_the_login_form_needs_its_csrf_token(web_app: FastAPI) -> None:
    client = TestClient(web_app)
    client.get("/login")
    done = client.post("/login", data={"username": "admin", "password": PASSWORD})
    assert done.status_code == 403 and "CSRF token missing or wrong" in done.json()["detail"]


def test_after_the_login_the_redirect_stays_on_this_site(web_app: FastAPI) -> None:
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        client = TestClient(web_app)
        done = client.post(
            "/login",
            data={"username": "viewer", "password": PASSWORD, "csrf_token": _csrf(client), "next": target},
            follow_redirects=False,
        )
        assert done.headers["location"] == "/", target


def test_login_rate_limit_per_user_and_address(web_app: FastAPI, web_context: Context) -> None:
    client = TestClient(web_app)
    token = _csrf(client)
    for _ in range(web_context.settings.web_login_attempts):
        assert (
            client.post("/login", data={"username": "admin", "password": "x" * 9, "csrf_token": token}).status_code
            == 401
        )
    # now even the right password is refused, with how long to wait
    done = client.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token})
    assert done.status_code == 429
    assert "too many failed logins for &#39;admin&#39; from testclient: try again in 15 minute(s)" in done.text
    assert 1 <= int(done.headers["retry-after"]) <= 15 * 60
    assert _events(web_context, "admin")[0] == ("login_throttled", "testclient")
    # another address, or another user from this one, is not held back
    assert users.login(web_context, "admin", PASSWORD, ip="10.0.0.9").name == "admin"
    viewer = {"username": "viewer", "password": PASSWORD, "csrf_token": token}
    assert client.post("/login", data=viewer, follow_redirects=False).status_code == 303


def test_a_session_change_without_the_csrf_token_is_refused(client_as) -> None:
    client = client_as("operator")
    token = client.headers.pop("X-CSRF-Token")
    refused = client.post("/logout", follow_redirects=False)
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    assert client.get("/api/me").status_code == 200  # still logged in
    done = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303 and client.get("/api/me").status_code == 401


def test_roles_and_csrf_through_the_dependencies(web_app: FastAPI, client_as, api_as) -> None:
    @web_app.post("/api/_test/operator-only")
    def operator_only(user: Operator) -> dict[str, str]:
        return {"user": user.name}

    assert api_as("viewer").post("/api/_test/operator-only").json() == {
        "detail": "this needs the operator role; viewer is viewer"
    }
    assert api_as("operator").post("/api/_test/operator-only").json() == {"user": "operator"}
    assert api_as("admin").post("/api/_test/operator-only").status_code == 200  # a bearer token needs no CSRF
    session = client_as("operator")
    assert session.post("/api/_test/operator-only").json() == {"user": "operator"}
    del session.headers["X-CSRF-Token"]
    assert session.post("/api/_test/operator-only").status_code == 403


def test_an_html_page_sends_the_anonymous_to_the_login(web_app: FastAPI) -> None:
    @web_app.get("/_test/page")
    def page(user: CurrentUser) -> dict[str, str]:
        return {"user": user.name}

    done = TestClient(web_app).get("/_test/page?a=1", follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/login?next=%2F_test%2Fpage%3Fa%3D1"
    api = TestClient(web_app).get("/api/me")
    assert api.status_code == 401 and api.headers["www-authenticate"] == "Bearer"


def test_a_disabled_user_loses_session_and_token_at_once(client_as, api_as, web_context: Context) -> None:
    session, api = client_as("operator"), api_as("operator")
    assert session.get("/api/me").status_code == 200 and api.get("/api/me").status_code == 200
    users.set_disabled(web_context, "operator")
    assert session.get("/api/me").status_code == 401
    assert api.get("/api/me").json()["detail"] == "the API token is unknown, revoked, or its user is disabled"
    with pytest.raises(users.LoginRefused):
        users.login(web_context, "operator", PASSWORD, ip="10.0.0.1")
    assert _events(web_context, "operator")[0][0] == "login_failed"


def test_a_token_is_shown_once_and_only_its_hash_is_stored(web_context: Context, web_app: FastAPI) -> None:
    created = users.create_token(web_context, "viewer", "report robot")
    secret = created.secret
    assert secret.startswith("lsk_" + created.info.prefix + "_") and len(secret) > 40
    client = TestClient(web_app, headers={"Authorization": f"Bearer {secret}"})
    assert client.get("/api/me").json()["via"] == "token"
    from listing_sync.syncer import db

    db.engine_for(web_context.db_url).dispose()  # everything checkpointed into the files
    stored = b"".join(p.read_bytes() for p in Path(web_context.data_dir).glob("syncer.db*"))
    assert secret.encode() not in stored and secret.split("_", 2)[2].encode() not in stored
    assert created.info.prefix.encode() in stored
    listed = {t.prefix: t for t in users.list_tokens(web_context, "viewer")}
    assert listed[created.info.prefix].last_used_ip == "testclient"
    assert listed[created.info.prefix].last_used_at is not None
    assert not any(secret in repr(t) for t in listed.values())


def test_a_revoked_or_forged_token_is_refused(web_context: Context, web_app: FastAPI, web_template: Template) -> None:
    secret = web_template.tokens["admin"]
    forged = secret[:-4] + ("aaaa" if not secret.endswith("aaaa") else "bbbb")
    for header in (f"Bearer {forged}", "Bearer nonsense", "Basic abc", "Bearer "):
        done = TestClient(web_app, headers={"Authorization": header}).get("/api/me")
        assert done.status_code == 401, header
    prefix = secret.split("_")[1]
    users.revoke_token(web_context, prefix)
    assert TestClient(web_app, headers={"Authorization": f"Bearer {secret}"}).get("/api/me").status_code == 401


def test_bad_user_input_is_refused_by_the_service(web_context: Context) -> None:
    with pytest.raises(users.InvalidRequest, match="at least 8"):
        users.add_user(web_context, "bob", "viewer", "short")
    with pytest.raises(users.InvalidRequest, match="unknown role 'boss'"):
        users.add_user(web_context, "bob", "boss", PASSWORD)
    with pytest.raises(users.InvalidRequest, match="user name"):
        users.add_user(web_context, "bad name", "viewer", PASSWORD)
    with pytest.raises(users.InvalidRequest, match="exists already"):
        users.add_user(web_context, "admin", "viewer", PASSWORD)
    with pytest.raises(users.NotFound):
        users.create_token(web_context, "nobody")


def test_roles_are_ordered() -> None:
    assert Role.ADMIN.allows(Role.OPERATOR) and Role.OPERATOR.allows(Role.VIEWER)
    assert not Role.VIEWER.allows(Role.OPERATOR) and not Role.OPERATOR.allows(Role.ADMIN)


def test_the_login_helper_of_the_fixtures(web_app: FastAPI) -> None:
    client = login(TestClient(web_app), "admin")
    assert client.get("/api/me").json()["role"] == "admin"


def test_without_a_configured_key_one_is_made_once_and_kept_private(tmp_path: Path) -> None:
    from listing_sync.config.settings import Settings
    from listing_sync.syncer.web.auth import KEY_FILE, secret_key

    context = Context(settings=Settings(_env_file=None, data_dir=tmp_path))
    first = secret_key(context)
    path = tmp_path / KEY_FILE
    assert len(first) >= 48 and path.stat().st_mode & 0o777 == 0o600
    assert secret_key(Context(settings=Settings(_env_file=None, data_dir=tmp_path))) == first  # survives a restart
    configured = Context(settings=Settings(_env_file=None, data_dir=tmp_path, web_secret_key="k" * 40))
    assert secret_key(configured) == "k" * 40
