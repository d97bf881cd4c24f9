"""The editors' desk in the store: the desk's list, corrections, approve / hold per language, the audit trail.

Every change rewrites the newest edition row of its language in place (``edition_json``, ``headline``,
``confidence``, ``status``) and adds an ``edition_changes`` row in the same transaction; a change to a public
edition also enqueues its ``edition.ready`` webhooks there (a new event key per change, so it is not
deduplicated away). Whole-article unpublish is :func:`lintas.store.repo.unpublish`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Select, exists, insert, select, update

from lintas.newsroom.notify import EVENT, NotifyConfig, edition_event
from lintas.pipeline.correct import correct
from lintas.store import outbox
from lintas.store.db import AnyRow, Bind, transaction, utcnow
from lintas.store.memory import TranslationMemory
from lintas.store.schema import article_revisions, articles, edition_changes, editions
from lintas.store.site import newest_editions
from lintas.text.article import Article, Edition, EditionStatus
from lintas.text.assemble import split_article
from lintas.text.textsafe import clean_chars

if TYPE_CHECKING:
    from lintas.engines.base import Engine
    from lintas.pipeline.translate import Options

__all__ = [
    "EditionSummary",
    "DeskRow",
    "Change",
    "desk_rows",
    "desk_edition",
    "apply_correction",
    "set_status",
    "edition_changes_for",
]

_SCAN = 200  # articles read per query while filtering on flags


@dataclass
class EditionSummary:
    """The newest edition of one language, as the desk lists it.

    ``flags``: warning and critical findings (repaired ones included); ``critical``: unrepaired critical ones.
    """

    revision: int
    status: str
    confidence: float
    flags: int
    critical: int
    created_at: datetime


@dataclass
class DeskRow:
    article_id: str
    headline: str | None  # the Indonesian headline
    section: str | None
    updated_at: datetime
    published: bool
    editions: dict[str, EditionSummary]  # lang -> newest edition


@dataclass
class Change:
    """One row of the audit trail (``edition_changes``)."""

    id: int
    article_id: str
    revision: int
    target_lang: str
    action: str  # correct, approve, hold, retranslate
    segment_id: str | None
    before: str | None
    after: str | None
    author: str
    note: str | None
    created_at: datetime


# --- the desk's list -----------------------------------------------------------------------------------------


def _summary(row: AnyRow) -> EditionSummary:
    edition = Edition.model_validate_json(row.edition_json)
    found = [f for s in edition.segments for f in s.flags if f.severity != "info"]
    critical = sum(1 for f in found if f.severity == "critical" and not f.repaired)
    return EditionSummary(row.revision, row.status, float(row.confidence), len(found), critical, row.created_at)


def _article_query(status: str | None, lang: str | None, since: datetime | None) -> Select[*tuple[Any, ...]]:
    a = articles
    query = select(a.c.id, a.c.headline, a.c.section, a.c.updated_at, a.c.published)
    if lang is not None or status is not None:
        newest = newest_editions(lang, published_only=False).where(editions.c.article_id == a.c.id)
        if status is not None:
            newest = newest.where(editions.c.status == status)
        query = query.where(exists(newest))
    if since is not None:
        query = query.where(a.c.updated_at >= since)
    return query.order_by(a.c.updated_at.desc(), a.c.id)


def desk_rows(
    bind: Bind,
    *,
    status: str | None = None,
    flagged: bool | None = None,
    lang: str | None = None,
    since: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[DeskRow]:
    """Articles newest first (``updated_at``), each with its newest edition per language (only ``lang``'s when
    given). Filters: ``status`` (held/published: a newest edition in that status, in ``lang`` if given),
    ``flagged`` (True: an edition with a warning or critical finding; False: none), ``since`` (updated at or
    after). ``flagged`` is filtered after reading the editions' JSON."""
    query = _article_query(status, lang, since)
    out: list[DeskRow] = []
    skip, start = (offset, 0) if flagged is not None else (0, offset)
    with transaction(bind, write=False) as conn:
        while len(out) < limit:
            size = _SCAN if flagged is not None else limit
            rows = conn.execute(query.offset(start).limit(size)).all()
            for row in _rows(conn, rows, lang):
                if flagged is not None and any(s.flags for s in row.editions.values()) != flagged:
                    continue
                if skip:
                    skip -= 1
                    continue
                out.append(row)
            if len(rows) < size or flagged is None:
                break
            start += size
    return out[:limit]


def _rows(conn: Connection, rows: Sequence[AnyRow], lang: str | None) -> list[DeskRow]:
    if not rows:
        return []
    found = conn.execute(newest_editions(lang, published_only=False, article_ids=[r.id for r in rows])).all()
    per_article: dict[str, dict[str, EditionSummary]] = {r.id: {} for r in rows}
    for edition in sorted(found, key=lambda e: e.target_lang):
        per_article[edition.article_id][edition.target_lang] = _summary(edition)
    return [DeskRow(r.id, r.headline, r.section, r.updated_at, bool(r.published), per_article[r.id]) for r in rows]


