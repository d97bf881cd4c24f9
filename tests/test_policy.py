"""What happens after the checks: hold or publish, confidence, translation memory reuse, back-translation."""

from __future__ import annotations

from pathlib import Path

import pytest

from lintas.engines.fake import FakeEngine
from lintas.errors import InputError
from lintas.measure.qereal import NEGATIVE_ONLY
from lintas.pipeline.translate import Options, translate_article
from lintas.quality.backtranslate import parse_mode, select
from lintas.quality.estimate import FEATURES, LanguageModel, QualityModel, edition_confidence, estimate, load_model
from lintas.quality.policy import HoldPolicy, parse_below, parse_thresholds
from lintas.store.memory import TranslationMemory
from lintas.text.article import Article, Block, Flag, SegmentAlignment
from lintas.text.languages import TARGETS


def _article() -> Article:
    return Article(
        id="p1",
        headline="Harga Beras Naik di Jakarta",
        body=[
            Block(
                type="paragraph",
                html="Harga beras naik 12 persen pada Senin, kata Badan Pusat Statistik. Pedagang mengeluh.",
            ),
            Block(type="paragraph", html="Pemerintah akan menambah pasokan dari Bulog minggu ini."),
        ],
    )


def test_policy_parsing() -> None:
    policy = HoldPolicy.parse("critical; ar=warning, ja=never")
    assert (policy.level("en"), policy.level("ar"), policy.level("ja")) == ("critical", "warning", "never")
    assert HoldPolicy.parse(None).level("fr") == "critical"
    with pytest.raises(InputError, match="'sometimes' is not one of"):
        HoldPolicy.parse("ar=sometimes")


def _seg(seg_id: str, *flags: Flag) -> SegmentAlignment:
    return SegmentAlignment(id=seg_id, source="x" * 40, target="y", flags=list(flags))


CRIT = Flag(code="number_mismatch", severity="critical", message="12")
WARN = Flag(code="name_missing", severity="warning", message="Bulog")


def test_reasons_follow_severity_and_ignore_repaired() -> None:
    segments = [_seg("a", WARN), _seg("b", CRIT.model_copy(update={"repaired": True}))]
    assert HoldPolicy.parse("critical").reasons(segments, "en") == []
    assert HoldPolicy.parse("warning").reasons(segments, "en") == ["a: name_missing (Bulog)"]
    assert HoldPolicy.parse("never").reasons([_seg("c", CRIT)], "en") == []


def _quality(seg: SegmentAlignment, value: float) -> SegmentAlignment:
    return seg.model_copy(update={"quality": value})


def test_confidence_is_the_length_weighted_estimate() -> None:
    assert edition_confidence([_quality(_seg("a"), 0.9), _quality(_seg("b"), 0.9)]) == 0.9
    assert edition_confidence([_quality(_seg("a"), 0.2), _quality(_seg("b"), 1.0)]) == 0.6
    assert edition_confidence([_quality(_seg("headline"), 0.2), _quality(_seg("b"), 1.0)]) == 0.4  # headline: triple
    assert edition_confidence([]) == 1.0


def _toy_model(**weights: float) -> QualityModel:
    n = len(FEATURES)
    lang = LanguageModel((0.0,) * n, (1.0,) * n, tuple(weights.get(f, 0.0) for f in FEATURES), 1.0, 20.0, 0.5)
    return QualityModel(FEATURES, {"en": lang})


def test_estimate_follows_the_model_and_trusts_editors() -> None:
    model = _toy_model(critical=-4.0, logprob_mean=2.0)
    clean = SegmentAlignment(
        id="a", source="Harga beras naik.", target="Rice prices rose.", signals={"logprob_mean": 0}
    )
    unsure = clean.model_copy(update={"signals": {"logprob_mean": -1.5}})
    flagged = clean.model_copy(update={"flags": [CRIT]})
    assert estimate(clean, "en", model) > estimate(unsure, "en", model) > estimate(flagged, "en", model)
    assert estimate(clean, "en", model) == round(1 / (1 + 2.718281828459045**-1.0), 4)
    no_scores = clean.model_copy(update={"signals": {}})  # an engine without log-probabilities: the mean is used
    assert estimate(no_scores, "en", model) == estimate(clean, "en", model)
    assert estimate(clean.model_copy(update={"origin": "editor", "signals": {}}), "en", model) == 1.0
    # an editor's text that a check still flags is estimated like any other
    assert estimate(flagged.model_copy(update={"origin": "editor"}), "en", model) == estimate(flagged, "en", model)


def test_shipped_model_never_raises_the_estimate_for_a_finding() -> None:
    model = load_model()
    assert set(model.languages) >= set(TARGETS)
    for lang in TARGETS:
        weights = dict(zip(FEATURES, model.language(lang).weights, strict=True))
        assert all(weights[name] <= 0 for name in NEGATIVE_ONLY), (lang, weights)
        clean = SegmentAlignment(id="b0.s0", source="Harga beras naik 12 persen pada Senin.", target="x" * 30)
        flagged = clean.model_copy(update={"flags": [CRIT, WARN]})
        assert estimate(flagged, lang, model) <= estimate(clean, lang, model), lang
        assert 0.0 <= model.language(lang).hold_below <= 1.0


def test_per_language_thresholds() -> None:
    assert parse_thresholds("off", "second route") == {} and parse_thresholds("", "second route") == {}
    assert parse_thresholds("0.5; ar=0.6, zh=off", "second route") == {"*": 0.5, "ar": 0.6}
    with pytest.raises(InputError, match="second route 'zh=auto': 'auto' is not 'off' or a number"):
        parse_thresholds("zh=auto", "second route")  # no tuned value to fall back on here
    with pytest.raises(InputError, match="not 'off' or a number"):
        parse_thresholds("1.5", "second route")


