"""Worked examples from the translation memory (``LINTAS_MEMORY_EXAMPLES``): which stored translations a segment
gets, in which language pair, where the engines put them in the prompt, and the segment cache's key."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from lintas import settings
from lintas.engines import prompts
from lintas.engines.base import Capabilities
from lintas.engines.fake import FakeEngine
from lintas.engines.llamacpp import LlamaCppEngine
from lintas.measure.evaluate import Document, write_memory_csv
from lintas.pipeline.translate import Options, translate_article
from lintas.store import db, repo
from lintas.store.engine_cache import CachedEngine
from lintas.store.memory import TranslationMemory
from lintas.text.article import Article, Block, Segment

SOURCE = "Harga beras naik lagi di pasar Jakarta pada hari Senin."
LIKE = "Harga beras naik di pasar Bandung pada hari Selasa."  # the most like SOURCE
LESS = "Harga gula turun tajam di seluruh pasar pada hari Senin."
UNLIKE = "Tim nasional kalah dua gol tanpa balas di Singapura."


class RecordingEngine(FakeEngine):
    capabilities = Capabilities(glossary_mode="prompt")

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, str, Segment]] = []  # (source language, target language, segment)

    def translate_batch(
        self, segments: Sequence[Segment], source_lang: str, target_lang: str, **kwargs: Any
    ) -> list[str]:
        self.seen += [(source_lang, target_lang, s) for s in segments]
        return super().translate_batch(segments, source_lang, target_lang, **kwargs)

    def first_pass(self, target: str) -> Segment:
        return next(s for _, lang, s in self.seen if lang == target and s.id == "b0.s0")


@pytest.fixture
def memory(tmp_path: Path) -> Iterator[TranslationMemory]:
    tm = TranslationMemory(f"sqlite:///{tmp_path / 'tm.sqlite'}")
    tm.add(LIKE, "Le prix du riz augmente sur le marché de Bandung mardi.", "fr")
    tm.add(LIKE, "Rice prices rise at a Bandung market on Tuesday.", "en")
    tm.add(LESS, "Le prix du sucre chute sur tous les marchés lundi.", "fr")  # no English: left out through the pivot
    tm.add(UNLIKE, "L'équipe nationale perd deux à zéro à Singapour.", "fr")
    tm.add(UNLIKE, "The national team loses two-nil in Singapore.", "en")
    yield tm
    tm.close()


def _article() -> Article:
    return Article(id="m1", headline="Harga Beras Naik", body=[Block(type="paragraph", html=SOURCE)])


def test_a_segment_gets_the_translations_of_the_most_similar_stored_sources(memory: TranslationMemory) -> None:
    engine = RecordingEngine()
    translate_article(_article(), ["fr"], engine, options=Options(memory=memory, examples=2), pivot="")
    examples = engine.first_pass("fr").examples
    assert [source for source, _ in examples] == [LIKE, LESS]  # best first; the unlike one is not among the two
    assert examples[0][1] == "Le prix du riz augmente sur le marché de Bandung mardi."

    engine = RecordingEngine()
    translate_article(_article(), ["fr"], engine, options=Options(memory=memory, examples=1), pivot="")
    assert [source for source, _ in engine.first_pass("fr").examples] == [LIKE]


@pytest.mark.parametrize("examples, with_memory", [(0, True), (2, False)])
def test_no_examples_without_the_setting_or_a_memory(
    memory: TranslationMemory, examples: int, with_memory: bool
) -> None:
    engine = RecordingEngine()
    options = Options(memory=memory if with_memory else None, examples=examples)
    translate_article(_article(), ["fr"], engine, options=options, pivot="")
    assert all(segment.examples == () for _, _, segment in engine.seen)


def test_through_the_pivot_an_example_starts_from_the_stored_pivot_translation(memory: TranslationMemory) -> None:
    engine = RecordingEngine()
    translate_article(_article(), ["fr"], engine, options=Options(memory=memory, examples=2), pivot="en")
    english = next(s for source, lang, s in engine.seen if lang == "en" and s.id == "b0.s0")
    # English goes from Indonesian, with the English translations stored (LESS has none)
    assert [source for source, _ in english.examples] == [LIKE, UNLIKE]
    french = next(s for source, lang, s in engine.seen if source == "en" and lang == "fr" and s.id == "b0.s0")
    # LIKE's pair becomes English -> French; LESS has no English translation stored, so it is left out
    assert french.examples == (
        ("Rice prices rise at a Bandung market on Tuesday.", "Le prix du riz augmente sur le marché de Bandung mardi."),
    )


def test_the_examples_come_right_before_the_segment_in_the_openai_engines_prompt(memory: TranslationMemory) -> None:
    segment = Segment("s", SOURCE, examples=((LIKE, "Le prix du riz augmente."), (LESS, "Le sucre chute.")))
    turns = prompts.example_turns(segment)
    assert turns == [
        {"role": "user", "content": LIKE},
        {"role": "assistant", "content": "Le prix du riz augmente."},
        {"role": "user", "content": LESS},
        {"role": "assistant", "content": "Le sucre chute."},
    ]


class _Llm:
    """What LlamaCppEngine uses of llama_cpp.Llama, recording the messages of each completion."""

    def __init__(self) -> None:
        self.messages: list[list[dict[str, str]]] = []

    def tokenize(self, data: bytes, add_bos: bool = False) -> list[int]:
        return list(range(len(data.split())))

    def create_chat_completion(self, *, messages: list[dict[str, str]], **kwargs: Any) -> dict[str, Any]:
        self.messages.append(messages)
        return {"choices": [{"message": {"content": "Traduction."}}], "usage": {"completion_tokens": 2}}


def test_llama_cpp_puts_the_examples_after_the_history_and_before_the_segment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("lintas.engines.llamacpp._load", lambda *args: _Llm())
    monkeypatch.setattr("lintas.engines.llamacpp.resolve_model_path", lambda path: Path("model.gguf"))
    engine = LlamaCppEngine(history_turns=1)
    first = Segment("a", "Kalimat pertama.")
    second = Segment("b", SOURCE, examples=((LIKE, "Le prix du riz augmente."),))
    engine.translate_batch([first, second], "id", "fr")
    without, with_examples = engine.llm.messages
    head = [{"role": "system", "content": prompts.system_prompt("fr")}, *prompts.few_shot("fr")]
    assert without == [*head, {"role": "user", "content": "Kalimat pertama."}]
    assert with_examples == [
        *head,
        {"role": "user", "content": "Kalimat pertama."},  # the history turn
        {"role": "assistant", "content": "Traduction."},
        {"role": "user", "content": LIKE},  # the example
        {"role": "assistant", "content": "Le prix du riz augmente."},
        {"role": "user", "content": SOURCE},
    ]


def test_the_cache_key_covers_the_examples_and_a_key_without_them_is_unchanged(tmp_path: Path) -> None:
    cached = CachedEngine(FakeEngine(), db.make_engine(f"sqlite:///{tmp_path / 'store.sqlite'}"))
    plain = Segment("s", SOURCE, context="paragraf")
    old = repo.cache_key(SOURCE, "id>fr|sentence|paragraf|", "fake", "fake-1", "", "fr")
    assert cached.key(plain, "id", "fr") == old  # what earlier versions stored is still found
    one = Segment("s", SOURCE, context="paragraf", examples=((LIKE, "Le riz."),))
    other = Segment("s", SOURCE, context="paragraf", examples=((LIKE, "Le riz augmente."),))
    assert len({cached.key(plain, "id", "fr"), cached.key(one, "id", "fr"), cached.key(other, "id", "fr")}) == 3


def test_the_setting_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINTAS_MEMORY_EXAMPLES", "2")
    assert settings.Settings().memory_examples == 2
    assert Options.from_settings().examples == settings.current().memory_examples
    monkeypatch.setenv("LINTAS_MEMORY_EXAMPLES", "9")
    with pytest.raises(ValueError, match="memory_examples"):
        settings.Settings()


def test_the_eval_memory_leaves_the_translated_document_out(tmp_path: Path) -> None:
    docs = [
        Document("a", ["Judul A", "Kalimat <satu>."], {"en": ["Title A", "Sentence <one>."], "fr": ["Titre A", "Un."]}),
        Document("b", ["Judul B"], {"en": ["Title B"], "fr": ["Titre B"]}),
    ]
    path = tmp_path / "memory.csv"
    assert write_memory_csv(docs, path, leave_out="b") == 4
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert {(r["target_lang"], r["kind"], r["source"], r["target"]) for r in rows} == {
        ("en", "headline", "Judul A", "Title A"),
        ("en", "sentence", "Kalimat &lt;satu&gt;.", "Sentence &lt;one&gt;."),  # text, not tags
        ("fr", "headline", "Judul A", "Titre A"),
        ("fr", "sentence", "Kalimat &lt;satu&gt;.", "Un."),
    }
    with TranslationMemory(f"sqlite:///{tmp_path / 'tm.sqlite'}") as tm:
        assert tm.import_csv(path, origin="approved") == 4
        assert (
            tm.exact("Kalimat &lt;satu&gt;.", "fr") is not None and tm.exact("Judul B", "fr", kind="headline") is None
        )


def test_lintas_eval_with_a_memory_of_the_tune_half(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """``lintas eval --memory tune`` on the test half: the pipeline's segments get examples from the tune document,
    naive prompting none, and the scratch memory is removed afterwards."""
    from click.testing import CliRunner

    from lintas.cli.measure import eval_cmd

    engines: list[RecordingEngine] = []

    def recording(name: str, **kwargs: Any) -> RecordingEngine:
        engines.append(RecordingEngine())
        return engines[-1]

    monkeypatch.setattr("lintas.cli.measure.get_engine", recording)
    monkeypatch.setenv("LINTAS_MEMORY_EXAMPLES", "2")
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)  # read TMPDIR again
    data = Path(__file__).parent / "fixtures" / "ntrex-mini"  # one tune and one test document
    args = ["--data", str(data), "--to", "fr", "--half", "test", "--lines", "3", "--engine", "fake"]
    result = CliRunner().invoke(eval_cmd, [*args, "--memory", "tune", "--save", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    (engine,) = engines  # naive prompting goes to the same engine unless it is llamacpp
    firsts = [s for source, _, s in engine.seen if source == "en"]  # fr from the English pivot
    # two each, where the memory holds sources of a comparable length (0.6x to 1.6x: a short line may have none)
    assert firsts and all(len(s.examples) <= 2 for s in firsts) and len(firsts[0].examples) == 2
    tune = (data / "ntrex.en.txt").read_text(encoding="utf-8").splitlines()
    ids = (data / "doc_ids.txt").read_text(encoding="utf-8").splitlines()
    tune_english = {line for line, doc in zip(tune, ids, strict=True) if doc == "bbc.381790"}
    assert all(source in tune_english for s in firsts for source, _ in s.examples)  # the tune document's lines
    naive = [s for _, _, s in engine.seen if s.id.startswith("s")]  # naive_half's segments: s0, s1, ...
    assert naive and all(s.examples == () for s in naive)
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no scratch memory left

    result = CliRunner().invoke(eval_cmd, [*args, "--save", str(tmp_path / "plain")])  # no memory by default
    assert result.exit_code == 0, result.output
    assert engines[1].seen and all(s.examples == () for _, _, s in engines[1].seen)
