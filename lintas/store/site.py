"""What readers may see: published articles and their published editions (public pages, feeds, sitemap).

An edition is public when its article is published (not unpublished) and its ``status`` is ``published``; held
editions wait for an editor. The public edition of a language is the newest public one, so a held correction of a
newer revision leaves the previous revision's edition online until it is approved.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, Connection, Select, and_, bindparam, func, select

from lintas.store.db import Bind, QuickReads, transaction
from lintas.store.schema import article_revisions, articles, editions, site_changes
from lintas.text.article import Article, Edition

__all__ = [
    "newest_editions",
    "Listing",
    "PublicArticle",
    "public_article",
    "public_edition",
    "latest",
    "sitemap_page",
    "count_public",
    "SiteVersion",
    "version",
]


@dataclass(frozen=True)
class PublicArticle:
    """A published article as the public site knows it: where it lives and in which languages."""

    id: str
    section: str | None
    headline: str | None  # the Indonesian headline of the current revision
    updated_at: datetime
    headlines: dict[str, str | None] = field(default_factory=dict)  # lang -> public edition's headline


@dataclass(frozen=True)
class Listing:
    """One entry of a feed: the article's id, the public edition (or the Indonesian article) and its time."""

    article_id: str
    section: str | None
    item: Article  # an Edition for a target language
    updated_at: datetime


def newest_editions(
    lang: str | None = None,
    *,
    published_only: bool = True,
    article_ids: Sequence[str] | BindParameter[Any] | None = None,
    columns: Sequence[ColumnElement[Any]] = (),
) -> Select[Any]:
    """A SELECT of the newest edition row per article and language (of the published ones by default), in
    ``lang`` and among ``article_ids`` when given (filtered before grouping, not after); only ``columns`` of it
    when given (the whole row otherwise, its edition JSON included)."""
    e = editions
    query = select(e.c.article_id, e.c.target_lang, func.max(e.c.revision).label("revision"))
    if published_only:
        query = query.where(e.c.status == "published")
    if lang is not None:
        query = query.where(e.c.target_lang == lang)
    if article_ids is not None:
        query = query.where(e.c.article_id.in_(article_ids))
    newest = query.group_by(e.c.article_id, e.c.target_lang).subquery()
    on = and_(
        e.c.article_id == newest.c.article_id,
        e.c.target_lang == newest.c.target_lang,
        e.c.revision == newest.c.revision,
    )
    return (select(*columns) if columns else select(e)).select_from(e).join(newest, on)


@functools.cache
def _headlines_query() -> Select[Any]:
    # made once: building a statement with a subquery costs more than running it (SQLAlchemy makes its columns)
    e = editions
    ids: BindParameter[Any] = bindparam("article_ids", expanding=True)
    return newest_editions(article_ids=ids, columns=(e.c.article_id, e.c.target_lang, e.c.headline))


def _headlines(conn: Connection, article_ids: list[str]) -> dict[str, dict[str, str | None]]:
    if not article_ids:
        return {}
    rows = conn.execute(_headlines_query(), {"article_ids": article_ids})
    out: dict[str, dict[str, str | None]] = {article_id: {} for article_id in article_ids}
    for row in rows:
        out[row.article_id][row.target_lang] = row.headline
    return out


def public_article(bind: Bind, article_id: str) -> PublicArticle | bool | None:
    """The article's public facts; None for an unknown id, False for an unpublished one."""
    a = articles
    with transaction(bind, write=False) as conn:
        row = conn.execute(
            select(a.c.id, a.c.section, a.c.headline, a.c.updated_at, a.c.published).where(a.c.id == article_id)
        ).first()
        if row is None:
            return None
        if not row.published:
            return False
        headlines = _headlines(conn, [row.id])[row.id]
    return PublicArticle(row.id, row.section, row.headline, row.updated_at, headlines)


