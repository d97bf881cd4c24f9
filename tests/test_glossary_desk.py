"""The glossary in the editors' desk: terms in the database, CSV import / export, the /desk/glossary pages, and
translation picking up a term saved in the desk.

Store and HTTP tests run on SQLite and, with LINTAS_TEST_POSTGRES_URL, on PostgreSQL (a database of this file's).
The browser test (Chromium at phone width) saves ``desk-glossary.png`` into LINTAS_ARTIFACTS.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from browser import LiveServer, artifacts_dir
from dbs import database_url
from deskutil import PASSWORD, add_desk_users, csrf_of
from deskutil import sign_in as desk_sign_in
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from lintas.engines.base import Capabilities
from lintas.engines.fake import FakeEngine
from lintas.pipeline.translate import Options, translate_article
from lintas.service import create_app
from lintas.store import accounts, db
from lintas.store import glossary_terms as gt
from lintas.store.schema import glossary_terms
from lintas.text.article import Article, Block, Segment
from lintas.text.glossary import Glossary, Term, starter_glossary, terms_from_csv

PG_DATABASE = "lintas_glossary_test"

BANSOS = Term(
    "Bansos",
    {"en": ("social assistance", "welfare aid"), "fr": ("aide sociale",), "ar": ("المساعدات الاجتماعية",)},
    aliases=("bantuan sosial",),
    category="policy",
    notes="Cash or food aid, never 'bonus'.",
    avoid={"en": ("bonus",)},
)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    return database_url(request.param, tmp_path, PG_DATABASE)


# --- the store --------------------------------------------------------------------------------------------


def test_save_get_list_and_search(store: Engine) -> None:
    assert gt.list_terms(store) == [] and gt.get_term(store, "Bansos") is None
    gt.save_term(store, BANSOS, "ana")
    gt.save_term(store, Term("Polda", {"en": ("regional police",)}), "ana")
    assert gt.get_term(store, "Bansos") == BANSOS  # the whole term survives JSON, avoid forms included
    assert [t.source for t in gt.list_terms(store)] == ["Bansos", "Polda"]
    for query in ("bansos", "BANTUAN", "welfare", "المساعدات", "Aide Sociale"):
        assert [t.source for t in gt.list_terms(store, query)] == ["Bansos"], query
    assert gt.list_terms(store, "nothing like it") == []
    changed = Term("Bansos", {"en": ("social aid",)})
    gt.save_term(store, changed, "budi")  # same source: an update, not a second row
    assert gt.get_term(store, "Bansos") == changed
    with store.connect() as conn:
        rows = conn.execute(select(glossary_terms.c.source, glossary_terms.c.updated_by)).all()
    assert sorted(rows) == [("Bansos", "budi"), ("Polda", "ana")]


def test_delete_is_soft_and_saving_again_restores(store: Engine) -> None:
    gt.save_term(store, BANSOS, "ana")
    assert gt.delete_term(store, "Bansos", "budi") is True
    assert gt.delete_term(store, "Bansos", "budi") is False
    assert gt.get_term(store, "Bansos") is None and gt.list_terms(store) == []
    with store.connect() as conn:
        row = conn.execute(select(glossary_terms)).one()
    assert row.deleted_at is not None and row.updated_by == "budi"
    gt.save_term(store, BANSOS, "ana")
    assert gt.get_term(store, "Bansos") == BANSOS


def test_save_refuses_a_term_without_forms(store: Engine) -> None:
    with pytest.raises(Exception, match="no forms"):
        gt.save_term(store, Term("Kosong", {}), "ana")


def test_csv_round_trip(store: Engine) -> None:
    gt.save_term(store, BANSOS, "ana")
    gt.save_term(store, Term("AS", {"en": ("United States", "US")}, case_sensitive=True, enforce=False), "ana")
    text = gt.export_csv(store)
    assert text.splitlines()[0] == "source,aliases,en,zh,ja,ar,fr,case,category,enforce,notes"
    assert "social assistance|welfare aid" in text
    gt.delete_term(store, "Bansos", "ana")
    gt.delete_term(store, "AS", "ana")
    assert gt.import_csv(store, text, "budi") == 2
    assert gt.get_term(store, "AS") == Term("AS", {"en": ("United States", "US")}, case_sensitive=True, enforce=False)
    back = gt.get_term(store, "Bansos")
    assert back is not None and back.forms == BANSOS.forms and back.notes == BANSOS.notes
    # the CSV has no avoid column: re-importing over a stored term keeps its avoid forms
    gt.save_term(store, BANSOS, "ana")
    gt.import_csv(store, text, "budi")
    assert gt.get_term(store, "Bansos") == BANSOS


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("term,en\nBansos,social aid\n", "the first row must name the columns"),
        ("source,en\nBansos,social aid\n,missing source\n", "line 3: 'source' is missing"),
        ("source,en\nBansos,social aid\nBPS\n", "line 3: term 'BPS' has no forms"),
        ("source,en\nBansos,social aid,extra\n", "line 2: more cells than columns"),
        ("source,de\nBansos,Sozialhilfe\n", "line 2: term 'Bansos' has no forms"),
    ],
)
def test_bad_csv_is_refused_naming_the_line(store: Engine, text: str, needle: str) -> None:
    with pytest.raises(ValueError, match=re.escape(needle)):
        gt.import_csv(store, text, "ana")
    assert gt.list_terms(store) == []  # all or nothing


# --- translation uses the database's terms -----------------------------------------------------------------


class RecordingEngine(FakeEngine):
    capabilities = Capabilities(glossary_mode="prompt")

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[Segment] = []

    def translate_batch(self, segments: Sequence[Segment], *args: Any, **kwargs: Any) -> list[str]:
        self.seen += list(segments)
        return super().translate_batch(segments, *args, **kwargs)


def _article() -> Article:
    return Article(
        id="g1",
        headline="Pemerintah Salurkan Bansos",
        body=[Block(type="paragraph", html="Kementerian Keuangan menyalurkan bansos pada Senin.")],
    )


def _terms_seen(glossary: Glossary) -> dict[str, tuple[tuple[str, str], ...]]:
    engine = RecordingEngine()
    translate_article(_article(), ["en"], engine, options=Options(glossary=glossary), pivot="")
    return {s.id: s.terms for s in engine.seen}


def test_the_pipeline_picks_up_a_database_term(store: Engine) -> None:
    live = gt.with_database_terms(starter_glossary(), store, interval=0)
    assert isinstance(live, gt.DatabaseGlossary)
    before = _terms_seen(live)
    assert ("Kementerian Keuangan", "Ministry of Finance") in before["b0.s0"]
    assert all(source.lower() != "bansos" for terms in before.values() for source, _ in terms)
    gt.save_term(store, BANSOS, "ana")
    after = _terms_seen(live)  # the same glossary object, as a running worker holds it
    assert ("bansos", "social assistance") in after["b0.s0"]
    assert any(("Bansos", "social assistance") in terms for terms in after.values())  # the headline
    # a database term wins over the starter term with the same source
    gt.save_term(store, Term("Kementerian Keuangan", {"en": ("Finance Ministry",)}), "ana")
    assert ("Kementerian Keuangan", "Finance Ministry") in _terms_seen(live)["b0.s0"]
    # and the check flags what the database term says to avoid
    flags = live.check("Bansos cair.", "The bonus was paid.", "en")
    assert [f.code for f in flags] == ["glossary_missing", "glossary_avoid"]
    gt.delete_term(store, "Bansos", "ana")
    assert live.check("Bansos cair.", "The bonus was paid.", "en") == []


def test_refresh_is_throttled_and_survives_a_missing_table(store: Engine, db_url: str) -> None:
    live = gt.DatabaseGlossary(store, starter_glossary(), interval=3600)
    gt.save_term(store, BANSOS, "ana")
    assert live.find("Bansos cair") == []  # not re-read before the interval
    live.refresh(force=True)
    assert [h.term.source for h in live.find("Bansos cair")] == ["Bansos"]
    bare = db.make_engine(database_url("sqlite", _tmp(db_url), "bare")) if db_url.startswith("sqlite") else None
    if bare is not None:
        try:
            assert len(gt.DatabaseGlossary(bare, starter_glossary(), interval=0)) == len(starter_glossary())
        finally:
            bare.dispose()
    assert gt.with_database_terms(None, store) is None  # LINTAS_GLOSSARY=none: no glossary at all


def _tmp(sqlite_url: str) -> Any:
    from pathlib import Path

    return Path(sqlite_url.removeprefix("sqlite:///")).parent


# --- the pages ----------------------------------------------------------------------------------------------


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(db_url, engine_name="fake"), follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def app_store(client: TestClient, db_url: str) -> Iterator[Engine]:
    engine = db.make_engine(db_url)
    try:
        add_desk_users(engine)
        yield engine
    finally:
        engine.dispose()


def sign_in(client: TestClient, username: str = "ana") -> str:
    """Sign in; returns the session's CSRF token (from the glossary page)."""
    return desk_sign_in(client, username, page="/desk/glossary")


