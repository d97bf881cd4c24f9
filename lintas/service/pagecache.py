"""The public site's cache: published pages, feeds and sitemaps kept per process until what they show changes.

Each request reads the site's :class:`~lintas.store.site.SiteVersion` (one small SELECT); an answer made under
another version is never served, so publishing, a correction, a hold or an unpublish (in any process, a worker's
included) is seen by the very next request. Only 200 answers are kept (a 301, 404 or 410 is made afresh), keyed by
path and the site's base URL, at most :data:`MAX_BYTES` of bodies (least recently used first out).

Each kept answer carries a strong ``ETag`` (a hash of its body: equal in every process) and ``Last-Modified``
(the site's newest change, to the second). A request whose ``If-None-Match`` names the ETag, or, without
``If-None-Match``, whose ``If-Modified-Since`` is not older than ``Last-Modified``, gets ``304 Not Modified``.
``Last-Modified`` is only sent once the second of the newest change is over: a later change then always has a
later second, so a ``304`` on ``If-Modified-Since`` can never hide it.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from lintas.store.site import SiteVersion

__all__ = ["MAX_BYTES", "CachedAnswer", "PageCache", "not_modified"]

MAX_BYTES = 64 * 1024 * 1024
_KEPT_HEADERS = ("cache-control", "content-language", "content-type", "x-lintas-revision", "vary")


@dataclass(frozen=True)
class CachedAnswer:
    """One kept 200 answer."""

    body: bytes
    headers: dict[str, str]
    etag: str
    modified: datetime | None  # to the second

    def response(self, request: Request, now: datetime | None = None) -> Response:
        """The answer to ``request``: 304 when its validators match, else the body; both with the validators."""
        headers = {**self.headers, "ETag": self.etag}
        if self.modified is not None and (now or datetime.now(UTC)) >= self.modified + timedelta(seconds=1):
            headers["Last-Modified"] = format_datetime(self.modified, usegmt=True)
        if not_modified(request, self.etag, self.modified if "Last-Modified" in headers else None):
            headers.pop("content-type", None)
            return Response(status_code=304, headers=headers)
        return Response(self.body, headers=headers)


def not_modified(request: Request, etag: str, modified: datetime | None) -> bool:
    """Whether the request's conditional headers say its copy is current (RFC 9110 13.2.2: If-None-Match first,
    compared weakly; If-Modified-Since only without it)."""
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or etag in tags
    since = request.headers.get("if-modified-since")
    if since is None or modified is None:
        return False
    try:
        moment = parsedate_to_datetime(since)
    except (TypeError, ValueError, IndexError):
        return False
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return modified <= moment


class PageCache:
    """Answers kept under one :class:`SiteVersion`: a request under another version empties the cache first."""

    def __init__(self, max_bytes: int = MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self.hits = self.misses = 0
        self._token: tuple[Any, ...] | None = None
        self._entries: OrderedDict[tuple[str, ...], CachedAnswer] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    async def answer(
        self, request: Request, version: SiteVersion, key: tuple[str, ...], make: Callable[[], Response]
    ) -> Response:
        """The kept answer for ``key`` under ``version``, or ``make()``'s (kept when it is a 200).

        A kept answer is served on the event loop; only ``make()`` (queries, rendering) goes to the thread pool,
        so the many readers of unchanged pages never wait for a thread."""
        entry = self.kept(version, key)
        if entry is None:
            response = await run_in_threadpool(make)
            if response.status_code != 200:
                return response
            entry = self.keep(version, key, response)
        return entry.response(request)

    def kept(self, version: SiteVersion, key: tuple[str, ...]) -> CachedAnswer | None:
        with self._lock:
            if version.token != self._token:
                self._token, self._bytes = version.token, 0
                self._entries.clear()
            entry = self._entries.get(key)
            if entry is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry

    def keep(self, version: SiteVersion, key: tuple[str, ...], response: Response) -> CachedAnswer:
        body = bytes(response.body)
        headers = {k: v for k, v in response.headers.items() if k in _KEPT_HEADERS}
        modified = version.modified.replace(microsecond=0) if version.modified is not None else None
        entry = CachedAnswer(body, headers, f'"{hashlib.sha256(body).hexdigest()[:32]}"', modified)
        with self._lock:
            if version.token != self._token or len(body) > self.max_bytes:
                return entry  # the site changed meanwhile (or a huge body): answer it, keep nothing
            old = self._entries.pop(key, None)
            self._bytes += len(body) - (len(old.body) if old is not None else 0)
            self._entries[key] = entry
            while self._bytes > self.max_bytes:
                _, evicted = self._entries.popitem(last=False)
                self._bytes -= len(evicted.body)
        return entry
