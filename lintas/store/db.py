"""Engines, migrations and transactions for the store.

:func:`make_engine` opens a database by SQLAlchemy URL (by default ``lintas.sqlite`` in the data directory).
SQLite connections are put in WAL journal mode with a 30 s busy timeout and foreign keys on, and SQLAlchemy,
not the ``sqlite3`` driver, emits ``BEGIN``: a transaction that may write starts with ``BEGIN IMMEDIATE`` (it
takes SQLite's single write lock up front, so a read-then-write transaction never fails to upgrade its lock),
a read-only one (:func:`transaction` with ``write=False``) with a plain deferred ``BEGIN``. PostgreSQL URLs
without a driver get ``psycopg`` (version 3).

:func:`upgrade` runs the Alembic migrations shipped in ``lintas/store/migrations`` up to the head revision.
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import URL, Connection, Engine, create_engine, event, make_url
from sqlalchemy.orm import Session

from lintas import settings

__all__ = ["Bind", "DEFAULT_FILE_NAME", "make_engine", "upgrade", "transaction", "utcnow", "MIGRATIONS_DIR"]

Bind = Engine | Connection | Session
"""What the store's functions take: an engine, or a connection or session (see :func:`transaction`)."""

DEFAULT_FILE_NAME = "lintas.sqlite"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000

_BEGIN_OPTION = "lintas_sqlite_begin"
_BEGIN_MODES = frozenset({"DEFERRED", "IMMEDIATE", "EXCLUSIVE"})


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


# --- engines -------------------------------------------------------------------------------------------------


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # the driver emits no BEGIN; _sqlite_begin does
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    mode = str(conn.get_execution_options().get(_BEGIN_OPTION, "IMMEDIATE")).upper()
    if mode not in _BEGIN_MODES:
        raise ValueError(f"{_BEGIN_OPTION} must be one of {', '.join(sorted(_BEGIN_MODES))}, not {mode!r}")
    conn.exec_driver_sql(f"BEGIN {mode}")


def is_configured(engine: Engine) -> bool:
    """Whether an SQLite engine has the store's connection and BEGIN handling (always True for other backends)."""
    return engine.dialect.name != "sqlite" or event.contains(engine, "begin", _sqlite_begin)


def _normalise_url(url: str | URL) -> URL:
    if isinstance(url, str) and url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def make_engine(url: str | URL | None = None, **kwargs: Any) -> Engine:
    """An engine for ``url`` (an SQLAlchemy URL), by default SQLite ``lintas.sqlite`` under the data directory.

    ``kwargs`` go to :func:`sqlalchemy.create_engine`. The caller owns the engine: call ``dispose()`` when done.
    """
    if url is None:
        directory = settings.data_dir()
        directory.mkdir(parents=True, exist_ok=True)
        parsed = URL.create("sqlite", database=str(directory / DEFAULT_FILE_NAME))
    else:
        parsed = _normalise_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        # enough pooled connections for the service's thread pool (40 threads): a connection opened
        # past the pool is closed after use, and reopening runs the PRAGMAs again (2-3x slower reads)
        kwargs.setdefault("pool_size", 40)
        kwargs.setdefault("max_overflow", 10)
    engine = create_engine(parsed, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


# --- transactions --------------------------------------------------------------------------------------------


@contextmanager
def transaction(bind: Bind, *, write: bool = True) -> Iterator[Connection]:
    """A connection inside a transaction that commits when the block ends and rolls back if it raises.

    * an :class:`~sqlalchemy.Engine`: a new connection and transaction (on SQLite ``BEGIN IMMEDIATE``, or a
      deferred ``BEGIN`` with ``write=False``);
    * a :class:`~sqlalchemy.Connection` outside a transaction: a transaction on it, committed at the end;
    * a Connection already in a transaction, or a :class:`~sqlalchemy.orm.Session`: a SAVEPOINT inside the
      caller's transaction, so the block is still all-or-nothing, and the caller commits; with ``write=False``
      the caller's transaction itself (a read has nothing to roll back, and a savepoint costs a round trip).
    """
    if isinstance(bind, Session):
        bind = bind.connection()
    if isinstance(bind, Connection):
        if bind.in_transaction() and not write:
            yield bind
        elif bind.in_transaction():
            with bind.begin_nested():
                yield bind
        else:
            with bind.begin():
                yield bind
        return
    lock = _writer_lock(bind) if write else None
    with lock or contextlib.nullcontext(), bind.connect() as conn:
        if not write:
            conn.execution_options(**{_BEGIN_OPTION: "DEFERRED"})
        with conn.begin():
            yield conn


_WRITER_LOCKS: weakref.WeakKeyDictionary[Engine, threading.RLock] = weakref.WeakKeyDictionary()
_WRITER_LOCKS_GUARD = threading.Lock()


def _writer_lock(engine: Engine) -> threading.RLock | None:
    """On SQLite, one writing transaction at a time per process: threads queue on a lock instead of
    SQLite's busy handler, which sleeps in steps of up to 100 ms (ingest p99 of seconds under load).
    Other processes (workers) still wait through ``busy_timeout``."""
    if engine.dialect.name != "sqlite":
        return None
    with _WRITER_LOCKS_GUARD:
        return _WRITER_LOCKS.setdefault(engine, threading.RLock())


# --- migrations ----------------------------------------------------------------------------------------------


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration for the shipped migrations, using ``connection`` when given."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(engine_or_url: Engine | str | URL | None = None, revision: str = "head") -> None:
    """Migrate the database to ``revision`` (default: the newest), in one transaction.

    Takes an engine (kept open) or a URL (``None``: the default SQLite file), for which an engine is made and
    disposed of.
    """
    owned = not isinstance(engine_or_url, Engine)
    engine = make_engine(engine_or_url) if not isinstance(engine_or_url, Engine) else engine_or_url
    try:
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), revision)
    finally:
        if owned:
            engine.dispose()
