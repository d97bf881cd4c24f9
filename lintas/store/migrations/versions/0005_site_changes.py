"""The site's change counter: one row that every change readers can see moves, kept by triggers.

The public site's cache (``lintas.service.pagecache``) asks on every request whether the site changed. It used to
compute that from the tables themselves (row counts and newest times of articles, editions and edition changes),
a scan that grows with the archive. Now triggers on those tables count every insert and update in one row of
``site_changes`` and keep the newest time there, in the same transaction as the change, whichever process makes
it; reading it is one primary-key lookup.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, the column that holds the change's time, the operations counted)
WATCHED = (
    ("articles", "updated_at", ("INSERT", "UPDATE")),
    ("editions", "created_at", ("INSERT", "UPDATE")),
    ("edition_changes", "created_at", ("INSERT",)),
)


def upgrade() -> None:
    op.create_table(
        "site_changes",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("changes", sa.BigInteger, nullable=False),
        sa.Column("modified", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_site_changes"),
    )
    # the row starts where the tables are: their rows counted, their newest time
    op.execute(
        "INSERT INTO site_changes (id, changes, modified) SELECT 1, "
        "(SELECT count(*) FROM articles) + (SELECT count(*) FROM editions) + (SELECT count(*) FROM edition_changes), "
        "(SELECT max(t) FROM (SELECT max(updated_at) AS t FROM articles UNION ALL SELECT max(created_at) FROM editions "
        "UNION ALL SELECT max(created_at) FROM edition_changes) AS times)"
    )
    if op.get_bind().dialect.name == "postgresql":
        for column in ("updated_at", "created_at"):
            op.execute(
                f"CREATE OR REPLACE FUNCTION site_changed_{column}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"UPDATE site_changes SET changes = changes + 1, modified = GREATEST(modified, NEW.{column}) "
                "WHERE id = 1; RETURN NULL; END $$"
            )
        for table, column, operations in WATCHED:
            op.execute(
                f"CREATE TRIGGER site_changes_{table} AFTER {' OR '.join(operations)} ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION site_changed_{column}()"
            )
    else:  # SQLite: times are stored as ISO text in one format, so the text comparison is the time comparison
        for table, column, operations in WATCHED:
            for operation in operations:
                op.execute(
                    f"CREATE TRIGGER site_changes_{table}_{operation.lower()} AFTER {operation} ON {table} BEGIN "
                    f"UPDATE site_changes SET changes = changes + 1, modified = CASE WHEN modified IS NULL "
                    f"OR NEW.{column} > modified THEN NEW.{column} ELSE modified END WHERE id = 1; END"
                )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, _, _ in WATCHED:
            op.execute(f"DROP TRIGGER site_changes_{table} ON {table}")
        for column in ("updated_at", "created_at"):
            op.execute(f"DROP FUNCTION site_changed_{column}()")
    else:
        for table, _, operations in WATCHED:
            for operation in operations:
                op.execute(f"DROP TRIGGER site_changes_{table}_{operation.lower()}")
    op.drop_table("site_changes")
