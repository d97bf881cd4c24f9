"""The FastAPI application of ``lintas serve``: :func:`create_app`, and :func:`create_app_from_env` for uvicorn."""

from __future__ import annotations

import functools
import gc
import os
import signal
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from alembic.script import ScriptDirectory
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from sqlalchemy import URL
from starlette.concurrency import run_in_threadpool

from lintas import settings
from lintas.ingest import MAX_ARTICLE_BYTES
from lintas.ingest.language import warm_up
from lintas.service.accounts import install_desk
from lintas.service.api import ServiceState, component_schemas, router
from lintas.service.auth import install_security
from lintas.service.desk import install_desk_pages
from lintas.service.desk_glossary import router as desk_glossary_router
from lintas.service.errors import BodyLimitMiddleware, install_error_handlers
from lintas.service.headers import SecurityHeadersMiddleware, install_docs
from lintas.service.kept import KeptAnswersMiddleware
from lintas.service.metrics import Metrics, MetricsMiddleware
from lintas.service.public import router as public_router
from lintas.service.webhooks import install_webhooks
from lintas.store.db import QuickReads, alembic_config, make_engine, upgrade
from lintas.version import __version__

__all__ = [
    "DATABASE_URL_ENV",
    "DEFAULT_MAX_BODY_BYTES",
    "PUBLIC_URL_WARNING",
    "create_app",
    "create_app_from_env",
    "create_server_app",
    "die_with_parent",
    "proxy_options",
    "serve_processes",
]

DATABASE_URL_ENV = settings.env_name("database_url")
DEFAULT_MAX_BODY_BYTES = MAX_ARTICLE_BYTES  # 2 MiB, as for article files

_DESCRIPTION = (
    "Indonesian news articles in, English, Chinese, Japanese, Arabic and French editions out. "
    "Articles are stored with their revisions and translated by workers from a durable queue; "
    'errors are JSON `{"error": {"code", "message"}}`.'
)


PUBLIC_URL_WARNING = (
    "warning: LINTAS_PUBLIC_URL is not set: feeds, sitemaps and page links use each request's Host header "
    "(answers carry Vary: Host); set it to the site's public address, e.g. https://news.example"
)


def proxy_options() -> dict[str, Any]:
    """uvicorn's options for ``X-Forwarded-For``: believed only from ``LINTAS_TRUSTED_PROXIES`` (none by default;
    uvicorn alone would trust 127.0.0.1, so that anyone on the machine could pick their address)."""
    trusted = ",".join(settings.current().trusted_proxies)
    return {"proxy_headers": bool(trusted), "forwarded_allow_ips": trusted}


