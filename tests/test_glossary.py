"""The glossary: loading, matching, checks, placeholders, and its use by the pipeline."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from lintas.engines.base import Capabilities
from lintas.engines.fake import FakeEngine
from lintas.errors import InputError
from lintas.pipeline.translate import Options, translate_article
from lintas.text.article import Article, Block, Segment
from lintas.text.glossary import Glossary, Term, load_glossary, protect_terms, restore_terms, starter_glossary
from lintas.text.languages import TARGETS


def _glossary() -> Glossary:
    return Glossary(
        [
            Term(
                "Kementerian Keuangan",
                {
                    "en": ("Ministry of Finance", "Finance Ministry"),
                    "zh": ("财政部",),
                    "fr": ("ministère des Finances",),
                },
                aliases=("Kemenkeu",),
            ),
            Term("DPR", {"en": ("House of Representatives",), "zh": ("国会",)}, case_sensitive=True),
            Term("peran", {"en": ("role",)}, avoid={"en": ("war",)}, enforce=False),
        ]
    )


def test_starter_glossary_is_complete_and_loads() -> None:
    starter = starter_glossary()
    assert len(starter) >= 40
    for term in starter:
        assert set(term.forms) == set(TARGETS), term.source  # every language has a form
    kpk = next(t for t in starter if "KPK" in t.aliases)
    assert kpk.case_sensitive
    assert load_glossary().terms == starter.terms


def test_find_matches_whole_words_longest_first_and_respects_case() -> None:
    g = _glossary()
    hits = g.find('Rapat <a href="#1">Kementerian Keuangan</a> dengan DPR dan Kemenkeu.')
    assert [h.text for h in hits] == ["Kementerian Keuangan", "DPR", "Kemenkeu"]
    assert g.find("anggota DPRD dan perang besar") == []  # DPR is not in DPRD, peran not in perang
    assert g.find("dpr kecil") == []  # case-sensitive abbreviation
    assert g.find('<a href="#peran">x</a>') == []  # never inside a tag


def test_constraints_use_the_preferred_form_once() -> None:
    g = _glossary()
    assert g.constraints("Kemenkeu dan Kementerian Keuangan", "en") == [("Kemenkeu", "Ministry of Finance")]
    assert g.constraints("Kemenkeu", "ja") == []  # no Japanese form


def test_check_flags_missing_and_avoided_forms() -> None:
    g = _glossary()
    source = "Kementerian Keuangan memainkan peran penting."
    assert g.check(source, "The Finance Ministry plays an important role.", "en") == []
    assert g.check(source, "The Ministries of Finance play a role.", "en")[0].code == "glossary_missing"
    flags = g.check(source, "The Ministry of Finance plays an important war.", "en")
    assert [f.code for f in flags] == ["glossary_avoid"] and flags[0].severity == "critical"
    assert g.check(source, "The Ministry of Finance gave an award.", "en") == []  # "war" in "award" is not "war"
    assert g.check(source, "财政部发挥重要作用。", "zh") == []
    assert g.check(source, "经济部发挥重要作用。", "zh")[0].code == "glossary_missing"


def test_placeholders_round_trip_and_report_losses() -> None:
    g = _glossary()
    text = "Kemenkeu bertemu DPR."
    protected, mapping = protect_terms(text, g.find(text), "en")
    assert protected == "⟦1⟧ bertemu ⟦2⟧."
    restored, lost = restore_terms("⟦1⟧ met ⟦ 2 ⟧.", mapping)
    assert restored == "Ministry of Finance met House of Representatives." and lost == []
    assert restore_terms("⟦1⟧ met.", mapping)[1] == ["House of Representatives"]


def test_yaml_and_csv_files_load_and_round_trip(tmp_path: Path) -> None:
    yaml_file = tmp_path / "news.yaml"
    yaml_file.write_text(
        "terms:\n  - source: Pemprov DKI\n    forms:\n      en: [Jakarta administration]\n      fr: administration de Jakarta\n",
        encoding="utf-8",
    )
    g = load_glossary([yaml_file], starter=False)
    assert g.constraints("Pemprov DKI", "fr") == [("Pemprov DKI", "administration de Jakarta")]
    merged = load_glossary([yaml_file])
    assert len(merged) == len(starter_glossary()) + 1
    out = tmp_path / "all.csv"
    assert merged.to_csv(out) == len(merged)
    again = load_glossary([out], starter=False)
    assert [t.source for t in again] == [t.source for t in merged]
    assert {t.source: t.forms for t in again} == {t.source: t.forms for t in merged}
    assert {t.source: t.enforce for t in again} == {t.source: t.enforce for t in merged}


@pytest.mark.parametrize(
    ("name", "content", "needle"),
    [
        ("bad.yaml", "terms: [", "not valid YAML"),
        ("list.yaml", "terms: 3", "expected a list"),
        ("nosource.yaml", "- forms: {en: x}", "'source' is missing"),
        ("lang.yaml", "- source: x\n  forms: {de: y}", "unknown language 'de'"),
        ("noforms.yaml", "- source: x", "has no forms"),
        ("bad.csv", "term,en\nx,y\n", "must name the columns"),
        ("glossary.txt", "x", "must be .yaml"),
    ],
)
def test_bad_glossary_files_give_clear_errors(tmp_path: Path, name: str, content: str, needle: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=needle):
        load_glossary([path])


def test_missing_glossary_file() -> None:
    with pytest.raises(InputError, match="not found"):
        load_glossary(["/nonexistent/glossary.yaml"])


def _article() -> Article:
    return Article(
        id="g1",
        headline="Kemenkeu Umumkan Anggaran",
        body=[Block(type="paragraph", html="Kementerian Keuangan dan DPR membahas anggaran pada Senin.")],
    )


def test_pipeline_substitutes_placeholders_for_placeholder_engines() -> None:
    reports = translate_article(_article(), ["en", "zh"], FakeEngine(), options=Options(glossary=_glossary()), pivot="")
    en, zh = (r.edition for r in reports)
    assert "Ministry of Finance" in en.body[0].html and "House of Representatives" in en.body[0].html
    assert en.headline.startswith("Ministry of Finance")
    assert "财政部" in zh.body[0].html and "国会" in zh.body[0].html
    assert all(not s.flags for s in en.segments)


def test_lost_placeholder_is_flagged_and_retried() -> None:
    engine = FakeEngine(faults=["drop_placeholders"], persistent=True)
    report = translate_article(_article(), ["en"], engine, options=Options(glossary=_glossary()), pivot="")[0]
    codes = {f.code for s in report.edition.segments for f in s.flags}
    assert "glossary_missing" in codes
    assert report.flagged >= 1


class RecordingEngine(FakeEngine):
    capabilities = Capabilities(glossary_mode="prompt")

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[Segment] = []

    def translate_batch(self, segments: Sequence[Segment], *args, **kwargs) -> list[str]:  # type: ignore[no-untyped-def]
        self.seen += list(segments)
        return super().translate_batch(segments, *args, **kwargs)


def test_prompt_engines_receive_constraints() -> None:
    engine = RecordingEngine()
    translate_article(_article(), ["fr"], engine, options=Options(glossary=_glossary()), pivot="")
    body = next(s for s in engine.seen if s.id == "b0.s0")
    assert body.terms == (("Kementerian Keuangan", "ministère des Finances"),)
    assert "⟦" not in body.text  # no placeholders for prompt engines


def test_prompt_shows_constraints_and_cleaning_drops_an_echo() -> None:
    from lintas.engines.prompts import clean_output, user_turn

    seg = Segment("s", "Kemenkeu rapat.", terms=(("Kemenkeu", "Ministry of Finance"),))
    assert user_turn(seg).endswith("(Glossary: Kemenkeu = Ministry of Finance)")
    assert clean_output("The Ministry of Finance met.\n(Glossary: Kemenkeu = Ministry of Finance)", seg.text)[0] == (
        "The Ministry of Finance met."
    )
