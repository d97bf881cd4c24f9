"""Translation memory: segments editors approved or corrected, reused exactly and offered as suggestions.

A stored entry is one translated segment in its *tagged* form (``Presiden <a href="#1">Joko Widodo</a> tiba.``),
with its language pair, its segment ``kind``, a hash of the context it was translated in, its origin and author.
Adding a new translation for the same source never overwrites the old one: every add inserts a row, so the
history stays and the newest row wins.

Matching works on a normalised source (Unicode NFKC, whitespace collapsed, stripped):

* :meth:`TranslationMemory.exact` looks the segment up by the sha256 of its normalised source. It is case- and
  tag-sensitive, and only reuses an entry of a compatible kind: headline-like kinds (headline, kicker,
  subheadline, heading) are never mixed with body-like ones, since a headline is translated in another style.
  Among the candidates it prefers the same context, then origin ``corrected`` over ``approved`` over
  ``imported``, then the newest.
* :meth:`TranslationMemory.fuzzy` scores similar stored sources with ``rapidfuzz.fuzz.ratio`` on lowercased text
  with the tags removed, after a prefilter in SQL on the language pair and the plain-text length.

The table is the store's :data:`lintas.store.schema.translation_memory`, created by the store's Alembic
migrations: the memory may share the store's database, or have one of its own (``LINTAS_MEMORY``, by default
``memory.sqlite`` in the data directory), which :class:`TranslationMemory` migrates to the head revision when it
opens it (so it holds the store's other tables too, empty). A memory database made by an older version with
``create_all`` (the table but no ``alembic_version``) is migrated in place, its rows kept. Engines come from
:func:`lintas.store.db.make_engine` (SQLite in WAL mode, with the store's busy timeout and writer queue).
"""

from __future__ import annotations

import csv
import hashlib
import math
import os
import re
import unicodedata
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz
from sqlalchemy import URL, Engine, case, func, insert, select

from lintas import settings
from lintas.errors import InputError
from lintas.store.db import AnyRow, ensure_current, make_engine, transaction
from lintas.store.schema import translation_memory

__all__ = [
    "translation_memory",
    "KINDS",
    "HEADLINE_KINDS",
    "ORIGINS",
    "CSV_COLUMNS",
    "Match",
    "TranslationMemory",
    "configured_memory",
]

KINDS: frozenset[str] = frozenset(
    {"headline", "kicker", "subheadline", "heading", "sentence", "quote", "caption", "list_item"}
)
HEADLINE_KINDS: frozenset[str] = frozenset({"headline", "kicker", "subheadline", "heading"})
ORIGINS: tuple[str, ...] = ("corrected", "approved", "imported")  # in order of preference
CSV_COLUMNS: tuple[str, ...] = (
    "source_lang",
    "target_lang",
    "kind",
    "source",
    "target",
    "origin",
    "author",
    "created_at",
)

_FILE_NAME = "memory.sqlite"
_FUZZY_CANDIDATES = 5000
_LENGTH_MIN_RATIO = 0.6
_LENGTH_MAX_RATIO = 1.6
_LANG_RE = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")
_TAG_RE = re.compile(r"</?[A-Za-z][^<>]*>")
_BR_RE = re.compile(r"<br\s*/?>", re.IGNORECASE)


@dataclass(frozen=True)
class Match:
    """A stored translation found for a query segment."""

    source: str  # the stored source segment
    target: str  # the stored translation
    target_lang: str
    score: float  # 100.0 for an exact match, else rapidfuzz similarity 0-100
    origin: str  # "approved" | "corrected" | "imported"
    author: str | None
    created_at: datetime  # timezone-aware UTC
    same_context: bool  # stored context equals the query's context


# --- normalisation -------------------------------------------------------------------------------------------


def _normalise(text: str) -> str:
    """NFKC, whitespace runs collapsed to one space, stripped: the form exact matching compares."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def _plain(normalised: str) -> str:
    """The form fuzzy matching compares: tags removed (``<br>`` as a space), lowercased, whitespace collapsed."""
    text = _TAG_RE.sub("", _BR_RE.sub(" ", normalised))
    return " ".join(text.lower().split())


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _context_hash(context: str) -> str:
    normalised = _normalise(context)
    return _sha256(normalised) if normalised else ""


def _kind_class(kind: str) -> str:
    return "headline" if kind in HEADLINE_KINDS else "body"


def _utc(value: datetime) -> datetime:
    """A datetime as timezone-aware UTC; a naive one (SQLite gives these back) is taken to be UTC already."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# --- validation ----------------------------------------------------------------------------------------------


