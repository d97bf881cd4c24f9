"""The HTTP endpoints: thin over :mod:`lintas.store`; only ``POST /v1/translate`` translates in the request.

Bodies are read and parsed here (not by FastAPI's body parameters) so that malformed JSON (400), invalid fields
(422, naming the field) and bodies over the limit (413, see :class:`~lintas.service.errors.BodyLimitMiddleware`)
get their own answers whatever the ``Content-Type``; the OpenAPI document still describes them
(:func:`component_schemas`).
"""

from __future__ import annotations

import html
import json
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote

from alembic.migration import MigrationContext
from fastapi import APIRouter, Path, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection

from lintas.engines import Engine as TranslationEngine
from lintas.engines import LazyEngine, get_engine
from lintas.errors import InputError
from lintas.ingest import ensure_indonesian
from lintas.ingest.common import build_article, field_path, validation_message
from lintas.newsroom.options import configured_options
from lintas.pipeline.translate import Options, translate_article
from lintas.publish.render import render_edition_html, render_source_html
from lintas.service.auth import require
from lintas.service.errors import ApiError
from lintas.service.metrics import CONTENT_TYPE_LATEST, Metrics
from lintas.service.pagecache import AnswerCache
from lintas.store import repo
from lintas.store.db import QuickReads, transaction
from lintas.text.article import Article, Block, Edition
from lintas.text.ids import ARTICLE_ID_RULE, is_article_id
from lintas.text.inline import parse_inline, plain_text
from lintas.text.languages import TARGETS, parse_targets

if TYPE_CHECKING:
    from lintas.pipeline.translate import Options

__all__ = [
    "MAX_REVISION",
    "MAX_TRANSLATE_CHARS",
    "ServiceState",
    "TranslateRequest",
    "component_schemas",
    "router",
    "status_key",
]

MAX_TRANSLATE_CHARS = 2000
MAX_REVISION = 2**31 - 1  # the revision columns are 32-bit on PostgreSQL: a bigger number is a 422, not a 500
ARTICLE_JSON_BODY = {"application/json": {"schema": {"$ref": "#/components/schemas/ArticleInput"}}}
_TRANSLATE_BODY = {"application/json": {"schema": {"$ref": "#/components/schemas/TranslateRequest"}}}


# --- state ---------------------------------------------------------------------------------------------------


@dataclass
class ServiceState:
    """What one app holds: the database engine (opened by the lifespan), the translation engine (made on first
    use of ``/v1/translate``), the metrics."""

    engine_name: str
    metrics: Metrics
    head_revision: str | None
    db: Engine | None = None
    reads: QuickReads | None = None  # one-statement reads on the event loop (the answer caches' versions)
    public_url: str = ""  # LINTAS_PUBLIC_URL when the app was made ("": links follow each request's Host)
    translate_lock: threading.Lock = field(default_factory=threading.Lock)  # engines are not thread-safe
    pages: AnswerCache = field(default_factory=AnswerCache)  # the public site's answers (lintas/service/pagecache.py)
    statuses: AnswerCache = field(default_factory=AnswerCache)  # GET /v1/articles/{id}, kept per article
    _translation: LazyEngine[TranslationEngine, Options] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._translation = LazyEngine(self._make_translation)

    @property
    def translator(self) -> TranslationEngine | None:
        """The translation engine once made (None before the first ``/v1/translate``)."""
        return self._translation.engine

    def database(self) -> Engine:
        if self.db is None:
            raise ApiError(503, "unavailable", "the service is not started (no database)")
        return self.db

    def quick_reads(self) -> QuickReads:
        if self.reads is None:
            raise ApiError(503, "unavailable", "the service is not started (no database)")
        return self.reads

    def translation_engine(self) -> tuple[TranslationEngine, Options]:
        """The app's engine and pipeline options, made once (lazily: loading a model takes a while)."""
        return self._translation.get()

    def _make_translation(self) -> tuple[TranslationEngine, Options]:
        try:
            engine = get_engine(self.engine_name)
            options = configured_options(self.db)
        except InputError as err:
            raise ApiError(503, "engine_unavailable", f"the translation engine is unavailable: {err}") from None
        return engine, options

    def close(self) -> None:
        self._translation.close()


def service_state(request: Request) -> ServiceState:
    state: ServiceState = request.app.state.lintas
    return state


# --- request bodies ------------------------------------------------------------------------------------------


