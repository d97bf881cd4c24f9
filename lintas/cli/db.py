"""The database of ``--db`` (:func:`lintas.cli.options.db_option`), for every command that uses the service's
database. The store is imported when a database is opened (it is slow to import, and most commands need none)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from lintas.errors import InputError, LintasError

__all__ = ["prepare_database", "database", "open_database"]


def prepare_database(bind: Any, shown: str) -> None:
    """Create or migrate the schema; a database that cannot be reached or migrated is one clear error."""
    from lintas.store import db

    try:
        db.upgrade(bind)
    except Exception as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines() or [""]
        raise LintasError(f"cannot prepare the database {shown}: {type(exc).__name__}: {reason[0]}") from None


def open_database(db_url: str) -> tuple[Any, str]:
    """The engine of ``--db`` (not migrated yet: see :func:`prepare_database`) and its URL as shown to the user (no
    password); a malformed URL or a missing driver is an :class:`InputError`. The caller disposes of the engine."""
    from sqlalchemy import make_url

    from lintas.store import db

    try:
        shown = make_url(db_url).render_as_string(hide_password=True) if db_url else "(default)"
        bind = db.make_engine(db_url or None)
    except Exception as exc:  # a malformed URL or a missing driver
        raise InputError(f"cannot open the database {db_url or '(default)'}: {exc}") from None
    return bind, shown


@contextmanager
def database(db_url: str) -> Iterator[Any]:
    """The database of ``--db``, migrated, disposed of when the block ends."""
    from lintas.store import db

    try:
        bind = db.make_engine(db_url or None)
    except Exception as exc:  # a malformed URL or a missing driver
        raise InputError(f"cannot open the database {db_url or '(default)'}: {exc}") from None
    try:
        prepare_database(bind, bind.url.render_as_string(hide_password=True))
        yield bind
    finally:
        bind.dispose()