def _check_lang(value: str, name: str) -> str:
    value = value.strip()
    if not _LANG_RE.match(value):
        raise ValueError(f"{name} must be a language code such as 'id' or 'zh-Hant', not {value!r}")
    return value


def _check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(sorted(KINDS))}, not {kind!r}")
    return kind


def _check_origin(origin: str) -> str:
    if origin not in ORIGINS:
        raise ValueError(f"origin must be one of {', '.join(ORIGINS)}, not {origin!r}")
    return origin


def _entry(
    source: str,
    target: str,
    target_lang: str,
    *,
    source_lang: str,
    kind: str,
    context: str,
    origin: str,
    author: str | None,
    created_at: datetime,
) -> dict[str, Any]:
    """Validate one entry and return the row to insert; raises ValueError saying what is wrong."""
    source_lang = _check_lang(source_lang, "source_lang")
    target_lang = _check_lang(target_lang, "target_lang")
    if source_lang.lower() == target_lang.lower():
        raise ValueError(f"target_lang must differ from source_lang ({source_lang!r})")
    _check_kind(kind)
    _check_origin(origin)
    normalised = _normalise(source)
    if not normalised:
        raise ValueError("source is empty (after normalising whitespace)")
    if not _normalise(target):
        raise ValueError("target is empty (after normalising whitespace)")
    if author is not None:
        author = author.strip() or None
    if author is not None and len(author) > 200:
        raise ValueError("author is longer than 200 characters")
    return {
        "source_lang": source_lang,
        "target_lang": target_lang,
        "kind": kind,
        "kind_class": _kind_class(kind),
        "source": source,
        "target": target,
        "source_hash": _sha256(normalised),
        "plain_len": len(_plain(normalised)),
        "context_hash": _context_hash(context),
        "origin": origin,
        "author": author,
        "created_at": _utc(created_at),
    }


# --- the memory ----------------------------------------------------------------------------------------------


