"""Storage and the durable job queue: articles and their revisions, editions, translation jobs, the segment cache.

SQLite (WAL, one writer at a time) or PostgreSQL, through SQLAlchemy 2 Core; the schema is created and migrated
by Alembic (:func:`upgrade`). Nothing here knows about HTTP or workers' processes.

* :mod:`lintas.store.db`: :func:`make_engine`, :func:`upgrade`, :func:`transaction`
* :mod:`lintas.store.schema`: the tables
* :mod:`lintas.store.repo`: articles, revisions, editions, the segment cache
* :mod:`lintas.store.queue`: :func:`claim`, :func:`renew`, :func:`complete`, :func:`fail`, :func:`counts`
* :mod:`lintas.store.keys`: API keys (:func:`create_key`, :func:`verify_key`, :func:`list_keys`, :func:`revoke_key`)
* :mod:`lintas.store.receipts`: inbound webhooks' delivery ids (:func:`claim_delivery`)
"""

from __future__ import annotations

from lintas.store.db import Bind, make_engine, transaction, upgrade
from lintas.store.keys import KeyInfo, create_key, list_keys, revoke_key, role_allows, verify_key
from lintas.store.queue import Job, claim, complete, counts, fail, next_due, renew
from lintas.store.receipts import claim_delivery, prune_receipts
from lintas.store.repo import (
    ArticleInfo,
    RevisionInfo,
    article_info,
    cache_get,
    cache_key,
    cache_put,
    content_hash,
    edition_statuses,
    get_article,
    get_edition,
    list_revisions,
    save_edition,
    unpublish,
    upsert_article,
)

__all__ = [
    "Bind",
    "make_engine",
    "upgrade",
    "transaction",
    "Job",
    "claim",
    "renew",
    "complete",
    "fail",
    "counts",
    "next_due",
    "ArticleInfo",
    "RevisionInfo",
    "content_hash",
    "upsert_article",
    "get_article",
    "article_info",
    "list_revisions",
    "unpublish",
    "save_edition",
    "get_edition",
    "edition_statuses",
    "cache_key",
    "cache_get",
    "cache_put",
    "KeyInfo",
    "create_key",
    "verify_key",
    "list_keys",
    "revoke_key",
    "role_allows",
    "claim_delivery",
    "prune_receipts",
]
