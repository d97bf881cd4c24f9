"""``lintas watch``: feeds polled from a real local HTTP server, with conditional GET and de-duplication by GUID.

Every store test runs on SQLite (a file under tmp_path) and, when LINTAS_TEST_POSTGRES_URL names a PostgreSQL
server, on PostgreSQL too (in its own database, from a clean schema).
"""

from __future__ import annotations

import html
import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner
from dbs import Store, migrated_store
from sqlalchemy import Engine, func, select

from lintas.cli.main import cli
from lintas.ingest.feed import FeedEntry, article_from_entry, entry_article_id, parse_feed
from lintas.newsroom.watch import USER_AGENT, PollResult, make_client, next_delay, poll_once, safe_poll, watch
from lintas.store import db, queue, repo
from lintas.store.schema import feed_items, feed_sources, jobs

PG_DATABASE = "lintas_watch_test"
TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
SENTENCES = (TESTS / "fixtures" / "ntrex-mini" / "ntrex.id.txt").read_text(encoding="utf-8").splitlines()
TARGETS = ["en", "fr"]


# --- the local feed server ------------------------------------------------------------------------------------


@dataclass
class Resource:
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    etag: str | None = None
    last_modified: str | None = None


@dataclass
class Site:
    base: str = ""
    routes: dict[str, Resource] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base + path

    def seen(self, path: str) -> list[dict[str, str]]:
        """The headers of every request for ``path``, oldest first."""
        return [headers for p, headers in self.requests if p == path]


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            site.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
            res = site.routes.get(self.path)
            if res is None:
                self._answer(404, b"not found", "text/plain")
                return
            fresh = (res.etag and self.headers.get("If-None-Match") == res.etag) or (
                res.last_modified and self.headers.get("If-Modified-Since") == res.last_modified
            )
            if fresh and res.status == 200:
                self._answer(304, b"", None, res)
                return
            self._answer(res.status, res.body, res.content_type, res)

        def _answer(self, status: int, body: bytes, ctype: str | None, res: Resource | None = None) -> None:
            self.send_response(status)
            if ctype:
                self.send_header("Content-Type", ctype)
            if res is not None and res.etag:
                self.send_header("ETag", res.etag)
            if res is not None and res.last_modified:
                self.send_header("Last-Modified", res.last_modified)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def site() -> Iterator[Site]:
    state = Site()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


# --- the store ------------------------------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    with migrated_store(request.param, tmp_path, PG_DATABASE) as migrated:
        yield migrated


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINTAS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LINTAS_MEMORY", "off")


@pytest.fixture
def client() -> Iterator[object]:
    with make_client(timeout=5) as http:
        yield http


def _count(eng: Engine, table: object, *where: object) -> int:
    with db.transaction(eng, write=False) as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())  # type: ignore[arg-type]


def _items(eng: Engine) -> dict[str, tuple[str | None, str | None]]:
    """GUID -> (article id, error) of every recorded feed item."""
    with db.transaction(eng, write=False) as conn:
        rows = conn.execute(select(feed_items.c.guid, feed_items.c.article_id, feed_items.c.error)).all()
    return {row.guid: (row.article_id, row.error) for row in rows}


def _source(eng: Engine, url: str) -> dict[str, object]:
    with db.transaction(eng, write=False) as conn:
        return dict(conn.execute(select(feed_sources).where(feed_sources.c.url == url)).one()._mapping)


# --- feeds and pages built from the fixtures ------------------------------------------------------------------


def page(sentences: list[str]) -> bytes:
    """A news page: the first sentence as headline, the others as paragraphs, in site chrome."""
    body = "".join(f"<p>{html.escape(s)}</p>" for s in sentences[1:])
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Berita</title></head><body>"
        "<nav><a href='/'>Beranda</a></nav>"
        f"<article><h1>{html.escape(sentences[0])}</h1>{body}</article>"
        "<footer>Hak cipta</footer></body></html>"
    ).encode()


RSS_ITEMS = {  # GUID -> page path
    "welsh-1": "/news/welsh-1.html",
    "harlem-1": "/news/harlem-1.html",
    "kanye": "/news/kanye.html",
    "english": "/news/english.html",
}


