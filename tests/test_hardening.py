"""What a hostile tester found (issue 15): control characters, unbounded numbers, RSS injection, odd ids,
security headers, login limiting. Each test failed before its fix."""

from __future__ import annotations

import contextlib
import html as html_lib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from deskutil import PASSWORD, add_desk_users, csrf_of
from fastapi.testclient import TestClient
from lxml import etree
from lxml import html as lxml_html
from sqlalchemy import Engine, select
from test_public import publish
from test_service import ARTICLE, authorized, db_url  # noqa: F401  (a fixture)

from lintas.errors import InputError
from lintas.ingest import read_article
from lintas.ingest.feed import FeedEntry, article_from_entry, entry_article_id
from lintas.measure.loadtest import free_port
from lintas.newsroom import editions as desk
from lintas.newsroom.signing import sign
from lintas.service import create_app
from lintas.store import db, keys, queue, repo
from lintas.store.schema import articles, jobs
from lintas.text.article import Article
from lintas.text.ids import check_article_id, is_article_id
from lintas.text.textsafe import clean_chars

TESTS = Path(__file__).parent
FEEDS = ["id", "en", "zh", "ja", "ar", "fr"]
CONTROLS = "\u0000\u0001\u0007\u001b\u007f\u0085\ufffe"


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


def dirty_article(**changes: Any) -> dict[str, Any]:
    body = [
        {"type": "paragraph", "html": f"Presiden tiba di Jakarta pada hari Senin.{CONTROLS} Rapat itu membahas beras."},
        *ARTICLE["body"][1:],
    ]
    return {**ARTICLE, "headline": f"Presiden tiba\u0000 di Jakarta{CONTROLS}", "body": body, **changes}


# --- 2: characters XML and HTML cannot carry --------------------------------------------------------------------


def test_clean_chars_keeps_text_and_drops_what_xml_cannot_carry() -> None:
    assert clean_chars("a\u0000b\u0001\u0007\u001bc\td\ne\rf é 中 ع") == "abc\td\ne\rf é 中 ع"
    assert clean_chars("kata\u000bkata\u000ckata\u0085kata") == "kata kata kata kata"  # separators: a space
    assert clean_chars("\ud800x\ufffe\uffff\U0010ffff\ufdd0\u0080\u009f") == "x"


def test_feeds_survive_control_characters_stored_before_the_rule(client: TestClient, store: Engine) -> None:
    dirty = dirty_article()
    if store.dialect.name == "postgresql":  # PostgreSQL never stored NUL (it refuses it); every other one it did
        dirty = json.loads(json.dumps(dirty).replace("\\u0000", ""))
    publish(store, dirty)  # straight into the store, as an article stored before ingest cleaned it
    for lang in FEEDS:
        answer = client.get(f"/{lang}/feed.xml")
        assert answer.status_code == 200, (lang, answer.text[:300])
        channel = etree.fromstring(answer.content).find("channel")
        assert channel is not None and len(channel.findall("item")) == 1


def test_ingest_cleans_control_characters(client: TestClient, db_url: str, store: Engine) -> None:  # noqa: F811
    authorized(client, db_url)
    answer = client.put("/v1/articles/a1", json=dirty_article())
    assert answer.status_code == 201, answer.text
    stored = repo.get_article(store, "a1")
    assert stored is not None
    assert stored.headline == "Presiden tiba di Jakarta "  # NEL (U+0085) separates words: a space
    assert stored.body[0].html == "Presiden tiba di Jakarta pada hari Senin. Rapat itu membahas beras."
    nothing_but = client.put("/v1/articles/a2", json=dirty_article(id="a2", headline="\u0000\u0001"))
    assert nothing_but.status_code == 422 and "headline" in nothing_but.text
    markdown = read_article("# Judul\u0007 berita\n\nPresiden tiba\u001b di Jakarta pada hari Senin.\n", "markdown")
    assert markdown.headline == "Judul berita" and "\u001b" not in markdown.body[0].html


