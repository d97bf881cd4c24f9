"""RSS and Atom feeds: their entries, and the article of an entry (from its page, else from the feed).

:func:`parse_feed` reads a feed with ``feedparser`` (RSS 0.9x/1.0/2.0, Atom 0.3/1.0, lenient about malformed
XML). :func:`article_from_entry` builds an :class:`~lintas.text.article.Article` with our own HTML reader
(:func:`lintas.ingest.html.parse_html`): from the entry's page when it parses, else from the full content the
feed carries (``content:encoded``, Atom ``<content>``). A summary alone is never taken for the article.
Nothing here knows about HTTP or the store (see :mod:`lintas.newsroom.watch`).
"""

from __future__ import annotations

import calendar
import hashlib
import html
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import feedparser
from bs4 import UnicodeDammit

from lintas.errors import InputError
from lintas.ingest.common import make_soup
from lintas.ingest.html import find_root, parse_html
from lintas.text.article import Article, Block
from lintas.text.inline import Run, parse_inline, render_inline

__all__ = ["FeedEntry", "article_from_entry", "entry_article_id", "guid_hash", "parse_feed"]

_HTML_TYPES = ("text/html", "application/xhtml+xml", "html", "xhtml")
_ID_PREFIX = "feed-"


@dataclass(frozen=True)
class FeedEntry:
    """One item of a feed; ``content`` is the full article HTML when the feed carries it."""

    guid: str
    link: str | None
    title: str | None
    published: datetime | None
    content: str | None


def guid_hash(guid: str) -> str:
    """sha256 (hex) of a GUID: the key of ``feed_items``."""
    return hashlib.sha256(guid.encode("utf-8")).hexdigest()


def entry_article_id(entry: FeedEntry) -> str:
    """The stable article id of an entry: ``feed-`` + the first 16 hex digits of sha256(GUID)."""
    return _ID_PREFIX + guid_hash(entry.guid)[:16]


def _published(raw: Any) -> datetime | None:
    parsed = raw.get("published_parsed") or raw.get("updated_parsed")
    return datetime.fromtimestamp(calendar.timegm(parsed), UTC) if parsed else None


def _content(raw: Any) -> str | None:
    """The entry's full content as HTML (plain text is escaped into paragraphs); None without one."""
    for part in raw.get("content") or []:
        value = str(part.get("value") or "").strip()
        if not value:
            continue
        if str(part.get("type") or "").lower() in _HTML_TYPES:
            return value
        return "".join(f"<p>{html.escape(p.strip())}</p>" for p in value.split("\n\n") if p.strip())
    return None


def _entry(raw: Any) -> FeedEntry:
    link = str(raw.get("link") or "").strip() or None
    title = " ".join(str(raw.get("title") or "").split()) or None
    guid = str(raw.get("id") or "").strip() or link
    if not guid:
        guid = "sha256:" + guid_hash(f"{title or ''}\n{link or ''}")
    return FeedEntry(guid=guid, link=link, title=title, published=_published(raw), content=_content(raw))


def parse_feed(content: bytes, base_url: str) -> list[FeedEntry]:
    """The entries of an RSS or Atom document, relative links resolved against ``base_url``.

    Raises InputError when ``content`` is not a feed.
    """
    parsed = feedparser.parse(content, response_headers={"content-location": base_url})
    if not parsed.get("version") and not parsed.entries:
        reason = parsed.get("bozo_exception")
        raise InputError(f"not an RSS or Atom feed{f' ({reason})' if reason else ''}")
    return [_entry(raw) for raw in parsed.entries]


# --- the article of an entry --------------------------------------------------------------------------------


def _decode(page: bytes | str) -> str:
    if isinstance(page, str):
        return page
    text = UnicodeDammit(page, is_html=True).unicode_markup
    if text is None:
        raise InputError("the page's character encoding could not be read")
    return text


def _explicit_id(text: str) -> str | None:
    """An id the page states on purpose (``<meta name="lintas:id">``, ``data-id`` on the article element)."""
    soup = make_soup(text)
    for meta in soup.find_all("meta"):
        if str(meta.get("name") or "").lower() == "lintas:id" and str(meta.get("content") or "").strip():
            return str(meta.get("content")).strip()
    root = find_root(soup)
    value = root.get("data-id") or root.get("data-article-id")
    return value.strip() if isinstance(value, str) and value.strip() else None


def _absolute_runs(runs: list[Run], base: str) -> list[Run]:
    def fix(mark: tuple[str, str | None]) -> tuple[str, str | None]:
        return (mark[0], urljoin(base, mark[1])) if mark[0] == "a" and mark[1] else mark

    return [Run(run.text, tuple(fix(m) for m in run.marks)) for run in runs]


def _absolute(article: Article, base: str) -> Article:
    """Links and image sources made absolute against the page's URL."""

    def inline(fragment: str) -> str:
        return render_inline(_absolute_runs(parse_inline(fragment), base)) if "href" in fragment else fragment

    def block(b: Block) -> Block:
        src = urljoin(base, b.src) if b.src else b.src
        return b.model_copy(update={"html": inline(b.html), "items": [inline(i) for i in b.items], "src": src})

    return article.model_copy(update={"body": [block(b) for b in article.body]})


def _from_page(entry: FeedEntry, page: bytes | str) -> Article:
    text = _decode(page)
    article = parse_html(text, article_id=_explicit_id(text) or entry_article_id(entry))
    return _absolute(article, entry.link) if entry.link else article


def _from_content(entry: FeedEntry) -> Article:
    if not entry.content:
        raise InputError("the feed carries no content for this entry")
    title = f"<h1>{html.escape(entry.title)}</h1>" if entry.title else ""
    article = parse_html(f"<article>{title}{entry.content}</article>", article_id=entry_article_id(entry))
    return _absolute(article, entry.link) if entry.link else article


def article_from_entry(entry: FeedEntry, page_html: bytes | str | None) -> Article:
    """The article of ``entry``: read from its page when that parses, else from the feed's own content.

    The id is the page's explicit id (``lintas:id`` meta, ``data-id``), else :func:`entry_article_id`;
    ``canonical_url`` is the entry's link; ``published_at`` the page's date, else the feed's.
    Raises InputError (saying why the page and the feed content were refused) when neither gives an article.
    """
    reasons: list[str] = []
    article: Article | None = None
    if page_html is not None:
        try:
            article = _from_page(entry, page_html)
        except InputError as exc:
            reasons.append(f"page: {exc}")
    if article is None:
        try:
            article = _from_content(entry)
        except InputError as exc:
            reasons.append(f"feed content: {exc}" if page_html is not None else str(exc))
            raise InputError("; ".join(reasons)) from None
    update: dict[str, Any] = {"canonical_url": entry.link or article.canonical_url}
    if article.published_at is None and entry.published is not None:
        update["published_at"] = entry.published
    return article.model_copy(update=update)
