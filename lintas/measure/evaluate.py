"""Evaluation on NTREX-style line-aligned data: the pipeline against naive sentence prompting, on one half of the
fixed tune/test split (:data:`SPLIT_FILE`).

Each document becomes a *line article* (:func:`line_article`): its first line the headline, each further line a
paragraph of its own, so every reference line lines up with one paragraph of the edition.  ``translate_half``
translates the articles with the pipeline, ``naive_half`` asks the same engine for each line alone with one plain
instruction; both save what they make and skip what is there.  :func:`compare` scores the pipeline, naive prompting
and naive prompting through the pipeline's own output cleaning with sacrebleu (chrF++, chrF for zh/ja, and BLEU,
line-level corpus scores) and gives the gain over naive + cleaning with its 95% paired-bootstrap interval.
:func:`document_article` (paragraphs of four sentences) is the article shape the benchmarks use.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import html
import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sacrebleu.metrics.bleu import BLEU
from sacrebleu.metrics.chrf import CHRF

from lintas.engines.base import Engine
from lintas.engines.prompts import clean_output
from lintas.errors import InputError
from lintas.pipeline.translate import Memory, Options, translate_article
from lintas.text.article import Article, Block, Edition, Segment

__all__ = [
    "Document",
    "load_documents",
    "document_article",
    "score",
    "article_id",
    "chrf_metric",
    "line_article",
    "translate_half",
    "naive_half",
    "write_memory_csv",
    "plain_text",
    "edition_lines",
    "Hypotheses",
    "read_pipeline",
    "read_naive",
    "references",
    "Gain",
    "paired_bootstrap",
    "EvalRow",
    "compare",
    "format_rows",
    "article_seconds",
    "SPLIT_FILE",
    "load_split",
    "split_documents",
    "saved_sample",
]

# The fixed document-level tune / test split of the NTREX dev data (see the file's header).
SPLIT_FILE = Path(__file__).resolve().parents[1] / "data" / "eval" / "ntrex-dev-split.tsv"

_BLEU_TOKENIZE = {"zh": "zh", "ja": "char"}


@dataclass
class Document:
    id: str
    source: list[str]
    refs: dict[str, list[str]] = field(default_factory=dict)


def load_documents(data_dir: str | Path, targets: list[str], limit: int | None = None) -> list[Document]:
    root = Path(data_dir)
    files = {"ids": root / "doc_ids.txt", "id": root / "ntrex.id.txt"} | {t: root / f"ntrex.{t}.txt" for t in targets}
    for path in files.values():
        if not path.is_file():
            raise InputError(f"evaluation data incomplete: {path} not found")
    lines = {k: p.read_text(encoding="utf-8").splitlines() for k, p in files.items()}
    if len({len(v) for v in lines.values()}) != 1:
        raise InputError(f"evaluation files in {root} do not have the same number of lines")
    docs: list[Document] = []
    for n, doc_id in enumerate(lines["ids"]):
        if not docs or docs[-1].id != doc_id:
            if limit is not None and len(docs) == limit:
                break
            docs.append(Document(doc_id, [], {t: [] for t in targets}))
        docs[-1].source.append(lines["id"][n].strip())
        for t in targets:
            docs[-1].refs[t].append(lines[t][n].strip())
    return docs


def load_split(path: Path = SPLIT_FILE) -> dict[str, str]:
    """Document id -> ``"tune"`` or ``"test"``."""
    halves: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            doc_id, half = line.split("\t")
            halves[doc_id] = half
    return halves


def split_documents(docs: list[Document], half: str) -> list[Document]:
    """The documents of one half (``tune`` or ``test``), in their order; a document the split does not name is an
    error, so a changed data set cannot silently leak into either half."""
    if half not in ("tune", "test"):
        raise InputError(f"unknown half {half!r}: tune or test")
    halves = load_split()
    unknown = [d.id for d in docs if d.id not in halves]
    if unknown:
        raise InputError(f"documents not in the tune/test split ({SPLIT_FILE.name}): {', '.join(unknown[:3])}")
    return [d for d in docs if halves[d.id] == half]


def saved_sample(data_dir: str | Path, targets: list[str], half: str, lines: int, saved: Path) -> list[Document]:
    """The documents of ``half`` that a saved eval run (``saved/pipeline``) translated into ``targets[0]``, cut to
    their first ``lines`` lines: the sample the offline lever scripts score again."""
    docs = split_documents(load_documents(data_dir, targets), half)
    docs = [d for d in docs if (saved / "pipeline" / f"{article_id(d)}.{targets[0]}.json").is_file()]
    return [Document(d.id, d.source[:lines], {k: v[:lines] for k, v in d.refs.items()}) for d in docs]


def document_article(doc: Document, paragraph_size: int = 4) -> Article:
    body = [
        Block(type="paragraph", html=html.escape(" ".join(doc.source[i : i + paragraph_size]), quote=False))
        for i in range(1, len(doc.source), paragraph_size)
    ]
    return Article(id=article_id(doc), headline=doc.source[0], body=body)


def score(hyps: list[str], refs: list[str], target: str) -> dict[str, float]:
    chrf = chrf_metric(target)
    bleu = BLEU(tokenize=_BLEU_TOKENIZE.get(target, "13a"))
    return {"chrf": chrf.corpus_score(hyps, [refs]).score, "bleu": bleu.corpus_score(hyps, [refs]).score}


def article_id(doc: Document) -> str:
    """The id a document's article (and its files in an output folder) gets."""
    return re.sub(r"[^\w.-]+", "-", doc.id)