def desk_edition(bind: Bind, article_id: str, lang: str) -> Edition | None:
    """The newest edition of the article in ``lang``, whatever its status; None when there is none."""
    with transaction(bind, write=False) as conn:
        row = _edition_row(conn, article_id, lang, lock=False)
    return None if row is None else Edition.model_validate_json(row.edition_json)


# --- changes -------------------------------------------------------------------------------------------------


def _edition_row(conn: Connection, article_id: str, lang: str, *, lock: bool) -> AnyRow | None:
    e = editions
    query = (
        select(e.c.revision, e.c.edition_json, e.c.status)
        .where(e.c.article_id == article_id, e.c.target_lang == lang)
        .order_by(e.c.revision.desc())
        .limit(1)
    )
    return conn.execute(query.with_for_update() if lock else query).first()


def _locked(conn: Connection, article_id: str, lang: str) -> tuple[int, Edition]:
    row = _edition_row(conn, article_id, lang, lock=True)
    if row is None:
        raise LookupError(f"article {article_id!r} has no edition in {lang!r}")
    return row.revision, Edition.model_validate_json(row.edition_json)


def _source(conn: Connection, article_id: str, revision: int) -> Article | None:
    r = article_revisions
    text = conn.execute(
        select(r.c.article_json).where(r.c.article_id == article_id, r.c.revision == revision)
    ).scalar_one_or_none()
    return None if text is None else Article.model_validate_json(text)


def _save(conn: Connection, edition: Edition, revision: int) -> None:
    e = editions
    conn.execute(
        update(e)
        .where(e.c.article_id == edition.id, e.c.revision == revision, e.c.target_lang == edition.target_lang)
        .values(
            edition_json=edition.model_dump_json(),
            headline=edition.headline,
            confidence=float(edition.confidence),
            status=edition.status,
        )
    )


def _audit(conn: Connection, edition: Edition, revision: int, action: str, author: str, **values: Any) -> int:
    result = conn.execute(
        insert(edition_changes).values(
            article_id=edition.id,
            revision=revision,
            target_lang=edition.target_lang,
            action=action,
            author=author,
            created_at=utcnow(),
            **values,
        )
    )
    key = result.inserted_primary_key  # Optional in SQLAlchemy's types; always set by a one-row INSERT
    if key is None:
        raise RuntimeError("the audit row was inserted without a primary key")
    return int(key[0])


def _announce(conn: Connection, notify: NotifyConfig | None, edition: Edition, revision: int, change: int) -> int:
    """Enqueue the edition's webhooks (a key of this change's own); returns how many were new."""
    if notify is None or not notify.urls:
        return 0
    section = conn.execute(select(articles.c.section).where(articles.c.id == edition.id)).scalar_one_or_none()
    payload = edition_event(edition, revision, section, notify.public_url)
    key = f"{edition.id}:{revision}:{edition.target_lang}:change:{change}"
    return outbox.enqueue(conn, notify.urls, EVENT, key, payload)


def apply_correction(
    bind: Bind,
    article_id: str,
    lang: str,
    segment_id: str,
    text: str,
    author: str,
    *,
    memory: TranslationMemory | None = None,
    notify: NotifyConfig | None = None,
) -> Edition:
    """Replace one segment of the newest edition in ``lang`` (see :func:`lintas.pipeline.correct.correct`), audited; a
    published edition's webhooks are enqueued; then ``memory`` learns the correction (origin ``corrected``).

    ``text`` is cleaned of the characters XML and HTML cannot carry (:mod:`lintas.text.textsafe`) first. Raises
    LookupError for an unknown article, edition or segment, ValueError for an empty text.
    """
    text = clean_chars(text)
    if not text.strip():
        raise ValueError("the correction is empty")
    with transaction(bind) as conn:
        revision, edition = _locked(conn, article_id, lang)
        old = next((s for s in edition.segments if s.id == segment_id), None)
        if old is None:
            raise LookupError(f"edition {article_id!r} ({lang}) has no segment {segment_id!r}")
        article = _source(conn, article_id, revision)
        new = correct(edition, segment_id, text, article=article)
        after = next(s for s in new.segments if s.id == segment_id)
        _save(conn, new, revision)
        change = _audit(
            conn, new, revision, "correct", author, segment_id=segment_id, before=old.target, after=after.target
        )
        if new.status == "published":
            _announce(conn, notify, new, revision, change)
    if memory is not None:
        context = _context(article, segment_id)
        source_lang = edition.source_lang
        memory.add(old.source, after.target, lang, source_lang=source_lang, kind=old.kind, context=context,
                   origin="corrected", author=author)  # fmt: skip
    return new


