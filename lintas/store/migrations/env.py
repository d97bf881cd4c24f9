"""Alembic environment for the store: online migrations only, on the connection :func:`lintas.store.db.upgrade`
passes in ``config.attributes["connection"]``, or else on ``sqlalchemy.url`` (default: the default database)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from lintas.store.db import make_engine
from lintas.store.schema import metadata

target_metadata = metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        transactional_ddl=True,  # SQLite included: lintas.store.db emits BEGIN itself, so DDL is transactional
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(context.config.get_main_option("sqlalchemy.url") or None)
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("lintas.store migrations run online only (give them a database)")
run_migrations_online()
