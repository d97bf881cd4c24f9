"""``lintas watch``: poll RSS/Atom feeds and queue their new articles for translation.

:func:`poll_once` fetches a feed with a conditional GET (the ``ETag`` / ``Last-Modified`` stored in
``feed_sources`` sent back as ``If-None-Match`` / ``If-Modified-Since``; ``304`` means nothing new). Each entry
whose GUID is not yet in ``feed_items`` is taken: its page is fetched (at most :data:`MAX_PAGE_BYTES`), the
article read from it (else from the feed's own content, :func:`lintas.ingest.feed.article_from_entry`), checked
to be Indonesian, then stored with :func:`lintas.store.repo.upsert_article` (which queues its translation jobs)
and its GUID recorded, in one transaction: a crash never records a GUID whose article was not stored.

De-duplication is by GUID: an entry already recorded is never taken again, even when its page changed (an
updated article reaches Lintas through ``PUT /v1/articles/{id}``). An entry that cannot be taken permanently (not
Indonesian, no article in the page or feed, HTTP 4xx, too large) is recorded with its error and not tried again.
A transient failure (network error, timeout, HTTP 5xx/408/429 on a page that the feed carries no content for)
is not recorded: the entry is tried again at the next poll, for as long as the feed lists it; the feed's new
validators are then not stored either, so the next poll gets the whole feed (not a ``304``).

:func:`watch` polls a set of feeds until stopped, each every ``interval`` seconds (±10 % jitter), backing off
exponentially (up to an hour) while a feed fails.
"""

from __future__ import annotations

import random
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import Connection, Table, select, update
from sqlalchemy.dialects import postgresql, sqlite

from lintas.errors import InputError
from lintas.ingest import MAX_ARTICLE_BYTES, ensure_indonesian
from lintas.ingest.feed import FeedEntry, article_from_entry, guid_hash, parse_feed
from lintas.ingest.limits import check_translatable
from lintas.store import repo
from lintas.store.db import AnyRow, Bind, transaction, utcnow
from lintas.store.repo import UpsertInsert
from lintas.store.schema import feed_items, feed_sources
from lintas.text.article import Article
from lintas.version import __version__

__all__ = [
    "MAX_FEED_BYTES",
    "MAX_PAGE_BYTES",
    "USER_AGENT",
    "PollResult",
    "make_client",
    "next_delay",
    "poll_once",
    "safe_poll",
    "watch",
]

USER_AGENT = f"Lintas/{__version__} (feed watcher)"
MAX_FEED_BYTES = 10 * 1024 * 1024
MAX_PAGE_BYTES = MAX_ARTICLE_BYTES  # 2 MiB
MAX_BACKOFF_SECONDS = 3600.0
_TRANSIENT_STATUS = frozenset({408, 425, 429})
_TRANSIENT_ERRORS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
_IN_CHUNK = 500


@dataclass(frozen=True)
class PollResult:
    """One poll of one feed: its HTTP status (None: unreachable), entry counts and the feed's error if any."""

    url: str
    status: int | None
    new: int = 0
    skipped: int = 0
    failed: int = 0
    error: str | None = None  # the feed itself could not be read
    failures: tuple[tuple[str, str], ...] = ()  # (GUID, reason) of each failed entry

    @property
    def ok(self) -> bool:
        return self.error is None

    def line(self) -> str:
        """``feed URL: HTTP 200, 3 new, 1 skipped, 0 failed`` (or the feed's error)."""
        http = f"HTTP {self.status}" if self.status is not None else "unreachable"
        if self.error is not None:
            return f"feed {self.url}: {http}, error: {self.error}"
        return f"feed {self.url}: {http}, {self.new} new, {self.skipped} skipped, {self.failed} failed"


class FetchError(Exception):
    """A GET (or the reading of an entry) that failed; ``transient`` ones are worth trying again later."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


@dataclass(frozen=True)
class _Response:
    status: int
    url: str
    body: bytes
    etag: str | None
    last_modified: str | None


def make_client(timeout: float = 20.0) -> httpx.Client:
    """An HTTP client with Lintas's User-Agent, redirects followed and timeouts."""
    return httpx.Client(
        headers={"User-Agent": USER_AGENT},
        follow_redirects=True,
        max_redirects=5,
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
    )


# --- HTTP ----------------------------------------------------------------------------------------------------


def _read(resp: httpx.Response, limit: int) -> bytes:
    declared = resp.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise FetchError(f"response too large ({declared} bytes, limit {limit})", transient=False)
    body = bytearray()
    for chunk in resp.iter_bytes():
        body += chunk
        if len(body) > limit:
            raise FetchError(f"response too large (over {limit} bytes)", transient=False)
    return bytes(body)


