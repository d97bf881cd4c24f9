"""Kept answers: the public site's pages, feeds and sitemaps, and the API's article status, each kept until what
it shows changes.

An :class:`AnswerCache` keeps 200 answers by key (a page's path and the base URL its links are made from; a
status's article and root path), each under the *version* it was made under: the site's
:class:`~lintas.store.site.SiteVersion` for public answers, an article's :class:`~lintas.store.repo.ArticleVersion`
for its status (each one statement a request). An answer made under another version is never served, so a
change in any process (a worker's included) is seen by the very next request. Only 200 answers are kept (a 301,
404 or 410 is made afresh), at most :data:`MAX_BYTES` of bodies (least recently used first out). Concurrent
misses of one key wait for one answer to be made (a new version read by 200 readers at once is made once).

Each kept answer carries a strong ``ETag`` (a hash of its body: equal in every process) and, when its version has
a time, ``Last-Modified`` (to the second). A request whose ``If-None-Match`` names the ETag, or, without
``If-None-Match``, whose ``If-Modified-Since`` is not older than ``Last-Modified``, gets ``304 Not Modified``.
``Last-Modified`` is only sent once the second of the newest change is over: a later change then always has a
later second, so a ``304`` on ``If-Modified-Since`` can never hide it.

:class:`lintas.service.kept.KeptAnswersMiddleware` serves kept answers before FastAPI's routing and dependencies
run: under load those were most of a kept answer's cost.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any, Protocol

from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection

__all__ = ["MAX_BYTES", "AnswerCache", "CachedAnswer", "Version", "not_modified"]

MAX_BYTES = 64 * 1024 * 1024
_KEPT_HEADERS = ("cache-control", "content-language", "content-type", "x-lintas-revision", "vary")


class Version(Protocol):
    """What an answer is kept under: a token that any change moves, and the time of the newest change (or None)."""

    @property
    def token(self) -> tuple[Any, ...]: ...

    @property
    def modified(self) -> datetime | None: ...


@dataclass(frozen=True)
class CachedAnswer:
    """One kept 200 answer, with the version token it was made under and the route that made it."""

    body: bytes
    headers: dict[str, str]
    etag: str
    modified: datetime | None  # to the second
    token: tuple[Any, ...]
    route: object | None = None  # scope["route"] when it was made: the metrics label it under that route

    def response(self, conn: HTTPConnection, now: datetime | None = None) -> Response:
        """The answer to ``conn``: 304 when its validators match, else the body; both with the validators."""
        headers = {**self.headers, "ETag": self.etag}
        if self.modified is not None and (now or datetime.now(UTC)) >= self.modified + timedelta(seconds=1):
            headers["Last-Modified"] = format_datetime(self.modified, usegmt=True)
        if not_modified(conn, self.etag, self.modified if "Last-Modified" in headers else None):
            headers.pop("content-type", None)
            return Response(status_code=304, headers=headers)
        return Response(self.body, headers=headers)


def not_modified(conn: HTTPConnection, etag: str, modified: datetime | None) -> bool:
    """Whether the request's conditional headers say its copy is current (RFC 9110 13.2.2: If-None-Match first,
    compared weakly; If-Modified-Since only without it)."""
    if_none_match = conn.headers.get("if-none-match")
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or etag in tags
    since = conn.headers.get("if-modified-since")
    if since is None or modified is None:
        return False
    try:
        moment = parsedate_to_datetime(since)
    except (TypeError, ValueError, IndexError):
        return False
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return modified <= moment


class AnswerCache:
    """200 answers kept by key, each under the version it was made under (see the module)."""

    def __init__(self, max_bytes: int = MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self.hits = self.misses = 0
        self._entries: OrderedDict[Hashable, CachedAnswer] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._making: dict[tuple[Hashable, tuple[Any, ...]], asyncio.Event] = {}

    def holds(self, key: Hashable) -> bool:
        """Whether an answer is kept for ``key`` (under any version): no lookup of the version is worth making
        for a key that was never answered."""
        return key in self._entries

    async def answer(
        self, conn: HTTPConnection, version: Version, key: Hashable, make: Callable[[], Response]
    ) -> Response:
        """The kept answer for ``key`` under ``version``, or ``make()``'s (kept when it is a 200).

        A kept answer is served on the event loop; only ``make()`` (queries, rendering) goes to the thread pool.
        While one request makes the answer for ``key`` and ``version``, the others asking for it wait for it
        instead of making it again."""
        entry = self.kept(version, key)
        if entry is None and (making := self._making.get((key, version.token))) is not None:
            await making.wait()
            entry = self.kept(version, key)
        if entry is None:
            flight = (key, version.token)
            mine = flight not in self._making
            if mine:
                self._making[flight] = asyncio.Event()
            try:
                response = await run_in_threadpool(make)
                if response.status_code != 200:
                    return response
                entry = self.keep(version, key, response, conn.scope.get("route"))
            finally:
                if mine:
                    self._making.pop(flight).set()
        return entry.response(conn)

    def kept(self, version: Version, key: Hashable) -> CachedAnswer | None:
        """The answer kept for ``key`` if it was made under ``version`` (one under another version is dropped)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry.token != version.token:
                del self._entries[key]
                self._bytes -= len(entry.body)
                entry = None
            if entry is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry

    def keep(self, version: Version, key: Hashable, response: Response, route: object | None = None) -> CachedAnswer:
        """Keep ``response`` (a 200) for ``key`` under ``version``; the kept answer."""
        body = bytes(response.body)
        headers = {k: v for k, v in response.headers.items() if k in _KEPT_HEADERS}
        modified = version.modified.replace(microsecond=0) if version.modified is not None else None
        etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
        entry = CachedAnswer(body, headers, etag, modified, version.token, route)
        if len(body) > self.max_bytes:
            return entry  # answer it, keep nothing
        with self._lock:
            old = self._entries.pop(key, None)
            self._bytes += len(body) - (len(old.body) if old is not None else 0)
            self._entries[key] = entry
            while self._bytes > self.max_bytes:
                _, evicted = self._entries.popitem(last=False)
                self._bytes -= len(evicted.body)
        return entry
