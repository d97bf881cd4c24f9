"""Glossary terms kept in the database (table ``glossary_terms``): what editors add and change in the desk.

Each row holds one :class:`~lintas.text.glossary.Term` as JSON (the YAML entry format of
:func:`~lintas.text.glossary.term_to_mapping`), keyed by its ``source`` as written. Deleting a term is a soft delete
(``deleted_at``); saving it again brings it back. CSV import and export use the glossary's own CSV format
(:data:`lintas.text.glossary.CSV_COLUMNS`), so a file from ``lintas glossary export`` imports as it is.

:class:`DatabaseGlossary` is how translation sees these terms: the starter glossary and the ``LINTAS_GLOSSARY``
files with the database terms on top (a database term wins over a file term with the same source), refreshed
from the database at most every ``interval`` seconds, and only re-read when the table changed.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import replace
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.exc import SQLAlchemyError

from lintas.errors import InputError
from lintas.store.db import Bind, transaction, utcnow
from lintas.store.schema import glossary_terms
from lintas.text.glossary import (
    Glossary,
    Term,
    TermHit,
    fold,
    term_from_mapping,
    term_to_mapping,
    terms_from_csv,
    terms_to_csv,
)

__all__ = [
    "DatabaseGlossary",
    "with_database_terms",
    "term_to_json",
    "term_from_json",
    "list_terms",
    "get_term",
    "save_term",
    "delete_term",
    "import_csv",
    "export_csv",
    "MAX_AUTHOR",
    "MAX_SOURCE",
]

MAX_SOURCE = 300  # glossary_terms.source
MAX_AUTHOR = 100  # glossary_terms.updated_by
_log = logging.getLogger(__name__)


def term_to_json(term: Term) -> str:
    return json.dumps(term_to_mapping(term), ensure_ascii=False, sort_keys=True)


def term_from_json(text: str, where: str = "stored term") -> Term:
    try:
        entry = json.loads(text)
    except ValueError:
        raise InputError(f"{where}: not valid JSON") from None
    return term_from_mapping(entry, where)


def _matches(term: Term, needle: str) -> bool:
    texts = [term.source, *term.aliases, *(f for forms in term.forms.values() for f in forms)]
    return any(needle in fold(t) for t in texts)


def list_terms(bind: Bind, query: str | None = None) -> list[Term]:
    """The database's terms (not deleted), by source; ``query``: only those whose source, an alias or a form
    contains it (case- and accent-insensitive)."""
    with transaction(bind, write=False) as conn:
        rows = conn.execute(
            select(glossary_terms.c.source, glossary_terms.c.term_json)
            .where(glossary_terms.c.deleted_at.is_(None))
            .order_by(glossary_terms.c.source)
        ).all()
    terms = [term_from_json(row.term_json, f"stored term {row.source!r}") for row in rows]
    needle = fold(query or "")
    return [t for t in terms if _matches(t, needle)] if needle else terms


def get_term(bind: Bind, source: str) -> Term | None:
    """The (not deleted) term whose source is ``source`` exactly, or None."""
    with transaction(bind, write=False) as conn:
        row = conn.execute(
            select(glossary_terms.c.term_json).where(
                glossary_terms.c.source == source.strip(), glossary_terms.c.deleted_at.is_(None)
            )
        ).first()
    return term_from_json(row.term_json, f"stored term {source!r}") if row else None


def _check(term: Term, author: str) -> None:
    if not term.source.strip() or len(term.source) > MAX_SOURCE:
        raise InputError(f"the source must have 1 to {MAX_SOURCE} characters")
    if not author or len(author) > MAX_AUTHOR:
        raise InputError(f"the author must have 1 to {MAX_AUTHOR} characters")


def _upsert(conn: Connection, term: Term, author: str) -> None:
    values = {"term_json": term_to_json(term), "updated_by": author, "updated_at": utcnow(), "deleted_at": None}
    found = conn.execute(select(glossary_terms.c.id).where(glossary_terms.c.source == term.source)).first()
    if found is None:
        conn.execute(glossary_terms.insert().values(source=term.source, **values))
    else:
        conn.execute(glossary_terms.update().where(glossary_terms.c.id == found.id).values(**values))


def save_term(bind: Bind, term: Term, author: str) -> Term:
    """Insert ``term``, or replace the stored term with the same source (a deleted one comes back)."""
    _check(term, author)
    term_from_json(term_to_json(term), f"term {term.source!r}")  # the same checks as a file's terms
    with transaction(bind) as conn:
        _upsert(conn, term, author)
    return term


def delete_term(bind: Bind, source: str, author: str) -> bool:
    """Soft-delete the term with ``source``; False when there is none (or it is already deleted)."""
    now = utcnow()
    with transaction(bind) as conn:
        result = conn.execute(
            glossary_terms.update()
            .where(glossary_terms.c.source == source.strip(), glossary_terms.c.deleted_at.is_(None))
            .values(deleted_at=now, updated_at=now, updated_by=author[:MAX_AUTHOR])
        )
    return bool(result.rowcount)


def import_csv(bind: Bind, text: str, author: str) -> int:
    """Save every term of ``text`` (the glossary CSV format), all or nothing; returns how many.

    ValueError, naming the line, when the CSV is not a glossary. The CSV has no ``avoid`` column: a stored term
    keeps its avoid forms when the import brings none."""
    try:
        terms = terms_from_csv(text, "CSV")
    except InputError as exc:
        raise ValueError(str(exc)) from None
    for i, term in enumerate(terms):
        if len(term.source) > MAX_SOURCE:
            raise ValueError(f"CSV term {i + 1} ({term.source[:40]!r}...): the source is over {MAX_SOURCE} characters")
    if not author or len(author) > MAX_AUTHOR:
        raise ValueError(f"the author must have 1 to {MAX_AUTHOR} characters")
    with transaction(bind) as conn:
        for term in terms:
            if not term.avoid:
                old = conn.execute(
                    select(glossary_terms.c.term_json).where(
                        glossary_terms.c.source == term.source, glossary_terms.c.deleted_at.is_(None)
                    )
                ).first()
                if old is not None:
                    kept = term_from_json(old.term_json).avoid
                    term = replace(term, avoid=kept)
            _upsert(conn, term, author)
    return len(terms)


def export_csv(bind: Bind) -> str:
    """The database's terms (not deleted) in the glossary CSV format."""
    return terms_to_csv(list_terms(bind))


