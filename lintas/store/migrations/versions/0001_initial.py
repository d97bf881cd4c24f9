"""Initial schema: articles, revisions, editions, jobs, the segment cache and the translation memory.

Revision ID: 0001
Revises:
Create Date: 2025-01-01 00:00:00

The tables are written out here rather than imported from :mod:`lintas.store.schema` so that this revision
keeps describing the schema as it was; ``translation_memory`` replicates :data:`lintas.store.schema.translation_memory`.

A database may hold ``translation_memory`` already and no ``alembic_version``: a translation memory's own
database, made by versions of Lintas that created the table with ``create_all``, which the memory now migrates
when it opens it. Its table (the same columns and indexes) is then kept as it is, rows and all.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _time(name: str, *, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "articles",
        sa.Column("id", sa.String(200), nullable=False),
        sa.Column("source_lang", sa.String(16), nullable=False),
        sa.Column("current_revision", sa.Integer, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("published", sa.Boolean, nullable=False, server_default=sa.true()),
        _time("created_at"),
        _time("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_articles"),
    )
    op.create_table(
        "article_revisions",
        sa.Column("article_id", sa.String(200), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("article_json", sa.Text, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        _time("created_at"),
        sa.PrimaryKeyConstraint("article_id", "revision", name="pk_article_revisions"),
        sa.ForeignKeyConstraint(["article_id"], ["articles.id"], name="fk_article_revisions_article_id_articles"),
    )
    op.create_table(
        "editions",
        sa.Column("article_id", sa.String(200), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("target_lang", sa.String(16), nullable=False),
        sa.Column("edition_json", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
        _time("created_at"),
        sa.PrimaryKeyConstraint("article_id", "revision", "target_lang", name="pk_editions"),
        sa.ForeignKeyConstraint(
            ["article_id", "revision"],
            ["article_revisions.article_id", "article_revisions.revision"],
            name="fk_editions_article_id_article_revisions",
        ),
        sa.CheckConstraint("status IN ('published', 'held')", name="ck_editions_status"),
    )
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("article_id", sa.String(200), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("target_lang", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("max_attempts", sa.Integer, nullable=False),
        sa.Column("lease_owner", sa.String(200), nullable=True),
        _time("lease_expires_at", nullable=True),
        _time("next_run_at"),
        sa.Column("last_error", sa.Text, nullable=True),
        _time("created_at"),
        _time("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_jobs"),
        sa.UniqueConstraint("article_id", "revision", "target_lang", name="uq_jobs_article_id_revision_target_lang"),
        sa.ForeignKeyConstraint(
            ["article_id", "revision"],
            ["article_revisions.article_id", "article_revisions.revision"],
            name="fk_jobs_article_id_article_revisions",
        ),
        sa.CheckConstraint("state IN ('queued', 'running', 'done', 'failed')", name="ck_jobs_state"),
    )
    op.create_index("ix_jobs_state_next_run_at", "jobs", ["state", "next_run_at"])
    op.create_index("ix_jobs_state_lease_expires_at", "jobs", ["state", "lease_expires_at"])
    op.create_table(
        "segment_cache",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("flags_json", sa.Text, nullable=False),
        _time("created_at"),
        sa.PrimaryKeyConstraint("key", name="pk_segment_cache"),
    )
    if sa.inspect(op.get_bind()).has_table("translation_memory"):
        return  # made by create_all before the memory was migrated (see the module's docstring)
    op.create_table(
        "translation_memory",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("source_lang", sa.String(16), nullable=False),
        sa.Column("target_lang", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("kind_class", sa.String(8), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("source_hash", sa.String(64), nullable=False),
        sa.Column("plain_len", sa.Integer, nullable=False),
        sa.Column("context_hash", sa.String(64), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("author", sa.String(200), nullable=True),
        _time("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_translation_memory"),
    )
    op.create_index(
        "ix_translation_memory_source_hash_source_lang_target_lang",
        "translation_memory",
        ["source_hash", "source_lang", "target_lang"],
    )
    op.create_index(
        "ix_translation_memory_source_lang_target_lang_plain_len",
        "translation_memory",
        ["source_lang", "target_lang", "plain_len"],
    )


def downgrade() -> None:
    op.drop_table("translation_memory")
    op.drop_table("segment_cache")
    op.drop_table("jobs")
    op.drop_table("editions")
    op.drop_table("article_revisions")
    op.drop_table("articles")