def _context(article: Article | None, segment_id: str) -> str:
    if article is None:
        return ""
    return next((u.segment.context for u in split_article(article) if u.segment.id == segment_id), "")


def set_status(
    bind: Bind,
    article_id: str,
    lang: str,
    status: EditionStatus,
    author: str,
    note: str | None = None,
    *,
    notify: NotifyConfig | None = None,
) -> Edition:
    """Approve (``published``: hold reasons cleared) or hold (a reason ``held by <author>: <note>`` added) the
    newest edition in ``lang``, audited. Approving, or holding a public edition, enqueues its webhooks.

    Raises LookupError for an unknown article or edition, ValueError for another status.
    """
    if status not in ("published", "held"):
        raise ValueError(f"status must be 'published' or 'held', not {status!r}")
    with transaction(bind) as conn:
        revision, edition = _locked(conn, article_id, lang)
        was_public = edition.status == "published"
        if status == "published":
            reasons: list[str] = []
        else:
            reasons = [*edition.hold_reasons, f"held by {author}" + (f": {note}" if note else "")]
        new = edition.model_copy(update={"status": status, "hold_reasons": reasons})
        _save(conn, new, revision)
        action = "approve" if status == "published" else "hold"
        change = _audit(conn, new, revision, action, author, note=note)
        if status == "published" or was_public:
            _announce(conn, notify, new, revision, change)
    return new


def edition_changes_for(bind: Bind, article_id: str, lang: str | None = None) -> list[Change]:
    """The article's audit trail (in ``lang`` only when given), newest first."""
    c = edition_changes
    query = select(c).where(c.c.article_id == article_id)
    if lang is not None:
        query = query.where(c.c.target_lang == lang)
    with transaction(bind, write=False) as conn:
        rows = conn.execute(query.order_by(c.c.created_at.desc(), c.c.id.desc())).all()
    return [
        Change(
            r.id,
            r.article_id,
            r.revision,
            r.target_lang,
            r.action,
            r.segment_id,
            r.before,
            r.after,
            r.author,
            r.note,
            r.created_at,
        )
        for r in rows
    ]


def retranslate(
    bind: Bind,
    article_id: str,
    lang: str,
    engine: Engine,
    author: str,
    *,
    segment_id: str | None = None,
    options: Options | None = None,
    notify: NotifyConfig | None = None,
) -> Edition:
    """Translate the newest edition in ``lang`` again with ``engine`` (a :class:`lintas.engines.Engine`), audited
    as ``retranslate`` with the engine in the note.

    * ``segment_id``: that segment only; its new translation goes in as a correction would (checked, the edition
      re-assembled), with origin ``engine``. Nothing goes to the translation memory: it is not a human's.
    * else the whole edition, from the source revision, through the pipeline (checks, retries, the hold policy:
      the new edition's status is the policy's).

    The engine runs outside any transaction (it may take a while); the edition is then replaced if it is still the
    newest. Raises LookupError for an unknown article, edition or segment.
    """
    from lintas.pipeline.translate import translate_article, translate_unit

    with transaction(bind, write=False) as conn:
        row = _edition_row(conn, article_id, lang, lock=False)
        if row is None:
            raise LookupError(f"article {article_id!r} has no {lang} edition")
        revision = int(row.revision)
        article = _source(conn, article_id, revision)
    if article is None:
        raise LookupError(f"article {article_id!r} has no revision {revision}")
    used = f"{engine.name} ({engine.model})"
    if segment_id is None:
        fresh = translate_article(article, [lang], engine, pivot="", options=options)[0].edition
        fresh = fresh.model_copy(update={"revision": revision})
    else:
        unit = next((u for u in split_article(article) if u.segment.id == segment_id), None)
        if unit is None:
            raise LookupError(f"edition {article_id!r} ({lang}) has no segment {segment_id!r}")
        glossary = options.glossary if options is not None else None
        text = translate_unit(unit, engine, article.source_lang, lang, glossary)
    with transaction(bind) as conn:
        current_revision, current = _locked(conn, article_id, lang)
        if current_revision != revision:
            raise LookupError(f"the {lang} edition of {article_id!r} changed meanwhile: open it again")
        if segment_id is None:
            new, before, after = fresh, current.headline, fresh.headline
        else:
            new = correct(current, segment_id, text, article=article)
            new.segments = [
                s.model_copy(update={"origin": "engine"}) if s.id == segment_id else s for s in new.segments
            ]
            before = next(s.target for s in current.segments if s.id == segment_id)
            after = next(s.target for s in new.segments if s.id == segment_id)
        _save(conn, new, revision)
        change = _audit(
            conn, new, revision, "retranslate", author, segment_id=segment_id, before=before, after=after, note=used
        )
        if new.status == "published" or current.status == "published":
            _announce(conn, notify, new, revision, change)
    return new
