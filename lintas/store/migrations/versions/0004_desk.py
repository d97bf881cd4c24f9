"""The editors' desk: the audit trail of edition changes, and the glossary terms kept in the database.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _time(name: str, *, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "edition_changes",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("article_id", sa.String(200), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("target_lang", sa.String(16), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("segment_id", sa.String(100), nullable=True),
        sa.Column("before", sa.Text, nullable=True),
        sa.Column("after", sa.Text, nullable=True),
        sa.Column("author", sa.String(100), nullable=False),
        sa.Column("note", sa.Text, nullable=True),
        _time("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_edition_changes"),
        sa.ForeignKeyConstraint(
            ["article_id", "revision", "target_lang"],
            ["editions.article_id", "editions.revision", "editions.target_lang"],
            name="fk_edition_changes_article_id_editions",
        ),
    )
    op.create_index("ix_edition_changes_article_id_target_lang", "edition_changes", ["article_id", "target_lang"])
    op.create_index("ix_edition_changes_created_at", "edition_changes", ["created_at"])
    op.create_table(
        "glossary_terms",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("source", sa.String(300), nullable=False),
        sa.Column("term_json", sa.Text, nullable=False),
        sa.Column("updated_by", sa.String(100), nullable=False),
        _time("updated_at"),
        _time("deleted_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_glossary_terms"),
        sa.UniqueConstraint("source", name="uq_glossary_terms_source"),
    )


def downgrade() -> None:
    op.drop_table("glossary_terms")
    op.drop_index("ix_edition_changes_created_at", "edition_changes")
    op.drop_index("ix_edition_changes_article_id_target_lang", "edition_changes")
    op.drop_table("edition_changes")
