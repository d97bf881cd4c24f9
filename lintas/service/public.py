"""The public site: per-language article pages, RSS feeds and the sitemap (no API key needed).

* ``/{lang}/{section}/{id}/{slug}``: the page in ``lang`` (``id``: the Indonesian original); a wrong section or
  slug (an old headline's) answers 301 to the current URL. Held, missing and failed editions are 404,
  unpublished articles 410: readers only ever see published editions.
* ``/{lang}/feed.xml``: RSS 2.0 of the newest public versions in ``lang``.
* ``/sitemap.xml``: a sitemap index; ``/sitemaps/{n}.xml``: pages with hreflang alternates.

Absolute URLs (feeds, sitemap, hreflang) start with ``LINTAS_PUBLIC_URL`` when set, else the request's own base.

Pages, feeds and sitemaps are answered from the app's :class:`~lintas.service.pagecache.AnswerCache` while the site's
version (:func:`lintas.store.site.version`) stays the same, with ``ETag`` and ``Last-Modified``, and ``304`` to a
conditional GET whose copy is current.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.requests import HTTPConnection

from lintas.publish.render import SiteLinks, render_edition_html, render_source_html
from lintas.publish.site import (
    SITEMAP_PAGE_SIZE,
    alternates,
    page_path,
    render_feed,
    render_sitemap,
    render_sitemap_index,
    section_slug,
    slugify,
)
from lintas.service.api import service_state
from lintas.store import repo, site
from lintas.store.db import transaction
from lintas.text.languages import LANGUAGES, TARGETS, get_language

__all__ = ["router", "FEED_SIZE", "PUBLIC_LANGS", "base_url", "page_key"]

FEED_SIZE = 50
PUBLIC_LANGS: tuple[str, ...] = ("id", *TARGETS)
_CACHE = {"Cache-Control": "public, max-age=60"}
_XML = "application/xml; charset=utf-8"
_MAX_SITEMAP_DIGITS = 6  # a million pages of 5,000 articles: far beyond any site, and a small OFFSET

router = APIRouter(tags=["public site"])


def _error_page(status: int, lang: str, title: str, detail: str) -> HTMLResponse:
    language = LANGUAGES.get(lang) or get_language("en")
    direction = "rtl" if language.direction == "rtl" else "ltr"
    body = (
        f'<!DOCTYPE html>\n<html lang="{html.escape(language.code)}" dir="{direction}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{html.escape(title)}</title>'
        f'</head><body><main><h1>{html.escape(title)}</h1><p lang="en" dir="ltr">{html.escape(detail)}</p>'
        "</main></body></html>\n"
    )
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


def _not_found(lang: str, detail: str) -> HTMLResponse:
    return _error_page(404, lang, "404 Not Found", detail)


def _feed_path(lang: str) -> str:
    return f"/{lang}/feed.xml"


_Lang = Annotated[str, Path(description="id (the Indonesian original) or a target language")]


def base_url(conn: HTTPConnection, public_url: str) -> str:
    """The start of the absolute URLs in an answer: ``public_url`` (``LINTAS_PUBLIC_URL``) when set, else the
    request's own base (its ``Host`` and root path)."""
    if public_url:
        return public_url
    return str(conn.base_url).rstrip("/") + conn.scope.get("root_path", "").rstrip("/")


def _base_url(request: Request) -> str:
    return base_url(request, service_state(request).public_url)


def page_key(conn: HTTPConnection, public_url: str) -> tuple[str, str]:
    """A public answer's key in the cache: its path and the base URL its links start with."""
    return conn.url.path, base_url(conn, public_url)


async def _cached(request: Request, make: Callable[[], Response]) -> Response:
    """``make()``'s answer, or the one kept for this path and base URL while the site has not changed.

    The site's version is read on the event loop: it is one primary-key lookup (``site.version`` over
    :class:`~lintas.store.db.QuickReads`), cheaper than handing the request to a thread and back, which under many
    readers costs more than the answer itself. :class:`lintas.service.kept.KeptAnswersMiddleware` serves kept
    answers before routing: a request gets here on a miss."""
    state = service_state(request)
    key = page_key(request, state.public_url)
    return await state.pages.answer(request, site.version(state.quick_reads()), key, make)


@router.get("/{lang}/{section}/{article_id}/{slug}", response_class=HTMLResponse, summary="An article's page")
async def page(lang: _Lang, section: str, article_id: str, slug: str, request: Request) -> Response:
    return await _cached(request, lambda: _page(lang, section, article_id, slug, request))