def rss(site: Site, guids: list[str]) -> bytes:
    items = "".join(
        f"<item><title>Berita {guid}</title><link>{RSS_ITEMS[guid]}</link>"
        f'<guid isPermaLink="false">{guid}</guid><pubDate>Mon, 01 Oct 2018 09:00:00 +0700</pubDate></item>'
        for guid in guids
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Lintas test</title>'
        f"<link>{site.base}/</link><description>tes</description>{items}</channel></rss>"
    ).encode()


def publish(site: Site, guids: list[str], etag: str) -> None:
    """Serve the RSS feed at /rss.xml listing ``guids``, with validators that change with ``etag``."""
    stamp = formatdate(1538359200 + 60 * int(etag.strip('"v')), usegmt=True)
    site.routes["/rss.xml"] = Resource(rss(site, guids), "application/rss+xml", etag=etag, last_modified=stamp)


@pytest.fixture
def news(site: Site) -> Site:
    """Four Indonesian pages (one with an explicit id), one English page, and an RSS feed of four items."""
    site.routes["/news/welsh-1.html"] = Resource(page(SENTENCES[0:5]))
    site.routes["/news/welsh-2.html"] = Resource(page(SENTENCES[5:10]))
    site.routes["/news/harlem-1.html"] = Resource(page(SENTENCES[10:15]))
    site.routes["/news/harlem-2.html"] = Resource(page(SENTENCES[15:20]))
    site.routes["/news/kanye.html"] = Resource((ROOT / "lintas" / "data" / "example" / "article.html").read_bytes())
    site.routes["/news/english.html"] = Resource((TESTS / "fixtures" / "english.html").read_bytes())
    publish(site, ["welsh-1", "harlem-1", "kanye", "english"], '"v1"')
    return site


