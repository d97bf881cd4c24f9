"""The public site of ``lintas serve``: per-language pages, hreflang, RSS feeds, the sitemap (SQLite and PostgreSQL).

Articles are stored and translated through the store, as the CMS push and the workers do; everything readers see
is fetched over the app with no API key.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from fastapi.responses import Response
from fastapi.testclient import TestClient
from lxml import etree, html
from sqlalchemy import Engine
from test_service import ARTICLE, db_url  # noqa: F401  (a fixture)

from lintas.engines.fake import FakeEngine
from lintas.newsroom.editions import apply_correction, set_status
from lintas.pipeline.translate import translate_article
from lintas.publish.site import page_path, section_slug, slugify
from lintas.service import create_app
from lintas.store import db, queue, repo
from lintas.store import site as lintas_site
from lintas.text.article import Article

LANGS = ["id", "ar", "en", "fr", "ja", "zh"]
NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "x": "http://www.w3.org/1999/xhtml"}


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:  # noqa: F811
    with TestClient(create_app(db_url, engine_name="fake"), follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def store(client: TestClient, db_url: str) -> Iterator[Engine]:  # noqa: F811
    engine = db.make_engine(db_url)
    try:
        yield engine
    finally:
        engine.dispose()


def publish(store: Engine, data: dict[str, Any], *, held: set[str] = frozenset()) -> int:  # type: ignore[assignment]
    """Store the article and translate every queued job with the fake engine; ``held`` languages are held."""
    revision, _ = repo.upsert_article(store, Article.model_validate(data), ["en", "zh", "ja", "ar", "fr"])
    while (job := queue.claim(store, "w")) is not None:
        article = repo.get_article(store, job.article_id, job.revision)
        assert article is not None
        edition = translate_article(article, [job.target_lang], FakeEngine(), pivot="")[0].edition
        edition = edition.model_copy(update={"status": "held" if job.target_lang in held else "published"})
        assert queue.complete(store, job.id, "w", edition)
    return revision


def url_of(store: Engine, lang: str, article_id: str = "a1") -> str:
    info = repo.get_article(store, article_id)
    assert info is not None
    headline = info.headline if lang == "id" else repo.get_edition(store, article_id, lang).headline  # type: ignore[union-attr]
    return page_path(lang, info.section, article_id, headline)


def test_slugs_keep_each_script() -> None:
    assert slugify("Presiden Tiba di Jakarta: Rapat Kabinet!") == "presiden-tiba-di-jakarta-rapat-kabinet"
    assert slugify("总统抵达雅加达") == "总统抵达雅加达"
    assert slugify("وَصَلَ الرئيس") == "وصل-الرئيس"  # harakat dropped
    assert slugify("がぎぐ") == "がぎぐ"  # composed kana keep their marks
    assert slugify("") == "article" and slugify("!!!") == "article"
    long = slugify("kata " * 40)
    assert len(long) <= 60 and not long.endswith("-")
    assert section_slug("Ekonomi & Bisnis") == "ekonomi-bisnis" and section_slug(None) == "news"
    assert page_path("zh", "nasional", "a/1", "总统") == "/zh/nasional/a%2F1/%E6%80%BB%E7%BB%9F"


def test_every_version_has_its_page_with_hreflang_alternates(client: TestClient, store: Engine) -> None:
    publish(store, {**ARTICLE, "section": "Nasional"})
    pages = {lang: url_of(store, lang) for lang in LANGS}
    assert pages["id"] == "/id/nasional/a1/presiden-tiba-di-jakarta-untuk-memimpin-rapat-kabinet"
    for lang, path in pages.items():
        response = client.get(path)
        assert response.status_code == 200, (lang, response.text)
        assert response.headers["content-language"] == lang
        doc = html.fromstring(response.content)
        assert doc.get("lang") == lang
        assert doc.get("dir") == ("rtl" if lang == "ar" else "ltr")
        canonical = doc.xpath("//link[@rel='canonical']/@href")
        assert [urlsplit(c).path for c in canonical] == [path]
        alternates = {a.get("hreflang"): urlsplit(a.get("href")).path for a in doc.xpath("//link[@hreflang]")}
        assert alternates == {**pages, "x-default": pages["id"]}
        switcher = doc.xpath("//nav//a[@aria-current='page']/@hreflang")
        assert switcher == [lang]
        assert doc.xpath("//link[@type='application/rss+xml']/@href")[0].endswith(f"/{lang}/feed.xml")
    english = html.fromstring(client.get(pages["en"]).content)
    notice_link = english.xpath("//aside[@class='mt-notice']//a/@href")
    assert [urlsplit(h).path for h in notice_link] == [pages["id"]]


def test_wrong_slug_or_section_redirects_to_the_current_url(client: TestClient, store: Engine) -> None:
    publish(store, ARTICLE)
    current = url_of(store, "fr")
    for stale in ("/fr/news/a1/old-headline", "/fr/sport/a1/" + current.rsplit("/", 1)[1], "/fr/news/a1"):
        response = client.get(stale)
        assert response.status_code == 301, stale
        assert response.headers["location"] == current
    changed = {**ARTICLE, "headline": "Presiden tiba di Bandung untuk memimpin rapat kabinet"}
    publish(store, changed)
    moved = client.get(current)  # the old headline's URL follows the article
    assert moved.status_code == 301
    assert moved.headers["location"] == url_of(store, "fr") != current


def test_readers_only_see_published_editions(client: TestClient, store: Engine) -> None:
    publish(store, ARTICLE, held={"ar"})
    assert client.get(url_of(store, "en")).status_code == 200
    held = client.get("/ar/news/a1/x")
    assert held.status_code == 404
    assert "not published in Arabic" in held.text
    assert "<html" in held.text and held.headers["content-type"].startswith("text/html")
    hreflangs = html.fromstring(client.get(url_of(store, "id")).content).xpath("//link/@hreflang")
    assert "x-default" in hreflangs and "ar" not in hreflangs
    # A newer revision whose English edition is held leaves the published one online.
    publish(store, {**ARTICLE, "headline": "Presiden tiba di Bandung untuk rapat kabinet"}, held={"en"})
    page = client.get(url_of(store, "en").rsplit("/", 1)[0] + "/x", follow_redirects=True)
    assert page.status_code == 200 and page.headers["x-lintas-revision"] == "1"

    repo.unpublish(store, "a1")
    assert client.get(url_of(store, "id")).status_code == 410
    assert client.get(url_of(store, "zh")).status_code == 410
    assert client.get("/xx/news/a1/x").status_code == 404
    assert client.get("/en/news/nope/x").status_code == 404


def test_feeds_list_the_newest_public_versions(client: TestClient, store: Engine) -> None:
    for number in range(3):
        publish(store, {**ARTICLE, "id": f"a{number}", "headline": f"Presiden tiba di kota nomor {number}"})
    repo.unpublish(store, "a0")
    publish(store, {**ARTICLE, "id": "h1"}, held={"ja"})
    for lang in LANGS:
        response = client.get(f"/{lang}/feed.xml")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/rss+xml")
        channel = etree.fromstring(response.content).find("channel")
        assert channel.findtext("language") == lang
        links = [unquote(urlsplit(item.findtext("link")).path) for item in channel.iter("item")]
        ids = [link.split("/")[3] for link in links]
        expected = {"a1", "a2"} | (set() if lang == "ja" else {"h1"})
        assert set(ids) == expected, lang
        for item in channel.iter("item"):
            assert client.get(urlsplit(item.findtext("link")).path).status_code == 200
            assert item.findtext("description")
    assert client.get("/xx/feed.xml").status_code == 404


def test_sitemap_lists_every_version_with_its_alternates(client: TestClient, store: Engine) -> None:
    publish(store, ARTICLE, held={"zh"})
    publish(store, {**ARTICLE, "id": "b2", "section": "ekonomi"})
    index = etree.fromstring(client.get("/sitemap.xml").content)
    pages = index.xpath("//s:sitemap/s:loc/text()", namespaces=NS)
    assert [urlsplit(p).path for p in pages] == ["/sitemaps/0.xml"]
    sitemap = etree.fromstring(client.get("/sitemaps/0.xml").content)
    urls = sitemap.xpath("//s:url", namespaces=NS)
    assert len(urls) == 5 + 6  # a1 without its held Chinese edition, b2 complete
    for url in urls:
        loc = url.findtext("s:loc", namespaces=NS)
        alternates = url.xpath("x:link/@hreflang", namespaces=NS)
        assert "x-default" in alternates and len(alternates) == (6 if "/a1/" in loc else 7)
        assert client.get(urlsplit(loc).path).status_code == 200
    assert client.get("/sitemaps/1.xml").status_code == 404


def test_article_text_is_escaped_on_public_pages(client: TestClient, store: Engine) -> None:
    data = {
        **ARTICLE,
        "headline": 'Presiden tiba di Jakarta <script>alert("x")</script> untuk rapat kabinet',
        "section": '"><script>alert(1)</script>',
    }
    publish(store, data)
    for lang in LANGS:
        response = client.get(url_of(store, lang))
        assert response.status_code == 200
        assert "<script>" not in response.text
        assert not html.fromstring(response.content).xpath("//script")
    feed = client.get("/en/feed.xml").text
    assert "<script>" not in feed


# --- the cache: ETag, Last-Modified, 304, and what invalidates it ---------------------------------------------


def test_a_repeat_with_the_etag_is_answered_304(client: TestClient, store: Engine) -> None:
    publish(store, ARTICLE)
    for path in (url_of(store, "en"), url_of(store, "id"), "/en/feed.xml", "/sitemap.xml", "/sitemaps/0.xml"):
        first = client.get(path)
        etag = first.headers["etag"]
        assert first.status_code == 200 and etag.startswith('"') and first.headers["cache-control"], path
        again = client.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag, path
        assert client.get(path, headers={"If-None-Match": '"other"'}).content == first.content, path
        assert client.get(path).headers["etag"] == etag, path  # from the cache: the same answer
    cache = client.app.state.lintas.pages  # type: ignore[attr-defined]
    assert cache.hits >= 10


def test_if_modified_since_gets_304_only_when_nothing_changed_since(client: TestClient, store: Engine) -> None:
    from datetime import UTC, datetime, timedelta
    from email.utils import format_datetime, parsedate_to_datetime

    publish(store, ARTICLE)
    path = url_of(store, "en")
    newest = lintas_site.version(store).modified
    assert newest is not None
    last_modified = client.get(path).headers.get("last-modified")
    if last_modified is None:  # sent only once the second of the newest change is over
        time.sleep(1.1)
        last_modified = client.get(path).headers["last-modified"]
    assert parsedate_to_datetime(last_modified) == newest.replace(microsecond=0)
    assert client.get(path, headers={"If-Modified-Since": last_modified}).status_code == 304
    later = format_datetime(datetime.now(UTC) + timedelta(hours=1), usegmt=True)
    assert client.get(path, headers={"If-Modified-Since": later}).status_code == 304
    earlier = format_datetime(newest - timedelta(seconds=5), usegmt=True)
    assert client.get(path, headers={"If-Modified-Since": earlier}).status_code == 200
    assert client.get(path, headers={"If-Modified-Since": "not a date"}).status_code == 200
    # If-None-Match wins over If-Modified-Since (RFC 9110): a stale tag gets the page even with a fresh date
    stale = client.get(path, headers={"If-None-Match": '"stale"', "If-Modified-Since": later})
    assert stale.status_code == 200
    apply_correction(store, "a1", "en", first_segment(store, "en", -1), "Corrected after the date.", "ed")
    assert client.get(path, headers={"If-Modified-Since": last_modified}).status_code == 200


def first_segment(store: Engine, lang: str, index: int = 0) -> str:
    edition = repo.get_edition(store, "a1", lang)
    assert edition is not None
    return edition.segments[index].id


def test_a_correction_or_a_new_revision_changes_the_etag_and_the_content(client: TestClient, store: Engine) -> None:
    publish(store, ARTICLE)
    path = url_of(store, "en")
    before, feed_before = client.get(path), client.get("/en/feed.xml")
    apply_correction(store, "a1", "en", first_segment(store, "en"), "A corrected headline, for the cache.", "ed")
    after, feed_after = client.get(path, follow_redirects=True), client.get("/en/feed.xml")
    assert after.status_code == 200 and "A corrected headline, for the cache." in after.text
    assert after.headers["etag"] != before.headers["etag"]
    assert client.get(after.url.path, headers={"If-None-Match": before.headers["etag"]}).status_code == 200
    assert feed_after.headers["etag"] != feed_before.headers["etag"]
    assert "A corrected headline, for the cache." in feed_after.text
    # a new revision published by the workers
    id_before = client.get("/id/feed.xml")
    publish(store, {**ARTICLE, "headline": "Presiden tiba di Bandung untuk rapat kabinet"})
    id_after = client.get("/id/feed.xml")
    assert id_after.headers["etag"] != id_before.headers["etag"] and "Bandung" in id_after.text
    assert "Bandung" not in id_before.text


def test_a_held_or_unpublished_edition_never_comes_from_the_cache(client: TestClient, store: Engine) -> None:
    publish(store, ARTICLE)
    path = url_of(store, "fr")
    headline = repo.get_edition(store, "a1", "fr").headline  # type: ignore[union-attr]
    for _ in range(2):  # cached now
        assert client.get(path).status_code == 200 and headline in client.get("/fr/feed.xml").text
    etag = client.get(path).headers["etag"]
    set_status(store, "a1", "fr", "held", "ed", "check the quote")
    assert client.get(path).status_code == 404
    assert client.get(path, headers={"If-None-Match": etag}).status_code == 404
    assert headline not in client.get("/fr/feed.xml").text
    assert "/fr/" not in client.get("/sitemaps/0.xml").text
    set_status(store, "a1", "fr", "published", "ed")
    assert client.get(path).status_code == 200 and headline in client.get("/fr/feed.xml").text
    en = url_of(store, "en")
    assert client.get(en).status_code == 200
    repo.unpublish(store, "a1")
    assert client.get(en).status_code == 410 and client.get(path).status_code == 410
    assert headline not in client.get("/fr/feed.xml").text


def test_the_cache_is_shared_by_no_other_base_url_and_keeps_its_size(client: TestClient, store: Engine) -> None:
    from lintas.service.pagecache import AnswerCache

    publish(store, ARTICLE)
    here = client.get("/en/feed.xml")
    there = client.get("/en/feed.xml", headers={"Host": "elsewhere.example"})
    assert "elsewhere.example" in there.text and "elsewhere.example" not in here.text
    small = AnswerCache(max_bytes=len(here.content) + 10)
    version = lintas_site.version(store)
    assert small.kept(version, ("/0", "")) is None  # a miss: the cache now holds this version
    answers = [small.keep(version, (f"/{n}", ""), Response(here.content)) for n in range(3)]
    assert len(small._entries) == 1 and small._bytes == len(here.content)
    assert all(a.etag == answers[0].etag for a in answers)  # the ETag is the body's: equal in every process


def test_the_site_version_is_one_row_that_every_visible_change_moves(store: Engine) -> None:
    """Reading the version is one lookup of ``site_changes`` (it does not grow with the archive), and the triggers
    move it on an article stored, its editions stored, a desk status change and an unpublish."""
    from sqlalchemy import event

    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement.lower())

    event.listen(store, "before_cursor_execute", record)
    try:
        empty = lintas_site.version(store)
    finally:
        event.remove(store, "before_cursor_execute", record)
    reads = [s for s in seen if s.lstrip().startswith("select")]
    assert len(reads) == 1 and "from site_changes" in reads[0] and "count(" not in reads[0]
    assert empty.modified is None
    tokens = [empty.token]
    repo.upsert_article(store, Article.model_validate(ARTICLE), ["en"])
    tokens.append(lintas_site.version(store).token)
    publish(store, ARTICLE)  # the editions
    tokens.append(lintas_site.version(store).token)
    set_status(store, "a1", "en", "held", "editor")
    tokens.append(lintas_site.version(store).token)
    assert repo.unpublish(store, "a1")
    newest = lintas_site.version(store)
    tokens.append(newest.token)
    assert len(set(tokens)) == len(tokens), tokens  # each change moved it
    assert newest.modified is not None and newest.modified == repo.article_info(store, "a1").updated_at  # type: ignore[union-attr]
