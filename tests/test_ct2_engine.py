"""The ctranslate2 engine and `lintas models`, on tiny random-weight models this test builds (real CTranslate2,
real sentencepiece): loading once, tokenizing per family, batching across requests, pivoting, the pipeline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from test_cli import FIXTURES, assert_clean_error, run

from lintas.engines import ct2
from lintas.engines.ct2 import CTranslate2Engine
from lintas.engines.ct2_models import add_model, load_registry, remove_model, route
from lintas.engines.ct2_random import TINY, build_random_model
from lintas.errors import InputError, ModelError
from lintas.pipeline.translate import translate_article
from lintas.publish.render import render_edition_html
from lintas.text.article import Article, Block, Segment

MINI = FIXTURES / "ntrex-mini"


def _sentences() -> list[str]:
    return [line for lang in ("id", "en", "fr") for line in (MINI / f"ntrex.{lang}.txt").read_text().splitlines()]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("ct2")
    sentences = _sentences()
    return {
        "id-en": build_random_model(root / "opus-id-en", sentences, TINY, seed=1, pair=("id", "en")),
        "en-fr": build_random_model(root / "opus-en-fr", sentences, TINY, seed=2, pair=("en", "fr")),
        "nllb": build_random_model(root / "nllb-tiny", sentences, TINY, seed=3, family="nllb"),
    }


@pytest.fixture
def registry(tmp_path: Path, tiny: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LINTAS_DATA_DIR", str(tmp_path / "data"))
    add_model(tiny["id-en"], name="id-en")
    add_model(tiny["en-fr"], name="en-fr")
    return tmp_path / "data" / "ct2-models.json"


class Spy:
    """Records every translate_batch call a CTranslate2 translator gets."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls: list[dict[str, Any]] = []

    def translate_batch(self, sources: list[list[str]], **options: Any) -> Any:
        self.calls.append({"sources": sources, **options})
        return self.inner.translate_batch(sources, **options)


def _spy(engine: CTranslate2Engine, name: str, monkeypatch: pytest.MonkeyPatch) -> Spy:
    model = next(m for m in engine.models if m.name == name)
    spy = Spy(engine._translator(model))
    original = engine._translator
    monkeypatch.setattr(engine, "_translator", lambda m: spy if m.name == name else original(m))
    return spy


def test_random_model_has_the_requested_shape(tiny: dict[str, Path]) -> None:
    config = json.loads((tiny["id-en"] / "config.json").read_text())
    meta = json.loads((tiny["id-en"] / "lintas.json").read_text())
    assert meta["random_weights"] is True and meta["size"]["layers"] == [2, 2]
    assert meta["pairs"] == ["id-en"]
    assert {"model.bin", "source.spm", "target.spm"} <= {p.name for p in tiny["id-en"].iterdir()}
    assert (tiny["nllb"] / "sentencepiece.bpe.model").is_file()
    assert config["unk_token"] == "<unk>" and config["eos_token"] == "</s>"


def test_registry_add_list_remove_and_refusals(registry: Path, tiny: dict[str, Path]) -> None:
    names = [m.name for m in load_registry()]
    assert names == ["id-en", "en-fr"]
    with pytest.raises(InputError, match="registered already"):
        add_model(tiny["id-en"], name="id-en")
    with pytest.raises(InputError, match="not a CTranslate2 model"):
        add_model(tiny["id-en"].parent, name="parent")
    with pytest.raises(InputError, match="bad language pair"):
        add_model(tiny["id-en"], name="other", pairs="id-xx")
    nllb = add_model(tiny["nllb"], name="nllb")
    assert nllb.family == "nllb" and len(nllb.pairs) == 30
    assert remove_model("nllb").name == "nllb"
    with pytest.raises(InputError, match="no model named"):
        remove_model("nllb")
    assert [m.name for m in load_registry()] == ["id-en", "en-fr"]


def test_route_is_direct_or_through_english(registry: Path) -> None:
    models = load_registry()
    assert [(h.model.name, h.source, h.target) for h in route(models, "id", "en")] == [("id-en", "id", "en")]
    assert [(h.model.name, h.source, h.target) for h in route(models, "id", "fr")] == [
        ("id-en", "id", "en"),
        ("en-fr", "en", "fr"),
    ]
    with pytest.raises(ModelError, match="no registered CTranslate2 model translates id->ja"):
        route(models, "id", "ja")


def test_engine_translates_and_loads_each_model_once(registry: Path) -> None:
    first = CTranslate2Engine(max_decoding_length=12, min_decoding_length=12)
    second = CTranslate2Engine(max_decoding_length=12)
    segments = [Segment("s1", "Presiden tiba di Jakarta pada hari Senin."), Segment("s2", "Harga beras naik.")]
    out = first.translate_batch(segments, "id", "en")
    assert len(out) == 2 and all(text.strip() for text in out)
    assert first.generated_tokens == 24  # fixed output length: 12 tokens each
    second.translate_batch(segments[:1], "id", "en")
    model = first.models[0]
    assert first._translator(model) is second._translator(model)
    assert ct2.loaded_models().count(model.path) == 1