@functools.cache
def chrf_metric(target: str) -> CHRF:
    """chrF (zh, ja: words are not spaced) or chrF++ (the others), as every figure of the evaluation is scored."""
    return CHRF(word_order=0 if target in ("zh", "ja") else 2)


# -- one half of the split, line by line: the pipeline, naive prompting, naive prompting + cleaning -------------------
def line_article(doc: Document, lines: int | None = None) -> Article:
    """The document as an article: its first line the headline, each further line a paragraph of its own, so every
    reference line lines up with one paragraph of the edition."""
    source = doc.source[:lines] if lines else doc.source
    body = [Block(type="paragraph", html=html.escape(line, quote=False)) for line in source[1:]]
    return Article(id=article_id(doc), headline=source[0], body=body)


def write_memory_csv(docs: Sequence[Document], path: Path, *, leave_out: str | None = None) -> int:
    """The documents' lines and their references as a translation memory CSV (:meth:`TranslationMemory.import_csv`:
    Indonesian to every language the documents have, the first line a headline), all but document ``leave_out``;
    returns the number of rows."""
    rows = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["source_lang", "target_lang", "kind", "source", "target"])
        for doc in docs:
            if doc.id == leave_out:
                continue
            for lang, refs in sorted(doc.refs.items()):
                for n, (source, target) in enumerate(zip(doc.source, refs, strict=True)):
                    if source.strip() and target.strip():
                        escaped = html.escape(source, quote=False), html.escape(target, quote=False)
                        writer.writerow(["id", lang, "headline" if n == 0 else "sentence", *escaped])
                        rows += 1
    return rows


def translate_half(
    docs: Sequence[Document],
    targets: Sequence[str],
    engine: Engine,
    options: Options,
    out: Path,
    *,
    lines: int | None = None,
    progress: Callable[[int], object] | None = None,
    memory_for: Callable[[Document], Memory] | None = None,
) -> int:
    """Translate each document into ``targets`` with the pipeline; each edition goes to ``out/<id>.<lang>.json`` with
    the seconds its article took (``out/<id>.seconds.json``).  Documents whose editions are all there are skipped, so
    a long run can be stopped and resumed.  With ``memory_for``, each document is translated with the memory it
    returns for it (in place of ``options.memory``).  Returns how many documents were translated now."""
    out.mkdir(parents=True, exist_ok=True)
    done = 0
    for doc in docs:
        article = line_article(doc, lines)
        if all((out / f"{article.id}.{t}.json").is_file() for t in targets):
            if progress:
                progress((len(article.body) + 1) * len(targets))
            continue
        run_options = dataclasses.replace(options, memory=memory_for(doc)) if memory_for else options
        started = time.perf_counter()
        reports = translate_article(
            article,
            list(targets),
            engine,
            options=run_options,
            progress=(lambda _lang, n: progress(n)) if progress else None,
        )
        seconds = {r.edition.target_lang: round(r.seconds, 2) for r in reports}
        for report in reports:
            _write_json(
                out / f"{article.id}.{report.edition.target_lang}.json", report.edition.model_dump_json(indent=1)
            )
        _write_json(
            out / f"{article.id}.seconds.json",
            json.dumps({"total": round(time.perf_counter() - started, 2), **seconds}),
        )
        done += 1
    return done


