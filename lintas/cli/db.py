"""The ``--db`` option and the database it opens, for every command that uses the service's database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

from lintas import settings
from lintas.errors import InputError, LintasError

__all__ = ["db_option", "prepare_database", "database"]


def db_option(help_text: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--db``, shared by every command on the service's database (default: LINTAS_DATABASE_URL)."""
    return click.option(
        "--db",
        "db_url",
        default=lambda: settings.current().database_url,
        show_default="LINTAS_DATABASE_URL, or lintas.sqlite in the data directory",
        help=help_text,
    )


def prepare_database(bind: Any, shown: str) -> None:
    """Create or migrate the schema; a database that cannot be reached or migrated is one clear error."""
    from lintas.store import db

    try:
        db.upgrade(bind)
    except Exception as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines() or [""]
        raise LintasError(f"cannot prepare the database {shown}: {type(exc).__name__}: {reason[0]}") from None


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