class TranslationMemory:
    """Approved and corrected segment translations, in a database reached through SQLAlchemy.

    Every method opens its own connection and transaction, so one instance may be shared between threads
    (SQLite serialises the writers). Call :meth:`close` (or use ``with``) to dispose of an engine the memory
    created itself.
    """

    def __init__(self, url: str | URL | None = None) -> None:
        """Open the memory at ``url`` (an SQLAlchemy URL), by default ``memory.sqlite`` under the data dir.

        The engine is the store's (:func:`lintas.store.db.make_engine`: SQLite in WAL journal mode), and the
        database is migrated to the store's head revision if it is not there yet.
        """
        if url is None:
            directory = settings.data_dir()
            directory.mkdir(parents=True, exist_ok=True)
            url = URL.create("sqlite", database=str(directory / _FILE_NAME))
        self._setup(make_engine(url), owned=True)

    @classmethod
    def from_engine(cls, engine: Engine) -> TranslationMemory:
        """Use an existing engine as it is configured; :meth:`close` leaves it to its owner.

        The database is migrated to the store's head revision if it is not there yet.
        """
        memory = cls.__new__(cls)
        memory._setup(engine, owned=False)
        return memory

    def _setup(self, engine: Engine, *, owned: bool) -> None:
        self._engine = engine
        self._owned = owned
        try:
            ensure_current(engine)
        except BaseException:
            if owned:
                engine.dispose()
            raise

    @property
    def engine(self) -> Engine:
        return self._engine

    def close(self) -> None:
        """Dispose of the engine if this memory created it; an engine given to :meth:`from_engine` is kept."""
        if self._owned:
            self._engine.dispose()

    def __enter__(self) -> TranslationMemory:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __len__(self) -> int:
        """The number of stored rows, earlier translations of the same source included."""
        with transaction(self._engine, write=False) as conn:
            return int(conn.execute(select(func.count()).select_from(translation_memory)).scalar_one())

    # --- writing -------------------------------------------------------------------------------------------

    def add(
        self,
        source: str,
        target: str,
        target_lang: str,
        *,
        source_lang: str = "id",
        kind: str = "sentence",
        context: str = "",
        origin: str = "approved",
        author: str | None = None,
    ) -> None:
        """Remember ``target`` as the translation of ``source``; an earlier translation stays as history.

        Raises ValueError for an empty source or target (after normalising whitespace), an unknown kind or
        origin, or a malformed language code.
        """
        row = _entry(
            source,
            target,
            target_lang,
            source_lang=source_lang,
            kind=kind,
            context=context,
            origin=origin,
            author=author,
            created_at=datetime.now(UTC),
        )
        with transaction(self._engine) as conn:
            conn.execute(insert(translation_memory), [row])

    # --- reading -------------------------------------------------------------------------------------------

    def exact(
        self,
        source: str,
        target_lang: str,
        *,
        source_lang: str = "id",
        kind: str = "sentence",
        context: str = "",
    ) -> Match | None:
        """The stored translation of exactly this segment in a compatible kind, or None.

        Preference: same context, then origin corrected > approved > imported, then the newest.
        """
        _check_kind(kind)
        normalised = _normalise(source)
        if not normalised:
            return None
        context_hash = _context_hash(context)
        t = translation_memory
        query = (
            select(t)
            .where(
                t.c.source_hash == _sha256(normalised),
                t.c.source_lang == source_lang.strip(),
                t.c.target_lang == target_lang.strip(),
                t.c.kind_class == _kind_class(kind),
            )
            .order_by(
                case((t.c.context_hash == context_hash, 0), else_=1),
                case({origin: rank for rank, origin in enumerate(ORIGINS)}, value=t.c.origin, else_=len(ORIGINS)),
                t.c.created_at.desc(),
                t.c.id.desc(),
            )
        )
        with transaction(self._engine, write=False) as conn:
            for row in conn.execute(query):
                if _normalise(row.source) == normalised:  # guards against a hash collision
                    return _match(row, 100.0, row.context_hash == context_hash)
        return None

    def fuzzy(
        self,
        source: str,
        target_lang: str,
        *,
        source_lang: str = "id",
        limit: int = 3,
        min_score: float = 75.0,
    ) -> list[Match]:
        """Up to ``limit`` stored segments similar to ``source`` (score >= ``min_score``), best first.

        The score is ``rapidfuzz.fuzz.ratio`` on lowercased text without tags. Entries with the same normalised
        source are left out (that is :meth:`exact`'s business), and each distinct stored source appears once,
        as its newest row. Only the 5,000 newest rows of the language pair whose plain length is within
        0.6x-1.6x of the query's are considered. ``same_context`` is always False: fuzzy takes no context.
        """
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        if not 0.0 <= min_score <= 100.0:
            raise ValueError(f"min_score must be between 0 and 100, not {min_score}")
        normalised = _normalise(source)
        query_plain = _plain(normalised)
        if not query_plain:
            return []
        length = len(query_plain)
        t = translation_memory
        query = (
            select(t)
            .where(
                t.c.source_lang == source_lang.strip(),
                t.c.target_lang == target_lang.strip(),
                t.c.plain_len >= math.floor(length * _LENGTH_MIN_RATIO),
                t.c.plain_len <= math.ceil(length * _LENGTH_MAX_RATIO),
                t.c.source_hash != _sha256(normalised),
            )
            .order_by(t.c.created_at.desc(), t.c.id.desc())
            .limit(_FUZZY_CANDIDATES)
        )
        with transaction(self._engine, write=False) as conn:
            rows = conn.execute(query).all()
        seen: set[str] = set()
        scored: list[tuple[float, int, AnyRow]] = []
        for position, row in enumerate(rows):  # newest first, so the first row of a source is its newest
            if row.source_hash in seen:
                continue
            seen.add(row.source_hash)
            score = float(fuzz.ratio(query_plain, _plain(_normalise(row.source))))
            if score >= min_score:
                scored.append((score, position, row))
        scored.sort(key=lambda item: (-item[0], item[1]))  # best first; among equals, the newest
        return [_match(row, score, False) for score, _, row in scored[:limit]]

    # --- CSV -----------------------------------------------------------------------------------------------

    def export_csv(self, path: str | os.PathLike[str]) -> int:
        """Write every row, oldest first, as UTF-8 CSV with :data:`CSV_COLUMNS`; returns the number of rows.

        Contexts are stored only as hashes and are not exported.
        """
        t = translation_memory
        count = 0
        with (
            transaction(self._engine, write=False) as conn,
            Path(path).open("w", encoding="utf-8", newline="") as handle,
        ):
            writer = csv.writer(handle)
            writer.writerow(CSV_COLUMNS)
            for row in conn.execute(select(t).order_by(t.c.id)):
                writer.writerow(
                    [
                        row.source_lang,
                        row.target_lang,
                        row.kind,
                        row.source,
                        row.target,
                        row.origin,
                        row.author or "",
                        _utc(row.created_at).isoformat(),
                    ]
                )
                count += 1
        return count

    def import_csv(self, path: str | os.PathLike[str], *, origin: str | None = "imported") -> int:
        """Add the rows of a CSV file written by :meth:`export_csv`; returns the number of rows added.

        Every row gets ``origin`` (default ``"imported"``); with ``origin=None`` each row keeps its own origin
        column. The header must name ``source``, ``target`` and ``target_lang``, and may name the other
        :data:`CSV_COLUMNS`: a missing ``source_lang`` defaults to ``id``, ``kind`` to ``sentence``,
        ``created_at`` to now (a time without a zone is read as UTC). All rows are validated first; a bad row
        raises ValueError naming its line, and nothing is imported. Rows land with an empty context.
        """
        if origin is not None:
            _check_origin(origin)
        rows = list(_read_csv(Path(path), origin))
        if rows:
            with transaction(self._engine) as conn:
                conn.execute(insert(translation_memory), rows)
        return len(rows)


