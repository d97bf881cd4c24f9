"""Evaluation on NTREX-style line-aligned data: the pipeline against naive sentence prompting.

Each document (lines sharing an id in ``doc_ids.txt``) becomes an article: the first line is
the headline, the rest are joined into paragraphs of ``paragraph_size`` sentences.  The
pipeline translates whole articles; the baseline asks the same engine to translate each line on
its own with a plain instruction.  Both are scored per document (hypothesis lines joined, the
reference lines joined) with sacrebleu: chrF++ (chrF for zh/ja, where words are not spaced) and
BLEU, so a different sentence split inside the pipeline cannot skew the comparison.
"""

from __future__ import annotations

import functools
import html
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sacrebleu.metrics.bleu import BLEU
from sacrebleu.metrics.chrf import CHRF

from lintas.engines.base import Engine
from lintas.errors import InputError
from lintas.pipeline.translate import translate_article
from lintas.text.article import Article, Block, Segment
from lintas.text.languages import get_language

__all__ = [
    "Document",
    "load_documents",
    "document_article",
    "score",
    "run_eval",
    "EvalRow",
    "format_rows",
    "SPLIT_FILE",
    "load_split",
    "split_documents",
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


def document_article(doc: Document, paragraph_size: int = 4) -> Article:
    body = [
        Block(type="paragraph", html=html.escape(" ".join(doc.source[i : i + paragraph_size]), quote=False))
        for i in range(1, len(doc.source), paragraph_size)
    ]
    return Article(id=re.sub(r"[^\w.-]+", "-", doc.id), headline=doc.source[0], body=body)


def _join(lines: list[str], target: str) -> str:
    sep = " " if get_language(target).space_between_sentences else ""
    return sep.join(line.strip() for line in lines if line.strip())


def score(hyps: list[str], refs: list[str], target: str) -> dict[str, float]:
    chrf = CHRF(word_order=0 if target in ("zh", "ja") else 2)
    bleu = BLEU(tokenize=_BLEU_TOKENIZE.get(target, "13a"))
    return {"chrf": chrf.corpus_score(hyps, [refs]).score, "bleu": bleu.corpus_score(hyps, [refs]).score}


@dataclass
class EvalRow:
    target: str
    system: str
    documents: int
    sentences: int
    chrf: float
    bleu: float
    seconds_per_sentence: float
    flagged: int = 0


def _pipeline_docs(
    docs: list[Document], engine: Engine, target: str, tick: Callable[[int], object]
) -> tuple[list[str], int]:
    hyps: list[str] = []
    flagged = 0
    for doc in docs:
        report = translate_article(
            document_article(doc), [target], engine, progress=lambda lang, n: tick(n) if lang == target else None
        )[0]
        ed = report.edition
        flagged += report.flagged
        lines = [ed.headline] + [html.unescape(re.sub(r"<[^>]+>", " ", b.html)) for b in ed.body]
        hyps.append(_join(lines, target))
    return hyps, flagged


def _naive_docs(docs: list[Document], engine: Engine, target: str, tick: Callable[[int], object]) -> list[str]:
    hyps = []
    for doc in docs:
        outs = []
        for n, line in enumerate(doc.source):
            raw = engine.translate_batch([Segment(f"s{n}", line)], "id", target)[0]
            outs.append(raw.strip())
            tick(1)
        hyps.append(_join(outs, target))
    return hyps


def _naive_run(
    docs: list[Document], engine: Engine, target: str, tick: Callable[[int], object]
) -> tuple[list[str], int]:
    return _naive_docs(docs, engine, target, tick), 0


def run_eval(
    docs: list[Document],
    targets: list[str],
    engine: Engine,
    baseline: Engine | None,
    tick: Callable[[int], object] = lambda n: None,
    save: Path | None = None,
) -> list[EvalRow]:
    rows: list[EvalRow] = []
    sentences = sum(len(d.source) for d in docs)
    for target in targets:
        refs = [_join(d.refs[target], target) for d in docs]
        systems: list[tuple[str, Callable[[], tuple[list[str], int]]]] = [
            ("pipeline", functools.partial(_pipeline_docs, docs, engine, target, tick))
        ]
        if baseline is not None:
            systems.append(("naive", functools.partial(_naive_run, docs, baseline, target, tick)))
        for name, run in systems:
            started = time.perf_counter()
            hyps, flagged = run()
            elapsed = time.perf_counter() - started
            s = score(hyps, refs, target)
            rows.append(EvalRow(target, name, len(docs), sentences, s["chrf"], s["bleu"], elapsed / sentences, flagged))
            if save is not None:
                save.mkdir(parents=True, exist_ok=True)
                flat = (" ".join(h.split()) for h in hyps)  # one document per line, whatever the engine wrote
                (save / f"{name}.{target}.txt").write_text("\n".join(flat) + "\n", encoding="utf-8")
    return rows


def format_rows(rows: list[EvalRow]) -> str:
    """One line per language: the pipeline and the naive baseline side by side, and the gain."""
    header = (
        f"{'lang':<5}{'metric':<7}{'docs':>5}{'sents':>6} | {'pipeline':>8}{'naive':>8}{'gain':>7} | "
        f"{'BLEU p':>7}{'BLEU n':>7} | {'s/sent p':>9}{'s/sent n':>9} | {'flagged':>7}"
    )
    lines = [header, "-" * len(header)]
    for target in dict.fromkeys(r.target for r in rows):
        pipe = next((r for r in rows if r.target == target and r.system == "pipeline"), None)
        naive = next((r for r in rows if r.target == target and r.system == "naive"), None)
        if pipe is None:
            continue
        metric = "chrF" if target in ("zh", "ja") else "chrF++"

        def num(value: float | None, spec: str) -> str:
            width = int("".join(ch for ch in spec.split(".")[0] if ch.isdigit()))
            return format(value, spec) if value is not None else "-".rjust(width)

        gain = pipe.chrf - naive.chrf if naive else None
        lines.append(
            f"{target:<5}{metric:<7}{pipe.documents:>5}{pipe.sentences:>6} | {pipe.chrf:>8.1f}"
            f"{num(naive.chrf if naive else None, '>8.1f')}{num(gain, '>+7.1f')} | {pipe.bleu:>7.1f}"
            f"{num(naive.bleu if naive else None, '>7.1f')} | {pipe.seconds_per_sentence:>9.2f}"
            f"{num(naive.seconds_per_sentence if naive else None, '>9.2f')} | {pipe.flagged:>7}"
        )
    return "\n".join(lines)
