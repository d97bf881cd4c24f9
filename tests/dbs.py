"""Test databases: an SQLite file under the test's tmp_path, or a PostgreSQL database of the test file's own.

PostgreSQL runs only when ``LINTAS_TEST_POSTGRES_URL`` names a server (``.ci/run`` sets it); each test file uses
a database of its own next to that URL's (created when missing, emptied before each test), so files never see
each other's rows.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, MetaData, create_engine, text

from lintas.store import db

PG_ENV = "LINTAS_TEST_POSTGRES_URL"
_CREATED: set[str] = set()


def postgres_url(database: str) -> str | None:
    """The URL (password included) of ``database`` on the test server, created when missing; None without one."""
    configured = os.environ.get(PG_ENV)
    if not configured:
        return None
    base = db.make_engine(configured).url  # postgresql:// gets its psycopg driver
    url = base.set(database=database).render_as_string(hide_password=False)
    if database not in _CREATED:
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                found = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": database})
                if found.first() is None:
                    conn.execute(text(f'CREATE DATABASE "{database}"'))
        finally:
            admin.dispose()
        _CREATED.add(database)
    return url


def empty(url: str) -> None:
    """Drop every table (``alembic_version`` included) of the database at ``url``."""
    engine = db.make_engine(url)
    try:
        with engine.begin() as conn:
            existing = MetaData()
            existing.reflect(conn)
            existing.drop_all(conn)
    finally:
        engine.dispose()


def database_url(kind: str, tmp_path: Path, name: str) -> str:
    """An empty database: ``kind`` ``sqlite`` (``{name}.sqlite`` under ``tmp_path``) or ``postgresql`` (database
    ``name``; the test is skipped without a server)."""
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / f'{name}.sqlite'}"
    url = postgres_url(name)
    if url is None:
        pytest.skip(f"PostgreSQL tests need {PG_ENV} (e.g. postgresql+psycopg://user:pw@127.0.0.1:5432/db)")
    empty(url)
    return url


@dataclass
class Store:
    """A migrated test database: its engine, and its URL with the password (subprocesses connect with it)."""

    engine: Engine
    url: str


@contextmanager
def migrated_store(kind: str, tmp_path: Path, name: str) -> Iterator[Store]:
    """An empty database (:func:`database_url`) migrated to the newest schema, disposed of at the end."""
    url = database_url(kind, tmp_path, name)
    engine = db.make_engine(url)
    try:
        db.upgrade(engine)
        yield Store(engine, url)
    finally:
        engine.dispose()
