"""The pipeline end to end on the fake engine: structure, markup, spans, retries and repairs."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup

from lintas.engines import get_engine
from lintas.engines.fake import FakeEngine
from lintas.errors import InputError
from lintas.pipeline.translate import Options, translate_article
from lintas.text.article import Article, Block
from lintas.text.assemble import split_article

TARGETS = ["en", "zh", "ja", "ar", "fr"]


@pytest.fixture
def article() -> Article:
    return Article(
        id="contoh-1",
        headline="Peran Pemuda dalam Pembangunan Desa",
        kicker="Ekonomi",
        dateline="JAKARTA -",
        body=[
            Block(
                type="paragraph",
                html='Menurut <a href="https://bps.go.id/laporan?id=7&amp;x=1">laporan BPS</a>, jumlah penduduk '
                "miskin turun 1,5 juta orang. Data itu dirilis pada <b>Senin</b> pukul 10.30 WIB.",
            ),
            Block(type="heading", html="Tanggapan pemerintah"),
            Block(type="quote", html="Kami akan terus bekerja keras untuk rakyat.", cite="Joko Widodo"),
            Block(type="list", items=["Harga beras naik 3 persen.", "Harga cabai turun."], ordered=False),
            Block(
                type="figure",
                src="https://example.id/foto.jpg",
                alt="Warga antre di Jakarta",
                html="Warga antre bantuan di Jakarta Utara.",
                credit="(Twitter/@zlj517)",
            ),
            Block(type="paragraph", html="Ikuti kabar terbaru dari @kompascom dan #PemiluDamai di media sosial."),
        ],
    )


def test_split_article_units_in_reading_order(article: Article) -> None:
    units = split_article(article)
    ids = [u.segment.id for u in units]
    assert ids[:2] == ["headline", "kicker"]
    assert "b0.s0" in ids and "b0.s1" in ids  # two sentences in the first paragraph
    assert "b2.cite" in ids and "b3.i0.s0" in ids and "b3.i1.s0" in ids and "b4.s0" in ids and "b4.alt" in ids
    first = units[ids.index("b0.s0")]
    assert first.segment.text.startswith('Menurut <a href="#1">laporan BPS</a>')
    assert first.links == ["https://bps.go.id/laporan?id=7&x=1"]  # the URL never reaches the engine
    assert first.segment.context  # the paragraph is the context of its sentences
    assert units[ids.index("b1.s0")].segment.kind == "heading"


@pytest.mark.parametrize("target", TARGETS)
def test_editions_keep_structure_links_spans_numbers(article: Article, target: str) -> None:
    report = translate_article(article, [target], FakeEngine())[0]
    ed = report.edition
    assert ed.target_lang == target and ed.engine == "fake"
    assert [b.type for b in ed.body] == [b.type for b in article.body]
    assert ed.headline != article.headline
    links = [a["href"] for a in BeautifulSoup(ed.body[0].html, "html.parser").find_all("a")]
    assert links == ["https://bps.go.id/laporan?id=7&x=1"]
    assert "<b>" in ed.body[0].html
    assert "1,5" in ed.body[0].html or "1.5" in ed.body[0].html
    assert ed.body[4].credit == "(Twitter/@zlj517)" and ed.body[4].src == article.body[4].src
    assert "@kompascom" in ed.body[5].html and "#PemiluDamai" in ed.body[5].html
    assert len(ed.body[3].items) == 2
    assert report.retried == 0 and report.flagged == 0
    assert ed.signature.startswith("engine:fake|model:fake-1|prompt:")
    assert {s.id for s in ed.segments} == {u.segment.id for u in split_article(article)}


def test_dateline_localized(article: Article) -> None:
    reports = translate_article(article, ["en", "zh"], FakeEngine())
    assert reports[0].edition.dateline == "JAKARTA -"
    assert reports[1].edition.dateline == "雅加达 -"


def test_dropped_link_is_retried_and_recovered(article: Article) -> None:
    engine = FakeEngine(faults=["drop_links"])
    report = translate_article(article, ["en"], engine)[0]
    assert report.retried >= 1
    assert any(attempt > 0 for *_, attempt in engine.calls)
    seg = next(s for s in report.edition.segments if s.id == "b0.s0")
    assert seg.attempts == 2 and not seg.flags
    assert 'href="https://bps.go.id/laporan?id=7&amp;x=1"' in report.edition.body[0].html


def test_persistently_lost_link_is_repaired_and_flagged(article: Article) -> None:
    report = translate_article(article, ["fr"], FakeEngine(faults=["drop_links"], persistent=True), max_attempts=2)[0]
    seg = next(s for s in report.edition.segments if s.id == "b0.s0")
    flag = next(f for f in seg.flags if f.code == "missing_link")
    assert flag.repaired and flag.severity == "critical"
    assert "https://bps.go.id/laporan?id=7&amp;x=1" in report.edition.body[0].html
    assert report.flagged >= 1


def test_lost_handle_is_restored_and_flagged(article: Article) -> None:
    report = translate_article(article, ["en"], FakeEngine(faults=["drop_handles"], persistent=True), max_attempts=2)[0]
    assert "@kompascom" in report.edition.body[5].html
    seg = next(s for s in report.edition.segments if s.id == "b5.s0")
    assert any(f.code == "missing_span" and f.repaired for f in seg.flags)


def test_changed_numbers_stay_flagged(article: Article) -> None:
    report = translate_article(article, ["en"], FakeEngine(faults=["change_numbers"], persistent=True))[0]
    seg = next(s for s in report.edition.segments if s.id == "b0.s0")
    assert seg.attempts == 3
    assert any(f.code == "number_mismatch" and not f.repaired for f in seg.flags)


def test_chatter_is_stripped(article: Article) -> None:
    report = translate_article(article, ["en"], FakeEngine(faults=["chatter"], persistent=True))[0]
    assert "Here is the translation" not in report.edition.headline
    assert all("Here is" not in s.target for s in report.edition.segments)
    assert any(f.code == "chatter" for s in report.edition.segments for f in s.flags)


def test_copied_source_is_retried(article: Article) -> None:
    report = translate_article(article, ["en"], FakeEngine(faults=["copy_source"]))[0]
    assert report.retried >= 1
    assert report.edition.body[2].html != article.body[2].html


def test_progress_reports_every_segment(article: Article) -> None:
    seen: list[tuple[str, int]] = []
    translate_article(article, ["en", "ar"], FakeEngine(), progress=lambda lang, n: seen.append((lang, n)))
    units = len(split_article(article))
    assert sum(n for lang, n in seen if lang == "en") == units
    assert sum(n for lang, n in seen if lang == "ar") == units


def test_unknown_language_and_engine_are_input_errors(article: Article) -> None:
    with pytest.raises(InputError, match="unknown language"):
        translate_article(article, ["xx"], FakeEngine())
    with pytest.raises(InputError, match="unknown engine"):
        get_engine("nope")


def test_pivot_through_english(article: Article) -> None:
    engine = FakeEngine()
    reports = translate_article(article, ["zh", "fr"], engine, pivot="en", straight=())
    assert [r.edition.target_lang for r in reports] == ["zh", "fr"]  # the pivot is made but not returned
    first_pass = [(source, target) for _, source, target, attempt in engine.calls if attempt == 0]
    assert first_pass[0] == ("id", "en")
    assert {("en", "zh"), ("en", "fr")} <= set(first_pass) and ("id", "zh") not in first_pass
    zh = reports[0].edition
    assert zh.signature.startswith("engine:fake|model:fake-1|prompt:") and "|pivot:en" in zh.signature
    links = [a["href"] for a in BeautifulSoup(zh.body[0].html, "html.parser").find_all("a")]
    assert links == ["https://bps.go.id/laporan?id=7&x=1"]  # link ids survive the pivot
    assert all(s.source == u.segment.text for s, u in zip(zh.segments, split_article(article), strict=True))


def test_straight_languages_skip_the_pivot(article: Article) -> None:
    """LINTAS_STRAIGHT: Chinese (the default) is translated straight from Indonesian while French goes through
    English; asked for Chinese alone, no English is made at all. The control: with none straight, Chinese goes
    through English too."""
    engine = FakeEngine()
    zh, fr = (r.edition for r in translate_article(article, ["zh", "fr"], engine, pivot="en"))
    first_pass = {(source, target) for _, source, target, attempt in engine.calls if attempt == 0}
    assert {("id", "en"), ("id", "zh"), ("en", "fr")} <= first_pass and ("en", "zh") not in first_pass
    assert "|pivot:" not in zh.signature and "|pivot:en" in fr.signature
    alone = FakeEngine()
    translate_article(article, ["zh"], alone, pivot="en")
    assert {target for _, _, target, _ in alone.calls} == {"zh"}  # no English made for nobody
    control = FakeEngine()
    translate_article(article, ["zh"], control, pivot="en", straight=["none"])
    assert ("en", "zh") in {(s, t) for _, s, t, attempt in control.calls if attempt == 0}


def test_pivot_failure_falls_back_to_source(article: Article) -> None:
    engine = FakeEngine(faults=["change_numbers"])  # first attempts change numbers
    report = translate_article(article, ["en", "fr"], engine, pivot="en")[1]
    retries = [(source, target) for _, source, target, attempt in engine.calls if attempt > 0]
    assert ("id", "fr") in retries  # checks compare with the Indonesian; retries go straight from it
    seg = next(s for s in report.edition.segments if s.id == "b0.s0")
    assert seg.attempts == 2 and not seg.flags


class _PoorPivotEngine(FakeEngine):
    """Through English the Chinese comes out twice as long as it should (a warning at most, no retry); straight from
    Indonesian it does not."""

    def translate_batch(self, segments, source_lang, target_lang, *, context=(), attempt=0):  # type: ignore[no-untyped-def]
        out = super().translate_batch(segments, source_lang, target_lang, context=context, attempt=attempt)
        if source_lang == "en" and target_lang == "zh":
            return [text + "，" + text for text in out]
        return out


def test_second_route_for_doubted_pivot_segments(article: Article) -> None:
    engine = _PoorPivotEngine()
    options = Options(second_route={"zh": 1.0})
    zh = translate_article(article, ["zh"], engine, pivot="en", options=options, straight=())[0].edition
    assert ("id", "zh") in [(source, target) for _, source, target, attempt in engine.calls if attempt == 0]
    routed = [s for s in zh.segments if any(f.code == "second_route" for f in s.flags)]
    assert routed and all("，" not in s.target for s in routed)
    assert any("kept the straight one" in f.message for s in routed for f in s.flags)
    # the control: no threshold (or one nothing is under) asks nothing twice and keeps the pivot's words
    for options in (Options(), Options(second_route={"zh": 0.0}), Options(second_route={"fr": 1.0})):
        engine = _PoorPivotEngine()
        zh = translate_article(article, ["zh"], engine, pivot="en", options=options, straight=())[0].edition
        assert ("id", "zh") not in [(s, t) for _, s, t, attempt in engine.calls if attempt == 0]
        assert not any(f.code == "second_route" for s in zh.segments for f in s.flags)
