"""HTML reader: a CMS fragment or a full page (BeautifulSoup + lxml, never regular expressions on HTML).

The article is the first ``<article>`` (else ``<main>``, else ``<body>``).  Metadata comes from the
markup CMSs commonly emit (``<h1>``, ``class="kicker"``, ``class="dateline"``, ``<meta name=author>``,
``<link rel=canonical>``, ``<time datetime>``, ``article:published_time``...), the body from
:func:`lintas.ingest._body.extract_body`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from urllib.parse import urlparse

from bs4 import BeautifulSoup, Tag

from lintas.errors import InputError
from lintas.ingest._body import extract_body, has_class, is_skipped, split_dateline
from lintas.ingest.common import build_article, clean_text, make_soup, parse_datetime, slugify
from lintas.text.article import Article

__all__ = ["find_root", "parse_html"]

_BYLINE_PREFIX_RE = re.compile(r"(?i)^\s*(oleh|by|penulis|reporter|editor|ditulis oleh)\s*:?\s+")
_TEXT_PARENTS = frozenset(
    {
        "p",
        "li",
        "blockquote",
        "figcaption",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "span",
        "a",
        "b",
        "strong",
        "i",
        "em",
        "dd",
        "td",
    }
)
_PAGE_SUFFIX_RE = re.compile(r"\.(html?|php|aspx?)$", re.IGNORECASE)


def find_root(soup: BeautifulSoup) -> Tag:
    """The element holding the article: ``<article>``, else ``<main>``, else ``<body>``, else the document."""
    for name in ("article", "main", "body"):
        found = soup.find(name)
        if isinstance(found, Tag):
            return found
    return soup


def _meta(soup: BeautifulSoup, *keys: str) -> str | None:
    """Content of the first ``<meta name=...>`` / ``<meta property=...>`` matching one of ``keys``."""
    wanted = [k.lower() for k in keys]
    found: dict[str, str] = {}
    for tag in soup.find_all("meta"):
        key = str(tag.get("name") or tag.get("property") or tag.get("itemprop") or "").lower()
        content = clean_text(str(tag.get("content") or ""))
        if key in wanted and content and key not in found:
            found[key] = content
    return next((found[k] for k in wanted if k in found), None)


def _first(scopes: list[Tag], match: Callable[[Tag], bool]) -> Tag | None:
    """The first element (outside nav/aside/footer/scripts) in the first scope that has one."""
    for scope in scopes:
        for el in scope.find_all(True):
            if match(el) and clean_text(el.get_text(" ")) and not is_skipped(el):
                return el
    return None


def _rel(el: Tag) -> list[str]:
    value = el.get("rel")
    if isinstance(value, str):
        return value.lower().split()
    return [str(v).lower() for v in value or []]


def _take_text(el: Tag | None) -> str | None:
    """The clean text of ``el``, removing it from the tree (so it is not read as body)."""
    if el is None:
        return None
    text = clean_text(el.get_text(" "))
    el.decompose()
    return text or None


def _headline(soup: BeautifulSoup, scopes: list[Tag]) -> str | None:
    h1 = _first(scopes, lambda el: el.name == "h1")
    if h1 is not None:
        return _take_text(h1)
    title = _meta(soup, "og:title", "twitter:title")
    if title is None and isinstance(soup.title, Tag):
        title = clean_text(soup.title.get_text()) or None
    site = _meta(soup, "og:site_name")
    if title and site:
        for sep in (" | ", " - ", " – ", " — "):
            head, _, tail = title.rpartition(sep)
            if head and tail.strip().lower() == site.lower():
                return head.strip()
    return title


def _author(soup: BeautifulSoup, scopes: list[Tag]) -> str | None:
    author = _meta(soup, "author", "article:author")
    byline = _first(scopes, lambda el: "author" in _rel(el) or has_class(el, "byline", "author"))
    if byline is not None and len(clean_text(byline.get_text(" "))) > 150:
        byline = None  # an author bio box, not a byline
    if byline is not None:
        text = clean_text(byline.get_text(" "))
        parent = byline.parent
        line = clean_text(parent.get_text(" ")) if isinstance(parent, Tag) else ""
        if (
            isinstance(parent, Tag)
            and parent.name in ("p", "div", "span")
            and (_BYLINE_PREFIX_RE.sub("", line + " ").strip() == text)
        ):
            byline = parent  # "Oleh <a rel=author>Nama</a>": the whole line is the byline
        byline.decompose()
        author = author or text
    if author and author.startswith(("http://", "https://")):
        author = None
    return _BYLINE_PREFIX_RE.sub("", author).strip() or None if author else None


def _tags(soup: BeautifulSoup, root: Tag) -> list[str]:
    keywords = _meta(soup, "keywords", "news_keywords")
    tags = [clean_text(k) for k in keywords.split(",")] if keywords else []
    links = [a for a in soup.find_all("a") if "tag" in _rel(a)]
    if not tags:
        tags = [clean_text(a.get_text(" ")) for a in links]
    for link in links:  # drop the tag list from the body (inline tag links in a sentence stay)
        if link.decomposed:
            continue
        container = link.find_parent(["ul", "ol", "p", "div"])
        if (
            container is not None
            and container is not root
            and all("tag" in _rel(a) for a in container.find_all("a"))
            and len(clean_text(container.get_text(" "))) <= sum(len(t) + 3 for t in tags) + 20
        ):
            container.decompose()
        elif link.find_parent(["p", "li", "blockquote", "figcaption"]) is None:
            link.decompose()
    return list(dict.fromkeys(t for t in tags if t))


def _dates(soup: BeautifulSoup) -> tuple[datetime | None, datetime | None]:
    published = parse_datetime(_meta(soup, "article:published_time", "datePublished", "pubdate"))
    updated = parse_datetime(_meta(soup, "article:modified_time", "dateModified", "og:updated_time"))
    for time_el in soup.find_all("time"):
        value = parse_datetime(str(time_el.get("datetime") or ""))
        if value is None:
            continue
        marker = f"{time_el.get('itemprop') or ''} {' '.join(time_el.get('class') or [])}".lower()
        if any(word in marker for word in ("modified", "updated", "diperbarui")):
            updated = updated or value
        else:
            published = published or value
        parent = time_el.parent
        if isinstance(parent, Tag) and (
            parent.name not in _TEXT_PARENTS or clean_text(parent.get_text(" ")) == clean_text(time_el.get_text(" "))
        ):
            time_el.decompose()  # a standalone date line, not part of the body text
    return published, updated


def _canonical(soup: BeautifulSoup) -> str | None:
    for link in soup.find_all("link"):
        if "canonical" in _rel(link) and link.get("href"):
            return str(link.get("href")).strip()
    return _meta(soup, "og:url")


def _article_id(soup: BeautifulSoup, root: Tag, canonical: str | None, headline: str) -> str:
    explicit = _meta(soup, "lintas:id")
    if explicit:
        return explicit
    data_id = root.get("data-id") or root.get("data-article-id")
    if isinstance(data_id, str) and data_id.strip():
        return data_id.strip()
    if canonical:
        last = urlparse(canonical).path.rstrip("/").rsplit("/", 1)[-1]
        slug = slugify(_PAGE_SUFFIX_RE.sub("", last), fallback="")
        if slug:
            return slug
    return slugify(headline)


def parse_html(text: str, *, article_id: str | None = None) -> Article:
    """Read an article from HTML text; raises InputError when no headline or no body is found."""
    soup = make_soup(text)
    root = find_root(soup)
    scopes: list[Tag] = [root] if root is soup else [root, soup]
    headline = _headline(soup, scopes)
    if not headline:
        raise InputError("no headline found in the HTML (looked for <h1>, og:title and <title>)")
    kicker = _take_text(_first(scopes, lambda el: has_class(el, "kicker")))
    sub = _first(scopes, lambda el: el.name == "h2" and has_class(el, "sub"))
    if sub is None:
        sub = _first(
            scopes,
            lambda el: (
                has_class(el, "subheadline", "standfirst")
                or any(part == "dek" for c in el.get("class") or [] for part in re.split(r"[-_]", c))
            ),
        )
    subheadline = _take_text(sub)
    dateline_el = _first(scopes, lambda el: has_class(el, "dateline"))
    dateline = _take_text(dateline_el)
    if dateline:
        dateline = dateline.rstrip("-–—, ").strip() or None
    author = _author(soup, scopes)
    tags = _tags(soup, root)
    canonical = _canonical(soup)
    published, updated = _dates(soup)
    body = extract_body(root)
    dateline, body = split_dateline(body, dateline)
    if not body:
        raise InputError(
            "no article body found in the HTML (no paragraphs, headings, lists, quotes or figures "
            "inside <article>, <main> or <body>)"
        )
    data = {
        "id": article_id or _article_id(soup, root, canonical, headline),
        "headline": headline,
        "kicker": kicker,
        "subheadline": subheadline,
        "dateline": dateline,
        "body": [b.model_dump() for b in body],
        "author": author,
        "tags": tags,
        "section": _meta(soup, "article:section"),
        "canonical_url": canonical,
        "published_at": published,
        "updated_at": updated,
    }
    return build_article(data, "HTML article")
