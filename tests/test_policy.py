"""What happens after the checks: hold or publish, confidence, translation memory reuse, back-translation."""

from __future__ import annotations

from pathlib import Path

import pytest

from lintas.article import Article, Block, Flag, SegmentAlignment
from lintas.engines.fake import FakeEngine
from lintas.errors import InputError
from lintas.memory import TranslationMemory
from lintas.pipeline import Options, translate_article
from lintas.quality.backtranslate import parse_mode, select
from lintas.quality.policy import HoldPolicy, confidence


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


def test_confidence() -> None:
    assert confidence([_seg("a"), _seg("b")]) == 1.0
    assert confidence([_seg("a", CRIT), _seg("b")]) == 0.5
    assert confidence([_seg("a", WARN)]) == 0.65
    assert confidence([_seg("headline", CRIT), _seg("b")]) == 0.25  # the headline weighs triple
    assert confidence([]) == 1.0


def test_clean_edition_is_published_with_full_confidence() -> None:
    edition = translate_article(_article(), ["en"], FakeEngine())[0].edition
    assert edition.status == "published" and edition.hold_reasons == [] and edition.confidence == 1.0


def test_persistent_error_holds_the_edition_per_policy() -> None:
    engine = FakeEngine(faults=["change_numbers"], persistent=True)
    held = translate_article(_article(), ["en", "ar"], engine, options=Options(hold=HoldPolicy.parse("critical")))
    for report in held:
        assert report.edition.status == "held"
        assert any("number_mismatch" in r for r in report.edition.hold_reasons)
        assert report.edition.confidence < 1.0
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
