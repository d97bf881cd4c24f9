"""``lintas bench``: the raw engine next to the whole pipeline, on the same dev segments.

For each engine, in a fresh process (so load time and peak memory are its own):

1. load the engine (seconds) and warm it up on one segment;
2. **raw engine**: the segments of the chosen dev articles (exactly the units the pipeline makes of them: headline
   and sentences, with glossary placeholders) sent straight to the engine in the batches it does best with
   (``ctranslate2``: ``batch_segments`` at a time in one ``translate_requests`` call; ``llamacpp``: the pipeline's
   chunks of 4, one prompt each);
3. **pipeline**: the same articles through :func:`lintas.pipeline.batching.translate_many` -- segmenting, glossary,
   quality checks, repairs, assembling the editions -- with retries off (a retry is extra engine work chosen for
   quality, not overhead; the table says so).

The two alternate ``repeat`` times in the same process and each row is the fastest of its runs (all are listed):
on a shared machine a run can be slowed down by others, never sped up.

Segments/s and generated tokens/s for both, their ratio (target: pipeline >= 0.9 x raw), model load seconds and the
process's peak resident memory. The ``ctranslate2`` row uses a random-weight model of OPUS-MT size built here
(:mod:`lintas.engines.ct2_random`) with a fixed output length, so every segment costs the same decoding work.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lintas import settings
from lintas.measure.evaluate import document_article, load_documents
from lintas.text.article import Article, Segment

if TYPE_CHECKING:
    from lintas.engines.base import Engine
    from lintas.engines.ct2 import CTranslate2Engine
    from lintas.engines.llamacpp import LlamaCppEngine
    from lintas.text.glossary import Glossary

__all__ = ["BenchRow", "run_bench", "format_table", "random_model_dir", "peer_case"]


@dataclass
class BenchRow:
    engine: str
    model: str
    mode: str  # "raw engine" | "pipeline"
    articles: int
    segments: int
    seconds: float
    tokens: int
    load_seconds: float
    peak_mib: float
    runs: list[float] = field(default_factory=list)  # seconds of every run (the row is the fastest)

    @property
    def segments_per_second(self) -> float:
        return self.segments / self.seconds if self.seconds else 0.0

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds else 0.0


def random_model_dir(data_dir: Path, size: str) -> Path:
    """The random-weight model of ``size`` (``opus-mt`` or ``tiny``), built once into the data directory, its
    sentencepiece model trained on the Indonesian and English text of ``data_dir``."""
    from lintas.engines.ct2_random import OPUS_MT_SIZE, TINY, build_random_model

    spec = {"opus-mt": OPUS_MT_SIZE, "tiny": TINY}[size]
    target = settings.data_dir() / "bench" / f"random-{size}-id-en"
    if (target / "model.bin").is_file():
        return target
    sentences = [
        line
        for lang in ("id", "en")
        for line in (data_dir / f"ntrex.{lang}.txt").read_text(encoding="utf-8").splitlines()
    ]
    partial = target.with_name(target.name + ".partial")
    if partial.exists():
        import shutil

        shutil.rmtree(partial)
    build_random_model(partial, sentences, spec, seed=0)
    partial.rename(target)
    return target


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _articles(data_dir: Path, docs: int) -> list[Article]:
    return [document_article(doc) for doc in load_documents(data_dir, [], limit=docs)]


def _units(articles: Sequence[Article], engine: Engine, glossary: Glossary | None) -> list[Segment]:
    """The first-pass segments the pipeline sends for ``articles`` into English (same preparation)."""
    from lintas.pipeline.translate import prepare_segment
    from lintas.text.assemble import split_article

    segments = []
    for article in articles:
        for unit in split_article(article):
            segments.append(prepare_segment(unit.segment, unit, engine, "en", glossary, True)[0])
    return segments


def _case(spec: dict[str, Any]) -> list[BenchRow]:
    """One engine's rows; runs in its own process (see :func:`run_bench`)."""
    from lintas.pipeline.batching import translate_many
    from lintas.pipeline.translate import Options, translate_article
    from lintas.text.glossary import configured_glossary

    data_dir = Path(spec["data"])
    articles = _articles(data_dir, spec["docs"])
    from lintas.engines.ct2 import CTranslate2Engine  # the engines' libraries load when an engine is built
    from lintas.engines.llamacpp import LlamaCppEngine

    started = time.perf_counter()
    engine: CTranslate2Engine | LlamaCppEngine
    if spec["engine"] == "ctranslate2":
        from lintas.engines.ct2_models import RegisteredModel

        model_dir = Path(spec["model_dir"])
        registered = RegisteredModel(name=model_dir.name, path=str(model_dir), family="opus-mt", pairs=("id-en",))
        engine = CTranslate2Engine(
            registered=[registered],
            max_decoding_length=spec["out_tokens"],
            min_decoding_length=spec["out_tokens"],
            intra_threads=spec.get("intra_threads") or 0,
        )
        engine.load("id", ["en"])
    else:
        engine = LlamaCppEngine()
    load_seconds = time.perf_counter() - started
    glossary = configured_glossary()
    segments = _units(articles, engine, glossary)
    options = Options(glossary=glossary)
    warm_up = Article(id="warm-up", headline="Harga beras naik di Jakarta.")  # loads the checks' models too
    translate_article(warm_up, ["en"], engine, options=options, max_attempts=1)  # not timed

    def raw() -> tuple[int, float, int]:
        tokens, started = engine.generated_tokens, time.perf_counter()
        if isinstance(engine, CTranslate2Engine):  # the merged-batch engine: one call for a batch of requests
            step = settings.current().batch_segments
            for i in range(0, len(segments), step):
                engine.translate_requests([(segments[i : i + step], "id", "en", 0)])
        else:
            for i in range(0, len(segments), 4):
                engine.translate_batch(segments[i : i + 4], "id", "en")
        return len(segments), time.perf_counter() - started, engine.generated_tokens - tokens

    def pipeline() -> tuple[int, float, int]:
        tokens, started, done = engine.generated_tokens, time.perf_counter(), 0
        for result in translate_many(
            articles, ["en"], engine, threads=spec["threads"], options=options, max_attempts=1
        ):
            if result.error is not None:
                raise result.error
            done += sum(report.segments for report in result.reports)
        return done, time.perf_counter() - started, engine.generated_tokens - tokens

    # alternate the two, ``repeat`` times each, and keep each one's fastest run: on a shared machine a run can be
    # slowed by others, never sped up
    runs: dict[str, list[tuple[int, float, int]]] = {"raw engine": [], "pipeline": []}
    for _ in range(max(1, spec.get("repeat", 1))):
        runs["raw engine"].append(raw())
        runs["pipeline"].append(pipeline())
    rows = []
    for mode, results in runs.items():
        segments_done, seconds, tokens = min(results, key=lambda r: r[1])
        rows.append(
            BenchRow(
                engine=engine.name,
                model=engine.model,
                articles=len(articles),
                load_seconds=load_seconds,
                mode=mode,
                segments=segments_done,
                seconds=seconds,
                tokens=tokens,
                peak_mib=_peak_mib(),
                runs=[round(r[1], 2) for r in results],
            )
        )
    return rows