def naive_half(
    docs: Sequence[Document],
    targets: Sequence[str],
    engine: Engine,
    out: Path,
    *,
    lines: int | None = None,
    progress: Callable[[int], object] | None = None,
) -> int:
    """The baseline: each line alone through ``engine`` (for llama.cpp its ``naive`` prompt style: one plain
    instruction, no examples, no context), written as it came back to ``out/<id>.<lang>.json`` (``{"lines": [...],
    "seconds": ...}``); files already there are kept.  Returns how many (document, language) pairs were made now."""
    out.mkdir(parents=True, exist_ok=True)
    done = 0
    for doc in docs:
        source = doc.source[:lines] if lines else doc.source
        for target in targets:
            path = out / f"{article_id(doc)}.{target}.json"
            if path.is_file():
                if progress:
                    progress(len(source))
                continue
            started = time.perf_counter()
            outputs = []
            for n, line in enumerate(source):
                outputs.append(engine.translate_batch([Segment(f"s{n}", line)], "id", target)[0].strip())
                if progress:
                    progress(1)
            seconds = round(time.perf_counter() - started, 2)
            _write_json(path, json.dumps({"lines": outputs, "seconds": seconds}, ensure_ascii=False, indent=1))
            done += 1
    return done


def _write_json(path: Path, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def plain_text(text: str) -> str:
    """Inline HTML as the text a reader sees: tags dropped, entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", text)).split())


def edition_lines(edition: Edition) -> list[str]:
    """A line article's edition as lines: the headline, then one line per body block (tags dropped)."""
    return [plain_text(edition.headline)] + [plain_text(block.html or "") for block in edition.body]


@dataclass
class Hypotheses:
    """One system's lines in one language over a sample, with the seconds it took to make them."""

    target: str
    lines: list[str]
    seconds: float
    documents: int


def read_pipeline(docs: Sequence[Document], target: str, directory: Path) -> Hypotheses:
    """The pipeline's lines from the editions ``translate_half`` wrote (a document without its edition is an error:
    every system must be scored on the same lines).  Seconds are the edition's own; a pivot language's time is
    counted in the pivot's edition."""
    lines: list[str] = []
    seconds = 0.0
    for doc in docs:
        path = directory / f"{article_id(doc)}.{target}.json"
        if not path.is_file():
            raise InputError(f"no {target} edition of {doc.id} in {directory}")
        lines += edition_lines(Edition.model_validate_json(path.read_text(encoding="utf-8")))
        timing = directory / f"{article_id(doc)}.seconds.json"
        if timing.is_file():
            seconds += float(json.loads(timing.read_text(encoding="utf-8")).get(target, 0.0))
    return Hypotheses(target, lines, seconds, len(docs))


def read_naive(docs: Sequence[Document], target: str, directory: Path, *, clean: bool) -> Hypotheses:
    """The naive baseline's lines as the engine wrote them, or (``clean``) through the pipeline's own output cleaning
    (``lintas.engines.prompts.clean_output``: chatter, labels, notes, quotes), so the comparison does not credit
    the pipeline with removing chatter alone."""
    lines: list[str] = []
    seconds = 0.0
    for doc in docs:
        path = directory / f"{article_id(doc)}.{target}.json"
        if not path.is_file():
            raise InputError(f"no naive {target} translation of {doc.id} in {directory}")
        data = json.loads(path.read_text(encoding="utf-8"))
        raw = [str(x) for x in data["lines"]]
        if clean:
            raw = [clean_output(text, source)[0] for text, source in zip(raw, doc.source, strict=False)]
        lines += [" ".join(text.split()) for text in raw]
        seconds += float(data["seconds"])
    return Hypotheses(target, lines, seconds, len(docs))


def references(docs: Sequence[Document], target: str, lines: int | None = None) -> list[str]:
    return [ref for doc in docs for ref in (doc.refs[target][:lines] if lines else doc.refs[target])]


@dataclass
class Gain:
    """A system's chrF gain over a baseline on the same lines, with the 95% paired-bootstrap interval."""

    gain: float
    low: float
    high: float


def paired_bootstrap(
    system: Sequence[str],
    baseline: Sequence[str],
    refs: Sequence[str],
    target: str,
    samples: int = 1000,
    seed: int = 12345,
) -> Gain:
    """sacrebleu's paired bootstrap (the procedure of its ``--paired-bs``: the same resampled lines for both systems,
    corpus chrF from the summed statistics of each resample), reporting the 2.5th and 97.5th percentiles of the
    difference.  sacrebleu's public test gives each system's interval and a p-value, not the interval of the
    difference, so its statistics helpers are called directly (pinned to sacrebleu 2.x in pyproject.toml)."""
    if not (len(system) == len(baseline) == len(refs)) or not refs:
        raise InputError("paired bootstrap needs the same, non-empty lines for both systems")
    metric = chrf_metric(target)
    sys_stats = np.array(metric._extract_corpus_statistics(list(system), [list(refs)]), dtype="float64")
    base_stats = np.array(metric._extract_corpus_statistics(list(baseline), [list(refs)]), dtype="float64")
    gain = (
        metric._compute_score_from_stats(sys_stats.sum(0)).score
        - metric._compute_score_from_stats(base_stats.sum(0)).score
    )
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(refs), size=(samples, len(refs)), replace=True)
    diffs = np.array(
        [
            metric._compute_score_from_stats(sys_stats[i].sum(0)).score
            - metric._compute_score_from_stats(base_stats[i].sum(0)).score
            for i in idx
        ]
    )
    low, high = np.percentile(diffs, [2.5, 97.5])
    return Gain(float(gain), float(low), float(high))


