"""The quality estimate's measuring side (lintas.measure.qereal): the fixed split, line records, the fit and its metrics."""

from __future__ import annotations

import math
import random
from pathlib import Path

import pytest

from lintas.engines.fake import FakeEngine
from lintas.errors import InputError
from lintas.measure.evaluate import (
    SPLIT_FILE,
    Document,
    line_article,
    load_documents,
    load_split,
    split_documents,
    translate_half,
)
from lintas.measure.qereal import (
    LineRecord,
    auc,
    edition_scores,
    fit_model,
    format_report,
    kendall_tau,
    line_records,
    oracle_gap,
    report,
)
from lintas.pipeline.translate import Options
from lintas.quality.estimate import FEATURES
from lintas.text.article import Flag, SegmentAlignment

MINI = Path(__file__).parent / "fixtures" / "ntrex-mini"


def test_the_split_is_fixed_halved_by_document_and_refuses_unknown_documents() -> None:
    halves = load_split()
    assert len(halves) == 62 and sorted(halves.values()).count("tune") == 31
    assert SPLIT_FILE.read_text(encoding="utf-8").startswith("# The fixed document-level split")
    docs = [Document(doc_id, ["x"]) for doc_id in halves]
    tune, test = split_documents(docs, "tune"), split_documents(docs, "test")
    assert len(tune) == len(test) == 31 and not {d.id for d in tune} & {d.id for d in test}
    with pytest.raises(InputError, match="not in the tune/test split"):
        split_documents([Document("elsewhere.1", ["x"])], "test")
    with pytest.raises(InputError, match="unknown half"):
        split_documents(docs, "dev")


def test_auc_and_kendall_tau() -> None:
    assert auc([0.1, 0.4, 0.35, 0.8], [False, False, True, True]) == 0.75
    assert auc([1, 1, 1, 1], [False, True, False, True]) == 0.5  # ties count half
    assert math.isnan(auc([0.1, 0.2], [True, True]))
    assert kendall_tau([1, 2, 3, 4], [10, 20, 30, 40]) == 1.0
    assert kendall_tau([1, 2, 3, 4], [4, 3, 2, 1]) == -1.0


def test_the_oracle_gap_is_the_ceiling_of_any_hold_policy() -> None:
    chrfs = [10.0, 20.0, 30.0, 40.0]
    assert oracle_gap(chrfs, 1) == 20.0  # 30 - 10: the worst held, the rest published
    assert oracle_gap(chrfs, 2) == 20.0  # 35 - 15
    assert oracle_gap([40.0, 10.0, 30.0, 20.0], 1) == 20.0  # order does not matter: it sorts by chrF
    assert oracle_gap(chrfs, 0) is None and oracle_gap(chrfs, 4) is None  # nothing or everything held
    # any other choice of the same number of holds gives a smaller gap (a control: the ceiling is a ceiling)
    assert 40.0 - sum(chrfs[:3]) / 3 < oracle_gap(chrfs, 3) + 1e-9 and oracle_gap(chrfs, 2) > (25.0 - 25.0)


def _record(doc: str, line: int, chrf: float, critical: bool, lang: str = "en") -> LineRecord:
    flags = [Flag(code="number_mismatch", severity="critical", message="1")] if critical else []
    segment = SegmentAlignment(
        id="headline" if line == 0 else f"b{line - 1}.s0",
        source="Harga beras naik dua belas persen pada hari ini.",
        target="Rice prices rose twelve percent today.",
        flags=flags,
        signals={"logprob_mean": -0.2 - (0.5 if critical else 0.0) + line * 0.001},
    )
    return LineRecord(doc, lang, line, segment.source, segment.target, "ref", chrf, [segment.model_dump()])


def test_the_fit_learns_what_separates_bad_lines_and_picks_a_hold_threshold() -> None:
    records = [
        _record(f"d{d}", n, 10.0 if (d + n) % 4 == 0 else 60.0, (d + n) % 4 == 0) for d in range(8) for n in range(6)
    ]
    model = fit_model(records, ["en"])
    en = model.language("en")
    assert en.bad_below == 60.0  # the lowest quarter: the 10.0 lines are below it
    assert en.weights[FEATURES.index("critical")] < 0  # "critical" lowers the estimate
    result = report(records, ["en"], model)["en"]
    assert result["auc"] == 1.0 and result["bad"] == 12
    assert 0.0 <= en.hold_below <= 1.0
    assert "| en | 48 |" in format_report(report(records, ["en"], model))
    assert result["oracle_gap_best"] is not None  # (every edition here has the same text: a gap of 0)
    if 0 < result["held"] <= result["editions"] // 2:
        assert result["oracle_gap_same"] is not None
        assert result["oracle_gap_best"] >= result["oracle_gap_same"] - 1e-9
    # a control: labels the signals cannot see give a chance-level AUC
    rng = random.Random(3)
    shuffled = [
        _record(f"d{d}", n, rng.choice([10.0, 60.0, 60.0, 60.0]), (d + n) % 4 == 0) for d in range(8) for n in range(6)
    ]
    assert report(shuffled, ["en"], model)["en"]["auc"] < 0.7


def test_translate_half_writes_resumable_editions_and_line_records(tmp_path: Path) -> None:
    docs = load_documents(MINI, ["en", "zh"])[:1]
    article = line_article(docs[0], 4)
    assert article.headline == docs[0].source[0] and len(article.body) == 3
    made = translate_half(docs, ["en", "zh"], FakeEngine(), Options(names=True), tmp_path, lines=4)
    assert made == 1 and translate_half(docs, ["en", "zh"], FakeEngine(), Options(), tmp_path, lines=4) == 0
    records = line_records(docs, ["en", "zh"], tmp_path)
    assert [(r.lang, r.line) for r in records] == [(lang, n) for lang in ("en", "zh") for n in range(4)]
    assert all(r.reference == docs[0].refs[r.lang][r.line] and 0.0 <= r.chrf <= 100.0 for r in records)
    editions = edition_scores(records)
    assert len(editions) == 2 and all(0.0 <= float(e["confidence"]) <= 1.0 for e in editions)