def run_bench(
    engines: Sequence[str],
    data_dir: Path,
    *,
    docs: int,
    llama_docs: int,
    out_tokens: int = 32,
    threads: int = 16,
    size: str = "opus-mt",
    repeat: int = 3,
    llama_repeat: int = 1,
) -> list[BenchRow]:
    """Each engine in a subprocess (``python -m lintas.measure.bench``); their rows."""
    rows: list[BenchRow] = []
    for name in engines:
        spec: dict[str, Any] = {
            "engine": name,
            "data": str(data_dir),
            "docs": docs if name == "ctranslate2" else llama_docs,
            "out_tokens": out_tokens,
            "threads": threads,
            "repeat": repeat if name == "ctranslate2" else llama_repeat,
        }
        if name == "ctranslate2":
            spec["model_dir"] = str(random_model_dir(data_dir, size))
        done = subprocess.run(
            [sys.executable, "-m", "lintas.measure.bench", json.dumps(spec)],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            from lintas.errors import EngineError

            tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise EngineError(f"the {name} benchmark failed: {tail}")
        rows += [BenchRow(**row) for row in json.loads(done.stdout.strip().splitlines()[-1])]
    return rows


def format_table(rows: Sequence[BenchRow]) -> str:
    head = (
        "| engine | model | run | articles | segments | tokens | seconds (best) | segments/s | tokens/s | vs raw "
        "| load s | peak MiB | all runs, s |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    )
    lines = [head]
    raw: dict[str, BenchRow] = {}
    for row in rows:
        if row.mode == "raw engine":
            raw[row.engine] = row
        base = raw.get(row.engine)
        ratio = (
            f"{row.segments_per_second / base.segments_per_second:.2f}x"
            if base and row.mode != "raw engine" and base.segments_per_second
            else ""
        )
        mode = row.mode + (" (checks on, retries off)" if row.mode == "pipeline" else "")
        lines.append(
            f"| {row.engine} | {row.model} | {mode} | {row.articles} | {row.segments} | {row.tokens} | {row.seconds:.2f} | "
            f"{row.segments_per_second:.1f} | {row.tokens_per_second:.0f} | {ratio} | {row.load_seconds:.2f} | "
            f"{row.peak_mib:.0f} | {', '.join(f'{r:.1f}' for r in row.runs)} |"
        )
    return "\n".join(lines)


def peer_case(spec: dict[str, Any]) -> dict[str, Any]:
    """Lintas' side of the LibreTranslate comparison (``scripts/peer_libretranslate.py --lintas``): ``articles``
    dev articles into ``target`` on the CTranslate2 model in ``model_dir`` through :func:`translate_many`, with the
    decoding LibreTranslate uses (``beam_size``, ``max_decoding_length``; the output length fixed at the maximum,
    as a random model's is there), all checks on and ``max_attempts`` (1: no retries)."""
    from lintas.engines.ct2 import CTranslate2Engine
    from lintas.engines.ct2_models import RegisteredModel
    from lintas.pipeline.batching import translate_many
    from lintas.pipeline.translate import Options
    from lintas.text.glossary import configured_glossary

    data_dir, model_dir = Path(spec["data"]), Path(spec["model_dir"])
    articles = _articles(data_dir, spec["articles"])
    registered = RegisteredModel(name=model_dir.name, path=str(model_dir), family="opus-mt", pairs=("id-en",))
    started = time.perf_counter()
    engine = CTranslate2Engine(
        registered=[registered],
        compute_type=spec.get("compute_type", "int8"),
        beam_size=spec["beam_size"],
        max_decoding_length=spec["max_decoding_length"],
        min_decoding_length=spec["max_decoding_length"],
        intra_threads=spec.get("intra_threads", 0),
    )
    engine.load("id", ["en"])
    load_seconds = time.perf_counter() - started
    started = time.perf_counter()
    segments = 0
    for result in translate_many(
        articles,
        ["en"],
        engine,
        threads=spec.get("threads", 16),
        options=Options(glossary=configured_glossary()),
        max_attempts=spec.get("max_attempts", 1),
    ):
        if result.error is not None:
            raise result.error
        segments += sum(report.segments for report in result.reports)
    wall = time.perf_counter() - started
    return {
        "articles": len(articles),
        "segments": segments,
        "wall_seconds": round(wall, 2),
        "articles_per_minute": round(len(articles) / wall * 60, 2),
        "tokens": engine.generated_tokens,
        "tokens_per_second": round(engine.generated_tokens / wall, 1),
        "load_seconds": round(load_seconds, 2),
        "decoding": {
            "beam_size": engine.beam_size,
            "max_decoding_length": engine.max_decoding_length,
            "min_decoding_length": engine.min_decoding_length,
            "compute_type": engine.compute_type,
            "max_batch_size": engine.max_batch_size,
            "max_attempts": spec.get("max_attempts", 1),
        },
    }


if __name__ == "__main__":
    request = json.loads(sys.argv[1])
    if request.get("peer"):
        print(json.dumps(peer_case(request)))
    else:
        print(json.dumps([asdict(row) for row in _case(request)]))
