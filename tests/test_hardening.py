"""What a hostile tester found (issue 15): control characters, unbounded numbers, RSS injection, odd ids,
security headers, login limiting. Each test failed before its fix."""

from __future__ import annotations

import html as html_lib
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from lxml import etree
from lxml import html as lxml_html
from sqlalchemy import Engine
from test_public import publish
from test_service import ARTICLE, authorized, db_url  # noqa: F401  (a fixture)

from lintas.ingest import read_article
from lintas.service import create_app
from lintas.store import db, repo
from lintas.store import review as desk
from lintas.textsafe import clean_chars

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
    publish(store, dirty_article())  # straight into the store, as an article stored before ingest cleaned it
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