def _head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def create_app(
    db_url: str | URL | None = None,
    *,
    engine_name: str | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    auth: bool = True,
) -> FastAPI:
    """The API over the database at ``db_url`` (an SQLAlchemy URL; None: ``lintas.sqlite`` in the data directory).

    The database engine is opened, and the schema created or migrated, when the app starts (its lifespan), and
    disposed of when it stops. ``engine_name`` is the translation engine of ``POST /v1/translate`` (default:
    ``LINTAS_ENGINE``), made on first use. Request bodies over ``max_body_bytes`` get 413. With ``auth`` the
    ``/v1`` routes need an API key (:mod:`lintas.service.auth`); without, they are open (tests, local use).
    Rate limits, CORS and the CMS webhook are configured from the settings (InputError for a bad value).
    """
    state = ServiceState(
        engine_name=engine_name or settings.current().engine,
        public_url=settings.current().public_url.strip().rstrip("/"),
        metrics=Metrics(lambda: state.db),
        head_revision=_head_revision(),
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        db = make_engine(db_url)
        try:
            await run_in_threadpool(upgrade, db)
            await run_in_threadpool(warm_up)  # the language identifier loads in ~1 s: not on a request
            state.db, state.reads = db, QuickReads(db)
            gc.freeze()  # what start-up made lives as long as the process: no full collection walks it again
            yield
        finally:
            reads, state.db, state.reads = state.reads, None, None
            if reads is not None:
                reads.close()
            try:
                await run_in_threadpool(state.close)
            finally:
                db.dispose()

    app = FastAPI(
        title="Lintas",
        version=__version__,
        description=_DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # install_docs: Swagger UI from the package's files, not a CDN
        redoc_url=None,
    )
    app.state.lintas = state
    install_error_handlers(app)
    install_docs(app)
    app.include_router(router)
    install_webhooks(app)
    install_desk(app)  # /desk/: sign-in with sessions, HTML answers
    app.include_router(desk_glossary_router)  # /desk/glossary
    install_desk_pages(app)  # /desk/ list, article view, corrections, approve / hold
    app.include_router(public_router)  # last: its /{lang}/... paths must not shadow the API's
    app.add_middleware(KeptAnswersMiddleware, state=state)  # innermost: kept answers before routing
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=max_body_bytes)
    install_security(app, state.database, enabled=auth)  # per-IP limits and CORS, inside the metrics
    # on every answer, 429s included; links follow the Host (so Vary: Host) when the app has no public URL
    app.add_middleware(SecurityHeadersMiddleware, vary_host=not state.public_url)
    app.add_middleware(MetricsMiddleware, metrics=state.metrics)  # outermost: sees every answer, 413s included

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            schema.setdefault("components", {}).setdefault("schemas", {}).update(component_schemas())
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend the schema
    return app


def die_with_parent(parent: int, poll_seconds: float = 0.5, grace_seconds: float = 10.0) -> bool:
    """In a server process that ``lintas serve --workers N`` started (``parent`` is that command's process id):
    watch the parent from a daemon thread, and when it is gone (``kill -9``, a crash) stop this process too, SIGTERM
    first (uvicorn's graceful shutdown), then at once after ``grace_seconds``. Without it the children of a killed
    parent went on serving the port, and a restart failed with "address already in use". Returns whether the
    watch started."""
    if parent <= 0 or parent == os.getpid():
        return False

    def watch() -> None:
        while os.getppid() == parent:  # a dead parent's children are adopted by another process
            time.sleep(poll_seconds)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(grace_seconds)
        os._exit(1)

    threading.Thread(target=watch, name="lintas-parent-watch", daemon=True).start()
    return True


def create_app_from_env() -> FastAPI:
    """:func:`create_app` configured from the settings (``LINTAS_DATABASE_URL``, ``LINTAS_ENGINE``), for
    ``uvicorn --factory lintas.service:create_app_from_env``."""
    return create_app(settings.current().database_url.strip() or None)


def create_server_app(db_url: str | None, engine_name: str, parent: int) -> FastAPI:
    """The app of one server process of ``lintas serve --workers N``: :func:`create_app` on ``db_url`` and
    ``engine_name``, in a process that stops when ``parent`` (the command's process) dies (:func:`die_with_parent`).
    """
    die_with_parent(parent)
    return create_app(db_url or None, engine_name=engine_name)


def serve_processes(db_url: str | None, engine_name: str, *, workers: int, **options: Any) -> None:
    """Serve :func:`create_server_app` from ``workers`` uvicorn processes (``options``: uvicorn's, e.g. ``host``,
    ``port``). The database URL, the engine and this process's id reach each process as the factory's arguments
    (pickled by multiprocessing's spawn), not through the environment: nothing writes ``os.environ``."""
    from uvicorn import Config
    from uvicorn.supervisors import Multiprocess

    factory = functools.partial(create_server_app, db_url or None, engine_name, os.getpid())
    config = Config(factory, factory=True, workers=workers, **options)
    sockets = [config.bind_socket()]
    try:
        Multiprocess(config, sockets=sockets).run()
    except KeyboardInterrupt:
        pass
    finally:
        for sock in sockets:
            sock.close()