def test_desk_corrections_are_cleaned(client: TestClient, store: Engine) -> None:
    publish(store, {**ARTICLE})
    desk.apply_correction(store, "a1", "en", "headline", "President\u0000 arrives\u0007", "sari")
    edition = repo.get_edition(store, "a1", "en")
    assert edition is not None and edition.headline == "President arrives"
    with pytest.raises(ValueError):
        desk.apply_correction(store, "a1", "en", "headline", "\u0000\u0001", "sari")
    for lang in FEEDS:
        assert client.get(f"/{lang}/feed.xml").status_code == 200


# --- 3: numbers of any size are a 4xx ---------------------------------------------------------------------------

HUGE = "99999999999999999999"


def test_huge_sitemap_numbers_are_404(client: TestClient, store: Engine) -> None:
    publish(store, {**ARTICLE})
    assert client.get("/sitemaps/0.xml").status_code == 200
    for number in (HUGE, "9" * 5000, "1000000", "-1", "x", "\u0661"):  # the last: an Arabic-Indic digit
        answer = client.get(f"/sitemaps/{number}.xml")
        assert answer.status_code == 404, (number[:30], answer.text[:200])
        assert "Traceback" not in answer.text


def test_huge_revisions_are_422(client: TestClient, db_url: str, store: Engine) -> None:  # noqa: F811
    authorized(client, db_url, "read")
    publish(store, {**ARTICLE})
    paths = [
        f"/v1/articles/a1/revisions/{HUGE}",
        f"/v1/articles/a1/revisions/{2**31}",
        f"/v1/articles/a1/editions/en?revision={HUGE}",
        f"/v1/articles/a1/editions/en.html?revision={HUGE}",
        f"/v1/articles/a1/source.html?revision={HUGE}",
        f"/v1/articles/a1/revisions/{'9' * 5000}",
    ]
    for path in paths:
        answer = client.get(path)
        assert answer.status_code == 422, (path[:60], answer.text[:200])
        assert answer.json()["error"]["code"] == "validation_error"
    assert client.get(f"/v1/articles/a1/revisions/{2**31 - 1}").status_code == 404
    assert client.get("/v1/articles/a1/revisions/1").status_code == 200


def test_numeric_settings_and_key_rates_are_bounded(
    db_url: str,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    store: Engine,
) -> None:
    with pytest.raises(ValueError, match="1 to 1,000,000,000 requests"):
        keys.create_key(store, "too fast", "read", rate_per_minute=10**30)  # overflowed the column: a traceback
    assert keys.create_key(store, "fast", "read", rate_per_minute=1_000_000_000)
    for tolerance in ("9" * 30, "86401", "0"):
        monkeypatch.setenv("LINTAS_WEBHOOK_TOLERANCE", tolerance)
        with pytest.raises(InputError, match=r"LINTAS_WEBHOOK_TOLERANCE=.* is not 1 to 86400 seconds"):
            create_app(db_url, engine_name="fake")


# --- 4: what a feed reader decodes stays text --------------------------------------------------------------------

PAYLOAD = "<img src=x onerror=alert(1)>"


def test_feed_items_are_html_escaped_by_lintas(client: TestClient, store: Engine) -> None:
    escaped = PAYLOAD.replace("<", "&lt;").replace(">", "&gt;")
    body = [{"type": "paragraph", "html": f"Presiden tiba di Jakarta &amp; {escaped} pada hari Senin."}]
    publish(store, {**ARTICLE, "headline": "Presiden <script>alert(1)</script> tiba", "body": body})
    for lang in FEEDS:
        item = etree.fromstring(client.get(f"/{lang}/feed.xml").content).find("channel/item")
        assert item is not None
        title, description = item.findtext("title") or "", item.findtext("description") or ""
        # what a feed reader has after decoding the XML once, and renders as HTML:
        assert "<" not in title and "&lt;" in title and "&gt;" in title, title
        shown = lxml_html.fragment_fromstring(description, create_parent="div")
        assert shown.xpath("//img | //script | //*[@onerror]") == []
        if lang == "id":  # the fake engine turns the words round in the editions
            assert PAYLOAD in shown.text_content() and "& " in shown.text_content()
            assert html_lib.unescape(title) == "Presiden <script>alert(1)</script> tiba"