def _form(**fields: str) -> dict[str, str]:
    return {"enforce": "on", **fields}


def test_glossary_needs_an_editor(client: TestClient, app_store: Engine) -> None:
    assert client.get("/desk/glossary").headers["location"] == "/desk/login?next=/desk/glossary"
    token = csrf_of(client.get("/desk/login").text)
    client.post("/desk/login", data={"username": "rudi", "password": PASSWORD, "csrf_token": token})
    assert client.get("/desk/glossary").status_code == 403
    assert client.get("/desk/glossary.csv").status_code == 403


def test_list_search_add_edit_delete(client: TestClient, app_store: Engine) -> None:
    csrf = sign_in(client)
    page = client.get("/desk/glossary")
    assert page.status_code == 200
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "Kementerian Keuangan" in page.text and 'class="badge starter"' in page.text
    assert 'dir="rtl"' in page.text  # Arabic forms
    form = client.get("/desk/glossary/new").text
    for label in ("Indonesian term (source)", "Preferred form (Arabic)", "Other accepted forms (French)"):
        assert label in form
    assert 'id="ar_preferred" name="ar_preferred" value="" lang="ar" dir="rtl"' in form
    fields = _form(
        csrf_token=csrf,
        new="1",
        source="Bansos",
        aliases="bantuan sosial",
        en_preferred="social assistance",
        en_others="welfare aid | aid",
        en_avoid="bonus",
        ar_preferred="المساعدات الاجتماعية",
        category="policy",
        notes="never 'bonus'",
    )
    saved = client.post("/desk/glossary", data=fields)
    assert saved.status_code == 303 and saved.headers["location"].startswith("/desk/glossary?done=saved")
    term = gt.get_term(app_store, "Bansos")
    assert term is not None and term.forms["en"] == ("social assistance", "welfare aid", "aid")
    assert term.avoid == {"en": ("bonus",)} and term.aliases == ("bantuan sosial",) and term.enforce
    listed = client.get(saved.headers["location"])
    assert "Saved “Bansos”." in listed.text and 'class="badge desk"' in listed.text
    found = client.get("/desk/glossary", params={"q": "welfare"}).text
    assert "1 term matches" in found and "Bansos" in found and "Kementerian Keuangan" not in found
    # the same source again from the new-term form: refused, not overwritten
    again = client.post("/desk/glossary", data={**fields, "en_preferred": "other"})
    assert again.status_code == 422 and "already has a term" in again.text
    edit = client.get("/desk/glossary/edit", params={"source": "Bansos"}).text
    assert 'value="welfare aid | aid"' in edit and "readonly" in edit
    fields.pop("new")
    fields.pop("enforce")  # unticked
    assert client.post("/desk/glossary", data={**fields, "en_others": ""}).status_code == 303
    term = gt.get_term(app_store, "Bansos")
    assert term is not None and term.forms["en"] == ("social assistance",) and not term.enforce
    # overriding a starter term makes a desk copy
    override = client.get("/desk/glossary/edit", params={"source": "Kementerian Keuangan"}).text
    assert "comes from the starter glossary" in override and "Ministry of Finance" in override
    gone = client.post("/desk/glossary/delete", data={"csrf_token": csrf, "source": "Bansos"})
    assert gone.status_code == 303 and gt.get_term(app_store, "Bansos") is None
    assert client.post("/desk/glossary/delete", data={"csrf_token": csrf, "source": "Bansos"}).status_code == 404
    assert client.get("/desk/glossary/edit", params={"source": "Tidak Ada"}).status_code == 404


