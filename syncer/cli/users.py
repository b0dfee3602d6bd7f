"""``syncer users add | list | disable | enable``, ``syncer tokens create | list | revoke`` and ``syncer
serve``: who may use the web console and HTTP API, and serving them."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from listing_sync.syncer.cli.app import (
    FormatOption,
    TableFormat,
    app,
    console,
    ctx,
    emit,
    err_console,
    friendly,
    tokens_app,
    users_app,
)
from listing_sync.syncer.context import UserError

ROLES_HELP = "viewer (reads), operator (changes; no --force past the price guard) or admin (everything)."


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise UserError("--password-stdin: nothing on standard input")
        return line.rstrip("\r\n")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@users_app.command("add")
@friendly
def users_add(
    name: Annotated[str, typer.Argument(help="Login name.")],
    role: Annotated[str, typer.Option("--role", help=ROLES_HELP)] = "viewer",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from the first line of standard input.")
    ] = False,
) -> None:
    """Add a user (the password is prompted for, twice, unless --password-stdin)."""
    from listing_sync.syncer.services import users

    added = users.add_user(ctx(), name, role, _read_password(password_stdin))
    console.print(f"user {added.name} added with role {added.role.value}")


@users_app.command("list")
@friendly
def users_list(fmt: FormatOption = TableFormat.TABLE) -> None:
    """List the users, their roles and whether they are disabled."""
    from listing_sync.syncer.services import users

    rows = [
        {
            "name": u.name,
            "role": u.role.value,
            "disabled": u.disabled,
            "created": u.created_at.isoformat(timespec="seconds"),
        }
        for u in users.list_users(ctx())
    ]
    emit(rows, ["name", "role", "disabled", "created"], fmt, title="Users")


@users_app.command("disable")
@friendly
def users_disable(name: Annotated[str, typer.Argument(help="Login name.")]) -> None:
    """Disable a user: no login; their console logins and tokens stop working at once."""
    from listing_sync.syncer.services import users

    done = users.set_disabled(ctx(), name, True)
    console.print(f"user {done.name} disabled")


@users_app.command("enable")
@friendly
def users_enable(name: Annotated[str, typer.Argument(help="Login name.")]) -> None:
    """Enable a disabled user again."""
    from listing_sync.syncer.services import users

    done = users.set_disabled(ctx(), name, False)
    console.print(f"user {done.name} enabled")


@tokens_app.command("create")
@friendly
def tokens_create(
    user: Annotated[str, typer.Option("--user", help="The user the token acts as (with their role).")],
    name: Annotated[str, typer.Option("--name", help="A label: what or who uses it.")] = "",
) -> None:
    """Create an API token. It is printed once, now: only its hash is kept."""
    from listing_sync.syncer.services import users

    created = users.create_token(ctx(), user, name)
    err_console.print(
        f"token {created.info.prefix} for {created.info.user} created; it is shown only this once "
        "(send it as Authorization: Bearer <token>):",
        highlight=False,
    )
    sys.stdout.write(created.secret + "\n")


@tokens_app.command("list")
@friendly
def tokens_list(
    user: Annotated[str | None, typer.Option("--user", help="Only this user's tokens.")] = None,
    fmt: FormatOption = TableFormat.TABLE,
) -> None:
    """List tokens (prefix, user, label, last use); never the tokens themselves."""
    from listing_sync.syncer.services import users

    rows = [
        {
            "prefix": t.prefix,
            "user": t.user,
            "name": t.name,
            "created": t.created_at.isoformat(timespec="seconds"),
            "last_used": t.last_used_at.isoformat(timespec="seconds") if t.last_used_at else "",
            "last_ip": t.last_used_ip,
            "revoked": t.revoked,
        }
        for t in users.list_tokens(ctx(), user)
    ]
    emit(rows, ["prefix", "user", "name", "created", "last_used", "last_ip", "revoked"], fmt, title="API tokens")


@tokens_app.command("revoke")
@friendly
def tokens_revoke(
    prefix: Annotated[str, typer.Argument(help="The token's prefix (tokens list), or the token.")],
) -> None:
    """Revoke a token: it stops working at once."""
    from listing_sync.syncer.services import users

    done = users.revoke_token(ctx(), prefix)
    console.print(f"token {done.prefix} of {done.user} revoked")


@app.command()
@friendly
def serve(
    host: Annotated[
        str, typer.Option(help="Address to listen on (behind a reverse proxy keep 127.0.0.1).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    forwarded_allow_ips: Annotated[
        str,
        typer.Option(
            "--forwarded-allow-ips",
            help="Proxies whose X-Forwarded-For/-Proto are trusted (comma-separated addresses, or *).",
        ),
    ] = "127.0.0.1",
    root_path: Annotated[str, typer.Option("--root-path", help="The path prefix the proxy serves this under.")] = "",
) -> None:
    """Serve the web console and the HTTP API (docs at /api/docs)."""
    import uvicorn
    from listing_sync.syncer.services import users
    from listing_sync.syncer.web.app import create_app

    context = ctx()
    if not users.list_users(context):
        err_console.print("no users yet: add one with `syncer users add NAME --role admin`", highlight=False)
    console.print(f"serving on http://{host}:{port}/ (API docs at /api/docs); Ctrl-C stops", highlight=False)
    uvicorn.run(
        create_app(context),
        host=host,
        port=port,
        proxy_headers=True,
        forwarded_allow_ips=forwarded_allow_ips,
        root_path=root_path,
        log_level="info",
    )