def _match(row: AnyRow, score: float, same_context: bool) -> Match:
    return Match(
        source=row.source,
        target=row.target,
        target_lang=row.target_lang,
        score=score,
        origin=row.origin,
        author=row.author,
        created_at=_utc(row.created_at),
        same_context=same_context,
    )


def _read_csv(path: Path, origin: str | None) -> Iterator[dict[str, Any]]:
    """Validated rows of a translation-memory CSV file; ValueError naming the line of the first bad one."""
    now = datetime.now(UTC)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, strict=True)
        try:
            header = next(reader, None)
        except csv.Error as exc:
            raise ValueError(f"{path}, line 1: malformed CSV: {exc}") from exc
        if header is None:
            raise ValueError(f"{path}: empty file, expected a header naming {', '.join(CSV_COLUMNS)}")
        columns = [name.strip() for name in header]
        unknown = [name for name in columns if name not in CSV_COLUMNS]
        missing = [name for name in ("source", "target", "target_lang") if name not in columns]
        if unknown or missing or len(set(columns)) != len(columns):
            problem = (
                f"unknown column(s) {', '.join(unknown)}"
                if unknown
                else f"missing column(s) {', '.join(missing)}"
                if missing
                else "a column is named twice"
            )
            raise ValueError(f"{path}, line 1: bad header: {problem}; expected {', '.join(CSV_COLUMNS)}")
        while True:
            line = reader.line_num + 1  # where the next record starts
            try:
                record = next(reader, None)
            except csv.Error as exc:
                raise ValueError(f"{path}, line {line}: malformed CSV: {exc}") from exc
            if record is None:
                return
            if not record or all(not cell.strip() for cell in record):
                continue  # a blank line
            if len(record) != len(columns):
                raise ValueError(f"{path}, line {line}: {len(record)} fields, the header has {len(columns)}")
            values = dict(zip(columns, record, strict=True))
            try:
                yield _entry(
                    values["source"],
                    values["target"],
                    values["target_lang"],
                    source_lang=values.get("source_lang", "").strip() or "id",
                    kind=values.get("kind", "").strip() or "sentence",
                    context="",
                    origin=origin if origin is not None else values.get("origin", "").strip(),
                    author=values.get("author") or None,
                    created_at=_parse_time(values.get("created_at", "")) or now,
                )
            except ValueError as exc:
                raise ValueError(f"{path}, line {line}: {exc}") from None


def _parse_time(value: str) -> datetime | None:
    value = value.strip()
    if not value:
        return None
    with suppress(ValueError):
        return _utc(datetime.fromisoformat(value))
    raise ValueError(f"created_at is not an ISO 8601 time: {value!r}")


def configured_memory() -> TranslationMemory | None:
    """The translation memory of ``LINTAS_MEMORY`` (default: ``memory.sqlite`` in the data directory), or None when
    it is ``off``; InputError when it cannot be opened (a bad URL, an unreadable file)."""
    configured = settings.current().memory.strip()
    if configured.lower() == "off":
        return None
    try:
        return TranslationMemory(configured or None)
    except Exception as exc:
        raise InputError(f"cannot open the translation memory {configured or '(default)'}: {exc}") from None