def test_validation_errors_rerender_the_form(client: TestClient, app_store: Engine) -> None:
    csrf = sign_in(client)
    bad = client.post("/desk/glossary", data=_form(csrf_token=csrf, new="1", source="", fr_others="aide"))
    assert bad.status_code == 422
    assert "Write the Indonesian term" in bad.text and "French: write the preferred form" in bad.text
    assert 'role="alert"' in bad.text and 'value="aide"' in bad.text  # what was typed is kept
    none = client.post("/desk/glossary", data=_form(csrf_token=csrf, new="1", source="Kosong"))
    assert none.status_code == 422 and "at least one language" in none.text
    assert gt.list_terms(app_store) == []


def test_csrf_is_required(client: TestClient, app_store: Engine) -> None:
    sign_in(client)
    fields = _form(new="1", source="Bansos", en_preferred="social assistance")
    assert client.post("/desk/glossary", data=fields).status_code == 403
    assert client.post("/desk/glossary", data={**fields, "csrf_token": "x" * 43}).status_code == 403
    assert client.post("/desk/glossary/import", data={"csv": "source,en\nA,b\n"}).status_code == 403
    gt.save_term(app_store, BANSOS, "ana")
    assert client.post("/desk/glossary/delete", data={"source": "Bansos"}).status_code == 403
    assert gt.get_term(app_store, "Bansos") == BANSOS


