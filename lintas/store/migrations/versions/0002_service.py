"""Service tables: headline and section columns for public URLs, API keys, CMS-webhook receipts, watched feeds and their items, the outbound-webhook outbox.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _time(name: str, *, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.add_column("articles", sa.Column("section", sa.String(100), nullable=True))
    op.add_column("articles", sa.Column("headline", sa.Text, nullable=True))
    op.add_column("editions", sa.Column("headline", sa.Text, nullable=True))
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("rate_per_minute", sa.Integer, nullable=True),
        _time("created_at"),
        _time("revoked_at", nullable=True),
        _time("last_used_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
        sa.CheckConstraint("role IN ('read', 'ingest', 'editor', 'admin')", name="ck_api_keys_role"),
    )
    op.create_table(
        "webhook_receipts",
        sa.Column("delivery_id", sa.String(200), nullable=False),
        _time("received_at"),
        sa.PrimaryKeyConstraint("delivery_id", name="pk_webhook_receipts"),
    )
    op.create_index("ix_webhook_receipts_received_at", "webhook_receipts", ["received_at"])
    op.create_table(
        "feed_sources",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("etag", sa.String(1000), nullable=True),
        sa.Column("last_modified", sa.String(200), nullable=True),
        _time("last_checked_at", nullable=True),
        sa.Column("last_status", sa.Integer, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_feed_sources"),
        sa.UniqueConstraint("url", name="uq_feed_sources_url"),
    )
    op.create_table(
        "feed_items",
        sa.Column("feed_id", sa.Integer, nullable=False),
        sa.Column("guid_hash", sa.String(64), nullable=False),
        sa.Column("guid", sa.Text, nullable=False),
        sa.Column("article_id", sa.String(200), nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        _time("seen_at"),
        sa.PrimaryKeyConstraint("feed_id", "guid_hash", name="pk_feed_items"),
        sa.ForeignKeyConstraint(["feed_id"], ["feed_sources.id"], name="fk_feed_items_feed_id_feed_sources"),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("event", sa.String(64), nullable=False),
        sa.Column("event_key", sa.String(400), nullable=False),
        sa.Column("payload_json", sa.Text, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        _time("next_attempt_at"),
        sa.Column("last_error", sa.Text, nullable=True),
        _time("created_at"),
        _time("delivered_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_deliveries"),
        sa.UniqueConstraint("url", "event", "event_key", name="uq_deliveries_url_event_event_key"),
        sa.CheckConstraint("state IN ('pending', 'delivered', 'failed')", name="ck_deliveries_state"),
    )
    op.create_index("ix_deliveries_state_next_attempt_at", "deliveries", ["state", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_deliveries_state_next_attempt_at", "deliveries")
    op.drop_table("deliveries")
    op.drop_table("feed_items")
    op.drop_table("feed_sources")
    op.drop_index("ix_webhook_receipts_received_at", "webhook_receipts")
    op.drop_table("webhook_receipts")
    op.drop_table("api_keys")
    with op.batch_alter_table("editions") as batch:
        batch.drop_column("headline")
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("headline")
        batch.drop_column("section")
