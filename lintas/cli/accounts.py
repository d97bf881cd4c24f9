"""``lintas keys`` and ``lintas users``: the service's API keys and the desk's accounts."""

from __future__ import annotations

from typing import Any

import click

from lintas import settings
from lintas.cli.db import database
from lintas.cli.options import db_option
from lintas.errors import InputError

__all__ = ["keys", "users"]


@click.group()
def keys() -> None:
    """API keys of `lintas serve` (only a hash of each is stored, in the service's database)."""


@keys.command("create")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(["read", "ingest", "editor", "admin"]), help="What it may do.")
@click.option(
    "--rate",
    type=click.IntRange(1, 1_000_000_000),
    default=None,
    help="Requests per minute (default: LINTAS_RATE_LIMIT).",
)
@db_option("Database (SQLAlchemy URL) of the service.")
def keys_create(name: str, role: str, rate: int | None, db_url: str) -> None:
    """Create a key called NAME; prints the key once (stdout): it is not stored and cannot be shown again."""
    from lintas.store.keys import create_key  # the store takes a second to import

    with database(db_url) as bind:
        try:
            key_id, token = create_key(bind, name, role, rate)
        except ValueError as exc:
            raise InputError(str(exc)) from None
    rate_text = f"{rate}/minute" if rate else "the default rate"
    click.echo(f"created key {key_id} ({name!r}, role {role}, {rate_text})", err=True)
    click.echo("copy the key now: only its hash is stored, it cannot be shown again", err=True)
    click.echo(token)


def _when(moment: Any) -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if moment else "-"


@keys.command("list")
@db_option("Database (SQLAlchemy URL) of the service.")
def keys_list(db_url: str) -> None:
    """Every key: id, name, role, rate, created, last used, revoked."""
    from lintas.store.keys import list_keys  # the store takes a second to import

    with database(db_url) as bind:
        found = list_keys(bind)
    if not found:
        click.echo("no API keys (create one: lintas keys create NAME --role ROLE)")
    for key in found:
        state = f"revoked {_when(key.revoked_at)}" if key.revoked_at else "active"
        rate = f"{key.rate_per_minute}/min" if key.rate_per_minute else "default"
        click.echo(
            f"{key.id}  {key.role:<6}  {rate:<9}  created {_when(key.created_at)}  "
            f"used {_when(key.last_used_at)}  {state}  {key.name}"
        )


@keys.command("revoke")
@click.argument("key_id", metavar="ID")
@db_option("Database (SQLAlchemy URL) of the service.")
def keys_revoke(key_id: str, db_url: str) -> None:
    """Revoke key ID (or the key itself); running services refuse it within 30 s (their key cache)."""
    from lintas.store.keys import key_id_of, revoke_key  # the store takes a second to import

    key_id = key_id_of(key_id) or key_id.strip()
    with database(db_url) as bind:
        key = revoke_key(bind, key_id)
    if key is None:
        raise InputError(f"no API key with id {key_id!r} (see: lintas keys list)")
    assert key.revoked_at is not None
    click.echo(f"key {key.id} ({key.name!r}) revoked at {key.revoked_at:%Y-%m-%d %H:%M:%S} UTC")


@click.group()
def users() -> None:
    """Accounts of the editors' desk (/desk/ of `lintas serve`); passwords are stored as argon2id hashes."""


_USER_DB = "Database (SQLAlchemy URL) of the service."


def _new_password() -> str:
    """LINTAS_NEW_PASSWORD when set (scripts), else asked twice without echo."""
    given = settings.current().new_password
    if given is not None and given.get_secret_value():
        return given.get_secret_value()
    password: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


def _user_line(user: Any) -> str:
    state = f"disabled {_when(user.disabled_at)}" if user.disabled else "active"
    return (
        f"{user.username:<20}  {user.role:<6}  created {_when(user.created_at)}  "
        f"last login {_when(user.last_login_at)}  {state}  {user.display_name or ''}"
    ).rstrip()


def _no_user(username: str) -> InputError:
    return InputError(f"no user {username!r} (see: lintas users list)")


@users.command("add")
@click.argument("username")
@click.option("--role", default="editor", show_default=True, type=click.Choice(["read", "ingest", "editor", "admin"]))
@click.option("--display-name", default=None, help="The name the desk shows (default: the username).")
@db_option(_USER_DB)
def users_add(username: str, role: str, display_name: str | None, db_url: str) -> None:
    """Add USERNAME; the password is asked for twice (or taken from LINTAS_NEW_PASSWORD)."""
    from lintas.store.accounts import create_user  # the store takes a second to import

    password = _new_password()
    with database(db_url) as bind:
        try:
            user = create_user(bind, username, password, role, display_name)
        except ValueError as exc:
            raise InputError(str(exc)) from None
    click.echo(f"added user {user.username!r} (role {user.role})")


@users.command("list")
@db_option(_USER_DB)
def users_list(db_url: str) -> None:
    """Every user: username, role, created, last login, state, display name."""
    from lintas.store.accounts import list_users  # the store takes a second to import

    with database(db_url) as bind:
        found = list_users(bind)
    if not found:
        click.echo("no users (add one: lintas users add USERNAME --role editor)")
    for user in found:
        click.echo(_user_line(user))


@users.command("disable")
@click.argument("username")
@db_option(_USER_DB)
def users_disable(username: str, db_url: str) -> None:
    """Stop USERNAME from signing in, and sign them out everywhere."""
    from lintas.store.accounts import disable_user  # the store takes a second to import

    with database(db_url) as bind:
        user = disable_user(bind, username)
    if user is None:
        raise _no_user(username)
    click.echo(f"user {user.username!r} disabled; their sessions are closed")


@users.command("enable")
@click.argument("username")
@db_option(_USER_DB)
def users_enable(username: str, db_url: str) -> None:
    """Let a disabled USERNAME sign in again."""
    from lintas.store.accounts import enable_user  # the store takes a second to import

    with database(db_url) as bind:
        user = enable_user(bind, username)
    if user is None:
        raise _no_user(username)
    click.echo(f"user {user.username!r} enabled")


@users.command("passwd")
@click.argument("username")
@db_option(_USER_DB)
def users_passwd(username: str, db_url: str) -> None:
    """Set a new password for USERNAME (asked twice, or LINTAS_NEW_PASSWORD); signs them out everywhere."""
    from lintas.store.accounts import get_user, set_password  # the store takes a second to import

    with database(db_url) as bind:
        try:
            if get_user(bind, username) is None:
                raise _no_user(username)
            user = set_password(bind, username, _new_password())
        except ValueError as exc:
            raise InputError(str(exc)) from None
    if user is None:
        raise _no_user(username)
    click.echo(f"password of {user.username!r} changed; their sessions are closed")