@dataclass
class EvalRow:
    """One language: the pipeline against both baselines on the same lines."""

    target: str
    documents: int
    lines: int
    pipeline: float
    naive: float
    cleaned: float
    gain: Gain  # the pipeline over naive + cleaning
    bleu_pipeline: float
    bleu_cleaned: float
    seconds_pipeline: float  # per line (segment)
    seconds_naive: float


def compare(
    docs: Sequence[Document], targets: Sequence[str], pipeline_dir: Path, naive_dir: Path, lines: int | None = None
) -> list[EvalRow]:
    """Score what ``translate_half`` and ``naive_half`` wrote: one row per language."""
    rows = []
    for target in targets:
        refs = references(docs, target, lines)
        pipe = read_pipeline(docs, target, pipeline_dir)
        naive = read_naive(docs, target, naive_dir, clean=False)
        cleaned = read_naive(docs, target, naive_dir, clean=True)
        if not (len(pipe.lines) == len(naive.lines) == len(refs)):
            raise InputError(f"{target}: the saved translations do not cover the same {len(refs)} lines")
        s_pipe, s_naive, s_clean = (score(h.lines, refs, target) for h in (pipe, naive, cleaned))
        rows.append(
            EvalRow(
                target,
                len(docs),
                len(refs),
                s_pipe["chrf"],
                s_naive["chrf"],
                s_clean["chrf"],
                paired_bootstrap(pipe.lines, cleaned.lines, refs, target),
                s_pipe["bleu"],
                s_clean["bleu"],
                pipe.seconds / len(refs),
                naive.seconds / len(refs),
            )
        )
    return rows


def format_rows(rows: Sequence[EvalRow]) -> str:
    """A Markdown table, one row per language."""
    head = (
        "| lang | metric | docs | lines | pipeline | naive | naive + cleaning | gain | 95% interval "
        "| BLEU pipeline | BLEU naive + cleaning | s/segment pipeline | s/segment naive |"
    )
    out = [head, "|" + " --- |" * head.count(" | ") + " --- |"]
    for r in rows:
        metric = "chrF" if r.target in ("zh", "ja") else "chrF++"
        out.append(
            f"| {r.target} | {metric} | {r.documents} | {r.lines} | {r.pipeline:.1f} | {r.naive:.1f} | {r.cleaned:.1f} "
            f"| {r.gain.gain:+.1f} | [{r.gain.low:+.1f}, {r.gain.high:+.1f}] | {r.bleu_pipeline:.1f} "
            f"| {r.bleu_cleaned:.1f} | {r.seconds_pipeline:.2f} | {r.seconds_naive:.2f} |"
        )
    return "\n".join(out)


def article_seconds(docs: Sequence[Document], pipeline_dir: Path) -> list[float]:
    """Seconds each document's article took into all its languages (``translate_half``'s timings)."""
    totals = []
    for doc in docs:
        timing = pipeline_dir / f"{article_id(doc)}.seconds.json"
        if timing.is_file():
            totals.append(float(json.loads(timing.read_text(encoding="utf-8"))["total"]))
    return totals
