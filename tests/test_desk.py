"""The editors' desk pages over HTTP (TestClient): the list and its filters, the side-by-side view, corrections,
approve / hold / unpublish and what readers then see, CSRF, roles and unknown ids.

Runs on SQLite and, with LINTAS_TEST_POSTGRES_URL, on PostgreSQL (a database of this file's). Editions come from
the fake engine, which misspells names: the English edition of "Presiden Joko Widodo ..." gets a critical
``name_misspelled`` flag and is held.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dbs import database_url
from deskutil import PASSWORD, add_desk_users, csrf_of, sign_in
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from lintas.engines.fake import FakeEngine
from lintas.newsroom import editions as review
from lintas.pipeline.translate import Options, translate_article
from lintas.service import create_app
from lintas.store import db, glossary_terms, repo
from lintas.store.memory import TranslationMemory
from lintas.text.article import Article, Block, Flag
from lintas.text.glossary import Glossary, Term

PG_DATABASE = "lintas_desk_test"
FLAGGED_SOURCE = "Presiden Joko Widodo tiba di Jakarta pada pagi hari."
FIX = "President Joko Widodo arrived in Jakarta in the morning."


def flagged_article(article_id: str = "a1", headline: str = "Presiden tiba di Jakarta") -> Article:
    body = f"{FLAGGED_SOURCE} Ia bertemu 12 menteri di istana."
    return Article(id=article_id, headline=headline, section="nasional", body=[Block(type="paragraph", html=body)])


def quiet_article() -> Article:
    body = "Hujan turun di Bandung sejak sore. Warga diminta berhati-hati."
    return Article(id="a2", headline="Hujan di Bandung", section="daerah", body=[Block(type="paragraph", html=body)])


def store_translated(engine: Engine, article: Article, targets: list[str], *, warn_ar: bool = False) -> None:
    """Store ``article`` and its fake-engine editions (as a worker would); ``warn_ar``: with a warning flag on the
    Arabic edition's last segment."""
    revision, _ = repo.upsert_article(engine, article, targets)
    for report in translate_article(article, targets, FakeEngine()):
        edition = report.edition
        if warn_ar and edition.target_lang == "ar":  # a warning, so the Arabic view has a highlighted segment too
            segments = list(edition.segments)
            flag = Flag(code="terminology", severity="warning", message="“menteri” is usually “وزير” here")
            segments[-1] = segments[-1].model_copy(update={"flags": [flag]})
            edition = edition.model_copy(update={"segments": segments})
        repo.save_edition(engine, edition, revision)


@pytest.fixture
def memory_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'memory.sqlite'}"
    monkeypatch.setenv("LINTAS_MEMORY", url)
    monkeypatch.setenv("LINTAS_DESK_ENGINES", "fake")
    monkeypatch.delenv("LINTAS_WEBHOOK_URLS", raising=False)
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return database_url(request.param, tmp_path, PG_DATABASE)