def _signature(bind: Bind) -> tuple[Any, ...]:
    """Changes whenever a term is saved, imported or deleted (they all set ``updated_at``)."""
    with transaction(bind, write=False) as conn:
        row = conn.execute(select(func.count(), func.max(glossary_terms.c.updated_at))).one()
    return tuple(row)


class DatabaseGlossary(Glossary):
    """``base`` (starter + files, or None) with the database's terms on top, kept up to date.

    Before a lookup (:meth:`find`, and so :meth:`constraints` and :meth:`check`) it asks the database whether the
    terms changed (one ``count``/``max`` query) at most every ``interval`` seconds, and re-reads them when they
    did; a worker therefore uses a term saved in the desk from its next segment lookup after at most
    ``interval`` seconds, without a restart. If the database cannot be read, the terms it had are kept (logged).
    """

    def __init__(self, bind: Bind, base: Glossary | None = None, *, interval: float = 5.0) -> None:
        self._bind = bind
        self._base: list[Term] = list(base.terms) if base is not None else []
        self._interval = interval
        self._lock = threading.Lock()
        self._checked = float("-inf")
        self._seen: tuple[Any, ...] | None = None
        super().__init__(self._base)
        self.refresh()

    def refresh(self, *, force: bool = False) -> None:
        """Re-read the database terms if ``interval`` has passed (or ``force``) and they changed."""
        if not force and time.monotonic() - self._checked < self._interval:
            return
        with self._lock:
            if not force and time.monotonic() - self._checked < self._interval:
                return
            try:
                seen = _signature(self._bind)
                if force or seen != self._seen:
                    merged = Glossary([*self._base, *list_terms(self._bind)])
                    self.terms, self._pattern = merged.terms, merged._pattern
                    self._seen = seen
            except (SQLAlchemyError, InputError) as exc:
                _log.warning("glossary: cannot read the database terms (%s); keeping the ones loaded", exc)
            self._checked = time.monotonic()

    def find(self, text: str) -> list[TermHit]:
        self.refresh()
        return super().find(text)


def with_database_terms(base: Glossary | None, bind: Bind | None, *, interval: float = 5.0) -> Glossary | None:
    """The glossary translation uses: ``base`` (starter + ``LINTAS_GLOSSARY`` files) with the database's terms on
    top, as a :class:`DatabaseGlossary`; ``base`` itself when it is None (``LINTAS_GLOSSARY=none``: no glossary at
    all) or there is no database."""
    if base is None or bind is None:
        return base
    return DatabaseGlossary(bind, base, interval=interval)