def _get(client: httpx.Client, url: str, headers: dict[str, str], limit: int) -> _Response:
    """GET ``url``, reading the body of a 2xx answer only (at most ``limit`` bytes)."""
    try:
        with client.stream("GET", url, headers=headers) as resp:
            body = _read(resp, limit) if resp.is_success else b""
            etag, modified = resp.headers.get("etag"), resp.headers.get("last-modified")
            return _Response(resp.status_code, str(resp.url), body, etag, modified)
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        reason = str(exc) or type(exc).__name__
        raise FetchError(f"{type(exc).__name__}: {reason}", transient=isinstance(exc, _TRANSIENT_ERRORS)) from None


def _page(client: httpx.Client, url: str) -> bytes:
    resp = _get(client, url, {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"}, MAX_PAGE_BYTES)
    if resp.status // 100 != 2:
        transient = resp.status >= 500 or resp.status in _TRANSIENT_STATUS
        raise FetchError(f"page {url}: HTTP {resp.status}", transient=transient)
    return resp.body


# --- the store -----------------------------------------------------------------------------------------------


def _insert(conn: Connection, table: Table) -> UpsertInsert:
    return postgresql.insert(table) if conn.dialect.name == "postgresql" else sqlite.insert(table)


def _source(bind: Bind, url: str) -> AnyRow:
    """The feed's ``feed_sources`` row, created on its first poll."""
    with transaction(bind) as conn:
        conn.execute(_insert(conn, feed_sources).values(url=url).on_conflict_do_nothing(index_elements=["url"]))
        return conn.execute(select(feed_sources).where(feed_sources.c.url == url)).one()


def _known(bind: Bind, feed_id: int, keys: list[str]) -> set[str]:
    """The GUID hashes among ``keys`` already recorded for the feed."""
    found: set[str] = set()
    with transaction(bind, write=False) as conn:
        for start in range(0, len(keys), _IN_CHUNK):
            chunk = keys[start : start + _IN_CHUNK]
            query = select(feed_items.c.guid_hash).where(
                feed_items.c.feed_id == feed_id, feed_items.c.guid_hash.in_(chunk)
            )
            found.update(conn.scalars(query))
    return found


def _record(conn: Connection, feed_id: int, entry: FeedEntry, article_id: str | None, error: str | None) -> bool:
    """Record the entry's GUID; False when another poller recorded it first."""
    values = {"feed_id": feed_id, "guid_hash": guid_hash(entry.guid), "guid": entry.guid}
    values |= {"article_id": article_id, "error": error, "seen_at": utcnow()}
    statement = (
        _insert(conn, feed_items)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["feed_id", "guid_hash"])
        .execution_options(preserve_rowcount=True)
    )
    return conn.execute(statement).rowcount == 1


def _finish(
    bind: Bind, feed: AnyRow, result: PollResult, validators: tuple[str | None, str | None] | None
) -> PollResult:
    values: dict[str, Any] = {"last_checked_at": utcnow(), "last_status": result.status, "last_error": result.error}
    if validators is not None:
        values |= {"etag": validators[0], "last_modified": validators[1]}
    with transaction(bind) as conn:
        conn.execute(update(feed_sources).where(feed_sources.c.id == feed.id).values(**values))
    return result


# --- entries -------------------------------------------------------------------------------------------------


def _build(client: httpx.Client, entry: FeedEntry) -> Article:
    """The entry's article, checked to be Indonesian; raises InputError or FetchError."""
    page: bytes | None = None
    page_error: FetchError | None = None
    if entry.link and entry.link.lower().startswith(("http://", "https://")):
        try:
            page = _page(client, entry.link)
        except FetchError as exc:
            page_error = exc
    try:
        article = article_from_entry(entry, page)
    except InputError:
        if page_error is not None:
            raise page_error from None
        raise
    ensure_indonesian(article)
    check_translatable(article)  # a refusal is recorded for good, as for any unusable entry
    return article


def _take(bind: Bind, feed_id: int, entry: FeedEntry, client: httpx.Client, targets: Sequence[str]) -> str | None:
    """Take one new entry: None when stored, else why not (raises FetchError when it is worth a retry)."""
    try:
        article = _build(client, entry)
    except FetchError as exc:
        if exc.transient:
            raise
        error = str(exc)
    except InputError as exc:
        error = str(exc)
    except Exception as exc:  # a reader's bug on an odd page: not recorded, so not lost for good
        raise FetchError(f"{type(exc).__name__}: {exc}", transient=True) from exc
    else:
        with transaction(bind) as conn:  # the article and its GUID, all or nothing
            repo.upsert_article(conn, article, targets)
            _record(conn, feed_id, entry, article.id, None)
        return None
    with transaction(bind) as conn:
        _record(conn, feed_id, entry, None, error)
    return error


@dataclass
class _Tally:
    new: int = 0
    skipped: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)
    complete: bool = True  # every entry settled: the feed's validators may be stored