@pytest.fixture
def client(db_url: str, memory_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(db_url, engine_name="fake"), follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def store(client: TestClient, db_url: str) -> Iterator[Engine]:
    """The app's database with an editor ana, a reader rudi, article a1 (en held, ar flagged) and a2 (clean)."""
    engine = db.make_engine(db_url)
    try:
        add_desk_users(engine)
        store_translated(engine, quiet_article(), ["en", "ar"])
        store_translated(engine, flagged_article(), ["en", "ar"], warn_ar=True)
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def editor(client: TestClient, store: Engine) -> str:
    return sign_in(client)


def text_of(response: Any) -> str:
    return html.unescape(response.text)


def public_path(client: TestClient, lang: str, article_id: str) -> int:
    """The status of the article's public page in ``lang`` (following a slug redirect)."""
    return client.get(f"/{lang}/x/{article_id}", follow_redirects=True).status_code


# --- the list ------------------------------------------------------------------------------------------------


def test_list_shows_each_language_status_in_words(client: TestClient, editor: str, store: Engine) -> None:
    page = client.get("/desk/")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    text = text_of(page)
    assert "Signed in as Ana Putri (editor)." in text and 'href="/desk/glossary"' in text
    assert "Presiden tiba di Jakarta" in text and "Hujan di Bandung" in text
    assert "Held for review" in text and "Published" in text and "No edition" in text
    held = review.desk_edition(store, "a1", "en")
    assert held is not None
    assert "1 flag, 1 critical" in text and f"confidence {round(held.confidence * 100)}%" in text
    assert text.index("Presiden tiba di Jakarta") < text.index("Hujan di Bandung")  # newest first
    for field in ("f-status", "f-lang", "f-since", "f-flagged"):
        assert f'<label for="{field}">' in text


@pytest.mark.parametrize(
    ("query", "a1", "a2"),
    [
        ("status=held", True, False),
        ("status=published", True, True),  # a1's Arabic edition is published
        ("status=held&lang=ar", False, False),
        ("flagged=1", True, False),
        ("lang=zh", False, False),
        ("since=2000-01-01", True, True),
        ("since=2999-01-01", False, False),
    ],
)
def test_list_filters(client: TestClient, editor: str, query: str, a1: bool, a2: bool) -> None:
    text = text_of(client.get(f"/desk/?{query}"))
    assert ("Presiden tiba di Jakarta" in text) is a1, query
    assert ("Hujan di Bandung" in text) is a2, query
    if not (a1 or a2):
        assert "No articles match these filters." in text


def test_list_filter_form_keeps_its_values_and_a_bad_date_says_so(client: TestClient, editor: str) -> None:
    text = client.get("/desk/?status=held&lang=ar&flagged=1").text
    assert '<option value="held" selected>' in text and '<option value="ar" selected>' in text
    assert 'id="f-flagged" name="flagged" value="1" checked' in text and "Clear filters" in text
    bad = text_of(client.get("/desk/?since=yesterday"))
    assert "“yesterday” is not a date" in bad and "Hujan di Bandung" in bad


def test_list_pages(client: TestClient, editor: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from lintas.service import desk

    monkeypatch.setattr(desk, "PAGE_SIZE", 1)
    first = text_of(client.get("/desk/?flagged=0"))
    assert "Presiden tiba di Jakarta" in first and "Hujan di Bandung" not in first
    assert 'href="/desk/?page=2" rel="next"' in first
    second = text_of(client.get("/desk/?page=2"))
    assert "Hujan di Bandung" in second and 'href="/desk/?page=1" rel="prev"' in second
    assert 'rel="next"' not in second


# --- the side-by-side view -----------------------------------------------------------------------------------


def test_view_shows_source_and_edition_side_by_side_with_flags_in_plain_words(client: TestClient, editor: str) -> None:
    page = client.get("/desk/articles/a1")  # no lang: the held one first
    assert page.status_code == 200
    text = text_of(page)
    assert "English edition" in text and 'aria-current="page"><span class="name">English' in text
    assert FLAGGED_SOURCE in text and "nediserp okoj ododiw" in text
    assert "name spelled differently: Joko → okoj" in text
    assert "Critical: must be fixed before this edition is published" in text
    assert "Held because" in text and "name_misspelled" in text
    assert 'class="critical"' in text and '<details class="seg-edit" open>' in text
    assert '<label for="text-seg-b0-s0">Correction of segment 2 (English)</label>' in text
    assert 'action="/desk/articles/a1/en/segments/b0.s0"' in text
    assert text.count(f'name="csrf_token" value="{editor}"') >= 6  # sign out, approve, hold, 3 segments, unpublish
    assert "Public page" not in text  # held: not public


def test_arabic_edition_is_right_to_left(client: TestClient, editor: str) -> None:
    text = text_of(client.get("/desk/articles/a1?lang=ar"))
    assert '<p class="text" lang="ar" dir="rtl">' in text
    assert 'name="text" lang="ar" dir="rtl"' in text
    assert "“menteri” is usually “وزير” here" in text and "Warning: check this" in text
    assert "Public page" in text  # published


def test_language_without_an_edition(client: TestClient, editor: str) -> None:
    text = text_of(client.get("/desk/articles/a1?lang=zh"))
    assert "There is no Chinese (Simplified) edition yet (translation job: queued)" not in text  # no zh job
    assert "There is no Chinese (Simplified) edition yet" in text


# --- changes -------------------------------------------------------------------------------------------------


def test_correction_needs_the_csrf_token(client: TestClient, editor: str) -> None:
    path = "/desk/articles/a1/en/segments/b0.s0"
    refused = client.post(path, data={"text": FIX})
    assert refused.status_code == 403 and "expired" in refused.text
    wrong = client.post(path, data={"text": FIX, "csrf_token": editor[::-1]})
    assert wrong.status_code == 403
    assert FIX not in text_of(client.get("/desk/articles/a1?lang=en"))


def test_correction_approve_and_the_public_page_and_feed_show_it(
    client: TestClient, editor: str, memory_url: str
) -> None:
    done = client.post("/desk/articles/a1/en/segments/b0.s0", data={"text": FIX, "csrf_token": editor})
    assert done.status_code == 303
    assert done.headers["location"] == "/desk/articles/a1?lang=en&done=corrected#seg-b0-s0"
    view = text_of(client.get("/desk/articles/a1?lang=en&done=corrected"))
    assert "Correction saved." in view and FIX in view and "corrected by an editor" in view
    assert "Critical: must be fixed" not in view  # re-checked: the flag is gone (the hold reason stays)
    assert "Corrected a segment (b0.s0)" in view and "ana" in view  # history
    assert public_path(client, "en", "a1") == 404  # still held

    approved = client.post("/desk/articles/a1/en/approve", data={"csrf_token": editor})
    assert approved.status_code == 303 and approved.headers["location"].endswith("done=approved")
    view = text_of(client.get("/desk/articles/a1?lang=en"))
    assert "Edition approved" not in view and "Approved" in view and "Public page" in view
    public = client.get("/en/x/a1", follow_redirects=True)
    assert public.status_code == 200 and FIX in text_of(public)
    assert FIX in html.unescape(client.get("/en/feed.xml").text)

    with TranslationMemory(memory_url) as memory:
        match = memory.exact(FLAGGED_SOURCE, "en")
    assert match is not None and match.target == FIX


def test_retranslate_a_segment_or_the_edition_with_a_configured_engine(client: TestClient, editor: str) -> None:
    assert (
        client.post("/desk/articles/a1/en/segments/b0.s0", data={"text": FIX, "csrf_token": editor}).status_code == 303
    )
    view = text_of(client.get("/desk/articles/a1?lang=en"))
    assert 'name="engine"' in view and "Re-translate the English edition" in view
    path = "/desk/articles/a1/en/retranslate"
    assert client.post(path, data={"engine": "fake", "segment": "b0.s0"}).status_code == 403  # no CSRF token
    done = client.post(path, data={"engine": "fake", "segment": "b0.s0", "csrf_token": editor})
    assert done.status_code == 303 and done.headers["location"].endswith("done=retranslated#seg-b0-s0")
    view = text_of(client.get("/desk/articles/a1?lang=en"))
    assert FIX not in view.split("History")[0]  # the segment is the engine's again
    assert "Re-translated" in view and "fake (fake-1)" in view  # audited, with the engine
    edition = client.post(path, data={"engine": "fake", "csrf_token": editor})
    assert edition.status_code == 303
    assert text_of(client.get("/desk/articles/a1?lang=en")).count("Re-translated") == 2
    unknown = client.post(path, data={"engine": "nllb", "csrf_token": editor})
    assert unknown.status_code == 400 and "not an engine of the desk" in text_of(unknown)
    missing = client.post(path, data={"engine": "fake", "segment": "b9.s9", "csrf_token": editor})
    assert missing.status_code == 404


def test_retranslation_uses_the_terms_editors_keep(client: TestClient, editor: str, store: Engine) -> None:
    term = Term(source="Jakarta", forms={"en": ("Djakarta City",)}, category="place")
    glossary_terms.save_term(store, term, "ana")
    done = client.post(
        "/desk/articles/a1/en/retranslate", data={"engine": "fake", "segment": "b0.s0", "csrf_token": editor}
    )
    assert done.status_code == 303
    edition = review.desk_edition(store, "a1", "en")
    assert edition is not None
    assert "Djakarta City" in next(s.target for s in edition.segments if s.id == "b0.s0")


def test_hold_and_approve_change_what_readers_see(client: TestClient, editor: str) -> None:
    assert public_path(client, "en", "a2") == 200
    held = client.post("/desk/articles/a2/en/hold", data={"csrf_token": editor, "note": "check the place name"})
    assert held.status_code == 303 and held.headers["location"] == "/desk/articles/a2?lang=en&done=held"
    view = text_of(client.get(held.headers["location"]))
    assert "Edition held" in view and "held by ana: check the place name" in view
    assert public_path(client, "en", "a2") == 404
    assert public_path(client, "ar", "a2") == 200  # per language
    assert client.post("/desk/articles/a2/en/approve", data={"csrf_token": editor}).status_code == 303
    assert public_path(client, "en", "a2") == 200
    gone = client.post("/desk/articles/a2/unpublish", data={"csrf_token": editor, "lang": "ar"})
    assert gone.status_code == 303 and gone.headers["location"] == "/desk/articles/a2?lang=ar&done=unpublished"
    assert public_path(client, "ar", "a2") == 410
    assert "This article is unpublished" in text_of(client.get(gone.headers["location"]))


def test_bad_corrections_are_refused_with_a_message(client: TestClient, editor: str) -> None:
    empty = client.post("/desk/articles/a1/en/segments/b0.s0", data={"text": "  ", "csrf_token": editor})
    assert empty.status_code == 400 and "The correction is empty" in empty.text
    assert 'href="/desk/articles/a1?lang=en"' in empty.text


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/desk/articles/nope"),
        ("get", "/desk/articles/a1?lang=xx"),
        ("post", "/desk/articles/nope/en/segments/b0.s0"),
        ("post", "/desk/articles/a1/en/segments/b9.s9"),
        ("post", "/desk/articles/a1/zh/approve"),  # no Chinese edition
        ("post", "/desk/articles/a1/xx/hold"),
        ("post", "/desk/articles/nope/en/approve"),
        ("post", "/desk/articles/nope/unpublish"),
    ],
)
def test_unknown_ids_answer_404(client: TestClient, editor: str, method: str, path: str) -> None:
    data = {"csrf_token": editor, "text": FIX}
    response = client.get(path) if method == "get" else client.post(path, data=data)
    assert response.status_code == 404, response.text
    assert "Not found" in response.text