def _page(lang: str, section: str, article_id: str, slug: str, request: Request) -> Response:
    if lang not in PUBLIC_LANGS:
        return _not_found("en", f"no such language {lang!r}: pages are in {', '.join(PUBLIC_LANGS)}")
    with transaction(service_state(request).database(), write=False) as conn:  # one snapshot, one connection
        info = site.public_article(conn, article_id)
        if info is None:
            return _not_found(lang, f"no article {article_id!r}")
        if info is False:
            return _error_page(410, lang, "410 Gone", f"article {article_id!r} was unpublished")
        assert isinstance(info, site.PublicArticle)
        if lang == "id":
            article, edition = repo.get_article(conn, article_id), None
        else:
            article, edition = None, site.public_edition(conn, article_id, lang)
    if edition is None and article is None:
        return _not_found(lang, f"article {article_id!r} is not published in {get_language(lang).name} (yet)")
    headline = edition.headline if edition is not None else info.headline
    if section != section_slug(info.section) or slug != slugify(headline):
        return RedirectResponse(page_path(lang, info.section, article_id, headline), status_code=301)
    base = _base_url(request)
    links = SiteLinks(
        canonical=base + page_path(lang, info.section, article_id, headline),
        alternates=tuple(alternates(base, info.section, article_id, {"id": info.headline, **info.headlines})),
        feed=base + _feed_path(lang),
    )
    headers = {**_CACHE, "Content-Language": lang}
    if edition is not None:
        original = base + page_path("id", info.section, article_id, info.headline)
        headers["X-Lintas-Revision"] = str(edition.revision)
        return HTMLResponse(render_edition_html(edition, original_href=original, site=links), headers=headers)
    assert article is not None  # a published article has a current revision
    return HTMLResponse(render_source_html(article, site=links), headers=headers)


@router.get("/{lang}/{section}/{article_id}", include_in_schema=False)
async def page_without_slug(lang: str, section: str, article_id: str, request: Request) -> Response:
    return await page(lang, section, article_id, "", request)


@router.get("/{lang}/feed.xml", summary="RSS 2.0 feed of the newest articles in a language")
async def feed(lang: _Lang, request: Request) -> Response:
    return await _cached(request, lambda: _feed(lang, request))


def _feed(lang: str, request: Request) -> Response:
    if lang not in PUBLIC_LANGS:
        return _not_found("en", f"no feed for {lang!r}: feeds are in {', '.join(PUBLIC_LANGS)}")
    base = _base_url(request)
    listings = site.latest(service_state(request).database(), lang, FEED_SIZE)
    items = [
        (item.item, base + page_path(lang, item.section, item.article_id, item.item.headline), item.updated_at)
        for item in listings
    ]
    language = get_language(lang)
    body = render_feed(lang, items, base_url=base, title=f"Lintas \u2013 {language.native}", feed_path=_feed_path(lang))
    return Response(body, media_type="application/rss+xml; charset=utf-8", headers=_CACHE)


@router.get("/sitemap.xml", summary="Sitemap index")
async def sitemap_index(request: Request) -> Response:
    return await _cached(request, lambda: _sitemap_index(request))


def _sitemap_index(request: Request) -> Response:
    base = _base_url(request)
    pages = max(1, -(-site.count_public(service_state(request).database()) // SITEMAP_PAGE_SIZE))
    body = render_sitemap_index([f"{base}/sitemaps/{n}.xml" for n in range(pages)])
    return Response(body, media_type=_XML, headers=_CACHE)


@router.get("/sitemaps/{number}.xml", summary="One page of the sitemap, with hreflang alternates")
async def sitemap(number: str, request: Request) -> Response:
    if not (number.isascii() and number.isdigit()) or len(number) > _MAX_SITEMAP_DIGITS:
        return _not_found("en", f"sitemap pages are numbered from 0 to {10**_MAX_SITEMAP_DIGITS - 1}")
    return await _cached(request, lambda: _sitemap_page(int(number), request))


def _sitemap_page(number: int, request: Request) -> Response:
    base = _base_url(request)
    articles = site.sitemap_page(service_state(request).database(), number, SITEMAP_PAGE_SIZE)
    if not articles and number > 0:
        return _not_found("en", f"there is no sitemap page {number}")
    pages = [(alternates(base, a.section, a.id, {"id": a.headline, **a.headlines}), a.updated_at) for a in articles]
    return Response(render_sitemap(pages), media_type=_XML, headers=_CACHE)
