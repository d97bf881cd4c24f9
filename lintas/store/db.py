"""Engines, migrations and transactions for the store.

:func:`make_engine` opens a database by SQLAlchemy URL (by default ``lintas.sqlite`` in the data directory).
SQLite connections are put in WAL journal mode with a 30 s busy timeout and foreign keys on, and SQLAlchemy,
not the ``sqlite3`` driver, emits ``BEGIN``: a transaction that may write starts with ``BEGIN IMMEDIATE`` (it
takes SQLite's single write lock up front, so a read-then-write transaction never fails to upgrade its lock),
a read-only one (:func:`transaction` with ``write=False``) with a plain deferred ``BEGIN``. PostgreSQL URLs
without a driver get ``psycopg`` (version 3).

:func:`upgrade` runs the Alembic migrations shipped in ``lintas/store/migrations`` up to the head revision;
:func:`ensure_current` does so only when the database is not there yet (a cheap check for code that opens a
database on its own, such as the translation memory).
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import threading
import weakref
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import URL, Connection, Engine, Executable, Row, create_engine, event, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from lintas import settings

if sys.platform != "win32":
    import fcntl
else:  # Windows: processes wait in SQLite's busy handler
    fcntl = None

__all__ = [
    "AnyRow",
    "Bind",
    "DEFAULT_FILE_NAME",
    "make_engine",
    "upgrade",
    "ensure_current",
    "head_revision",
    "current_revision",
    "transaction",
    "QuickReads",
    "utcnow",
    "MIGRATIONS_DIR",
]

Bind = Engine | Connection | Session
"""What the store's functions take: an engine, or a connection or session (see :func:`transaction`)."""

AnyRow = Row[*tuple[Any, ...]]
"""A result row of the Core tables, any number of columns (SQLAlchemy types a Core row's columns as Any)."""

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
    if conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
        return  # each statement is its own transaction (QuickReads): SQLAlchemy's BEGIN is only bookkeeping
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


class QuickReads:
    """One-statement reads for a hot path (the server's event loop), each its own transaction.

    Each thread keeps one connection in autocommit: a read is one statement, which sees everything committed
    before it, without a pooled connection and a ``BEGIN``/``COMMIT`` around it (on SQLite about 17 µs instead of
    110). For a single ``SELECT`` that is the same snapshot a read transaction would give. A connection that
    fails is dropped and the read tried once more on a new one; :meth:`close` closes them all.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._local = threading.local()
        self._lock = threading.Lock()
        self._open: list[Connection] = []

    def first(self, statement: Executable, parameters: Mapping[str, Any] | None = None) -> AnyRow | None:
        """The first row ``statement`` selects (with its bound ``parameters``), or None."""
        for last in (False, True):
            conn = self._connection()
            try:
                return conn.execute(statement, parameters).first()
            except DBAPIError:
                self._drop(conn)
                if last:
                    raise
        raise AssertionError("unreachable")

    def _connection(self) -> Connection:
        conn: Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            self._local.conn = conn
            with self._lock:
                self._open.append(conn)
        return conn

    def _drop(self, conn: Connection) -> None:
        self._local.conn = None
        with self._lock:
            if conn in self._open:
                self._open.remove(conn)
        with contextlib.suppress(Exception):
            conn.invalidate()
            conn.close()

    def close(self) -> None:
        """Close every thread's connection (the next read opens a new one)."""
        with self._lock:
            conns, self._open = self._open, []
        for conn in conns:
            with contextlib.suppress(Exception):
                conn.close()
        self._local = threading.local()


class _SQLiteWriterLock:
    """One writing transaction at a time on an SQLite file, across threads and processes.

    Threads of a process queue on an RLock (reentrant: a write inside a write is the same transaction); the
    processes sharing the file (several ``lintas serve`` workers, ``lintas worker`` processes) queue on an ``flock`` of
    ``<database>.lock``, which the kernel hands over as soon as it is released. Without them writers wait in
    SQLite's busy handler, which sleeps in steps of up to 100 ms: ingest p99 of seconds under load.
    """

    def __init__(self, path: str | None) -> None:
        self._local = threading.RLock()
        self._path = path
        self._fd: int | None = None
        self._depth = 0

    def __enter__(self) -> None:
        self._local.acquire()
        try:
            if self._depth == 0 and self._path is not None and fcntl is not None:
                if self._fd is None:
                    self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
                fcntl.flock(self._fd, fcntl.LOCK_EX)
        except BaseException:
            self._local.release()
            raise
        self._depth += 1

    def __exit__(self, *exc_info: object) -> None:
        self._depth -= 1
        try:
            if self._depth == 0 and self._fd is not None and fcntl is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._local.release()

    def __del__(self) -> None:
        if self._fd is not None:
            os.close(self._fd)


_WRITER_LOCKS: weakref.WeakKeyDictionary[Engine, _SQLiteWriterLock] = weakref.WeakKeyDictionary()
_WRITER_LOCKS_GUARD = threading.Lock()


def _writer_lock(engine: Engine) -> _SQLiteWriterLock | None:
    """The engine's :class:`_SQLiteWriterLock` (None for other databases, whose writers do not queue)."""
    if engine.dialect.name != "sqlite":
        return None
    with _WRITER_LOCKS_GUARD:
        lock = _WRITER_LOCKS.get(engine)
        if lock is None:
            database = engine.url.database
            path = None if database in (None, "", ":memory:") else database + ".lock"
            lock = _WRITER_LOCKS[engine] = _SQLiteWriterLock(path)
        return lock


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


@functools.cache
def head_revision() -> str | None:
    """The newest revision of the shipped migrations (read once per process)."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None: never migrated, which includes a database made by ``create_all``)."""
    with transaction(engine, write=False) as conn:
        return MigrationContext.configure(conn).get_current_revision()


def ensure_current(engine: Engine) -> bool:
    """Migrate the database to the head revision unless it is there already; returns whether it migrated.

    Safe to call from several processes at once: on SQLite :func:`upgrade`'s ``BEGIN IMMEDIATE`` makes them take
    turns, and the later ones find the database at head inside their transaction.
    """
    if current_revision(engine) == head_revision():
        return False
    upgrade(engine)
    return True
