"""The evaluation harness on a tiny NTREX-format folder with the fake engine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lintas.engines.fake import FakeEngine
from lintas.errors import InputError
from lintas.measure.evaluate import (
    compare,
    document_article,
    format_rows,
    load_documents,
    naive_half,
    paired_bootstrap,
    read_naive,
    read_pipeline,
    score,
    translate_half,
)
from lintas.pipeline.translate import Options


@pytest.fixture
def data(tmp_path: Path) -> Path:
    ids = ["a", "a", "a", "b", "b"]
    src = ["Judul pertama", "Kalimat satu.", "Kalimat dua.", "Judul kedua", "Kalimat tiga."]
    en = ["First title", "Sentence one.", "Sentence two.", "Second title", "Sentence three."]
    (tmp_path / "doc_ids.txt").write_text("\n".join(ids) + "\n")
    (tmp_path / "ntrex.id.txt").write_text("\n".join(src) + "\n")
    (tmp_path / "ntrex.en.txt").write_text("\n".join(en) + "\n")
    return tmp_path


def test_documents_and_articles(data: Path) -> None:
    docs = load_documents(data, ["en"])
    assert [d.id for d in docs] == ["a", "b"]
    assert docs[0].refs["en"] == ["First title", "Sentence one.", "Sentence two."]
    article = document_article(docs[0], paragraph_size=4)
    assert article.headline == "Judul pertama" and len(article.body) == 1
    assert load_documents(data, ["en"], limit=1)[0].id == "a" and len(load_documents(data, ["en"], limit=1)) == 1


def test_missing_or_misaligned_files(data: Path) -> None:
    with pytest.raises(InputError, match=r"ntrex\.fr\.txt"):
        load_documents(data, ["fr"])
    (data / "ntrex.en.txt").write_text("only one line\n")
    with pytest.raises(InputError, match="same number of lines"):
        load_documents(data, ["en"])


def test_score_is_perfect_on_the_reference_and_low_on_junk() -> None:
    refs = ["The president spoke on Monday.", "Prices rose."]
    assert score(refs, refs, "en")["chrf"] == pytest.approx(100.0)
    assert score(["xyz qqq", "zzz"], refs, "en")["chrf"] < 10


def test_half_runs_are_saved_resumed_and_compared(data: Path, tmp_path: Path) -> None:
    docs = load_documents(data, ["en"])
    ticks: list[int] = []
    out = tmp_path / "eval"
    assert translate_half(docs, ["en"], FakeEngine(), Options(), out / "pipeline", progress=ticks.append) == 2
    assert naive_half(docs, ["en"], FakeEngine(), out / "naive", progress=ticks.append) == 2
    assert sum(ticks) == 10  # five lines through each system
    # a rerun makes nothing again
    assert translate_half(docs, ["en"], FakeEngine(), Options(), out / "pipeline") == 0
    assert naive_half(docs, ["en"], FakeEngine(), out / "naive") == 0
    pipe = read_pipeline(docs, "en", out / "pipeline")
    assert len(pipe.lines) == 5 and pipe.documents == 2
    (row,) = compare(docs, ["en"], out / "pipeline", out / "naive")
    assert row.lines == 5 and 0 <= row.pipeline <= 100 and row.gain.low <= row.gain.gain <= row.gain.high
    table = format_rows([row])
    assert "| en | chrF++ | 2 | 5 |" in table and "naive + cleaning" in table


def test_cleaning_applies_to_the_naive_baseline_only_when_asked(data: Path, tmp_path: Path) -> None:
    docs = load_documents(data, ["en"], limit=1)
    (tmp_path / "a.en.json").write_text(
        json.dumps({"lines": ["Here is the translation: First title", "Sentence one.", "Sentence two."], "seconds": 3})
    )
    assert read_naive(docs, "en", tmp_path, clean=False).lines[0] == "Here is the translation: First title"
    cleaned = read_naive(docs, "en", tmp_path, clean=True)
    assert cleaned.lines == ["First title", "Sentence one.", "Sentence two."] and cleaned.seconds == 3
    with pytest.raises(InputError, match="no naive"):
        read_naive(load_documents(data, ["en"]), "en", tmp_path, clean=True)


def test_paired_bootstrap_interval_of_the_gain() -> None:
    refs = [f"The minister said on day {n} that prices rose by {n} percent." for n in range(40)]
    junk = [f"Minister day {n}." for n in range(40)]
    same = paired_bootstrap(junk, junk, refs, "en")
    assert same.gain == 0 and same.low == 0 and same.high == 0
    better = paired_bootstrap(refs, junk, refs, "en")
    assert better.gain > 30 and 0 < better.low < better.gain < better.high
    # the control: the other way round the interval lies below zero
    worse = paired_bootstrap(junk, refs, refs, "en")
    assert worse.high < 0 and worse.gain == pytest.approx(-better.gain)
    # half the lines right: a smaller gain, its interval still above zero but wider than its distance from zero allows
    mixed = paired_bootstrap(refs[:20] + junk[20:], junk, refs, "en")
    assert 0 < mixed.low < mixed.gain < better.gain
    with pytest.raises(InputError):
        paired_bootstrap(refs[:3], junk, refs, "en")
