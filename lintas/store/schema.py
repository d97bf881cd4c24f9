"""The tables of the store (SQLAlchemy 2 Core), on one :data:`metadata`.

Every time column is :class:`UTCDateTime`: timezone-aware UTC in, timezone-aware UTC out, whatever the backend
(SQLite keeps no zone, so values are converted to UTC before they are written and read back as UTC).

The translation memory's table (:data:`translation_memory`, used by :mod:`lintas.store.memory`) is one of them:
the migrations create it like the others, so one database can hold everything, and a database of its own for
the memory is migrated the same way.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    true,
)

__all__ = [
    "metadata",
    "UTCDateTime",
    "articles",
    "article_revisions",
    "editions",
    "jobs",
    "segment_cache",
    "api_keys",
    "webhook_receipts",
    "feed_sources",
    "feed_items",
    "deliveries",
    "users",
    "sessions",
    "edition_changes",
    "site_changes",
    "glossary_terms",
    "translation_memory",
    "ROLES",
    "DELIVERY_STATES",
    "JOB_STATES",
    "EDITION_STATUSES",
]

JOB_STATES: tuple[str, ...] = ("queued", "running", "done", "failed")
EDITION_STATUSES: tuple[str, ...] = ("published", "held")
ROLES: tuple[str, ...] = ("read", "ingest", "editor", "admin")  # each includes the ones before it
DELIVERY_STATES: tuple[str, ...] = ("pending", "delivered", "failed")

_ID = 200  # Article.id max_length
_LANG = 16
_HASH = 64  # sha256, hex


class UTCDateTime(TypeDecorator[datetime]):
    """``DateTime(timezone=True)`` that only takes aware datetimes and always gives back aware UTC ones."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the store only takes timezone-aware times")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

articles = Table(
    "articles",
    metadata,
    Column("id", String(_ID), nullable=False),  # the newsroom's own id
    Column("source_lang", String(_LANG), nullable=False),
    Column("current_revision", Integer, nullable=False),
    Column("content_hash", String(_HASH), nullable=False),  # of the current revision
    Column("published", Boolean, nullable=False, server_default=true()),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("section", String(100), nullable=True),  # of the current revision (0002): public URLs
    Column("headline", Text, nullable=True),  # of the current revision (0002): public URLs, feeds, sitemap
    PrimaryKeyConstraint("id"),
)

