"""The editors' desk pages: the article list, the side-by-side view, corrections, approve / hold / unpublish.

Server-rendered HTML (Jinja2, autoescaped, no script: the desk's CSP allows none), every page behind
:func:`~lintas.service.accounts.require_editor_session`, every POST CSRF-checked by
:func:`~lintas.service.accounts.csrf_protect` (the router's dependency) and answered with 303 back to the view
(Post/Redirect/Get) with a fixed status message.

* ``GET /desk/``: articles, newest first, with each language's status (published / held / none, in words),
  confidence and flag counts; filters ``status`` (held, published), ``flagged`` (1), ``lang``, ``since``
  (YYYY-MM-DD) and ``page`` as GET parameters.
* ``GET /desk/articles/{id}?lang=xx``: the Indonesian source and the edition side by side, segment by segment,
  flagged segments highlighted with their flags in plain words, an inline correction form per segment, the
  edition's status, confidence and hold reasons, its public page and the change history.
* ``POST /desk/articles/{id}/{lang}/segments/{segment_id}`` (``text``): a human correction
  (:func:`lintas.newsroom.editions.apply_correction`), written to the translation memory (``LINTAS_MEMORY``).
* ``POST /desk/articles/{id}/{lang}/approve`` and ``.../hold`` (optional ``note``); ``POST
  /desk/articles/{id}/unpublish``.
* ``POST /desk/articles/{id}/{lang}/retranslate`` (``engine``, optional ``segment``): the edition or one segment
  translated again with one of ``LINTAS_DESK_ENGINES`` (:func:`lintas.newsroom.editions.retranslate`); the request
  waits for the engine.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from lintas import settings
from lintas.engines import Engine, LazyEngine, get_engine
from lintas.errors import InputError
from lintas.newsroom import editions as review
from lintas.newsroom.options import configured_options
from lintas.pipeline.translate import Options
from lintas.publish.site import page_path
from lintas.quality.estimate import explain
from lintas.service.accounts import (
    DeskPage,
    csrf_protect,
    desk_session,
    read_form,
    render_page,
    require_editor_session,
    root_path,
)
from lintas.service.api import service_state
from lintas.store import glossary_terms, repo, site
from lintas.store.accounts import User
from lintas.text.article import Edition, EditionStatus
from lintas.text.glossary import Term
from lintas.text.languages import TARGETS, get_language

if TYPE_CHECKING:
    from lintas.engines.base import Engine
    from lintas.newsroom.notify import NotifyConfig
    from lintas.pipeline.translate import Options
    from lintas.store.db import Bind
    from lintas.store.memory import TranslationMemory

__all__ = ["PAGE_SIZE", "DeskResources", "install_desk_pages", "router"]

PAGE_SIZE = 50
MAX_CORRECTION_CHARS = 10_000
MAX_NOTE_CHARS = 1_000
STATUSES = ("held", "published")
SEVERITY_WORDS = {
    "critical": "Critical: must be fixed before this edition is published",
    "warning": "Warning: check this",
    "info": "Note",
}
STATUS_WORDS = {"published": "Published", "held": "Held for review", None: "No edition"}
ACTION_WORDS = {
    "correct": "Corrected a segment",
    "approve": "Approved",
    "hold": "Held",
    "retranslate": "Re-translated",
    "unpublish": "Unpublished",
}
DONE_MESSAGES = {
    "corrected": "Correction saved. The edition was re-assembled and the correction added to the translation memory.",
    "approved": "Edition approved: it is published.",
    "held": "Edition held: readers do not see it until it is approved.",
    "unpublished": "Article unpublished: its public pages now answer 410 Gone.",
    "retranslated": "Re-translated. Check the new translation; the edition's status follows the quality checks.",
    "name": "Name confirmed: it is in the glossary now, and every later article writes it this way.",
}
_EDITOR = require_editor_session()

router = APIRouter(prefix="/desk", dependencies=[Depends(csrf_protect)], include_in_schema=False)


# --- app resources: the translation memory and webhook settings ---------------------------------------------


@dataclass
class DeskResources:
    """What corrections need: the translation memory (opened on first use, closed when the app stops) and the
    webhook settings (read when the app is made)."""

    notify: NotifyConfig | None = None
    engine_names: tuple[str, ...] = ()
    _memory: TranslationMemory | None = None
    _opened: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _engines: dict[str, LazyEngine[Engine, Options]] = field(default_factory=dict)
    engine_lock: threading.Lock = field(default_factory=threading.Lock)  # engines are not thread-safe

    def engine(self, name: str, bind: Bind) -> tuple[Engine, Options]:
        """The engine ``name`` (one of :attr:`engine_names`) and pipeline options, made once (a model loads); the
        glossary is the workers': the settings' plus the terms editors keep in the database ``bind``."""
        if name not in self.engine_names:
            raise ValueError(f"“{name}” is not an engine of the desk: choose from {', '.join(self.engine_names)}")
        with self._lock:
            lazy = self._engines.get(name)
            if lazy is None:
                lazy = self._engines[name] = LazyEngine(lambda: _make_engine(name, bind))
        return lazy.get()

    def memory(self) -> TranslationMemory | None:
        """The translation memory of ``LINTAS_MEMORY`` (None when 'off'), opened once."""
        with self._lock:
            if not self._opened:
                from lintas.store.memory import configured_memory

                try:
                    self._memory = configured_memory()
                except InputError as exc:  # a bad URL or an unreadable file
                    raise DeskPage(503, "Translation memory unavailable", f"Lintas {exc}.") from None
                self._opened = True
            return self._memory

    def close(self) -> None:
        with self._lock:
            memory, self._memory, self._opened = self._memory, None, False
            engines, self._engines = list(self._engines.values()), {}
        if memory is not None:
            memory.close()
        for lazy in engines:
            lazy.close()


def _make_engine(name: str, bind: Any) -> tuple[Engine, Options]:
    """The desk's engine ``name`` and pipeline options; the glossary is the workers' (the settings' plus the terms
    editors keep in ``bind``)."""
    try:
        return get_engine(name), configured_options(bind)
    except InputError as exc:
        raise DeskPage(503, "Engine unavailable", f"The engine {name} cannot start: {exc}") from None


def _notify_config() -> NotifyConfig | None:
    from lintas.newsroom.notify import NotifyConfig

    try:
        config = NotifyConfig.from_settings()
    except ValueError as exc:
        raise InputError(str(exc)) from None
    return config if config.urls else None


def install_desk_pages(app: FastAPI) -> None:
    """Add the desk's pages to ``app`` (after :func:`~lintas.service.accounts.install_desk`); the translation
    memory they open is closed when the app's lifespan ends."""
    configured = settings.current()
    names = list(configured.desk_engines) or [n.strip() for n in configured.engine.split(",") if n.strip()]
    resources = DeskResources(notify=_notify_config(), engine_names=tuple(dict.fromkeys(names)))
    app.state.lintas_desk_pages = resources
    inner: Callable[[Any], Any] = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_: Any) -> AsyncIterator[Any]:
        try:
            async with inner(app_) as value:
                yield value
        finally:
            await run_in_threadpool(resources.close)

    app.router.lifespan_context = lifespan
    app.include_router(router)