def atom(site: Site) -> bytes:
    content = html.escape("".join(f"<p>{html.escape(s)}</p>" for s in SENTENCES[16:20]))
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Lintas Atom</title><id>urn:lintas:feed</id>
<updated>2018-10-02T00:00:00Z</updated>
<entry><id>urn:lintas:welsh-2</id><title>Welsh</title><link href="{site.base}/news/welsh-2.html"/>
<updated>2018-10-02T00:00:00Z</updated></entry>
<entry><id>urn:lintas:harlem-note</id><title>{html.escape(SENTENCES[15])}</title>
<link href="{site.base}/news/gone.html"/><published>2018-10-01T08:00:00Z</published>
<updated>2018-10-02T00:00:00Z</updated><content type="html">{content}</content></entry>
</feed>""".encode()


# --- feed parsing ---------------------------------------------------------------------------------------------


def test_parse_feed_gives_guids_links_dates_and_content() -> None:
    base = "http://news.example/feed.xml"
    doc = (
        b'<?xml version="1.0"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        b"<channel><title>t</title>"
        b"<item><title>A</title><link>/a.html</link><guid>g-1</guid>"
        b"<pubDate>Mon, 01 Oct 2018 09:00:00 +0700</pubDate>"
        b'<content:encoded><![CDATA[<p>Isi <a href="b.html">lengkap</a></p>]]></content:encoded></item>'
        b"<item><title>B</title><link>http://news.example/b</link></item>"
        b"<item><title>C</title></item>"
        b"</channel></rss>"
    )
    a, b, c = parse_feed(doc, base)
    assert (a.link, a.title) == ("http://news.example/a.html", "A")
    assert a.guid == "http://news.example/g-1"  # an RSS <guid> is a permalink unless isPermaLink="false"
    assert a.published is not None and a.published.isoformat() == "2018-10-01T02:00:00+00:00"
    assert a.content == '<p>Isi <a href="http://news.example/b.html">lengkap</a></p>'
    assert b.guid == "http://news.example/b" and b.content is None  # no id: the link
    assert c.guid.startswith("sha256:") and len(c.guid) == 7 + 64  # neither: a hash of title and link
    assert parse_feed(doc, base)[2].guid == c.guid
    with pytest.raises(Exception, match="not an RSS or Atom feed"):
        parse_feed(b"<html><body>bukan feed</body></html>", base)


def test_article_from_entry_prefers_the_page_then_the_feed_content() -> None:
    entry = FeedEntry("g-1", "http://news.example/berita/a.html", "Judul feed", None, "<p>Isi dari feed.</p>")
    from_page = article_from_entry(entry, page(SENTENCES[0:3]))
    assert from_page.headline == SENTENCES[0] and len(from_page.body) == 2
    assert from_page.id == entry_article_id(entry) and from_page.id.startswith("feed-") and len(from_page.id) == 21
    assert from_page.canonical_url == entry.link
    explicit = article_from_entry(entry, (ROOT / "lintas" / "data" / "example" / "article.html").read_bytes())
    assert explicit.id == "kanye-west-ye"  # the page's own data-id
    figure = next(b for b in explicit.body if b.type == "figure")
    assert figure.src == "http://news.example/berita/images/kanye-west-ye.jpg"  # made absolute
    from_feed = article_from_entry(entry, b"<html><body><nav>menu</nav></body></html>")
    assert from_feed.headline == "Judul feed" and from_feed.body[0].html == "Isi dari feed."
    bare = FeedEntry("g-2", None, "Judul", None, None)
    with pytest.raises(Exception, match="no content"):
        article_from_entry(bare, None)


def test_backoff_doubles_and_is_capped() -> None:
    rng = random.Random(1)
    assert 270 <= next_delay(300, 0, rng) <= 330
    assert 540 <= next_delay(300, 1, rng) <= 660
    assert next_delay(300, 30, rng) <= 3600 * 1.1


# --- polling --------------------------------------------------------------------------------------------------


def test_first_poll_stores_articles_and_queues_jobs(store: Store, news: Site, client) -> None:
    url = news.url("/rss.xml")
    result = poll_once(store.engine, url, client, TARGETS)
    assert (result.status, result.new, result.skipped, result.failed) == (200, 3, 0, 1)
    assert result.ok and result.failures[0][0] == "english" and "English" in result.failures[0][1]
    items = _items(store.engine)
    assert set(items) == set(RSS_ITEMS)
    assert items["kanye"] == ("kanye-west-ye", None)
    assert items["english"][0] is None and "not Indonesian" in str(items["english"][1])
    welsh = repo.get_article(store.engine, str(items["welsh-1"][0]))
    assert welsh is not None and welsh.headline == SENTENCES[0] and welsh.id.startswith("feed-")
    assert welsh.canonical_url == news.url("/news/welsh-1.html")
    assert queue.counts(store.engine)["queued"] == 3 * len(TARGETS)
    source = _source(store.engine, url)
    assert source["etag"] == '"v1"' and source["last_status"] == 200 and source["last_error"] is None
    page_requests = news.seen("/news/welsh-1.html")
    assert page_requests and page_requests[0]["user-agent"] == USER_AGENT


def test_second_poll_is_conditional_and_a_304_takes_nothing(store: Store, news: Site, client) -> None:
    url = news.url("/rss.xml")
    poll_once(store.engine, url, client, TARGETS)
    result = poll_once(store.engine, url, client, TARGETS)
    assert (result.status, result.new, result.skipped, result.failed) == (304, 0, 0, 0)
    first, second = news.seen("/rss.xml")
    assert "if-none-match" not in first and "if-modified-since" not in first
    assert second["if-none-match"] == '"v1"'
    assert second["if-modified-since"] == news.routes["/rss.xml"].last_modified
    assert _source(store.engine, url)["last_status"] == 304
    assert _count(store.engine, jobs) == 3 * len(TARGETS)


def test_one_new_item_is_taken_and_failed_items_are_not_retried(store: Store, news: Site, client) -> None:
    url = news.url("/rss.xml")
    poll_once(store.engine, url, client, TARGETS)
    RSS_ITEMS["welsh-2"] = "/news/welsh-2.html"
    try:
        publish(news, ["welsh-2", "welsh-1", "harlem-1", "kanye", "english"], '"v2"')
        result = poll_once(store.engine, url, client, TARGETS)
    finally:
        del RSS_ITEMS["welsh-2"]
    assert (result.status, result.new, result.skipped, result.failed) == (200, 1, 4, 0)
    assert len(news.seen("/news/english.html")) == 1  # recorded as failed: never fetched again
    assert _count(store.engine, jobs) == 4 * len(TARGETS)
    assert _source(store.engine, url)["etag"] == '"v2"'


def test_an_article_too_long_to_translate_is_refused_for_good(store: Store, news: Site, client) -> None:
    """Issue 15: a page whose headline is one 6,000-character segment would hold a worker: recorded as failed."""
    news.routes["/news/harlem-1.html"] = Resource(page([" ".join(["Presiden tiba di Jakarta"] * 250), *SENTENCES[1:4]]))
    result = poll_once(store.engine, news.url("/rss.xml"), client, TARGETS)
    assert (result.status, result.new, result.failed) == (200, 2, 2)
    article_id, error = _items(store.engine)["harlem-1"]
    assert article_id is None and "characters long (limit 5,000)" in str(error)
    assert _count(store.engine, jobs) == 2 * len(TARGETS)


def test_a_known_guid_is_not_taken_again_when_its_page_changes(store: Store, news: Site, client) -> None:
    url = news.url("/rss.xml")
    poll_once(store.engine, url, client, TARGETS)
    news.routes["/news/welsh-1.html"] = Resource(page([SENTENCES[0], "Paragraf yang diperbarui oleh redaksi kami."]))
    publish(news, ["welsh-1", "harlem-1", "kanye", "english"], '"v3"')
    result = poll_once(store.engine, url, client, TARGETS)
    assert (result.status, result.new, result.skipped, result.failed) == (200, 0, 4, 0)
    article_id = str(_items(store.engine)["welsh-1"][0])
    info = repo.article_info(store.engine, article_id)
    assert info is not None and info.current_revision == 1
    assert len(news.seen("/news/welsh-1.html")) == 1


def test_an_atom_feed_and_an_entry_read_from_the_feed_content(store: Store, site: Site, client) -> None:
    site.routes["/news/welsh-2.html"] = Resource(page(SENTENCES[5:10]))
    site.routes["/atom.xml"] = Resource(
        atom(site), "application/atom+xml", last_modified="Tue, 02 Oct 2018 00:00:00 GMT"
    )
    url = site.url("/atom.xml")
    result = poll_once(store.engine, url, client, TARGETS)
    assert (result.status, result.new, result.skipped, result.failed) == (200, 2, 0, 0), result.failures
    items = _items(store.engine)
    note = repo.get_article(store.engine, str(items["urn:lintas:harlem-note"][0]))
    assert note is not None and note.headline == SENTENCES[15]  # the page is gone (404): the feed's content
    assert [b.html for b in note.body] == SENTENCES[16:20]
    assert note.published_at is not None and note.published_at.isoformat().startswith("2018-10-01T08:00")
    assert _source(store.engine, url)["etag"] is None
    again = poll_once(store.engine, url, client, TARGETS)
    assert again.status == 304 and site.seen("/atom.xml")[1]["if-modified-since"] == "Tue, 02 Oct 2018 00:00:00 GMT"


def test_a_transient_page_error_is_retried_at_the_next_poll(store: Store, news: Site, client) -> None:
    url = news.url("/rss.xml")
    news.routes["/news/harlem-1.html"].status = 503
    result = poll_once(store.engine, url, client, TARGETS)
    assert (result.new, result.failed) == (2, 2) and "will retry" in dict(result.failures)["harlem-1"]
    assert "harlem-1" not in _items(store.engine)
    assert _source(store.engine, url)["etag"] is None  # not stored: the next poll gets the whole feed
    news.routes["/news/harlem-1.html"].status = 200
    again = poll_once(store.engine, url, client, TARGETS)
    assert (again.status, again.new, again.skipped, again.failed) == (200, 1, 3, 0)
    assert "if-none-match" not in news.seen("/rss.xml")[1]


def test_a_failed_store_never_records_the_guid(
    store: Store, news: Site, client, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = news.url("/rss.xml")
    real = repo.upsert_article

    def flaky(bind, article, targets):  # type: ignore[no-untyped-def]
        if article.id == "kanye-west-ye":
            raise RuntimeError("disk full")
        return real(bind, article, targets)

    monkeypatch.setattr(repo, "upsert_article", flaky)
    result = safe_poll(store.engine, url, client, TARGETS)
    assert not result.ok and result.error is not None and "disk full" in result.error
    assert set(_items(store.engine)) == {"welsh-1", "harlem-1"}
    assert repo.article_info(store.engine, "kanye-west-ye") is None
    assert _source(store.engine, url)["etag"] is None
    monkeypatch.setattr(repo, "upsert_article", real)
    again = poll_once(store.engine, url, client, TARGETS)
    assert (again.new, again.skipped, again.failed) == (1, 2, 1)


def test_feed_errors_are_reported_not_raised(store: Store, site: Site, client) -> None:
    site.routes["/broken.xml"] = Resource(b"<html><body>Bukan feed</body></html>")
    broken = poll_once(store.engine, site.url("/broken.xml"), client, TARGETS)
    assert broken.status == 200 and broken.error is not None and "not an RSS or Atom feed" in broken.error
    missing = poll_once(store.engine, site.url("/missing.xml"), client, TARGETS)
    assert missing.status == 404 and missing.error == "HTTP 404"
    assert _source(store.engine, site.url("/missing.xml"))["last_error"] == "HTTP 404"
    down = poll_once(store.engine, "http://127.0.0.1:9/feed.xml", client, TARGETS)
    assert down.status is None and down.error is not None and "unreachable" in down.line()


def test_watch_polls_until_stopped(store: Store, news: Site) -> None:
    stop = threading.Event()
    seen: list[PollResult] = []

    def report(result: PollResult) -> None:
        seen.append(result)
        if len(seen) == 2:
            stop.set()

    thread = threading.Thread(
        target=watch, args=(store.engine, [news.url("/rss.xml")], 0.05, TARGETS, stop), kwargs={"report": report}
    )
    thread.start()
    thread.join(30)
    assert not thread.is_alive()
    assert [(r.status, r.new) for r in seen] == [(200, 3), (304, 0)]


# --- the command line -----------------------------------------------------------------------------------------


def test_cli_once_prints_one_line_per_feed(store: Store, news: Site) -> None:
    url = news.url("/rss.xml")
    runner = CliRunner()
    result = runner.invoke(cli, ["watch", url, "--db", store.url, "--once", "--to", "en,fr"])
    assert result.exit_code == 0, result.output
    assert f"feed {url}: HTTP 200, 3 new, 0 skipped, 1 failed" in result.stdout
    assert "failed english: " in result.stderr
    assert queue.counts(store.engine)["queued"] == 6
    both = runner.invoke(cli, ["watch", url, "http://127.0.0.1:9/x.xml", "--db", store.url, "--once"])
    assert both.exit_code == 0, both.output
    assert f"feed {url}: HTTP 304, 0 new" in both.stdout and "http://127.0.0.1:9/x.xml: unreachable" in both.stderr


def test_cli_once_fails_when_no_feed_can_be_read(store: Store) -> None:
    result = CliRunner().invoke(cli, ["watch", "http://127.0.0.1:9/feed.xml", "--db", store.url, "--once"])
    assert result.exit_code != 0
    assert "unreachable" in result.stderr and "no feed could be read" in str(result.exception)


@pytest.mark.parametrize("bad", ["ftp://news.example/feed.xml", "news.example/feed.xml", "http://"])
def test_cli_rejects_a_url_that_is_not_http(bad: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["watch", bad, "--db", f"sqlite:///{tmp_path / 'x.sqlite'}", "--once"])
    assert result.exit_code == 2
    assert "is not an http:// or https:// URL" in result.stderr and "Traceback" not in result.output
    assert not (tmp_path / "x.sqlite").exists()