def _take_all(
    bind: Bind,
    feed_id: int,
    entries: list[FeedEntry],
    client: httpx.Client,
    targets: Sequence[str],
    stop: threading.Event | None,
) -> _Tally:
    tally = _Tally()
    known = _known(bind, feed_id, [guid_hash(e.guid) for e in entries])
    for entry in entries:
        key = guid_hash(entry.guid)
        if key in known:
            tally.skipped += 1
            continue
        if stop is not None and stop.is_set():
            tally.complete = False
            break
        known.add(key)
        try:
            error = _take(bind, feed_id, entry, client, targets)
        except FetchError as exc:  # transient: not recorded, tried again next time
            tally.complete = False
            tally.failures.append((entry.guid, f"{exc} (will retry)"))
            continue
        if error is None:
            tally.new += 1
        else:
            tally.failures.append((entry.guid, error))
    return tally


def poll_once(
    bind: Bind,
    url: str,
    client: httpx.Client,
    targets: Sequence[str],
    *,
    stop: threading.Event | None = None,
) -> PollResult:
    """Poll one feed (see the module's docstring); ``stop`` is checked between entries.

    Errors of the feed itself (unreachable, HTTP error, not a feed) are in the result, not raised; database
    errors are raised.
    """
    feed = _source(bind, url)
    conditional = {"If-None-Match": feed.etag, "If-Modified-Since": feed.last_modified}
    headers = {key: value for key, value in conditional.items() if value}
    headers["Accept"] = "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"
    try:
        resp = _get(client, url, headers, MAX_FEED_BYTES)
    except FetchError as exc:
        return _finish(bind, feed, PollResult(url, None, error=str(exc)), None)
    if resp.status == 304:
        validators = (resp.etag or feed.etag, resp.last_modified or feed.last_modified)
        return _finish(bind, feed, PollResult(url, 304), validators)
    if resp.status // 100 != 2:
        return _finish(bind, feed, PollResult(url, resp.status, error=f"HTTP {resp.status}"), None)
    try:
        entries = parse_feed(resp.body, url)  # the URL polled, not a redirect's: GUIDs stay stable
    except InputError as exc:
        return _finish(bind, feed, PollResult(url, resp.status, error=str(exc)), None)
    tally = _take_all(bind, feed.id, entries, client, targets, stop)
    result = PollResult(url, resp.status, tally.new, tally.skipped, len(tally.failures), None, tuple(tally.failures))
    return _finish(bind, feed, result, (resp.etag, resp.last_modified) if tally.complete else None)


def safe_poll(
    bind: Bind, url: str, client: httpx.Client, targets: Sequence[str], stop: threading.Event | None = None
) -> PollResult:
    """:func:`poll_once`, with any other error (the database away...) as the result's error."""
    try:
        return poll_once(bind, url, client, targets, stop=stop)
    except Exception as exc:
        reason = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [""])[0]
        return PollResult(url, None, error=f"{type(exc).__name__}: {reason}")


# --- the loop ------------------------------------------------------------------------------------------------


def next_delay(interval: float, failures: int, rng: random.Random | None = None) -> float:
    """Seconds to the next poll: ``interval`` doubled per consecutive failure (at most an hour), ±10 %."""
    base = interval * 2.0 ** min(failures, 16)
    if failures:
        base = min(base, max(interval, MAX_BACKOFF_SECONDS))
    return base * (rng or random).uniform(0.9, 1.1)


def _print(result: PollResult) -> None:
    print(result.line(), file=sys.stdout if result.ok else sys.stderr, flush=True)


def watch(
    bind: Bind,
    urls: Sequence[str],
    interval: float,
    targets: Sequence[str],
    stop: threading.Event,
    *,
    client: httpx.Client | None = None,
    report: Callable[[PollResult], None] = _print,
) -> None:
    """Poll every feed in ``urls`` until ``stop`` is set; each poll's result goes to ``report``."""
    own = client is None
    http = client or make_client()
    due = dict.fromkeys(urls, 0.0)
    failures = dict.fromkeys(urls, 0)
    try:
        while not stop.is_set():
            for url in [u for u in urls if due[u] <= time.monotonic()]:
                if stop.is_set():
                    break
                result = safe_poll(bind, url, http, targets, stop)
                report(result)
                failures[url] = 0 if result.ok else failures[url] + 1
                due[url] = time.monotonic() + next_delay(interval, failures[url])
            stop.wait(max(0.0, min(due.values()) - time.monotonic()))
    finally:
        if own:
            http.close()