def test_csv_export_and_import_pages(client: TestClient, app_store: Engine) -> None:
    csrf = sign_in(client)
    gt.save_term(app_store, BANSOS, "ana")
    export = client.get("/desk/glossary.csv")
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    assert re.fullmatch(
        r'attachment; filename="lintas-glossary-desk-\d{8}\.csv"', export.headers["content-disposition"]
    )
    assert [t.source for t in terms_from_csv(export.text)] == ["Bansos"]
    everything = client.get("/desk/glossary.csv", params={"scope": "all"}).text
    assert len(terms_from_csv(everything)) == len(starter_glossary()) + 1
    text = "source,aliases,en,fr\nPolda,,regional police,police régionale\nBPS,,Statistics Indonesia,\n"
    done = client.post("/desk/glossary/import", data={"csrf_token": csrf, "csv": text})
    assert done.status_code == 303 and "count=2" in done.headers["location"]
    assert "Imported 2 terms." in client.get(done.headers["location"]).text
    assert {t.source for t in gt.list_terms(app_store)} == {"Bansos", "Polda", "BPS"}
    bad = client.post("/desk/glossary/import", data={"csrf_token": csrf, "csv": "source,en\nX,y\n,z\n"})
    assert bad.status_code == 422 and "Nothing was imported. CSV line 3" in bad.text
    assert "source,en" in bad.text  # the pasted CSV is kept to fix


# --- in a browser --------------------------------------------------------------------------------------------

PHONE = {"width": 360, "height": 740}
LAYOUT = """() => ({
  overflow: document.documentElement.scrollWidth - window.innerWidth,
  unlabelled: [...document.querySelectorAll('input:not([type=hidden]), textarea, button')]
    .filter(el => el.tagName === 'BUTTON' ? !el.textContent.trim() : el.labels.length === 0).length,
})"""


def test_glossary_page_in_a_phone_browser(chromium: Any, live_server: LiveServer) -> None:
    engine = db.make_engine(live_server.db_url)
    try:
        if accounts.get_user(engine, "gita") is None:
            accounts.create_user(engine, "gita", PASSWORD, "editor", display_name="Gita")
        gt.save_term(engine, BANSOS, "gita")
    finally:
        engine.dispose()
    context = chromium.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        page.goto(f"{live_server.base_url}/desk/glossary?q=bansos", wait_until="load")
        page.get_by_label("Username").fill("gita")
        page.get_by_label("Password").fill(PASSWORD)
        with page.expect_navigation():
            page.get_by_role("button", name="Sign in").click()
        assert page.url.endswith("/desk/glossary?q=bansos")
        assert "social assistance" in page.text_content("main")
        assert page.evaluate(LAYOUT) == {"overflow": 0, "unlabelled": 0}
        page.screenshot(path=str(artifacts_dir() / "desk-glossary.png"), full_page=True)
        page.get_by_role("link", name="Edit Bansos").click()
        page.wait_for_load_state("load")
        assert page.evaluate(LAYOUT) == {"overflow": 0, "unlabelled": 0}
        page.get_by_label("Preferred form (French)").fill("aide sociale publique")
        with page.expect_navigation():
            page.get_by_role("button", name="Save term").click()
        assert "Saved “Bansos”." in page.text_content("main")
    finally:
        context.close()
