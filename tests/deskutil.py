"""Signing in to the editors' desk in tests: the shared password, cheap argon2 parameters, the CSRF tokens."""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from lintas.store import accounts

PASSWORD = "correct horse battery"
CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)  # the real parameters take ~0.2 s a hash
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(page_text: str) -> str:
    """The CSRF token in a page's forms."""
    match = CSRF_FIELD.search(page_text)
    assert match is not None, page_text[:2000]
    return match.group(1)


def add_desk_users(engine: Engine, editor_name: str = "Ana Putri") -> None:
    """An editor ``ana`` and a reader ``rudi``, both with :data:`PASSWORD`."""
    accounts.create_user(engine, "ana", PASSWORD, "editor", display_name=editor_name)
    accounts.create_user(engine, "rudi", PASSWORD, "read")


def sign_in(client: TestClient, username: str = "ana", page: str = "/desk/") -> str:
    """Sign in as ``username``; returns the session's CSRF token (read from ``page``)."""
    form = {"username": username, "password": PASSWORD, "csrf_token": csrf_of(client.get("/desk/login").text)}
    done = client.post("/desk/login", data=form)
    assert done.status_code == 303, done.text
    return csrf_of(client.get(page).text)