def test_hold_below_threshold() -> None:
    assert parse_below("auto") == {"*": None} and parse_below("off") == {}
    assert parse_below("0.6; ar=0.7") == {"*": 0.6, "ar": 0.7} and parse_below("auto; ja=off") == {"*": None}
    with pytest.raises(InputError, match="not 'auto', 'off' or a number"):
        parse_below("ar=2")
    policy = HoldPolicy.from_settings("critical", "0.5; ar=0.8")
    segments = [_seg("a")]
    assert policy.reasons(segments, "en", 0.6) == [] and policy.reasons(segments, "ar", 0.6) == [
        "confidence 0.60 is below 0.80"
    ]
    assert HoldPolicy.from_settings("critical", "auto").threshold("zh") == load_model().language("zh").hold_below
    assert HoldPolicy.from_settings("critical", "off").reasons(segments, "en", 0.0) == []


def test_clean_edition_is_published_with_its_estimate() -> None:
    edition = translate_article(_article(), ["en"], FakeEngine())[0].edition
    assert edition.status == "published" and edition.hold_reasons == []
    assert all(s.quality is not None and 0.0 <= s.quality <= 1.0 for s in edition.segments)
    assert edition.confidence == edition_confidence(edition.segments) < 1.0
    strict = Options(hold=HoldPolicy(below={"*": 1.0}))
    held = translate_article(_article(), ["en"], FakeEngine(), options=strict)[0].edition
    assert held.status == "held" and held.hold_reasons[0].startswith("confidence ")


def test_persistent_error_holds_the_edition_per_policy() -> None:
    engine = FakeEngine(faults=["change_numbers"], persistent=True)
    held = translate_article(_article(), ["en", "ar"], engine, options=Options(hold=HoldPolicy.parse("critical")))
    for report in held:
        assert report.edition.status == "held"
        assert any("number_mismatch" in r for r in report.edition.hold_reasons)
    relaxed = translate_article(_article(), ["en", "ar"], engine, options=Options(hold=HoldPolicy.parse("ar=never")))
    assert [r.edition.status for r in relaxed] == ["held", "published"]


def test_first_attempt_error_fixed_by_retry_is_published() -> None:
    edition = translate_article(_article(), ["en"], FakeEngine(faults=["change_numbers"]))[0].edition
    assert edition.status == "published"
    assert any(s.attempts == 2 for s in edition.segments)


def test_memory_is_reused_exactly_and_offers_suggestions(tmp_path: Path) -> None:
    with TranslationMemory(f"sqlite:///{tmp_path / 'tm.sqlite'}") as memory:
        memory.add("Pedagang mengeluh.", "Traders complained.", "en", origin="corrected", author="editor")
        memory.add(
            "Pemerintah akan menambah pasokan dari Bulog bulan ini.",
            "The government will add supplies from Bulog this month.",
            "en",
        )
        engine = FakeEngine()
        edition = translate_article(_article(), ["en"], engine, options=Options(memory=memory))[0].edition
        reused = next(s for s in edition.segments if s.source == "Pedagang mengeluh.")
        assert reused.target == "Traders complained." and reused.origin == "memory" and reused.attempts == 0
        assert "Traders complained." in edition.body[0].html
        assert [f.code for f in reused.flags] == ["memory"]
        other = next(s for s in edition.segments if s.source.startswith("Pemerintah"))
        assert other.origin == "engine"
        assert other.suggestions and other.suggestions[0].target.startswith("The government will add")
        assert 75 <= other.suggestions[0].score < 100
        # the engine never saw the reused segment
        assert sum(n for n, *_ in engine.calls) == len(edition.segments) - 1


def test_backtranslation_modes() -> None:
    assert parse_mode("off") == "off" and parse_mode("0.25") == 0.25 and parse_mode(" Flagged ") == "flagged"
    with pytest.raises(InputError):
        parse_mode("2")
    with pytest.raises(InputError):
        parse_mode("sometimes")
    assert select("all", "x", False) and not select("off", "x", True) and select("flagged", "x", True)
    sampled = [select(0.3, f"s{i}", False) for i in range(1000)]
    assert 200 < sum(sampled) < 400 and sampled == [select(0.3, f"s{i}", False) for i in range(1000)]


def test_backtranslation_checks_flagged_segments_only() -> None:
    engine = FakeEngine(faults=["change_numbers"], persistent=True)
    options = Options(backtranslate="flagged", backtranslate_min_chrf=101.0)  # every back-translation "differs"
    edition = translate_article(_article(), ["en"], engine, options=options, pivot="")[0].edition
    back_calls = [c for c in engine.calls if c[2] == "id"]
    assert back_calls and all(c[1] == "en" for c in back_calls)
    with_numbers = [s for s in edition.segments if any(f.code == "number_mismatch" for f in s.flags)]
    assert with_numbers and all(any(f.code == "backtranslation" for f in s.flags) for s in with_numbers)
    clean = [s for s in edition.segments if not any(f.code == "number_mismatch" for f in s.flags)]
    assert all(not any(f.code.startswith("backtranslation") for f in s.flags) for s in clean)
    options = Options(backtranslate="all", backtranslate_min_chrf=0.0)
    edition = translate_article(_article(), ["en"], FakeEngine(), options=options, pivot="")[0].edition
    assert all(any(f.code == "backtranslation_ok" for f in s.flags) for s in edition.segments)