def test_editor_role_is_required(client: TestClient, store: Engine) -> None:
    anonymous = client.get("/desk/articles/a1?lang=en")
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/desk/login?next=/desk/articles/a1%3Flang%3Den"
    assert client.post("/desk/articles/a1/en/approve", data={}).headers["location"] == "/desk/login"
    token = csrf_of(client.get("/desk/login").text)
    client.post("/desk/login", data={"username": "rudi", "password": PASSWORD, "csrf_token": token})
    for path in ("/desk/", "/desk/articles/a1?lang=en"):
        page = client.get(path)
        assert page.status_code == 403 and "for the editor role or higher" in page.text
    sign_out_token = csrf_of(client.get("/desk/").text)  # the 403 page's sign-out form
    refused = client.post("/desk/articles/a1/en/approve", data={"csrf_token": sign_out_token})
    assert refused.status_code == 403
    assert public_path(client, "en", "a1") == 404


def test_names_to_confirm_and_estimates_are_shown_and_a_confirmation_goes_into_the_glossary(
    client: TestClient, editor: str, store: Engine
) -> None:
    body = "Rapper Kanye West mengganti namanya. Menurut West, nama itu punya makna religius."
    article = Article(
        id="a3", headline="Kanye West ganti nama", section="hiburan", body=[Block(type="paragraph", html=body)]
    )
    revision, _ = repo.upsert_article(store, article, ["ar"])
    edition = translate_article(article, ["ar"], FakeEngine(), options=Options(names=True))[0].edition
    repo.save_edition(store, edition, revision)
    rendering = {n.source: n.form for n in edition.names}["Kanye West"]
    text = text_of(client.get("/desk/articles/a3?lang=ar"))
    assert "Names to confirm" in text and f'value="{rendering}"' in text
    assert "estimated quality" in text
    refused = client.post("/desk/articles/a3/ar/names", data={"source": "", "form": "x", "csrf_token": editor})
    assert refused.status_code == 400 and "Give the name" in refused.text
    done = client.post(
        "/desk/articles/a3/ar/names", data={"source": "Kanye West", "form": "كانييه ويست", "csrf_token": editor}
    )
    assert done.status_code == 303 and "done=name" in done.headers["location"]
    term = glossary_terms.get_term(store, "Kanye West")
    assert term is not None and term.forms["ar"] == ("كانييه ويست",)
    later = translate_article(
        article,
        ["ar"],
        FakeEngine(),
        options=Options(names=True, glossary=glossary_terms.with_database_terms(Glossary(), store)),
    )[0].edition
    assert "Kanye West" not in {n.source for n in later.names}  # the glossary has it now: no new rendering
