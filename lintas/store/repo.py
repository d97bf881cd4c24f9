"""Articles, their revisions, editions and the segment cache, stored through SQLAlchemy Core.

Every function takes a :data:`~lintas.store.db.Bind` (an engine, a connection or a session; see
:func:`lintas.store.db.transaction`) and makes all its changes in one transaction, so a failure never leaves
half-written rows.

Revisions: :func:`upsert_article` compares the sha256 of the article's canonical JSON (its ``revision`` field
left out: the store numbers revisions itself) with the current revision's. Same content: nothing new. Changed
content: revision + 1, stored next to the earlier ones (which stay readable), and one translation job per target
language. The stored article JSON carries the revision number it was stored as.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Connection,
    Select,
    Table,
    and_,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from lintas.ingest.limits import check_translatable
from lintas.store.db import Bind, QuickReads, transaction, utcnow
from lintas.store.schema import article_revisions, articles, edition_changes, editions, jobs, segment_cache
from lintas.text.article import Article, Edition, Flag
from lintas.text.ids import check_article_id

__all__ = [
    "ArticleVersion",
    "article_version",
    "UpsertInsert",
    "EditionState",
    "DEFAULT_MAX_ATTEMPTS",
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
]

DEFAULT_MAX_ATTEMPTS = 5
_LANG_RE = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")
_UPSERT_TRIES = 3  # a concurrent first insert of the same id (PostgreSQL) is retried


@dataclass(frozen=True)
class ArticleInfo:
    """The bookkeeping row of an article (its content is :func:`get_article`'s)."""

    id: str
    source_lang: str
    current_revision: int
    content_hash: str
    published: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class RevisionInfo:
    revision: int
    content_hash: str
    created_at: datetime


# --- helpers -------------------------------------------------------------------------------------------------


def _canonical_json(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def content_hash(article: Article) -> str:
    """sha256 of the article's canonical JSON (sorted keys, no whitespace), its ``revision`` field left out.

    Fields at their default value are left out too, so that a new optional field does not change the hash of
    articles stored before it existed.
    """
    return _sha256(_canonical_json(article.model_dump(mode="json", exclude={"revision"}, exclude_defaults=True)))


UpsertInsert = postgresql.Insert | sqlite.Insert  # the dialects' INSERTs, which know ON CONFLICT


def insert_statement(conn: Connection, table: Table) -> UpsertInsert:
    """An INSERT that knows ``on_conflict_do_nothing/update`` on the connection's dialect."""
    name = conn.dialect.name
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"lintas.store supports SQLite and PostgreSQL, not {name}")


def _targets(article: Article, targets: Iterable[str]) -> list[str]:
    """Target languages, validated, stripped and deduplicated (first occurrence kept)."""
    if isinstance(targets, str):
        raise TypeError("targets must be a list of language codes, not a string")
    result: list[str] = []
    for target in targets:
        lang = target.strip()
        if not _LANG_RE.match(lang):
            raise ValueError(f"target language must be a code such as 'en' or 'zh-Hant', not {target!r}")
        if lang.lower() == article.source_lang.strip().lower():
            raise ValueError(f"target language {lang!r} is the article's source language")
        if lang not in result:
            result.append(lang)
    return result


def _enqueue(conn: Connection, article_id: str, revision: int, langs: Sequence[str], now: datetime) -> int:
    """Queue one job per language for this revision (existing ones are kept); returns how many were new."""
    if not langs:
        return 0
    rows = [
        {
            "article_id": article_id,
            "revision": revision,
            "target_lang": lang,
            "state": "queued",
            "attempts": 0,
            "max_attempts": DEFAULT_MAX_ATTEMPTS,
            "next_run_at": now,
            "created_at": now,
            "updated_at": now,
        }
        for lang in langs
    ]
    statement = (
        insert_statement(conn, jobs)
        .on_conflict_do_nothing(index_elements=["article_id", "revision", "target_lang"])
        .execution_options(preserve_rowcount=True)  # an INSERT's rowcount is kept only on request
    )
    added = 0
    for row in rows:  # one by one: rowcount of an executemany is not reliable everywhere
        added += conn.execute(statement, row).rowcount
    return added


def _supersede(conn: Connection, article_id: str, revision: int, langs: Sequence[str]) -> int:
    """Drop the still-queued jobs of older revisions in the languages ``revision`` queues (nobody reads those
    editions once the newer one exists, and a big old revision must not hold a worker); running jobs finish.
    Returns how many were dropped."""
    if not langs:
        return 0
    result = conn.execute(
        delete(jobs).where(
            jobs.c.article_id == article_id,
            jobs.c.revision < revision,
            jobs.c.target_lang.in_(list(langs)),
            jobs.c.state == "queued",
        )
    )
    return int(result.rowcount or 0)


# --- articles ------------------------------------------------------------------------------------------------


def upsert_article(bind: Bind, article: Article, targets: Sequence[str]) -> tuple[int, bool]:
    """Store ``article``; returns ``(revision, changed)``.

    * new id, or content different from the current revision: a new revision (1 for a new id) is stored and one
      job per target language is queued for it, superseding the jobs of older revisions in those languages that
      are still queued (they are dropped; running ones finish); returns ``(new_revision, True)``;
    * same content as the current revision: nothing new is stored, ``(current_revision, False)``; target
      languages that have no job for the current revision yet are still queued (a repeated request never
      queues a language twice).

    The article's ``revision`` field is ignored (not part of the content hash) and set to the stored revision.
    ``published`` is set on a new article and left as it is afterwards (see :func:`unpublish`).
    Raises ValueError for a malformed target language or one equal to the source language, InputError for an id
    outside the id grammar (:mod:`lintas.text.ids`: every way in checks it before, this is the last line) and for an
    article to translate beyond the limits of :mod:`lintas.ingest.limits` (segment length, segments, text).
    """
    check_article_id(article.id)
    langs = _targets(article, targets)
    if langs:
        check_translatable(article)  # before the transaction: a refused article holds no lock
    digest = content_hash(article)
    for attempt in range(_UPSERT_TRIES):
        inserting = False
        try:
            with transaction(bind) as conn:
                now = utcnow()
                current = conn.execute(
                    select(articles.c.current_revision, articles.c.content_hash)
                    .where(articles.c.id == article.id)
                    .with_for_update()
                ).first()
                if current is not None and current.content_hash == digest:
                    _enqueue(conn, article.id, current.current_revision, langs, now)
                    return current.current_revision, False
                if current is None:
                    revision = 1
                    inserting = True
                    conn.execute(
                        insert(articles).values(
                            id=article.id,
                            source_lang=article.source_lang,
                            current_revision=revision,
                            content_hash=digest,
                            published=True,
                            created_at=now,
                            updated_at=now,
                            section=article.section,
                            headline=article.headline,
                        )
                    )
                else:
                    revision = current.current_revision + 1
                    conn.execute(
                        update(articles)
                        .where(articles.c.id == article.id)
                        .values(
                            source_lang=article.source_lang,
                            current_revision=revision,
                            content_hash=digest,
                            updated_at=now,
                            section=article.section,
                            headline=article.headline,
                        )
                    )
                stored = article.model_copy(update={"revision": revision})
                conn.execute(
                    insert(article_revisions).values(
                        article_id=article.id,
                        revision=revision,
                        article_json=stored.model_dump_json(),
                        content_hash=digest,
                        created_at=now,
                    )
                )
                _enqueue(conn, article.id, revision, langs, now)
                _supersede(conn, article.id, revision, langs)
                return revision, True
        except IntegrityError:
            # Another transaction inserted the same new id first (PostgreSQL; SQLite writers are serialised):
            # try again, this time as an update of its row.
            if not inserting or attempt == _UPSERT_TRIES - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def get_article(bind: Bind, article_id: str, revision: int | None = None) -> Article | None:
    """The article as stored at ``revision`` (default: the current one), or None if there is none."""
    with transaction(bind, write=False) as conn:
        if revision is None:
            query = select(article_revisions.c.article_json).join(
                articles,
                and_(
                    articles.c.id == article_revisions.c.article_id,
                    articles.c.current_revision == article_revisions.c.revision,
                ),
            )
        else:
            query = select(article_revisions.c.article_json).where(article_revisions.c.revision == revision)
        text = conn.execute(query.where(article_revisions.c.article_id == article_id)).scalar_one_or_none()
    return None if text is None else Article.model_validate_json(text)


def article_info(bind: Bind, article_id: str) -> ArticleInfo | None:
    """The article's bookkeeping (current revision, hash, published flag, times), or None."""
    with transaction(bind, write=False) as conn:
        row = conn.execute(select(articles).where(articles.c.id == article_id)).first()
    if row is None:
        return None
    return ArticleInfo(
        id=row.id,
        source_lang=row.source_lang,
        current_revision=row.current_revision,
        content_hash=row.content_hash,
        published=bool(row.published),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


@dataclass(frozen=True)
class ArticleVersion:
    """A fingerprint of everything an article's API status shows: the article row (its current revision, its
    publication, its time), its jobs and editions (how many, the newest id, the newest change) and the newest
    desk change of its editions. Every write to those rows sets a new time or adds a row, so any change moves it;
    two changes of one article's jobs in the same microsecond by two processes would not, a window too small to
    matter for a status that is polled."""

    token: tuple[Any, ...]
    modified: datetime | None = None  # the status answer has no Last-Modified


@functools.cache
def _fingerprint() -> Select[Any]:
    # made once (building a statement with subqueries costs more than running it); every part is an index lookup
    article: BindParameter[str] = bindparam("article_id")
    a, j, e, c = articles, jobs, editions, edition_changes
    parts: list[ColumnElement[Any]] = [
        select(a.c.current_revision).where(a.c.id == article).scalar_subquery(),
        select(a.c.published).where(a.c.id == article).scalar_subquery(),
        select(a.c.updated_at).where(a.c.id == article).scalar_subquery(),
        select(func.count()).select_from(j).where(j.c.article_id == article).scalar_subquery(),
        select(func.max(j.c.id)).where(j.c.article_id == article).scalar_subquery(),
        select(func.max(j.c.updated_at)).where(j.c.article_id == article).scalar_subquery(),
        select(func.count()).select_from(e).where(e.c.article_id == article).scalar_subquery(),
        select(func.max(e.c.created_at)).where(e.c.article_id == article).scalar_subquery(),
        select(func.max(c.c.id)).where(c.c.article_id == article).scalar_subquery(),
    ]
    return select(*parts)


def article_version(bind: Bind | QuickReads, article_id: str) -> ArticleVersion:
    """The article's current :class:`ArticleVersion` (one statement of index lookups; a server reads it with
    :class:`~lintas.store.db.QuickReads` on every status request)."""
    if isinstance(bind, QuickReads):
        row = bind.first(_fingerprint(), {"article_id": article_id})
    else:
        with transaction(bind, write=False) as conn:
            row = conn.execute(_fingerprint(), {"article_id": article_id}).first()
    assert row is not None  # a SELECT of scalar subqueries has one row
    return ArticleVersion(tuple(row))


def list_revisions(bind: Bind, article_id: str) -> list[RevisionInfo]:
    """Every stored revision of the article, oldest first (empty for an unknown id)."""
    r = article_revisions
    with transaction(bind, write=False) as conn:
        rows = conn.execute(
            select(r.c.revision, r.c.content_hash, r.c.created_at)
            .where(r.c.article_id == article_id)
            .order_by(r.c.revision)
        ).all()
    return [RevisionInfo(row.revision, row.content_hash, row.created_at) for row in rows]


def unpublish(bind: Bind, article_id: str) -> bool:
    """Mark the article unpublished (its revisions and editions stay); False for an unknown id."""
    with transaction(bind) as conn:
        result = conn.execute(
            update(articles).where(articles.c.id == article_id).values(published=False, updated_at=utcnow())
        )
    return result.rowcount == 1


# --- editions ------------------------------------------------------------------------------------------------


def insert_edition(conn: Connection, edition: Edition, revision: int) -> bool:
    stored = edition if edition.revision == revision else edition.model_copy(update={"revision": revision})
    statement = (
        insert_statement(conn, editions)
        .values(
            article_id=edition.id,
            revision=revision,
            target_lang=edition.target_lang,
            edition_json=stored.model_dump_json(),
            status=edition.status,
            confidence=float(edition.confidence),
            created_at=utcnow(),
            headline=edition.headline,
        )
        .on_conflict_do_nothing(index_elements=["article_id", "revision", "target_lang"])
        .execution_options(preserve_rowcount=True)
    )
    return conn.execute(statement).rowcount == 1


def save_edition(bind: Bind, edition: Edition, revision: int) -> bool:
    """Store the edition of article revision ``revision``; True if stored, False if that revision already has
    an edition in ``edition.target_lang`` (which is kept: an edition is written once).

    The stored JSON's ``revision`` field is set to ``revision``. The article revision must exist
    (IntegrityError otherwise).
    """
    with transaction(bind) as conn:
        return insert_edition(conn, edition, revision)


def get_edition(bind: Bind, article_id: str, lang: str, revision: int | None = None) -> Edition | None:
    """The edition in ``lang`` of ``revision``, by default of the newest revision that has one; or None."""
    e = editions
    query = select(e.c.edition_json).where(e.c.article_id == article_id, e.c.target_lang == lang)
    if revision is not None:
        query = query.where(e.c.revision == revision)
    with transaction(bind, write=False) as conn:
        text = conn.execute(query.order_by(e.c.revision.desc()).limit(1)).scalar_one_or_none()
    return None if text is None else Edition.model_validate_json(text)


class EditionState(TypedDict):
    """Where a language's translation of an article stands (:func:`edition_statuses`)."""

    revision: int
    job_revision: int | None
    job_state: str | None
    attempts: int | None
    max_attempts: int | None
    next_run_at: datetime | None
    last_error: str | None
    edition_revision: int | None
    edition_status: str | None
    confidence: float | None
    edition_created_at: datetime | None
    up_to_date: bool


def edition_statuses(bind: Bind, article_id: str) -> dict[str, EditionState]:
    """Per target language, where its translation stands (empty for an unknown article).

    Each value has ``revision`` (the article's current revision); from the newest job of that language:
    ``job_revision``, ``job_state`` (queued/running/done/failed), ``attempts``, ``max_attempts``,
    ``next_run_at``, ``last_error`` (set by failures, kept until the job is done); from its newest edition:
    ``edition_revision``, ``edition_status`` (published/held), ``confidence``, ``edition_created_at``; and
    ``up_to_date`` (the newest edition is of the current revision). Missing parts are None.
    """
    with transaction(bind, write=False) as conn:
        current = conn.execute(
            select(articles.c.current_revision).where(articles.c.id == article_id)
        ).scalar_one_or_none()
        if current is None:
            return {}
        job_rows = conn.execute(
            select(jobs).where(jobs.c.article_id == article_id).order_by(jobs.c.target_lang, jobs.c.revision)
        ).all()
        edition_rows = conn.execute(
            select(
                editions.c.target_lang,
                editions.c.revision,
                editions.c.status,
                editions.c.confidence,
                editions.c.created_at,
            )
            .where(editions.c.article_id == article_id)
            .order_by(editions.c.target_lang, editions.c.revision)
        ).all()
    newest_job = {row.target_lang: row for row in job_rows}  # ordered by revision: the last one wins
    newest_edition = {row.target_lang: row for row in edition_rows}
    result: dict[str, EditionState] = {}
    for lang in sorted(newest_job.keys() | newest_edition.keys()):
        job = newest_job.get(lang)
        edition = newest_edition.get(lang)
        result[lang] = {
            "revision": current,
            "job_revision": job.revision if job else None,
            "job_state": job.state if job else None,
            "attempts": job.attempts if job else None,
            "max_attempts": job.max_attempts if job else None,
            "next_run_at": job.next_run_at if job else None,
            "last_error": job.last_error if job else None,
            "edition_revision": edition.revision if edition else None,
            "edition_status": edition.status if edition else None,
            "confidence": edition.confidence if edition else None,
            "edition_created_at": edition.created_at if edition else None,
            "up_to_date": edition is not None and edition.revision == current,
        }
    return result


# --- segment cache -------------------------------------------------------------------------------------------


def cache_key(source: str, context: str, engine_name: str, model: str, signature: str, target_lang: str) -> str:
    """sha256 (hex) of the segment, its context, the engine, model, prompt signature and target language."""
    return _sha256(_canonical_json([source, context, engine_name, model, signature, target_lang]))


def cache_put(bind: Bind, key: str, target: str, flags: Sequence[Flag | dict[str, Any]] = ()) -> None:
    """Remember ``target`` (and the flags its checks raised) under ``key``; replaces an earlier entry."""
    flags_json = _canonical_json([Flag.model_validate(flag).model_dump(mode="json") for flag in flags])
    with transaction(bind) as conn:
        statement = insert_statement(conn, segment_cache).values(
            key=key, target=target, flags_json=flags_json, created_at=utcnow()
        )
        statement = statement.on_conflict_do_update(
            index_elements=["key"],
            set_={
                "target": statement.excluded.target,
                "flags_json": statement.excluded.flags_json,
                "created_at": statement.excluded.created_at,
            },
        )
        conn.execute(statement)


def cache_get(bind: Bind, key: str) -> tuple[str, list[Flag]] | None:
    """The cached translation and flags for ``key``, or None."""
    with transaction(bind, write=False) as conn:
        row = conn.execute(
            select(segment_cache.c.target, segment_cache.c.flags_json).where(segment_cache.c.key == key)
        ).first()
    if row is None:
        return None
    return row.target, [Flag.model_validate(flag) for flag in json.loads(row.flags_json)]
