"""Measure candidate-selection levers offline, on saved translations of one half of the dev split.

Each configuration is a folder ``lintas eval`` wrote (``pipeline/`` editions, ``naive/`` lines); the first is the
default route (through the English pivot), the second the direct route (``LINTAS_PIVOT=``):

    lintas eval --data ../shared/data/ntrex-dev --half tune --docs 10 --save runs/tune-default
    LINTAS_PIVOT= lintas eval --data ../shared/data/ntrex-dev --half tune --docs 10 --to zh,ja,ar,fr \\
        --save runs/tune-direct
    python scripts/eval_levers.py --data ../shared/data/ntrex-dev --half tune runs/tune-default runs/tune-direct

Per language it scores, against naive prompting + cleaning (chrF; the gain's 95% paired-bootstrap interval): each
route alone; choosing per line the route with the higher quality estimate; asking the second route only for lines
whose first-route estimate is under a threshold (and the share of lines that costs); the consensus (MBR, chrF
utility) of the two routes and the naive line; and the per-line oracle, the ceiling of any selection.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from lintas.measure.evaluate import (
    Document,
    chrf_metric,
    paired_bootstrap,
    read_naive,
    read_pipeline,
    references,
    saved_sample,
)
from lintas.measure.qereal import line_records, sentence_chrf
from lintas.quality.estimate import load_model
from lintas.text.languages import TARGETS


def estimates(docs: Sequence[Document], lang: str, directory: Path) -> list[float]:
    model = load_model()
    records = line_records(docs, [lang], directory)
    by_key = {(r.doc, r.line): r.estimate(model) for r in records}
    return [by_key.get((doc.id, n), 0.0) for doc in docs for n in range(len(doc.source))]


def mbr(candidates: Sequence[str], lang: str) -> int:
    """The candidate most like the others (mean sentence chrF against each other candidate)."""
    utility = chrf_metric(lang)
    scores = []
    for i, hyp in enumerate(candidates):
        others = [c for j, c in enumerate(candidates) if j != i]
        scores.append(sum(utility.sentence_score(hyp, [o]).score for o in others) / len(others))
    return max(range(len(candidates)), key=scores.__getitem__)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--half", choices=["tune", "test"], default="tune")
    parser.add_argument("--lines", type=int, default=8)
    parser.add_argument("--to", default=",".join(TARGETS))
    parser.add_argument("first", type=Path, help="eval folder of the first route (the default)")
    parser.add_argument("second", type=Path, help="eval folder of the second route")
    args = parser.parse_args()
    langs = args.to.split(",")
    docs = saved_sample(args.data, langs, args.half, args.lines, args.first)
    print(f"{args.half}: {len(docs)} documents, first {args.lines} lines")
    for lang in langs:
        refs = references(docs, lang)
        base = read_naive(docs, lang, args.first / "naive", clean=True).lines
        naive = read_naive(docs, lang, args.first / "naive", clean=False)
        first = read_pipeline(docs, lang, args.first / "pipeline")
        per_line = len(refs)
        cost_first, cost_naive = first.seconds / per_line, naive.seconds / per_line
        rows: dict[str, list[str]] = {"naive": naive.lines, "first route": first.lines}
        costs: dict[str, float] = {"naive": cost_naive, "first route": cost_first}
        if (args.second / "pipeline" / f"{docs[0].id}.{lang}.json").is_file():
            second = read_pipeline(docs, lang, args.second / "pipeline")
            rows["second route"] = second.lines
            cost_second = second.seconds / per_line
            costs["second route"] = cost_second
            costs["by estimate"] = cost_first + cost_second
            est1, est2 = estimates(docs, lang, args.first / "pipeline"), estimates(docs, lang, args.second / "pipeline")
            rows["by estimate"] = [
                b if e2 > e1 else a for a, b, e1, e2 in zip(first.lines, second.lines, est1, est2, strict=True)
            ]
            for cut in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8):
                doubted = [e1 < cut for e1 in est1]
                label = f"second if est<{cut} ({sum(doubted) / len(doubted):.0%})"
                costs[label] = cost_first + cost_second * sum(doubted) / len(doubted)
                rows[label] = [
                    b if d and e2 > e1 else a
                    for a, b, d, e1, e2 in zip(first.lines, second.lines, doubted, est1, est2, strict=True)
                ]
            costs["MBR of 3"] = cost_first + cost_second + cost_naive
            rows["MBR of 3"] = [
                (a, b, c)[mbr((a, b, c), lang)] for a, b, c in zip(first.lines, second.lines, base, strict=True)
            ]
            rows["oracle of 2"] = [
                max((a, b), key=lambda h: sentence_chrf(h, r, lang))
                for a, b, r in zip(first.lines, second.lines, refs, strict=True)
            ]
        metric = chrf_metric(lang)
        print(f"\n{lang}: naive + cleaning {metric.corpus_score(base, [refs]).score:.1f}")
        for name, hyps in rows.items():
            gain = paired_bootstrap(hyps, base, refs, lang)
            score = metric.corpus_score(hyps, [refs]).score
            cost = f"{costs[name]:.2f} s/line" if name in costs else ""
            print(f"  {name:<32} {score:6.1f}  gain {gain.gain:+5.1f} [{gain.low:+.1f}, {gain.high:+.1f}]  {cost}")


if __name__ == "__main__":
    main()
