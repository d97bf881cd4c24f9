"""The public site's shapes: page URLs, hreflang alternates, per-language RSS feeds and the sitemap.

Pure functions over articles and editions (no database, no HTTP). A page lives at
``/{lang}/{section}/{id}/{slug}``: ``lang`` is ``id`` for the Indonesian original or a target language,
``section`` the article's section (``news`` when it has none), ``slug`` made from the headline in that
language. Feeds are RSS 2.0 (feedgen); the sitemap follows sitemaps.org with ``xhtml:link`` hreflang alternates,
split into pages of :data:`SITEMAP_PAGE_SIZE` articles under a sitemap index.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from urllib.parse import quote

from feedgen.feed import FeedGenerator
from lxml import etree

from lintas.text.article import Article
from lintas.text.inline import parse_inline, plain_text
from lintas.text.languages import get_language
from lintas.text.textsafe import clean_chars

__all__ = [
    "DEFAULT_SECTION",
    "SITEMAP_PAGE_SIZE",
    "slugify",
    "section_slug",
    "page_path",
    "alternates",
    "render_feed",
    "render_sitemap",
    "render_sitemap_index",
]

DEFAULT_SECTION = "news"
SITEMAP_PAGE_SIZE = 5000  # articles a sitemap page; 6 URLs each stays under sitemaps.org's 50,000
_SLUG_MAX = 60
_SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
_XHTML_NS = "http://www.w3.org/1999/xhtml"
_SUMMARY_CHARS = 300


def slugify(text: str | None, fallback: str = "article") -> str:
    """A URL slug in the headline's own script: ``"Presiden Tiba di Jakarta!"`` -> ``"presiden-tiba-di-jakarta"``,
    ``"总统抵达雅加达"`` stays as it is; at most 60 characters, cut at a hyphen when there is one."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")  # Arabic harakat and the like
    slug = re.sub(r"[\W_]+", "-", text).strip("-")
    if len(slug) > _SLUG_MAX:
        cut = slug[:_SLUG_MAX]
        slug = (cut.rsplit("-", 1)[0] if "-" in cut[10:] else cut).strip("-")
    return slug or fallback


def section_slug(section: str | None) -> str:
    """The section part of a URL: ASCII, ``news`` when the article has none."""
    ascii_text = unicodedata.normalize("NFKD", section or "").encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or DEFAULT_SECTION


def page_path(lang: str, section: str | None, article_id: str, headline: str | None) -> str:
    """The path of an article's page in ``lang`` (``id``: the original), percent-encoded."""
    parts = (lang, section_slug(section), article_id, slugify(headline))
    return "/" + "/".join(quote(part, safe="") for part in parts)


def alternates(
    base_url: str, section: str | None, article_id: str, headlines: Mapping[str, str | None]
) -> list[tuple[str, str]]:
    """``(hreflang, absolute URL)`` of every version, the original first, plus ``x-default`` (the original).

    ``headlines`` maps each language that has a public version (``id`` for the original) to its headline.
    """
    base = base_url.rstrip("/")
    ordered = sorted(headlines, key=lambda lang: (lang != "id", lang))
    out = [(lang, base + page_path(lang, section, article_id, headlines[lang])) for lang in ordered]
    if "id" in headlines:
        out.append(("x-default", base + page_path("id", section, article_id, headlines["id"])))
    return out


def _summary(article: Article) -> str:
    for block in article.body:
        if block.type == "paragraph":
            text = plain_text(parse_inline(block.html)).strip()
            if text:
                return text if len(text) <= _SUMMARY_CHARS else text[: _SUMMARY_CHARS - 1].rstrip() + "\u2026"
    return ""


def _feed_title(article: Article) -> str:
    """The headline as HTML (escaped), without what XML cannot carry (articles stored before ingest cleaned it)."""
    return html.escape(clean_chars(article.headline).strip(), quote=False)


def _feed_description(article: Article) -> str:
    """The first paragraph's text, escaped, in a ``<p>``: HTML that Lintas rendered, never the article's markup."""
    summary = clean_chars(_summary(article))
    return f"<p>{html.escape(summary, quote=False)}</p>" if summary else ""


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def render_feed(
    lang: str,
    items: Iterable[tuple[Article, str, datetime]],
    *,
    base_url: str,
    title: str,
    feed_path: str,
) -> bytes:
    """An RSS 2.0 feed in ``lang`` of ``(article or edition, absolute page URL, updated)`` items, newest first.

    Each item's guid is its page URL without the slug (stable when a headline is corrected). Feed readers take
    an item's title and description for HTML once they have decoded the XML, so both are HTML that Lintas escapes
    itself: the title is the headline escaped, the description the first paragraph's text escaped in a ``<p>``.
    Text such as ``<img src=x onerror=...>`` in an article stays text in a reader, as on the page.
    """
    language = get_language(lang)
    base = base_url.rstrip("/")
    fg = FeedGenerator()
    fg.title(title)
    fg.link(href=base + "/" + quote(lang, safe="") + "/", rel="alternate")
    fg.link(href=base + feed_path, rel="self")
    fg.description(f"{title} ({language.native})")
    fg.language(lang)
    fg.generator("Lintas")
    newest: datetime | None = None
    for article, url, updated in reversed(list(items)):  # feedgen prepends: add the oldest first
        entry = fg.add_entry()
        entry.title(_feed_title(article))
        entry.link(href=url)
        entry.guid(url.rsplit("/", 1)[0], permalink=False)
        description = _feed_description(article)
        if description:
            entry.description(description)
        published = _aware(article.published_at or updated)
        entry.pubDate(published)
        newest = max(newest or published, _aware(updated))
    fg.lastBuildDate(newest or datetime.now(UTC))
    return bytes(fg.rss_str(pretty=True))


def render_sitemap(pages: Sequence[tuple[Sequence[tuple[str, str]], datetime]]) -> bytes:
    """A sitemap: for each article, ``(alternates, lastmod)``; every version gets a ``<url>`` that lists all of
    them as ``xhtml:link`` alternates (as Google asks)."""
    # lxml-stubs types nsmap's keys as str, but lxml takes None for the default namespace (here and below)
    nsmap = {None: _SITEMAP_NS, "xhtml": _XHTML_NS}
    root = etree.Element(f"{{{_SITEMAP_NS}}}urlset", nsmap=nsmap)  # type: ignore[arg-type]  # None: default namespace
    for links, lastmod in pages:
        for hreflang, href in links:
            if hreflang == "x-default":
                continue
            url = etree.SubElement(root, f"{{{_SITEMAP_NS}}}url")
            etree.SubElement(url, f"{{{_SITEMAP_NS}}}loc").text = href
            etree.SubElement(url, f"{{{_SITEMAP_NS}}}lastmod").text = _aware(lastmod).isoformat(timespec="seconds")
            for other_lang, other_href in links:
                etree.SubElement(url, f"{{{_XHTML_NS}}}link", rel="alternate", hreflang=other_lang, href=other_href)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def render_sitemap_index(urls: Sequence[str]) -> bytes:
    """A sitemap index listing the sitemap pages at ``urls``."""
    root = etree.Element(f"{{{_SITEMAP_NS}}}sitemapindex", nsmap={None: _SITEMAP_NS})  # type: ignore[dict-item]  # None: default ns
    for href in urls:
        sitemap = etree.SubElement(root, f"{{{_SITEMAP_NS}}}sitemap")
        etree.SubElement(sitemap, f"{{{_SITEMAP_NS}}}loc").text = href
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))
