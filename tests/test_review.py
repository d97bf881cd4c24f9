"""The editors' desk data layer: lintas.pipeline.correct.correct (pure) and lintas.newsroom.editions (SQLite and PostgreSQL).

PostgreSQL runs when LINTAS_TEST_POSTGRES_URL names a server, in a database of its own (``lintas_review_test``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from pathlib import Path

import pytest
from dbs import database_url
from sqlalchemy import Engine, update

from lintas.engines.fake import FakeEngine
from lintas.newsroom import editions as desk
from lintas.newsroom.notify import NotifyConfig
from lintas.newsroom.worker import run_worker
from lintas.pipeline.correct import correct
from lintas.pipeline.translate import Options, translate_article
from lintas.store import db, outbox, repo, site
from lintas.store.memory import TranslationMemory
from lintas.store.schema import articles
from lintas.text.article import Article, Block, Edition

PG_DATABASE = "lintas_review_test"
LINK = '<a href="https://contoh.id/jakarta">Jakarta</a>'
SENTENCE = "Dia bertemu menteri keuangan."


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINTAS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LINTAS_MEMORY", "off")


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    eng = db.make_engine(database_url(request.param, tmp_path, PG_DATABASE))
    try:
        db.upgrade(eng)
        yield eng
    finally:
        eng.dispose()


@pytest.fixture
def tm(tmp_path: Path) -> Iterator[TranslationMemory]:
    with TranslationMemory(f"sqlite:///{tmp_path / 'tm.sqlite'}") as memory:
        yield memory


def article(article_id: str = "a1", paragraphs: Sequence[str] = (), headline: str = "Presiden tiba di Jakarta"):
    paragraphs = paragraphs or (f"Presiden tiba di {LINK} pada hari Senin. {SENTENCE}", "Harga beras naik.")
    return Article(
        id=article_id, headline=headline, section="nasional", body=[Block(type="paragraph", html=p) for p in paragraphs]
    )


def translate(
    store: Engine,
    item: Article,
    langs: Sequence[str] = ("en",),
    *,
    memory: TranslationMemory | None = None,
    engine: Callable[[], FakeEngine] = FakeEngine,
) -> None:
    repo.upsert_article(store, item, list(langs))
    run_worker(
        store,
        engine,
        worker_id="test",
        exit_when_idle=True,
        options_factory=lambda: Options(memory=memory),
        log=lambda _line: None,
    )


def edition(item: Article | None = None, lang: str = "en") -> Edition:
    (report,) = translate_article(item or article(), [lang], FakeEngine(), pivot="")
    return report.edition


# --- lintas.pipeline.correct.correct -------------------------------------------------------------------------------------


@pytest.mark.parametrize("with_article", [True, False])
def test_correct_keeps_the_link_and_reassembles_the_block(with_article: bool) -> None:
    source = article()
    before = edition(source)
    fixed = correct(
        before,
        "b0.s0",
        ' The president arrived in <a href="#1">Jakarta</a> on Monday. ',
        article=source if with_article else None,
    )
    segment = next(s for s in fixed.segments if s.id == "b0.s0")
    assert segment.target == 'The president arrived in <a href="#1">Jakarta</a> on Monday.'
    assert segment.origin == "editor" and segment.flags == []
    html = fixed.body[0].html
    assert html.startswith('The president arrived in <a href="https://contoh.id/jakarta">Jakarta</a> on Monday. ')
    assert html.endswith(before.body[0].html.split("Monday. ", 1)[1])  # the other sentence as it was
    assert fixed.body[1] == before.body[1] and fixed.headline == before.headline
    assert fixed.status == before.status and before.segments[1].origin == "engine"  # the original is untouched


def test_correct_headline_and_recomputed_flags() -> None:
    before = edition()
    fixed = correct(before, "headline", "President arrives in Jakarta")
    assert fixed.headline == "President arrives in Jakarta" and fixed.body == before.body
    # a dropped link comes back on its anchor text (repaired); a lost <b> and a changed number stay flagged
    item = article(paragraphs=[f"Harga {LINK} naik <b>15</b> persen."])
    dropped = correct(edition(item), "b0.s0", "Prices in Jakarta rose 16 percent.", article=item)
    codes = {f.code: f for f in dropped.segments[1].flags}
    assert codes["missing_link"].repaired and not codes["number_mismatch"].repaired and "lost_markup" in codes
    assert '<a href="https://contoh.id/jakarta">Jakarta</a>' in dropped.body[0].html
    assert dropped.segments[1].quality is not None and dropped.segments[1].quality < 1.0  # still flagged
    clean = correct(dropped, "b0.s0", 'Prices in <a href="#1">Jakarta</a> rose <b>15</b> percent.')
    assert clean.segments[1].quality == 1.0 and clean.confidence > dropped.confidence  # an editor's clean text


def test_correct_list_item_line_break_and_lang_checks() -> None:
    item = Article(
        id="l1",
        headline="Daftar",
        body=[
            Block(type="list", items=["Satu hal.", "Dua hal penting. Tiga hal."]),
            Block(type="paragraph", html="Baris pertama.<br>Baris kedua."),
        ],
    )
    before = edition(item)
    fixed = correct(before, "b0.i1.s1", "Third thing.", article=item)
    assert fixed.body[0].items[0] == before.body[0].items[0]
    assert fixed.body[0].items[1].endswith(" Third thing.") and fixed.body[0].items[1] != before.body[0].items[1]
    broken = correct(before, "b1.s1", "Second line.", article=item)
    assert broken.body[1].html.endswith("<br>Second line.")
    copied = correct(before, "b1.s0", "Baris pertama yang sangat panjang sekali.", article=item)
    assert any(f.code == "untranslated" for f in copied.segments[-2].flags)
    unchecked = correct(before, "b1.s0", "Baris pertama yang sangat panjang sekali.", lang_checks=False, article=item)
    assert unchecked.segments[-2].flags == []


def test_correct_errors() -> None:
    before = edition()
    with pytest.raises(ValueError):
        correct(before, "b0.s0", "   ")
    with pytest.raises(KeyError):
        correct(before, "b9.s0", "text")


# --- lintas.newsroom.editions -----------------------------------------------------------------------------------------


def test_apply_correction_audits_and_publishes(store: Engine) -> None:
    translate(store, article())
    fixed = desk.apply_correction(store, "a1", "en", "b0.s1", "He met the finance minister.", "sari")
    assert fixed.segments[2].origin == "editor"
    public = site.public_edition(store, "a1", "en")
    assert public is not None and "He met the finance minister." in public.body[0].html
    assert desk.desk_edition(store, "a1", "en") == public
    (change,) = desk.edition_changes_for(store, "a1", "en")
    assert (change.action, change.segment_id, change.author, change.revision) == ("correct", "b0.s1", "sari", 1)
    assert change.after == "He met the finance minister." and change.before and change.before != change.after
    headline = desk.apply_correction(store, "a1", "en", "headline", "President arrives in Jakarta", "sari")
    assert site.public_article(store, "a1").headlines == {"en": headline.headline}  # type: ignore[union-attr]
    assert [c.segment_id for c in desk.edition_changes_for(store, "a1")] == ["headline", "b0.s1"]
    with pytest.raises(LookupError):
        desk.apply_correction(store, "a1", "en", "b9.s9", "x", "sari")
    with pytest.raises(LookupError):
        desk.apply_correction(store, "a1", "fr", "headline", "x", "sari")
    with pytest.raises(ValueError):
        desk.apply_correction(store, "a1", "en", "headline", " ", "sari")


def test_approve_and_hold(store: Engine) -> None:
    translate(store, article(), ["en", "fr"])
    held = desk.set_status(store, "a1", "fr", "held", "sari", "check the name")
    assert held.status == "held" and held.hold_reasons == ["held by sari: check the name"]
    assert site.public_edition(store, "a1", "fr") is None and site.public_edition(store, "a1", "en") is not None
    approved = desk.set_status(store, "a1", "fr", "published", "budi")
    assert approved.hold_reasons == [] and site.public_edition(store, "a1", "fr") == approved
    assert [(c.action, c.author, c.note) for c in desk.edition_changes_for(store, "a1", "fr")] == [
        ("approve", "budi", None),
        ("hold", "sari", "check the name"),
    ]
    with pytest.raises(ValueError):
        desk.set_status(store, "a1", "fr", "gone", "sari")  # type: ignore[arg-type]


def test_desk_rows_filters_and_order(store: Engine) -> None:
    translate(store, article("a1"), ["en", "fr"])
    translate(store, article("a2", ["Harga naik 5 persen."], "Harga naik"), ["en"])
    numbers = FakeEngine(faults=["change_numbers"], persistent=True)
    translate(store, article("a3", ["Ada 17 korban."], "Tujuh korban"), ["en"], engine=lambda: numbers)
    rows = desk.desk_rows(store)
    assert [r.article_id for r in rows] == ["a3", "a2", "a1"]
    assert set(rows[2].editions) == {"en", "fr"} and rows[2].published and rows[2].section == "nasional"
    a3 = rows[0].editions["en"]
    assert (a3.status, a3.revision) == ("held", 1) and a3.flags >= 1 and a3.critical >= 1 and a3.confidence < 1
    assert [r.article_id for r in desk.desk_rows(store, status="held")] == ["a3"]
    assert [r.article_id for r in desk.desk_rows(store, flagged=True)] == ["a3"]
    assert [r.article_id for r in desk.desk_rows(store, flagged=False)] == ["a2", "a1"]
    assert [r.article_id for r in desk.desk_rows(store, flagged=False, offset=1)] == ["a1"]
    assert [r.article_id for r in desk.desk_rows(store, limit=1, offset=1)] == ["a2"]
    only_fr = desk.desk_rows(store, lang="fr")
    assert [r.article_id for r in only_fr] == ["a1"] and set(only_fr[0].editions) == {"fr"}
    desk.set_status(store, "a1", "fr", "held", "sari")
    assert [r.article_id for r in desk.desk_rows(store, status="held", lang="fr")] == ["a1"]
    assert desk.desk_rows(store, status="held", lang="en") == [rows[0]]
    with db.transaction(store) as conn:
        conn.execute(update(articles).where(articles.c.id == "a3").values(updated_at=db.utcnow() - timedelta(days=2)))
    assert [r.article_id for r in desk.desk_rows(store, since=db.utcnow() - timedelta(days=1))] == ["a2", "a1"]


def test_correction_is_reused_from_the_memory(store: Engine, tm: TranslationMemory) -> None:
    translate(store, article("a1"), memory=tm)
    desk.apply_correction(store, "a1", "en", "b0.s1", "He met the finance minister.", "sari", memory=tm)
    translate(store, article("b1", [f"{SENTENCE} Harga beras naik."], "Menteri bicara"), memory=tm)
    reused = next(s for s in repo.get_edition(store, "b1", "en").segments if s.source == SENTENCE)  # type: ignore[union-attr]
    assert (reused.target, reused.origin) == ("He met the finance minister.", "memory")
    public = site.public_edition(store, "b1", "en")
    assert public is not None and public.body[0].html.startswith("He met the finance minister. ")


def test_webhook_enqueued_for_changes_of_a_public_edition(store: Engine) -> None:
    notify = NotifyConfig(("https://cms.example/hook", "https://cache.example/purge"), "secret")
    translate(store, article())
    assert outbox.counts(store)["pending"] == 0
    desk.apply_correction(store, "a1", "en", "b0.s1", "He met the minister.", "sari", notify=notify)
    assert outbox.counts(store)["pending"] == 2
    desk.apply_correction(store, "a1", "en", "b0.s1", "He met the finance minister.", "sari", notify=notify)
    assert outbox.counts(store)["pending"] == 4  # a key per change: not deduplicated away
    desk.set_status(store, "a1", "en", "held", "sari", notify=notify)  # leaves the public site: announced
    desk.apply_correction(store, "a1", "en", "headline", "President in Jakarta", "sari", notify=notify)  # held
    assert outbox.counts(store)["pending"] == 6
    desk.set_status(store, "a1", "en", "published", "sari", notify=notify)
    desk.apply_correction(store, "a1", "en", "headline", "President arrives", "sari")  # no notify
    assert outbox.counts(store)["pending"] == 8