# --- 7: one article id grammar, wherever ids come in --------------------------------------------------------------

BAD_IDS = ["..", ".", "-a", "a b", "a\u0000b", "a\r\nX-Forged: 1", "a\u0007", "abc\u202egpj", "a/b", "é", "x" * 201]


def test_the_id_grammar() -> None:
    for good in ("a1", "kanye-west-ye", "2024-05-01.banjir_2~x", "feed-3f2a9c0d1e4b5a6c", "A" * 200):
        assert is_article_id(good) and check_article_id(good) == good
    for bad in [*BAD_IDS, "", "a\n"]:
        assert not is_article_id(bad), bad
        with pytest.raises(InputError, match=r"invalid article id .*A-Z a-z 0-9"):
            check_article_id(bad)
    with pytest.raises(InputError):  # the store refuses them too, whoever calls it
        repo.upsert_article(None, Article(id="..", headline="Judul"), ["en"])  # type: ignore[arg-type]


def test_the_api_refuses_odd_ids(client: TestClient, db_url: str, store: Engine) -> None:  # noqa: F811
    authorized(client, db_url)
    for path_id in ("%2e%2e", "%2E", "a%00b", "a%0d%0aX", "a%E2%80%AEb", "-a", "a%20b"):
        answer = client.put(f"/v1/articles/{path_id}", json={k: v for k, v in ARTICLE.items() if k != "id"})
        assert answer.status_code in (404, 422), (path_id, answer.text)  # 404: routed elsewhere, never stored
        if answer.status_code == 422:
            assert answer.json()["error"]["field"] == "id"
    for bad in BAD_IDS:
        answer = client.post("/v1/articles", json={**ARTICLE, "id": bad})
        assert answer.status_code == 422, (bad, answer.text)
        assert answer.json()["error"]["field"] == "id"
        assert "A-Z a-z 0-9" in answer.json()["error"]["message"] or len(bad) > 200
    assert client.put("/v1/articles/berita-1.2_x~y", json={**ARTICLE, "id": "berita-1.2_x~y"}).status_code == 201
    with store.connect() as conn:
        assert [row.id for row in conn.execute(select(articles.c.id))] == ["berita-1.2_x~y"]


