"""The evaluation harness on a tiny NTREX-format folder with the fake engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from lintas.engines.fake import FakeEngine
from lintas.errors import InputError
from lintas.measure.evaluate import document_article, format_rows, load_documents, run_eval, score


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


def test_run_eval_rows_and_saved_hypotheses(data: Path, tmp_path: Path) -> None:
    docs = load_documents(data, ["en"])
    ticks: list[int] = []
    rows = run_eval(docs, ["en"], FakeEngine(), FakeEngine(), tick=ticks.append, save=tmp_path / "hyps")
    assert [(r.target, r.system) for r in rows] == [("en", "pipeline"), ("en", "naive")]
    assert all(0 <= r.chrf <= 100 and r.sentences == 5 and r.documents == 2 for r in rows)
    assert sum(ticks) == 10
    saved = (tmp_path / "hyps" / "pipeline.en.txt").read_text().splitlines()
    assert len(saved) == 2
    assert "pipeline" in format_rows(rows) and "chrF++" in format_rows(rows)
