"""Kept answers served before routing: :class:`KeptAnswersMiddleware`.

Most of what readers and pollers ask for does not change between two publications: the public pages, feeds and
sitemaps (:mod:`lintas.service.public`) and each article's API status (``GET /v1/articles/{id}``,
:mod:`lintas.service.api`). Their routes keep each answer in the app's :class:`~lintas.service.pagecache.AnswerCache`
under the version it was made from. Serving a kept answer costs less than FastAPI's routing and dependencies
around it (under load those were most of a kept page's cost), so this middleware answers a GET whose answer is
kept under the current version itself, and hands everything else, a miss included, to the app.

It sits inside the rate limits, CORS, security headers and metrics, so a kept answer gets all of them. A status
still needs its API key: the key is checked, its role too, and the request counted against its rate limit by
the same :func:`~lintas.service.auth.authorize` the route's dependency calls; a refusal is answered as the route
would answer it.
"""

from __future__ import annotations

import re

from starlette.requests import HTTPConnection
from starlette.responses import Response
from starlette.routing import get_route_path
from starlette.types import ASGIApp, Receive, Scope, Send

from lintas.service.api import ServiceState, status_key
from lintas.service.auth import authorize, request_key
from lintas.service.errors import ApiError, error_response
from lintas.service.pagecache import CachedAnswer
from lintas.service.public import page_key
from lintas.store import repo, site
from lintas.store.db import QuickReads

__all__ = ["KeptAnswersMiddleware"]

_STATUS = re.compile(r"/v1/articles/([^/]+)")  # the route GET /v1/articles/{article_id}


class KeptAnswersMiddleware:
    """Answer a GET whose answer the app keeps under the current version before routing (see the module)."""

    def __init__(self, app: ASGIApp, state: ServiceState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        reads = self.state.reads
        if scope["type"] == "http" and scope["method"] == "GET" and reads is not None:
            conn = HTTPConnection(scope)
            kept = await self._status(conn, reads) if scope["path"].startswith("/v1/") else self._page(conn, reads)
            if kept is not None:
                await kept(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _page(self, conn: HTTPConnection, reads: QuickReads) -> Response | None:
        key = page_key(conn, self.state.public_url)
        if not self.state.pages.holds(key):
            return None
        entry = self.state.pages.kept(site.version(reads), key)
        return None if entry is None else _answer(conn, entry)

    async def _status(self, conn: HTTPConnection, reads: QuickReads) -> Response | None:
        match = _STATUS.fullmatch(get_route_path(conn.scope))
        if match is None:
            return None
        article_id = match.group(1)
        key = status_key(conn, article_id)
        if not self.state.statuses.holds(key):
            return None
        entry = self.state.statuses.kept(repo.article_version(reads, article_id), key)
        if entry is None:
            return None  # the route checks the key and makes the answer
        try:
            await authorize(conn, "read", request_key(conn))
        except ApiError as err:
            return error_response(err)
        return _answer(conn, entry)


def _answer(conn: HTTPConnection, entry: CachedAnswer) -> Response:
    if entry.route is not None:
        conn.scope["route"] = entry.route  # the metrics' label: the route that made it
    return entry.response(conn)