def test_the_webhook_refuses_odd_ids(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    monkeypatch.setenv("LINTAS_WEBHOOK_SECRET", "s3cret")
    with TestClient(create_app(db_url, engine_name="fake")) as hook:
        for number, bad in enumerate(("..", "a\r\nb", "x\u202e")):
            body = json.dumps({**ARTICLE, "id": bad}).encode()
            stamp, delivery = str(int(time.time())), f"d-{number}"
            headers = {
                "Content-Type": "application/json",
                "X-Lintas-Timestamp": stamp,
                "X-Lintas-Delivery": delivery,
                "X-Lintas-Signature": sign("s3cret", stamp, delivery, body),
            }
            answer = hook.post("/v1/webhooks/cms", content=body, headers=headers)
            assert answer.status_code == 422 and answer.json()["error"]["field"] == "id", answer.text


def test_readers_and_watched_feeds_refuse_odd_ids(tmp_path: Path) -> None:
    page = (
        "<article data-id='{}'><h1>Presiden tiba di Jakarta</h1><p>Presiden tiba di Jakarta hari Senin.</p></article>"
    )
    for bad in ("..", "a b", "x\u202egpj"):
        with pytest.raises(InputError, match="invalid article id"):
            read_article(page.format(bad), "html")
    entry = FeedEntry("g-1", "http://news.example/a.html", "Presiden tiba", None, "<p>Presiden tiba di Jakarta.</p>")
    article = article_from_entry(entry, page.format(".."))  # the page's id is refused: the feed's own id is used
    assert article.id == entry_article_id(entry) and is_article_id(article.id)
    bad_json = tmp_path / "bad.json"
    bad_json.write_text(json.dumps({**ARTICLE, "id": "../../etc/passwd"}), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "lintas", "translate", str(bad_json), "--engine", "fake", "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and "invalid article id" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "o").exists()


# --- 8: security headers, Vary: Host, /docs without a CDN -------------------------------------------------------


def assert_security_headers(answer: Any, csp_has: str = "default-src 'none'") -> None:
    headers = answer.headers
    assert csp_has in headers.get("content-security-policy", ""), (answer.url, dict(headers))
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"]


def test_every_answer_has_security_headers(
    client: TestClient,
    db_url: str,  # noqa: F811
    store: Engine,
) -> None:
    publish(store, {**ARTICLE})
    page = client.get("/id/news/a1/x", follow_redirects=True)
    assert page.status_code == 200
    paths = ["/en/feed.xml", "/sitemap.xml", "/sitemaps/0.xml", "/healthz", "/openapi.json", "/nope", "/xx/a/b/c"]
    answers = [page, *(client.get(path) for path in paths), client.get("/desk/login")]
    answers.append(client.post("/v1/webhooks/cms", content=b"{}"))  # 503: no secret
    authorized(client, db_url, "read")
    answers += [client.get("/v1/articles/a1/source.html"), client.get("/v1/articles/a1/editions/en.html")]
    for answer in answers:
        assert "script-src" not in answer.headers.get("content-security-policy", ""), answer.url
        assert_security_headers(answer)
    assert "style-src 'unsafe-inline'" in page.headers["content-security-policy"]  # the page's own <style>
    assert "Host" in page.headers["vary"]  # LINTAS_PUBLIC_URL is not set: links follow the Host


def test_vary_host_only_without_a_public_url(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    monkeypatch.setenv("LINTAS_PUBLIC_URL", "https://news.example")
    with TestClient(create_app(db_url, engine_name="fake")) as fixed:
        feed = fixed.get("/en/feed.xml")
        assert "Host" not in feed.headers.get("vary", "") and b"https://news.example/en/" in feed.content
        assert_security_headers(feed)


def test_docs_come_from_the_package_without_inline_script(client: TestClient) -> None:
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert_security_headers(docs, "script-src 'self'")
    assert "unsafe-inline" not in docs.headers["content-security-policy"].split("script-src")[1].split(";")[0]
    page = lxml_html.fromstring(docs.content)
    sources = page.xpath("//script/@src") + page.xpath("//link/@href")
    assert sources and all(src.startswith("/docs/assets/") for src in sources), sources
    assert all(not (script.text or "").strip() for script in page.xpath("//script")), "inline script"
    for src in sources:
        asset = client.get(src)
        assert asset.status_code == 200 and len(asset.content) > 100, src
        assert_security_headers(asset, "script-src 'self'")
    assert "SwaggerUIBundle" in client.get("/docs/assets/lintas/swagger-init.js").text
    assert client.get("/redoc").status_code == 404  # it loaded its script from a CDN: gone


# --- 6: failed sign-ins limited per IP and per username; X-Forwarded-For believed from no one by default ----------


def sign_in(client: TestClient, username: str, password: str, **headers: str) -> Any:
    client.cookies.clear()  # signed out: the sign-in form again
    form = {"username": username, "password": password, "csrf_token": csrf_of(client.get("/desk/login").text)}
    return client.post("/desk/login", data=form, headers=headers)


@pytest.fixture
def desk_client(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:  # noqa: F811
    monkeypatch.setenv("LINTAS_LOGIN_RATE_LIMIT", "3/minute")
    monkeypatch.setenv("LINTAS_LOGIN_IP_RATE_LIMIT", "5/minute")
    with TestClient(create_app(db_url, engine_name="fake"), follow_redirects=False) as test_client:
        engine = db.make_engine(db_url)
        try:
            add_desk_users(engine)
        finally:
            engine.dispose()
        yield test_client


def test_failed_sign_ins_are_limited_per_ip_across_usernames(desk_client: TestClient) -> None:
    for number in range(5):
        assert sign_in(desk_client, f"user{number}", "wrong password").status_code == 401
    limited = sign_in(desk_client, "user9", "wrong password")
    assert limited.status_code == 429 and "from your address" in limited.text
    assert int(limited.headers["retry-after"]) >= 1
    assert sign_in(desk_client, "ana", PASSWORD).status_code == 429  # the address is blocked for a while


def test_failed_sign_ins_are_limited_per_username_and_successes_are_free(desk_client: TestClient) -> None:
    for _ in range(10):  # ten good sign-ins: never limited
        assert sign_in(desk_client, "ana", PASSWORD).status_code == 303
    for _ in range(3):
        assert sign_in(desk_client, "rudi", "wrong password").status_code == 401
    limited = sign_in(desk_client, "rudi", PASSWORD)
    assert limited.status_code == 429 and "for this account" in limited.text
    assert sign_in(desk_client, "ana", PASSWORD).status_code == 303  # another account from the same address


def test_a_real_server_believes_no_forwarded_for_by_default(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    engine = db.make_engine(url)
    try:
        db.upgrade(engine)
        add_desk_users(engine)
    finally:
        engine.dispose()
    port = free_port()
    env = {**os.environ, "LINTAS_DATABASE_URL": url, "LINTAS_LOGIN_IP_RATE_LIMIT": "2/minute", "LINTAS_MEMORY": "off"}
    env.pop("LINTAS_PUBLIC_URL", None)
    env.pop("LINTAS_TRUSTED_PROXIES", None)
    command = [sys.executable, "-m", "lintas", "serve", "--engine", "fake", "--workers", "1", "--port", str(port)]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(server, base)
        with httpx2.Client(base_url=base, timeout=30) as http:
            answers = []
            for number in range(3):
                token = csrf_of(http.get("/desk/login").text)
                form = {"username": f"user{number}", "password": "wrong password", "csrf_token": token}
                answers.append(http.post("/desk/login", data=form, headers={"X-Forwarded-For": f"203.0.113.{number}"}))
            assert [a.status_code for a in answers] == [401, 401, 429]
            assert "Host" in answers[0].headers["vary"]
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[1]
    assert "LINTAS_PUBLIC_URL is not set" in output, output


def wait_ready(server: subprocess.Popen[str], base: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        assert server.poll() is None, "the server stopped"
        try:
            if httpx2.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx2.TransportError:
            pass
        assert time.monotonic() < deadline, "the server did not get ready in 60 s"
        time.sleep(0.2)


def test_serve_warns_without_a_public_url_and_trusts_no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    from lintas.service.app import PUBLIC_URL_WARNING, proxy_options

    assert proxy_options() == {"proxy_headers": False, "forwarded_allow_ips": ""}
    monkeypatch.setenv("LINTAS_TRUSTED_PROXIES", "10.0.0.5, 10.0.0.6")
    assert proxy_options() == {"proxy_headers": True, "forwarded_allow_ips": "10.0.0.5,10.0.0.6"}
    assert "LINTAS_PUBLIC_URL" in PUBLIC_URL_WARNING


# --- 1: one article cannot tie up a worker ------------------------------------------------------------------------


def test_source_names_is_linear_in_the_segment_length() -> None:
    from lintas.quality.names import source_names

    text = "Presiden Joko tiba di Jakarta bersama Menteri Sri Mulyani. " * 4000  # 236,000 characters
    started = time.perf_counter()
    assert source_names(text) == ["Joko", "Jakarta", "Mulyani"]
    assert time.perf_counter() - started < 3  # about 0.1 s; the quadratic version took minutes
    spans = [(i, i + 4) for i in range(0, len(text), 7)]  # many glossary hits: swept, not searched per word
    started = time.perf_counter()
    source_names(text, spans)
    assert time.perf_counter() - started < 3


@pytest.mark.parametrize(
    ("shape", "needle"),
    [
        ({"headline": "Presiden tiba di Jakarta " * 40_000}, "segment 'headline' (headline) is 999,999 characters"),
        ({"body": [{"type": "paragraph", "html": "kata Budi " * 600}]}, "segment 'b0.s0' (block) is 5,999 characters"),
        (
            {"body": [{"type": "paragraph", "html": "Presiden tiba."}] * 2001},
            "2,002 segments to translate (limit 2,000)",
        ),
        (
            {"body": [{"type": "paragraph", "html": "kata Budi " * 490}] * 45},
            "220,508 characters to translate (limit 200,000)",
        ),
    ],
)
def test_articles_too_long_to_translate_are_refused_at_ingest(
    client: TestClient,
    db_url: str,  # noqa: F811
    store: Engine,
    shape: dict[str, Any],
    needle: str,
) -> None:
    authorized(client, db_url)
    started = time.perf_counter()
    answer = client.put("/v1/articles/a1", json={**ARTICLE, **shape})
    assert answer.status_code == 422 and needle in answer.json()["error"]["message"], answer.text[:300]
    assert time.perf_counter() - started < 10
    assert repo.article_info(store, "a1") is None  # nothing stored, nothing queued


def test_a_newer_revision_supersedes_the_queued_jobs_of_older_ones(store: Engine) -> None:
    repo.upsert_article(store, Article.model_validate(ARTICLE), ["en", "ar", "fr"])
    running = queue.claim(store, "w1")
    assert running is not None and running.target_lang == "en"
    newer = Article.model_validate({**ARTICLE, "headline": "Presiden tiba di Bandung untuk rapat"})
    assert repo.upsert_article(store, newer, ["en", "ar"]) == (2, True)
    with store.connect() as conn:
        rows = conn.execute(select(jobs.c.revision, jobs.c.target_lang, jobs.c.state).order_by(jobs.c.id)).all()
    # revision 1: en runs on, ar (queued) is superseded, fr stays (revision 2 does not translate it)
    assert [tuple(row) for row in rows] == [
        (1, "en", "running"),
        (1, "fr", "queued"),
        (2, "en", "queued"),
        (2, "ar", "queued"),
    ]


@pytest.mark.parametrize("threads", [1, 2])
def test_a_worker_stops_within_seconds_of_sigterm_and_its_job_goes_back(tmp_path: Path, threads: int) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    bind = db.make_engine(url)
    try:
        db.upgrade(bind)
        repo.upsert_article(bind, Article.model_validate(ARTICLE), ["en"])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), *sys.path]), "LINTAS_MEMORY": "off"}
        command = [sys.executable, "-m", "lintas", "worker", "--engine", "slow_engine:StuckFakeEngine"]
        command += ["--db", url, "--id", "w-term", "--lease", "30", "--poll", "0.2", "--threads", str(threads)]
        worker = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 60
            while queue.counts(bind)["running"] == 0:  # the job is in hand (its engine takes a minute a batch)
                assert worker.poll() is None and time.monotonic() < deadline, "the worker never took the job"
                time.sleep(0.1)
            time.sleep(0.5)
            signalled = time.monotonic()
            worker.send_signal(signal.SIGTERM)
            output = worker.communicate(timeout=20)[1]
            took = time.monotonic() - signalled
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.communicate()
        assert worker.returncode == 0, output
        assert took < 10, f"stopped {took:.1f} s after SIGTERM"
        assert "1 job(s) put back in the queue" in output and "Traceback" not in output
        with bind.connect() as conn:
            job = conn.execute(select(jobs)).one()
        assert (job.state, job.lease_owner, job.attempts) == ("queued", None, 0)
        assert "stopped" in job.last_error
    finally:
        bind.dispose()


# --- 5: lintas serve --workers N: the children die with the parent --------------------------------------------------


def children_of(pid: int) -> list[int]:
    """The pids of ``pid``'s child processes (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_server_processes_die_with_a_killed_parent(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "LINTAS_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}", "LINTAS_MEMORY": "off"}
    command = [sys.executable, "-m", "lintas", "serve", "--engine", "fake", "--workers", "2", "--port", str(port)]
    parent = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    servers: list[int] = []
    try:
        wait_ready(parent, base)  # type: ignore[arg-type]
        deadline = time.monotonic() + 30
        while len(servers := [pid for pid in children_of(parent.pid) if alive(pid)]) < 2:
            assert time.monotonic() < deadline, "two server processes never started"
            time.sleep(0.2)
        parent.kill()
        parent.wait()
        deadline = time.monotonic() + 15
        while any(alive(pid) for pid in servers):
            assert time.monotonic() < deadline, "the server processes outlived their parent"
            time.sleep(0.2)
        with pytest.raises(httpx2.TransportError):
            httpx2.get(f"{base}/healthz", timeout=2)
        again = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            wait_ready(again, base)  # type: ignore[arg-type]  (the port is free: no "address already in use")
        finally:
            again.terminate()
            again.communicate(timeout=30)
    finally:
        for pid in [parent.pid, *servers]:  # only what this test started, and only while it still runs
            if alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        parent.wait()


def test_the_load_client_reads_sized_and_chunked_answers_and_counts_dropped_connections() -> None:
    """The loadtest's client (one asyncio loop, keep-alive connections) against a server that answers with a
    Content-Length, with chunks, and by closing the connection: two 200s read whole, one error counted."""
    import asyncio
    import urllib.parse

    from lintas.measure.loadtest import _phase

    answers = {
        b"/sized": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
        b"/chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
    }
    port = free_port()
    ready = threading.Event()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                path = line.split(b" ")[1]
                while await reader.readline() not in (b"\r\n", b""):
                    pass
                if path not in answers:  # drop the connection without an answer
                    return
                writer.write(answers[path])
                await writer.drain()
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def serve(stop: asyncio.Event) -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", port)
        ready.set()
        async with server:
            await stop.wait()
        handlers = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in handlers:
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)

    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    thread = threading.Thread(target=lambda: loop.run_until_complete(serve(stop)), daemon=True)
    thread.start()
    ready.wait(5)
    try:
        base = urllib.parse.urlsplit(f"http://127.0.0.1:{port}")
        calls: list[tuple[str, str, bytes | None]] = [("GET", "/sized", None), ("GET", "/chunked", None)] * 3
        calls.append(("GET", "/drop", None))
        result = _phase("read test", base, calls, 2)
        assert result.statuses == {200: 6, 0: 1} and result.errors == 1 and len(result.latencies) == 6
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(5)
        loop.close()


def test_the_load_client_runs_beside_a_running_event_loop() -> None:
    """``_phase`` runs its own loop in a thread: a caller with a loop running (here one that calls it) still works."""
    import asyncio
    import urllib.parse

    from lintas.measure.loadtest import _phase

    async def caller() -> int:
        base = urllib.parse.urlsplit(f"http://127.0.0.1:{free_port()}")  # nothing listens: every call an error
        return _phase("read nothing", base, [("GET", "/", None)] * 3, 2).errors

    found: list[int] = []  # the caller's loop runs in a thread of its own: the test runner's thread may have one
    thread = threading.Thread(target=lambda: found.append(asyncio.run(caller())))
    thread.start()
    thread.join(30)
    assert found == [3]