class ArticleInput(Article):
    """The article JSON (``schema/article.schema.json``); ``id`` may be left out of a PUT (the path gives it)."""

    # pydantic: a subclass may make a field optional, which mypy sees as an incompatible override of Article.id
    id: str | None = Field(default=None, min_length=1, max_length=200)  # type: ignore[assignment]


class TranslateRequest(BaseModel):
    """``POST /v1/translate``: a short Indonesian text and one target language."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=MAX_TRANSLATE_CHARS, description="Indonesian text, plain")
    to: str = Field(description=f"target language: one of {', '.join(TARGETS)}")


def component_schemas() -> dict[str, Any]:
    """The OpenAPI component schemas of the bodies this module parses itself."""
    out: dict[str, Any] = {}
    for name, model in (("ArticleInput", ArticleInput), ("TranslateRequest", TranslateRequest)):
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        out.update(schema.pop("$defs", {}))
        out[name] = schema
    return out


async def read_json(request: Request) -> object:
    raw = await request.body()
    if not raw.strip():
        raise ApiError(400, "malformed_json", "the request body is empty: send a JSON object")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ApiError(
            400, "malformed_json", f"the request body is not UTF-8 (bad byte at offset {err.start})"
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise ApiError(
            400,
            "malformed_json",
            f"malformed JSON at line {err.lineno}, column {err.colno}: {err.msg}",
            line=err.lineno,
            column=err.colno,
        ) from None
    except RecursionError:
        raise ApiError(400, "malformed_json", "malformed JSON: nested too deeply") from None


def _validation_error(err: ValidationError, what: str) -> ApiError:
    first = err.errors()[0]
    return ApiError(422, "validation_error", validation_message(err, what), field=field_path(tuple(first["loc"])))


def article_from_json(data: object, path_id: str | None) -> Article:
    """The article in ``data`` (validated, inline HTML sanitized as the JSON reader does, checked Indonesian)."""
    if not isinstance(data, dict):
        raise ApiError(
            422,
            "validation_error",
            f"the article must be a JSON object {{...}}, not {type(data).__name__}",
            field="(top level)",
        )
    if path_id is not None:
        body_id = data.get("id")
        if body_id is not None and body_id != path_id:
            raise ApiError(
                422,
                "id_mismatch",
                f"the body's id {body_id!r} is not the id in the URL {path_id!r} (leave it out or make them equal)",
                field="id",
            )
        data = {**data, "id": path_id}
    try:
        Article.model_validate(data)  # the field-naming error; build_article sanitizes the valid article
    except ValidationError as err:
        raise _validation_error(err, "article") from None
    if not is_article_id(data["id"]):
        raise ApiError(422, "validation_error", f"invalid article: field 'id': an id is {ARTICLE_ID_RULE}", field="id")
    article = build_article(data, "article")
    if article.source_lang != "id":
        raise ApiError(
            422,
            "validation_error",
            f"invalid article: field 'source_lang': Lintas translates from Indonesian ('id'), not {article.source_lang!r}",
            field="source_lang",
        )
    try:
        ensure_indonesian(article)
    except InputError as err:
        raise ApiError(422, "not_indonesian", str(err)) from None
    return article


def parse_target_query(spec: str | None) -> list[str]:
    try:
        return parse_targets(spec)
    except InputError as err:
        raise ApiError(422, "unknown_language", str(err), field="query.targets", valid=list(TARGETS)) from None


def _check_lang(lang: str) -> str:
    if lang not in TARGETS:
        raise ApiError(
            422,
            "unknown_language",
            f"unknown target language {lang!r}: choose from {', '.join(TARGETS)}",
            field="path.lang",
            valid=list(TARGETS),
        )
    return lang


# --- helpers -------------------------------------------------------------------------------------------------


def _json(content: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(jsonable_encoder(content), status_code=status_code, headers=headers)


def _href(request: Request, *parts: str) -> str:
    root = request.scope.get("root_path", "").rstrip("/")
    return root + "/v1/articles/" + "/".join(quote(part, safe="") for part in parts)


def _unknown_article(article_id: str) -> ApiError:
    return ApiError(404, "article_not_found", f"no article with id {article_id!r}", id=article_id)


def _gone(article_id: str) -> ApiError:
    return ApiError(410, "unpublished", f"article {article_id!r} was unpublished", id=article_id)


def _links(request: Request, article_id: str, langs: list[str]) -> dict[str, Any]:
    return {
        "self": _href(request, article_id),
        "source_html": _href(request, article_id, "source.html"),
        "editions": {
            lang: {
                "json": _href(request, article_id, "editions", lang),
                "html": _href(request, article_id, "editions", f"{lang}.html"),
            }
            for lang in langs
        },
    }


def _store(db: Engine, article: Article, targets: list[str]) -> tuple[int, bool, dict[str, repo.EditionState]]:
    revision, changed = repo.upsert_article(db, article, targets)  # one transaction: the only write
    return revision, changed, repo.edition_statuses(db, article.id)


async def _put_article(request: Request, path_id: str | None, targets: str | None) -> JSONResponse:
    state = service_state(request)
    langs = parse_target_query(targets)
    data = await read_json(request)
    article = await run_in_threadpool(article_from_json, data, path_id)
    revision, changed, statuses = await run_in_threadpool(_store, state.database(), article, langs)
    return stored_answer(request, article.id, revision, changed, statuses)


def stored_answer(
    request: Request, article_id: str, revision: int, changed: bool, statuses: dict[str, repo.EditionState]
) -> JSONResponse:
    """The answer to a stored article: 201 with a new revision, 200 when the content was the same."""
    body = {
        "id": article_id,
        "revision": revision,
        "changed": changed,
        "editions": statuses,
        "links": _links(request, article_id, sorted(statuses)),
    }
    return _json(body, 201 if changed else 200, {"Location": _href(request, article_id)})


def _job_summary(status: repo.EditionState | None) -> dict[str, Any] | None:
    if status is None or status["job_state"] is None:
        return None
    return {
        "revision": status["job_revision"],
        "state": status["job_state"],
        "attempts": status["attempts"],
        "max_attempts": status["max_attempts"],
        "next_run_at": status["next_run_at"],
        "last_error": status["last_error"],
    }


def _edition_missing(article_id: str, lang: str, revision: int | None, status: repo.EditionState | None) -> ApiError:
    job = _job_summary(status)
    wanted = f" of revision {revision}" if revision is not None else ""
    if job is None or (revision is not None and job["revision"] != revision):
        message = f"article {article_id!r} has no {lang} edition{wanted}"
        if job is None:
            message += f": no translation into {lang} was requested"
        return ApiError(404, "edition_not_found", message, id=article_id, lang=lang, job=job)
    attempt = f"attempt {job['attempts']} of {job['max_attempts']}"
    last = f"; last error: {job['last_error']}" if job["last_error"] else ""
    if job["state"] == "failed":
        message = f"the {lang} translation of revision {job['revision']} failed ({attempt}){last}"
        return ApiError(404, "translation_failed", message, id=article_id, lang=lang, job=job)
    if job["state"] in ("queued", "running"):
        doing = "is being translated" if job["state"] == "running" else "is queued for translation"
        message = f"the {lang} edition is not ready: revision {job['revision']} {doing} ({attempt}){last}"
        return ApiError(404, "edition_not_ready", message, id=article_id, lang=lang, job=job)
    return ApiError(
        404,
        "edition_not_found",
        f"article {article_id!r} has no {lang} edition{wanted}",
        id=article_id,
        lang=lang,
        job=job,
    )


def _public_edition(db: Engine, article_id: str, lang: str, revision: int | None) -> Edition:
    with transaction(db, write=False) as conn:
        info = repo.article_info(conn, article_id)
        if info is None:
            raise _unknown_article(article_id)
        if not info.published:
            raise _gone(article_id)
        edition = repo.get_edition(conn, article_id, lang, revision)
        if edition is None:
            raise _edition_missing(article_id, lang, revision, repo.edition_statuses(conn, article_id).get(lang))
    return edition


def _edition_headers(edition: Edition) -> dict[str, str]:
    return {
        "Content-Language": edition.target_lang,
        "X-Lintas-Revision": str(edition.revision),
        "X-Lintas-Edition-Status": edition.status,
    }


# --- endpoints -----------------------------------------------------------------------------------------------

router = APIRouter()
TargetsQuery = Annotated[
    str | None, Query(description=f"comma-separated target languages (default: all of {','.join(TARGETS)})")
]
_Revision = Annotated[
    int | None,
    Query(ge=1, le=MAX_REVISION, description="a specific revision (default: the newest that has one)"),
]
_RevisionPath = Annotated[int, Path(ge=1, le=MAX_REVISION, description="a stored revision")]


@router.put(
    "/v1/articles/{article_id}",
    tags=["articles"],
    summary="Store an article (new revision when its content changed) and queue its translations",
    dependencies=[require("ingest")],
    status_code=201,
    responses={200: {"description": "same content as the current revision: nothing new"}},
    openapi_extra={"requestBody": {"required": True, "content": ARTICLE_JSON_BODY}},
)
async def put_article(article_id: str, request: Request, targets: TargetsQuery = None) -> JSONResponse:
    return await _put_article(request, article_id, targets)


@router.post(
    "/v1/articles",
    tags=["articles"],
    summary="Store an article whose id is in the body (as PUT)",
    dependencies=[require("ingest")],
    status_code=201,
    responses={200: {"description": "same content as the current revision: nothing new"}},
    openapi_extra={"requestBody": {"required": True, "content": ARTICLE_JSON_BODY}},
)
async def post_article(request: Request, targets: TargetsQuery = None) -> JSONResponse:
    return await _put_article(request, None, targets)


@router.get(
    "/v1/articles/{article_id}",
    tags=["articles"],
    summary="The current revision, its editions' status",
    dependencies=[require("read")],
)
async def get_article(article_id: str, request: Request) -> Response:
    """Kept per article until it changes (:func:`lintas.store.repo.article_version`), with an ``ETag``: a repeat
    with ``If-None-Match`` gets 304 while nothing changed."""
    state = service_state(request)
    version = repo.article_version(state.quick_reads(), article_id)  # one statement, on the event loop
    key = status_key(request, article_id)
    return await state.statuses.answer(request, version, key, lambda: _article_status(article_id, request))


def status_key(conn: HTTPConnection, article_id: str) -> tuple[str, str]:
    """An article status's key in :attr:`ServiceState.statuses`: the article and the root path its links start
    with."""
    return article_id, conn.scope.get("root_path", "")


def _article_status(article_id: str, request: Request) -> JSONResponse:
    with transaction(service_state(request).database(), write=False) as conn:
        info = repo.article_info(conn, article_id)
        if info is None:
            raise _unknown_article(article_id)
        article = repo.get_article(conn, article_id)
        revisions = repo.list_revisions(conn, article_id)
        statuses = repo.edition_statuses(conn, article_id)
    body = {
        "id": info.id,
        "revision": info.current_revision,
        "published": info.published,
        "created_at": info.created_at,
        "updated_at": info.updated_at,
        "article": article.model_dump(mode="json") if article else None,
        "editions": statuses,
        "revisions": [
            {
                "revision": r.revision,
                "content_hash": r.content_hash,
                "created_at": r.created_at,
                "href": _href(request, article_id, "revisions", str(r.revision)),
            }
            for r in revisions
        ],
        "links": _links(request, article_id, sorted(statuses)),
    }
    return _json(body)


@router.get(
    "/v1/articles/{article_id}/revisions/{revision}",
    tags=["articles"],
    summary="One stored revision (audit)",
    dependencies=[require("read")],
)
def get_revision(article_id: str, revision: _RevisionPath, request: Request) -> JSONResponse:
    with transaction(service_state(request).database(), write=False) as conn:
        info = repo.article_info(conn, article_id)
        if info is None:
            raise _unknown_article(article_id)
        article = repo.get_article(conn, article_id, revision)
    if article is None:
        raise ApiError(
            404,
            "revision_not_found",
            f"article {article_id!r} has no revision {revision} (current: {info.current_revision})",
            id=article_id,
        )
    return _json(article.model_dump(mode="json"))


@router.delete(
    "/v1/articles/{article_id}/publication",
    tags=["articles"],
    summary="Unpublish (public pages: 410)",
    dependencies=[require("editor")],
)
def delete_publication(article_id: str, request: Request) -> JSONResponse:
    if not repo.unpublish(service_state(request).database(), article_id):
        raise _unknown_article(article_id)
    return _json({"id": article_id, "published": False})


@router.get(
    "/v1/articles/{article_id}/editions/{lang}.html",
    tags=["editions"],
    summary="An edition as an HTML page",
    dependencies=[require("read")],
    response_class=HTMLResponse,
)
def get_edition_html(article_id: str, lang: str, request: Request, revision: _Revision = None) -> HTMLResponse:
    edition = _public_edition(service_state(request).database(), article_id, _check_lang(lang), revision)
    source = _href(request, article_id, "source.html") + f"?revision={edition.revision}"
    return HTMLResponse(render_edition_html(edition, original_href=source), headers=_edition_headers(edition))


@router.get(
    "/v1/articles/{article_id}/editions/{lang}",
    tags=["editions"],
    summary="An edition as JSON",
    dependencies=[require("read")],
)
def get_edition_json(article_id: str, lang: str, request: Request, revision: _Revision = None) -> JSONResponse:
    edition = _public_edition(service_state(request).database(), article_id, _check_lang(lang), revision)
    return _json(edition.model_dump(mode="json"), headers=_edition_headers(edition))


@router.get(
    "/v1/articles/{article_id}/source.html",
    tags=["editions"],
    summary="The Indonesian original as an HTML page",
    dependencies=[require("read")],
    response_class=HTMLResponse,
)
def get_source_html(article_id: str, request: Request, revision: _Revision = None) -> HTMLResponse:
    with transaction(service_state(request).database(), write=False) as conn:
        info = repo.article_info(conn, article_id)
        if info is None:
            raise _unknown_article(article_id)
        if not info.published:
            raise _gone(article_id)
        article = repo.get_article(conn, article_id, revision)
    if article is None:
        raise ApiError(404, "revision_not_found", f"article {article_id!r} has no revision {revision}", id=article_id)
    return HTMLResponse(render_source_html(article), headers={"Content-Language": article.source_lang})


def _translate(state: ServiceState, text: str, to: str) -> dict[str, Any]:
    # A blank headline is not a unit (lintas.text.assemble skips it): only the paragraph goes to the engine.
    article = Article(id="translate", headline=" ", body=[Block(type="paragraph", html=html.escape(text, quote=False))])
    try:
        ensure_indonesian(article)
    except InputError as err:
        raise ApiError(422, "not_indonesian", str(err)) from None
    engine, options = state.translation_engine()
    with state.translate_lock:
        started = time.perf_counter()
        report = translate_article(article, [to], engine, options=options)[0]
        seconds = time.perf_counter() - started
    state.metrics.translate_seconds.observe(seconds)
    edition = report.edition
    flags = [{"segment": seg.id, **flag.model_dump(mode="json")} for seg in edition.segments for flag in seg.flags]
    translation = "".join(plain_text(parse_inline(block.html)) for block in edition.body)
    return {
        "translation": translation,
        "to": to,
        "flags": flags,
        "status": edition.status,
        "hold_reasons": edition.hold_reasons,
        "confidence": edition.confidence,
        "engine": edition.engine,
        "model": edition.model,
        "seconds": round(seconds, 4),
    }


@router.post(
    "/v1/translate",
    tags=["translate"],
    dependencies=[require("editor")],
    summary=f"Translate a short Indonesian text (at most {MAX_TRANSLATE_CHARS} characters) right away",
    openapi_extra={"requestBody": {"required": True, "content": _TRANSLATE_BODY}},
)
async def post_translate(request: Request) -> JSONResponse:
    state = service_state(request)
    data = await read_json(request)
    if isinstance(data, dict) and isinstance(data.get("text"), str) and len(data["text"]) > MAX_TRANSLATE_CHARS:
        raise ApiError(
            413,
            "text_too_long",
            f"the text is too long: {len(data['text'])} characters (limit {MAX_TRANSLATE_CHARS}); "
            "submit longer texts as articles (PUT /v1/articles/{id})",
            field="text",
            limit=MAX_TRANSLATE_CHARS,
        )
    try:
        req = TranslateRequest.model_validate(data)
    except ValidationError as err:
        raise _validation_error(err, "request") from None
    if not req.text.strip():
        raise ApiError(422, "validation_error", "invalid request: field 'text': must not be blank", field="text")
    to = req.to.strip().lower()
    if to not in TARGETS:
        raise ApiError(
            422,
            "unknown_language",
            f"unknown target language {req.to!r}: choose from {', '.join(TARGETS)}",
            field="to",
            valid=list(TARGETS),
        )
    return _json(await run_in_threadpool(_translate, state, req.text, to))


@router.get("/healthz", tags=["ops"], summary="The process is alive")
def healthz() -> JSONResponse:
    return _json({"status": "ok"})


@router.get("/readyz", tags=["ops"], summary="The database is reachable and migrated")
def readyz(request: Request) -> JSONResponse:
    state = service_state(request)
    db = state.database()
    try:
        with transaction(db, write=False) as conn:
            current = MigrationContext.configure(conn).get_current_revision()
    except Exception as err:
        raise ApiError(503, "database_unreachable", f"the database is unreachable: {type(err).__name__}") from None
    if current != state.head_revision:
        raise ApiError(
            503,
            "database_not_migrated",
            f"the database schema is at {current or 'nothing'}, not {state.head_revision}",
        )
    return _json({"status": "ready", "database": db.dialect.name, "schema_revision": current})


@router.get("/metrics", tags=["ops"], summary="Prometheus metrics", response_class=Response)
def metrics(request: Request) -> Response:
    return Response(service_state(request).metrics.render(), media_type=CONTENT_TYPE_LATEST)