def _resources(request: Request) -> DeskResources:
    resources: DeskResources = request.app.state.lintas_desk_pages
    return resources


# --- helpers -------------------------------------------------------------------------------------------------


async def _csrf(request: Request) -> str:
    session = await desk_session(request)
    return session.csrf if session is not None else ""


def _language(code: str) -> dict[str, str]:
    language = get_language(code)
    return {"code": code, "name": language.name, "dir": "rtl" if language.direction == "rtl" else "ltr"}


def _parse_since(value: str) -> tuple[datetime | None, str]:
    """``(datetime at 00:00 UTC, error)`` of a ``YYYY-MM-DD`` date; ``(None, "")`` for an empty value."""
    value = value.strip()
    if not value:
        return None, ""
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return None, f"“{value[:40]}” is not a date: use the form 2026-12-31. The date filter was left out."
    return datetime(day.year, day.month, day.day, tzinfo=UTC), ""


def _percent(confidence: float | None) -> str:
    return "–" if confidence is None else f"{round(float(confidence) * 100)}%"


def _when(value: datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%d %H:%M UTC")


def _view_url(request: Request, article_id: str, lang: str, done: str = "") -> str:
    query = {"lang": lang, **({"done": done} if done else {})}
    return f"{root_path(request)}/desk/articles/{quote(article_id, safe='')}?{urlencode(query)}"


def _not_found(what: str) -> DeskPage:
    return DeskPage(404, "Not found", what)


def _check_lang(lang: str) -> str:
    if lang not in TARGETS:
        raise _not_found(f"There is no edition language “{lang[:20]}”: choose from {', '.join(TARGETS)}.")
    return lang


# --- the article list ----------------------------------------------------------------------------------------


def _list_context(request: Request) -> dict[str, Any]:
    params = request.query_params
    status = params.get("status", "")
    status = status if status in STATUSES else ""
    lang = params.get("lang", "")
    lang = lang if lang in TARGETS else ""
    flagged = params.get("flagged", "") == "1"
    since, since_error = _parse_since(params.get("since", ""))
    try:
        page = max(1, min(int(params.get("page", "1")), 10_000))
    except ValueError:
        page = 1
    rows = review.desk_rows(
        service_state(request).database(),
        status=status or None,
        flagged=True if flagged else None,
        lang=lang or None,
        since=since,
        limit=PAGE_SIZE + 1,
        offset=(page - 1) * PAGE_SIZE,
    )
    more = len(rows) > PAGE_SIZE
    root = root_path(request)
    articles = []
    for row in rows[:PAGE_SIZE]:
        editions = []
        for code in TARGETS:
            summary = row.editions.get(code)
            status_key = summary.status if summary is not None else None
            editions.append(
                {
                    **_language(code),
                    "status": status_key or "none",
                    "status_text": STATUS_WORDS.get(status_key, str(status_key)),
                    "confidence": _percent(summary.confidence) if summary is not None else "",
                    "flags": int(summary.flags) if summary is not None else 0,
                    "critical": int(summary.critical) if summary is not None else 0,
                    "href": f"{root}/desk/articles/{quote(row.article_id, safe='')}?lang={code}",
                }
            )
        articles.append(
            {
                "id": row.article_id,
                "headline": row.headline or row.article_id,
                "section": row.section or "",
                "updated": _when(row.updated_at),
                "published": bool(row.published),
                "href": f"{root}/desk/articles/{quote(row.article_id, safe='')}",
                "editions": editions,
            }
        )
    kept = {"status": status, "flagged": "1" if flagged else "", "lang": lang, "since": params.get("since", "")}
    kept = {key: value for key, value in kept.items() if value}

    def page_href(number: int) -> str:
        return f"{root}/desk/?{urlencode({**kept, 'page': number})}"

    return {
        "articles": articles,
        "filters": {"status": status, "flagged": flagged, "lang": lang, "since": params.get("since", "")[:40]},
        "since_error": since_error,
        "languages": [_language(code) for code in TARGETS],
        "page": page,
        "previous_href": page_href(page - 1) if page > 1 else "",
        "next_href": page_href(page + 1) if more else "",
        "filtered": bool(kept),
    }


@router.get("/", response_class=HTMLResponse)
async def desk_list(request: Request, user: Annotated[User, _EDITOR]) -> Response:
    context = await run_in_threadpool(_list_context, request)
    csrf = await _csrf(request)
    return render_page(
        request, "desk_list.html", user=user, csrf=csrf, root=root_path(request), nav="articles", **context
    )


# --- the side-by-side view -----------------------------------------------------------------------------------


def _segments(edition: Edition) -> list[dict[str, Any]]:
    out = []
    for number, segment in enumerate(edition.segments, start=1):
        flags = [
            {
                "severity": flag.severity,
                "severity_text": SEVERITY_WORDS.get(flag.severity, flag.severity),
                "message": flag.message,
                "code": flag.code,
                "repaired": bool(getattr(flag, "repaired", False)),
            }
            for flag in segment.flags
        ]
        quality = getattr(segment, "quality", None)
        worst = "critical" if any(f["severity"] == "critical" for f in flags) else ""
        worst = worst or ("warning" if any(f["severity"] == "warning" for f in flags) else "")
        out.append(
            {
                "number": number,
                "id": segment.id,
                "anchor": _anchor(segment.id),
                "kind": segment.kind.replace("_", " "),
                "source": segment.source,
                "target": segment.target,
                "origin": segment.origin,
                "flags": flags,
                "worst": worst,
                "quality": _percent(quality) if quality is not None else "",
                "quality_reasons": explain(segment, edition.target_lang) if quality is not None else [],
                "suggestions": [
                    {"target": s.target, "score": round(s.score), "source": s.source}
                    for s in getattr(segment, "suggestions", [])[:3]
                ],
            }
        )
    return out


def _changes(bind: Bind, article_id: str) -> list[dict[str, str]]:
    out = []
    for change in review.edition_changes_for(bind, article_id):
        action = str(getattr(change, "action", ""))
        lang = str(getattr(change, "target_lang", "") or getattr(change, "lang", "") or "")
        out.append(
            {
                "when": _when(getattr(change, "created_at", None)),
                "lang": get_language(lang).name if lang in TARGETS else lang,
                "action": ACTION_WORDS.get(action, action),
                "segment": str(getattr(change, "segment_id", "") or ""),
                "before": str(getattr(change, "before", "") or ""),
                "after": str(getattr(change, "after", "") or ""),
                "author": str(getattr(change, "author", "") or ""),
                "note": str(getattr(change, "note", "") or ""),
                "revision": str(getattr(change, "revision", "") or ""),
            }
        )
    return out


def _view_context(request: Request, article_id: str, lang: str | None) -> dict[str, Any]:
    db = service_state(request).database()
    article = repo.get_article(db, article_id)
    info = repo.article_info(db, article_id)
    if article is None or info is None:
        raise _not_found(f"There is no article “{article_id[:200]}”.")
    statuses = repo.edition_statuses(db, article_id)
    if lang is None:  # the first held language, else the first with an edition, else the first
        with_edition = [code for code in TARGETS if code in statuses and statuses[code]["edition_status"]]
        held = [code for code in with_edition if statuses[code]["edition_status"] == "held"]
        lang = (held or with_edition or list(TARGETS))[0]
    edition = review.desk_edition(db, article_id, lang)
    root = root_path(request)
    tabs = []
    for code in TARGETS:
        status_key = statuses[code]["edition_status"] if code in statuses else None
        tabs.append(
            {
                **_language(code),
                "current": code == lang,
                "status": status_key or "none",
                "status_text": STATUS_WORDS.get(status_key, str(status_key)),
                "href": _view_url(request, article_id, code),
            }
        )
    public_href = ""
    if info.published:
        public = site.public_edition(db, article_id, lang)
        if public is not None:
            public_href = root + page_path(lang, article.section, article_id, public.headline)
    job = statuses.get(lang)
    base = f"{root}/desk/articles/{quote(article_id, safe='')}"
    return {
        "article": article,
        "info": {"published": info.published, "revision": info.current_revision, "updated": _when(info.updated_at)},
        "original_href": root + page_path("id", article.section, article_id, article.headline)
        if info.published
        else "",
        "lang": _language(lang),
        "tabs": tabs,
        "edition": edition,
        "edition_info": (
            {
                "status": edition.status,
                "status_text": STATUS_WORDS.get(edition.status, edition.status),
                "confidence": _percent(edition.confidence),
                "revision": edition.revision,
                "created": _when(edition.created_at),
                "engine": f"{edition.engine} ({edition.model})",
                "outdated": edition.revision != info.current_revision,
                "flagged": sum(1 for s in edition.segments if s.flags),
            }
            if edition is not None
            else None
        ),
        "job": {"state": job["job_state"] or "", "error": job["last_error"] or ""}
        if job
        else {"state": "", "error": ""},
        "segments": _segments(edition) if edition is not None else [],
        "names": [n for n in getattr(edition, "names", []) if n.origin in ("engine", "latin")] if edition else [],
        "public_href": public_href,
        "changes": _changes(db, article_id),
        "actions": {
            "segment": f"{base}/{quote(lang, safe='')}/segments/",
            "approve": f"{base}/{quote(lang, safe='')}/approve",
            "hold": f"{base}/{quote(lang, safe='')}/hold",
            "unpublish": f"{base}/unpublish",
            "retranslate": f"{base}/{quote(lang, safe='')}/retranslate",
            "names": f"{base}/{quote(lang, safe='')}/names",
        },
        "engines": list(_resources(request).engine_names),
        "list_href": f"{root}/desk/",
    }


@router.get("/articles/{article_id}", response_class=HTMLResponse)
async def desk_article(request: Request, article_id: str, user: Annotated[User, _EDITOR]) -> Response:
    lang = request.query_params.get("lang") or None
    if lang is not None:
        _check_lang(lang)
    context = await run_in_threadpool(_view_context, request, article_id, lang)
    done = DONE_MESSAGES.get(request.query_params.get("done", ""), "")
    csrf = await _csrf(request)
    return render_page(
        request, "desk_article.html", user=user, csrf=csrf, done=done, root=root_path(request), nav="", **context
    )


# --- changes -------------------------------------------------------------------------------------------------


def _redirect(location: str) -> Response:
    return RedirectResponse(location, 303, headers={"Cache-Control": "no-store"})


def _bad_input(request: Request, article_id: str, lang: str, message: str) -> DeskPage:
    return DeskPage(400, "Not saved", message, link=_view_url(request, article_id, lang))


async def _call(request: Request, article_id: str, lang: str, action: Callable[[], object]) -> None:
    """Run a store change in a worker thread; LookupError answers 404, ValueError 400 (with its message)."""
    try:
        await run_in_threadpool(action)
    except LookupError as exc:
        raise _not_found(str(exc).strip("'\"") or "There is no such article, edition or segment.") from None
    except ValueError as exc:
        raise _bad_input(request, article_id, lang, str(exc)) from None


@router.post("/articles/{article_id}/{lang}/segments/{segment_id}")
async def correct_segment(
    request: Request, article_id: str, lang: str, segment_id: str, user: Annotated[User, _EDITOR]
) -> Response:
    _check_lang(lang)
    text = (await read_form(request)).get("text", "").replace("\r\n", "\n").strip()
    if not text:
        raise _bad_input(request, article_id, lang, "The correction is empty: write the segment's translation.")
    if len(text) > MAX_CORRECTION_CHARS:
        raise _bad_input(request, article_id, lang, f"The correction is over {MAX_CORRECTION_CHARS} characters.")
    resources = _resources(request)
    db = service_state(request).database()

    def correct() -> None:
        review.apply_correction(
            db, article_id, lang, segment_id, text, user.username, memory=resources.memory(), notify=resources.notify
        )

    await _call(request, article_id, lang, correct)
    return _redirect(_view_url(request, article_id, lang, "corrected") + f"#{_anchor(segment_id)}")


def _anchor(segment_id: str) -> str:
    return "seg-" + "".join(c if c.isalnum() else "-" for c in segment_id)


async def _set_status(request: Request, article_id: str, lang: str, status: EditionStatus, user: User) -> Response:
    _check_lang(lang)
    note = (await read_form(request)).get("note", "").strip()[:MAX_NOTE_CHARS] or None
    db, notify = service_state(request).database(), _resources(request).notify
    await _call(
        request,
        article_id,
        lang,
        lambda: review.set_status(db, article_id, lang, status, user.username, note, notify=notify),
    )
    return _redirect(_view_url(request, article_id, lang, "approved" if status == "published" else "held"))


@router.post("/articles/{article_id}/{lang}/approve")
async def approve(request: Request, article_id: str, lang: str, user: Annotated[User, _EDITOR]) -> Response:
    return await _set_status(request, article_id, lang, "published", user)


@router.post("/articles/{article_id}/{lang}/hold")
async def hold(request: Request, article_id: str, lang: str, user: Annotated[User, _EDITOR]) -> Response:
    return await _set_status(request, article_id, lang, "held", user)


@router.post("/articles/{article_id}/unpublish")
async def unpublish(request: Request, article_id: str, user: Annotated[User, _EDITOR]) -> Response:
    lang = (await read_form(request)).get("lang", "")
    lang = lang if lang in TARGETS else TARGETS[0]
    found = await run_in_threadpool(repo.unpublish, service_state(request).database(), article_id)
    if not found:
        raise _not_found(f"There is no article “{article_id[:200]}”.")
    return _redirect(_view_url(request, article_id, lang, "unpublished"))


@router.post("/articles/{article_id}/{lang}/names")
async def confirm_name(request: Request, article_id: str, lang: str, user: Annotated[User, _EDITOR]) -> Response:
    """An editor confirms (or corrects) how ``lang`` writes a name (``source``, ``form``): it becomes a glossary term,
    so every later article uses it (lintas.pipeline.names resolves the glossary first)."""
    _check_lang(lang)
    form = await read_form(request)
    source, written = form.get("source", "").strip(), form.get("form", "").strip()
    if not source or not written:
        raise _bad_input(request, article_id, lang, "Give the name and how this edition should write it.")
    if len(source) > MAX_NOTE_CHARS or len(written) > MAX_NOTE_CHARS:
        raise _bad_input(request, article_id, lang, f"A name is at most {MAX_NOTE_CHARS} characters.")
    db = service_state(request).database()

    def save() -> None:
        existing = glossary_terms.get_term(db, source)
        forms = {**(existing.forms if existing else {}), lang: (written,)}
        term = (
            dataclasses.replace(existing, forms=forms)
            if existing
            else Term(source=source, forms=forms, case_sensitive=True, category="name", notes="confirmed on the desk")
        )
        try:
            glossary_terms.save_term(db, term, user.username)
        except InputError as exc:
            raise ValueError(str(exc)) from None

    await _call(request, article_id, lang, save)
    return _redirect(_view_url(request, article_id, lang, "name"))


@router.post("/articles/{article_id}/{lang}/retranslate")
async def retranslate(request: Request, article_id: str, lang: str, user: Annotated[User, _EDITOR]) -> Response:
    """Translate the edition, or one segment of it (form field ``segment``), again with the engine in ``engine``."""
    _check_lang(lang)
    form = await read_form(request)
    segment_id = form.get("segment", "").strip() or None
    resources = _resources(request)
    db = service_state(request).database()

    def run() -> None:
        engine, options = resources.engine(form.get("engine", "").strip(), db)
        with resources.engine_lock:
            review.retranslate(
                db, article_id, lang, engine, user.username, segment_id=segment_id, options=options,
                notify=resources.notify,
            )  # fmt: skip

    await _call(request, article_id, lang, run)
    anchor = f"#{_anchor(segment_id)}" if segment_id else ""
    return _redirect(_view_url(request, article_id, lang, "retranslated") + anchor)
