"""The quality benchmark's corruption suite: each corruption is real, and the checks see it."""

from __future__ import annotations

import re
from pathlib import Path

from lintas.measure.evaluate import load_documents
from lintas.measure.qebench import ERROR_TYPES, build_suite, check_pair, format_result, run_bench
from lintas.quality.numbers import missing_numbers
from lintas.text.glossary import load_glossary

MINI = Path(__file__).parent / "fixtures" / "ntrex-mini"


def test_suite_corruptions_differ_from_the_references() -> None:
    docs = load_documents(MINI, ["en", "zh", "ja", "ar", "fr"])
    glossary = load_glossary()
    suite = build_suite(docs, "en", glossary)
    refs = {ref for d in docs for ref in d.refs["en"]}
    for kind in ERROR_TYPES:
        for case in suite[kind]:
            assert case.target not in refs or kind in ("wrong_language", "untranslated", "omission", "placeholder"), (
                kind
            )
    pairs = {c.source: c.target for c in suite["clean_pair"]}
    assert all(c.target in refs and len(c.target) < len(pairs[c.source]) for c in suite["omission"])
    assert all(missing_numbers(c.source, c.target) for c in suite["number"])  # a number really changed
    assert all(
        c.target in {d.refs["fr"][i] for d in docs for i in range(len(d.source))} for c in suite["wrong_language"]
    )
    assert all(re.search(r'<a href="#1">', c.source) and "<a" not in c.target for c in suite["placeholder"])
    assert build_suite(docs, "en", glossary) == suite  # deterministic


def test_bench_detects_corruptions_and_leaves_most_references_alone() -> None:
    docs = load_documents(MINI, ["en", "zh", "ja", "ar", "fr"])
    result = run_bench(docs, ["en", "ja"], load_glossary())
    for lang in ("en", "ja"):
        assert result.get(lang, "untranslated").rate == 1.0  # type: ignore[union-attr]
        assert result.get(lang, "placeholder").rate == 1.0  # type: ignore[union-attr]
        assert result.get(lang, "clean").rate <= 0.1  # type: ignore[union-attr]
    table = format_result(result, ["en", "ja"])
    assert "| untranslated (detected) | ≥ 90% | 100.0%" in table


def test_check_pair_sees_lost_links() -> None:
    flags = check_pair('Kata <a href="#1">polisi</a> kemarin.', "The police said yesterday.", "en")
    assert "missing_link" in {f.code for f in flags}
    assert (
        check_pair('Kata <a href="#1">polisi</a> kemarin.', 'The <a href="#1">police</a> said yesterday.', "en") == []
    )