def test_requests_of_many_articles_and_languages_share_one_call_per_model(
    registry: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = CTranslate2Engine(max_decoding_length=8)
    id_en, en_fr = _spy(engine, "id-en", monkeypatch), _spy(engine, "en-fr", monkeypatch)
    a = [Segment("a1", 'Kata <a href="#1">Menteri</a> hari ini.'), Segment("a2", "Harga naik.")]
    b = [Segment("b1", "Hujan turun di Bogor.")]
    out = engine.translate_requests([(a, "id", "en", 0), (b, "id", "en", 0), (b, "id", "fr", 0)])
    assert [len(o) for o in out] == [2, 1, 1]
    assert len(id_en.calls) == 1 and len(id_en.calls[0]["sources"]) == 4  # a1, a2, b1 (en), b1 (fr's first hop)
    assert len(en_fr.calls) == 1 and len(en_fr.calls[0]["sources"]) == 1
    first = id_en.calls[0]["sources"][0]
    assert first[-1] == "</s>" and not any("<a" in piece or "href" in piece for piece in first)  # tags stripped
    assert id_en.calls[0]["beam_size"] == 2
    engine.translate_requests([(b, "id", "en", 1)])
    assert id_en.calls[-1]["beam_size"] == 4 and id_en.calls[-1]["no_repeat_ngram_size"] == 3  # a retry differs


def test_multilingual_family_gets_language_codes(
    tmp_path: Path, tiny: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LINTAS_DATA_DIR", str(tmp_path / "data"))
    add_model(tiny["nllb"], name="nllb")
    engine = CTranslate2Engine("nllb", max_decoding_length=6)
    spy = _spy(engine, "nllb", monkeypatch)
    out = engine.translate_requests(
        [([Segment("s", "Harga naik.")], "id", "fr", 0), ([Segment("t", "Ya.")], "id", "ja", 0)]
    )
    assert len(out) == 2
    (call,) = spy.calls
    assert [s[0] for s in call["sources"]] == ["ind_Latn", "ind_Latn"]
    assert call["target_prefix"] == [["fra_Latn"], ["jpn_Jpan"]]
    assert all("fra_Latn" not in text and "jpn_Jpan" not in text for o in out for text in o)


def test_unknown_or_missing_models_are_clear_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINTAS_DATA_DIR", str(tmp_path / "empty"))
    with pytest.raises(ModelError, match="no CTranslate2 model is registered"):
        CTranslate2Engine()
    with pytest.raises(ModelError, match="no CTranslate2 model registered as nope"):
        CTranslate2Engine("nope")


def test_pipeline_on_ctranslate2_keeps_links_and_structure(registry: Path) -> None:
    article = Article(
        id="ct2-1",
        headline="Harga beras naik di Jakarta",
        body=[
            Block(
                type="paragraph", html='Menurut <a href="https://bps.go.id/x">laporan BPS</a>, harga naik. Warga antre.'
            ),
            Block(type="quote", html="Kami akan bekerja keras.", cite="Joko Widodo"),
        ],
    )
    engine = CTranslate2Engine(max_decoding_length=10)
    reports = translate_article(article, ["en", "fr"], engine, pivot="")
    for report in reports:
        edition = report.edition
        assert edition.engine == "ctranslate2" and edition.model == "id-en+en-fr"
        assert len(edition.segments) == report.segments == 5
        page = render_edition_html(edition)
        assert 'href="https://bps.go.id/x"' in page  # the link is put back on the random-weight output
        assert page.count("<blockquote") == 1 and "<h1" in page


def test_models_cli(tmp_path: Path, tiny: dict[str, Path]) -> None:
    env = {"LINTAS_DATA_DIR": str(tmp_path / "data")}
    added = run("models", "add", str(tiny["id-en"]), "--name", "opus-id-en", env=env)
    assert added.returncode == 0, added.stderr
    assert "registered opus-id-en (opus-mt, id-en)" in added.stdout
    listed = run("models", "list", env=env)
    assert "opus-id-en\topus-mt\tid-en\tok" in listed.stdout and "random weights" in listed.stdout
    assert_clean_error(run("models", "add", str(tmp_path / "nowhere"), env=env), 2, "is not a directory")
    assert_clean_error(run("models", "remove", "nope", env=env), 2, "no model named 'nope'")
    assert run("models", "remove", "opus-id-en", env=env).returncode == 0
    assert "no models registered" in run("models", "list", env=env).stdout


def test_bench_sends_the_pipeline_the_same_work_as_the_raw_engine(tmp_path: Path) -> None:
    """`lintas bench` on the tiny model: both rows carry the same segments, and with the output length fixed the
    same number of generated tokens (so the pipeline did no extra engine work and dropped nothing)."""
    done = run(
        "bench",
        "--engine",
        "ctranslate2",
        "--size",
        "tiny",
        "--out-tokens",
        "5",
        "--repeat",
        "2",
        "--data",
        str(MINI),
        env={"LINTAS_DATA_DIR": str(tmp_path / "data")},
    )
    assert done.returncode == 0, done.stderr
    rows = [line.split("|")[1:-1] for line in done.stdout.splitlines() if line.startswith("| ctranslate2")]
    assert [r[2].strip() for r in rows] == ["raw engine", "pipeline (checks on, retries off)"]
    raw, pipeline = ([c.strip() for c in r] for r in rows)
    assert raw[4] == pipeline[4] and int(raw[4]) >= 19  # segments: the whole fixture
    assert int(raw[5]) == int(pipeline[5]) == int(raw[4]) * 5  # generated tokens: 5 per segment, in both
    assert float(pipeline[9].rstrip("x")) > 0 and float(raw[10]) >= 0 and float(raw[11]) > 0
    assert len(raw[12].split(",")) == len(pipeline[12].split(",")) == 2  # --repeat 2: two runs of each
    assert (tmp_path / "data" / "bench" / "random-tiny-id-en" / "model.bin").is_file()