def public_edition(bind: Bind, article_id: str, lang: str) -> Edition | None:
    """The newest published edition of the article in ``lang`` (the article's publication is not checked)."""
    e = editions
    query = (
        select(e.c.edition_json)
        .where(e.c.article_id == article_id, e.c.target_lang == lang, e.c.status == "published")
        .order_by(e.c.revision.desc())
        .limit(1)
    )
    with transaction(bind, write=False) as conn:
        text = conn.execute(query).scalar_one_or_none()
    return None if text is None else Edition.model_validate_json(text)


def latest(bind: Bind, lang: str, limit: int = 50) -> list[Listing]:
    """The ``limit`` newest public editions in ``lang`` (``"id"``: the newest published articles), newest first.

    Editions are ordered by when they were written (when they became available to readers), articles by their
    last update.
    """
    a, r = articles, article_revisions
    with transaction(bind, write=False) as conn:
        if lang == "id":
            rows = conn.execute(
                select(a.c.id, a.c.section, a.c.updated_at, r.c.article_json)
                .join(r, and_(r.c.article_id == a.c.id, r.c.revision == a.c.current_revision))
                .where(a.c.published.is_(True))
                .order_by(a.c.updated_at.desc(), a.c.id)
                .limit(limit)
            )
            return [
                Listing(row.id, row.section, Article.model_validate_json(row.article_json), row.updated_at)
                for row in rows
            ]
        newest = newest_editions(lang).subquery()
        rows = conn.execute(
            select(a.c.id, a.c.section, newest.c.created_at, newest.c.edition_json)
            .join(a, a.c.id == newest.c.article_id)
            .where(a.c.published.is_(True))
            .order_by(newest.c.created_at.desc(), a.c.id)
            .limit(limit)
        )
        return [
            Listing(row.id, row.section, Edition.model_validate_json(row.edition_json), row.created_at) for row in rows
        ]


def count_public(bind: Bind) -> int:
    """How many articles are published."""
    with transaction(bind, write=False) as conn:
        return int(conn.execute(select(func.count()).where(articles.c.published.is_(True))).scalar_one())


def sitemap_page(bind: Bind, page: int, size: int) -> list[PublicArticle]:
    """Page ``page`` (from 0) of the published articles, ``size`` a page, in id order, with their languages."""
    a = articles
    with transaction(bind, write=False) as conn:
        rows = conn.execute(
            select(a.c.id, a.c.section, a.c.headline, a.c.updated_at)
            .where(a.c.published.is_(True))
            .order_by(a.c.id)
            .offset(page * size)
            .limit(size)
        ).all()
        headlines = _headlines(conn, [row.id for row in rows])
    return [PublicArticle(row.id, row.section, row.headline, row.updated_at, headlines[row.id]) for row in rows]


# --- the version of what readers see ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SiteVersion:
    """A fingerprint of everything the public site is made from, and when it last changed.

    Every change readers can see moves it: an article stored, revised or unpublished, an edition stored or its
    status changed, and a desk correction, approval, hold or re-translation. Triggers on ``articles``,
    ``editions`` and ``edition_changes`` count them in the one row of ``site_changes`` (migration 0005), in the
    change's own transaction, so the caches of several ``lintas serve`` processes and the writes of ``lintas
    worker`` agree, and reading it does not grow with the archive.
    """

    token: tuple[Any, ...]
    modified: datetime | None  # the newest of those changes' times (None: an empty site)


_VERSION = select(site_changes.c.changes, site_changes.c.modified).where(site_changes.c.id == 1)


def version(bind: Bind | QuickReads) -> SiteVersion:
    """The site's current :class:`SiteVersion` (one primary-key lookup; a server reads it with
    :class:`~lintas.store.db.QuickReads` on every public request)."""
    if isinstance(bind, QuickReads):
        row = bind.first(_VERSION)
        assert row is not None, "site_changes has its one row from migration 0005 on"
    else:
        with transaction(bind, write=False) as conn:
            row = conn.execute(_VERSION).one()
    return SiteVersion((row.changes,), row.modified)  # UTCDateTime: aware, in UTC
