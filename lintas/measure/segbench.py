"""Sentence-boundary benchmark for :mod:`lintas.text.segment` on the NTREX-128 dev split.

Each article (consecutive lines with the same id in ``doc_ids.txt``) loses its headline; its body
sentences are joined, four at a time, into paragraphs separated by a single space.  A boundary is
the character offset where a sentence after the first starts within its paragraph; true
positives, false positives and false negatives are counted over the whole corpus.

Run as ``python -m lintas.measure.segbench [DATA_DIR]``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NotRequired, TypedDict

from lintas.text.segment import split_sentences

__all__ = ["SegmentationScores", "build_paragraphs", "format_scores", "load_articles", "segmentation_scores"]

DEFAULT_DATA_DIR = Path("/work/shared/data/ntrex-dev")
PARAGRAPH_SIZE = 4


def load_articles(data_dir: str | Path) -> list[tuple[str, list[str]]]:
    """Return ``(doc_id, lines)`` for each article, in file order (headline first)."""
    folder = Path(data_dir)
    ids = (folder / "doc_ids.txt").read_text(encoding="utf-8").splitlines()
    lines = (folder / "ntrex.id.txt").read_text(encoding="utf-8").splitlines()
    if len(ids) != len(lines):
        raise ValueError(f"{folder}: {len(ids)} doc ids but {len(lines)} Indonesian lines")
    articles: list[tuple[str, list[str]]] = []
    for doc_id, line in zip(ids, lines, strict=True):
        doc_id = doc_id.strip()
        if not articles or articles[-1][0] != doc_id:
            articles.append((doc_id, []))
        articles[-1][1].append(line.strip())
    return articles


def build_paragraphs(articles: list[tuple[str, list[str]]], size: int = PARAGRAPH_SIZE) -> list[tuple[str, list[int]]]:
    """Join body sentences into paragraphs; return ``(paragraph, gold boundary offsets)``."""
    paragraphs: list[tuple[str, list[int]]] = []
    for _doc_id, lines in articles:
        body = [s for s in lines[1:] if s]
        for i in range(0, len(body), size):
            chunk = body[i : i + size]
            starts: list[int] = []
            pos = 0
            for sentence in chunk:
                starts.append(pos)
                pos += len(sentence) + 1
            paragraphs.append((" ".join(chunk), starts[1:]))
    return paragraphs


class SegmentationScores(TypedDict):
    """:func:`segmentation_scores`'s result."""

    precision: float
    recall: float
    f1: float
    tp: int
    fp: int
    fn: int
    documents: int
    paragraphs: int
    sentences: int
    gold_boundaries: int
    predicted_boundaries: int
    errors: NotRequired[list[tuple[str, str]]]  # with ``with_errors``: (kind, context) pairs


def segmentation_scores(data_dir: str | Path, *, with_errors: bool = False) -> SegmentationScores:
    """Boundary precision, recall and F1 of :func:`split_sentences` on the NTREX dev folder.

    The result holds ``precision``, ``recall``, ``f1``, ``tp``, ``fp``, ``fn``, ``documents``,
    ``paragraphs``, ``sentences``, ``gold_boundaries`` and ``predicted_boundaries``; with
    ``with_errors`` also ``errors``: ``(kind, context)`` pairs where kind is ``"fp"`` or ``"fn"``
    and context shows the text around the offset with ``‖`` at the boundary.
    """
    articles = load_articles(data_dir)
    paragraphs = build_paragraphs(articles)
    tp = fp = fn = 0
    n_sentences = 0
    n_gold = n_pred = 0
    errors: list[tuple[str, str]] = []
    for text, gold_list in paragraphs:
        gold = set(gold_list)
        pred = {start for start, _end in split_sentences(text)[1:]}
        n_sentences += len(gold) + 1
        n_gold += len(gold)
        n_pred += len(pred)
        tp += len(gold & pred)
        fp += len(pred - gold)
        fn += len(gold - pred)
        if with_errors:
            for kind, offsets in (("fp", pred - gold), ("fn", gold - pred)):
                for off in sorted(offsets):
                    errors.append((kind, f"{text[max(0, off - 60) : off]}‖{text[off : off + 40]}"))
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    scores: SegmentationScores = {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "documents": len(articles),
        "paragraphs": len(paragraphs),
        "sentences": n_sentences,
        "gold_boundaries": n_gold,
        "predicted_boundaries": n_pred,
    }
    if with_errors:
        scores["errors"] = errors
    return scores


def format_scores(scores: SegmentationScores) -> str:
    """A small plain-text table of the scores."""
    rows = [
        ("documents", str(scores["documents"])),
        ("paragraphs", str(scores["paragraphs"])),
        ("sentences", str(scores["sentences"])),
        ("gold boundaries", str(scores["gold_boundaries"])),
        ("predicted boundaries", str(scores["predicted_boundaries"])),
        ("true positives", str(scores["tp"])),
        ("false positives", str(scores["fp"])),
        ("false negatives", str(scores["fn"])),
        ("precision", f"{scores['precision']:.4f}"),
        ("recall", f"{scores['recall']:.4f}"),
        ("F1", f"{scores['f1']:.4f}"),
    ]
    width = max(len(name) for name, _ in rows)
    value_width = max(len(value) for _, value in rows)
    rule = f"+-{'-' * width}-+-{'-' * value_width}-+"
    lines = [rule, f"| {'metric'.ljust(width)} | {'value'.rjust(value_width)} |", rule]
    lines += [f"| {name.ljust(width)} | {value.rjust(value_width)} |" for name, value in rows]
    lines.append(rule)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    data_dir = Path(args[0]) if args else DEFAULT_DATA_DIR
    scores = segmentation_scores(data_dir, with_errors=True)
    print(format_scores(scores))
    for kind, context in scores.get("errors", []):
        print(f"{kind}: {context}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