article_revisions = Table(
    "article_revisions",
    metadata,
    Column("article_id", String(_ID), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("article_json", Text, nullable=False),  # Article.model_dump_json(), with ``revision`` set
    Column("content_hash", String(_HASH), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("article_id", "revision"),
    ForeignKeyConstraint(["article_id"], ["articles.id"]),
)

editions = Table(
    "editions",
    metadata,
    Column("article_id", String(_ID), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("target_lang", String(_LANG), nullable=False),
    Column("edition_json", Text, nullable=False),  # Edition.model_dump_json()
    Column("status", String(16), nullable=False),
    Column("confidence", Float, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("headline", Text, nullable=True),  # the translated headline (0002): public URLs, feeds, sitemap
    PrimaryKeyConstraint("article_id", "revision", "target_lang"),  # one edition per revision and language
    ForeignKeyConstraint(["article_id", "revision"], ["article_revisions.article_id", "article_revisions.revision"]),
    CheckConstraint("status IN ('published', 'held')", name="status"),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("article_id", String(_ID), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("target_lang", String(_LANG), nullable=False),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("max_attempts", Integer, nullable=False),
    Column("lease_owner", String(200), nullable=True),
    Column("lease_expires_at", UTCDateTime, nullable=True),
    Column("next_run_at", UTCDateTime, nullable=False),
    Column("last_error", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("article_id", "revision", "target_lang"),
    ForeignKeyConstraint(["article_id", "revision"], ["article_revisions.article_id", "article_revisions.revision"]),
    CheckConstraint("state IN ('queued', 'running', 'done', 'failed')", name="state"),
    Index(None, "state", "next_run_at"),
    Index(None, "state", "lease_expires_at"),
)

segment_cache = Table(
    "segment_cache",
    metadata,
    Column("key", String(_HASH), nullable=False),  # lintas.store.repo.cache_key()
    Column("target", Text, nullable=False),
    Column("flags_json", Text, nullable=False),  # a JSON list of Flag objects
    Column("created_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("key"),
)

# --- service: API keys, inbound webhooks, feeds, outbound webhooks (migration 0002) ---------------------------

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(32), nullable=False),  # the public part of a key: ``lintas_<id>_<secret>``
    Column("name", String(200), nullable=False),
    Column("role", String(16), nullable=False),
    Column("secret_hash", String(_HASH), nullable=False),  # sha256 of the secret (256 random bits)
    Column("rate_per_minute", Integer, nullable=True),  # None: the service's default
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
    Column("last_used_at", UTCDateTime, nullable=True),
    PrimaryKeyConstraint("id"),
    CheckConstraint("role IN ('read', 'ingest', 'editor', 'admin')", name="role"),
)

webhook_receipts = Table(  # replay protection of the CMS webhook: each delivery id is accepted once
    "webhook_receipts",
    metadata,
    Column("delivery_id", String(200), nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("delivery_id"),
    Index(None, "received_at"),
)

feed_sources = Table(  # ``lintas watch``: one row per feed URL, with its conditional-GET validators
    "feed_sources",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("url", String(2000), nullable=False),
    Column("etag", String(1000), nullable=True),
    Column("last_modified", String(200), nullable=True),
    Column("last_checked_at", UTCDateTime, nullable=True),
    Column("last_status", Integer, nullable=True),
    Column("last_error", Text, nullable=True),
    UniqueConstraint("url"),
)

feed_items = Table(  # GUIDs already taken from a feed
    "feed_items",
    metadata,
    Column("feed_id", Integer, nullable=False),
    Column("guid_hash", String(_HASH), nullable=False),  # sha256 of the GUID (GUIDs may be long URLs)
    Column("guid", Text, nullable=False),
    Column("article_id", String(_ID), nullable=True),  # None: the item could not be taken (see error)
    Column("error", Text, nullable=True),
    Column("seen_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("feed_id", "guid_hash"),
    ForeignKeyConstraint(["feed_id"], ["feed_sources.id"]),
)

deliveries = Table(  # the outbox of signed outbound webhooks, written in the edition's own transaction
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("url", String(2000), nullable=False),
    Column("event", String(64), nullable=False),  # e.g. edition.ready
    Column("event_key", String(400), nullable=False),  # article:revision:lang, one delivery per url and key
    Column("payload_json", Text, nullable=False),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("last_error", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime, nullable=True),
    UniqueConstraint("url", "event", "event_key"),
    CheckConstraint("state IN ('pending', 'delivered', 'failed')", name="state"),
    Index(None, "state", "next_attempt_at"),
)

# --- accounts: the editors' desk (migration 0003) -----------------------------------------------------------

users = Table(  # people who sign in to the desk; passwords are argon2id hashes (lintas.store.accounts)
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(100), nullable=False),  # lower case
    Column("display_name", String(200), nullable=True),
    Column("password_hash", String(255), nullable=False),  # argon2's PHC string, parameters included
    Column("role", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("disabled_at", UTCDateTime, nullable=True),
    Column("last_login_at", UTCDateTime, nullable=True),
    UniqueConstraint("username"),
    CheckConstraint("role IN ('read', 'ingest', 'editor', 'admin')", name="role"),
)

sessions = Table(  # signed-in browsers: only sha256 of the cookie's token is stored
    "sessions",
    metadata,
    Column("id", String(_HASH), nullable=False),  # sha256 of the session token, hex
    Column("user_id", Integer, nullable=False),
    Column("csrf_token", String(64), nullable=False),  # what the session's forms must send back
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),  # slides forward with use (lintas.store.accounts)
    Column("last_seen_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("id"),
    ForeignKeyConstraint(["user_id"], ["users.id"]),
    Index(None, "expires_at"),
    Index(None, "user_id"),
)

# --- the editors' desk: what editors changed, and the glossary they keep (migration 0004) -------------------

edition_changes = Table(  # the audit trail of an edition: corrections, approvals, holds, re-translations
    "edition_changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("article_id", String(_ID), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("target_lang", String(_LANG), nullable=False),
    Column("action", String(32), nullable=False),  # correct, approve, hold, retranslate
    Column("segment_id", String(100), nullable=True),  # correct / retranslate of one segment
    Column("before", Text, nullable=True),
    Column("after", Text, nullable=True),
    Column("author", String(100), nullable=False),  # the desk user's username
    Column("note", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    ForeignKeyConstraint(
        ["article_id", "revision", "target_lang"],
        ["editions.article_id", "editions.revision", "editions.target_lang"],
    ),
    Index(None, "article_id", "target_lang"),
    Index(None, "created_at"),
)

site_changes = Table(  # one row, moved by triggers on every change readers can see (migration 0005)
    "site_changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("changes", BigInteger, nullable=False),  # inserts and updates of articles, editions, edition changes
    Column("modified", UTCDateTime, nullable=True),  # the newest of their times
)

glossary_terms = Table(  # terms editors add or change in the desk, on top of the starter glossary and files
    "glossary_terms",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(300), nullable=False),  # the Indonesian term, as written
    Column("term_json", Text, nullable=False),  # the whole lintas.text.glossary.Term as JSON
    Column("updated_by", String(100), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("deleted_at", UTCDateTime, nullable=True),  # a removed term stays for the audit
    UniqueConstraint("source"),
)


translation_memory = Table(
    "translation_memory",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source_lang", String(_LANG), nullable=False),
    Column("target_lang", String(_LANG), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("kind_class", String(8), nullable=False),  # "headline" | "body"
    Column("source", Text, nullable=False),  # as given (tagged)
    Column("target", Text, nullable=False),  # as given (tagged)
    Column("source_hash", String(_HASH), nullable=False),  # sha256 of the normalised source
    Column("plain_len", Integer, nullable=False),  # length of the fuzzy-matching form of the source
    Column("context_hash", String(_HASH), nullable=False),  # sha256 of the normalised context; "" for none
    Column("origin", String(16), nullable=False),
    Column("author", String(200), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "source_hash", "source_lang", "target_lang"),
    Index(None, "source_lang", "target_lang", "plain_len"),
)
