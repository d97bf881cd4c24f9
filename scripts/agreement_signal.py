"""Measure the agreement signal: how close each line's pipeline translation is to an independent candidate (the
naive prompt's, through the same output cleaning), alone and beside the quality estimate, from saved evaluation
runs. No model runs: both candidates come from ``lintas eval --save``.

    lintas eval --data ../shared/data/ntrex-dev --half tune --docs 10 --lines 8 --save runs/ev/tune
    lintas eval --data ../shared/data/ntrex-dev --half test --docs 12 --lines 8 --save runs/ev/test
    python scripts/agreement_signal.py --data ../shared/data/ntrex-dev --tune runs/ev/tune --test runs/ev/test

Agreement is the mean of the two directions' sentence chrF (chrF++ for en/fr/ar) between the two candidates. The
combination is a logistic regression over the estimate's logit and the agreement, fitted on the tune run and
scored on the test run. A line is bad as in the estimate's model file (its sentence chrF below ``bad_below``).
``--tune-for LANG=DIR`` takes one language's tune editions from another run (e.g. the run of its defaults).
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np

from lintas.engines.prompts import clean_output
from lintas.measure.evaluate import article_id, load_documents, split_documents
from lintas.measure.qereal import auc, line_estimate, line_records, logistic_newton, sentence_chrf
from lintas.quality.estimate import load_model
from lintas.text.languages import TARGETS

Row = tuple[float, float, float]  # estimate, agreement, the line's chrF against the reference


def rows(data: Path, half: str, runs: dict[str, Path]) -> dict[str, list[Row]]:
    model = load_model()
    docs = split_documents(load_documents(data, list(TARGETS)), half)
    by_id = {doc.id: doc for doc in docs}
    out: dict[str, list[Row]] = {lang: [] for lang in TARGETS}
    for lang in TARGETS:
        run = runs[lang]
        for record in line_records(docs, [lang], run / "pipeline"):
            doc = by_id[record.doc]
            path = run / "naive" / f"{article_id(doc)}.{lang}.json"
            naive = json.loads(path.read_text(encoding="utf-8"))["lines"] if path.is_file() else []
            if record.line >= len(naive):
                continue
            other = " ".join(clean_output(str(naive[record.line]), doc.source[record.line])[0].split())
            agreement = (
                sentence_chrf(record.hypothesis, other, lang) + sentence_chrf(other, record.hypothesis, lang)
            ) / 2
            out[lang].append((line_estimate(record, model), agreement, record.chrf))
    return out


def _logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="the NTREX dev directory")
    parser.add_argument("--tune", type=Path, required=True, help="a lintas eval --save run of the tune half")
    parser.add_argument("--test", type=Path, required=True, help="a lintas eval --save run of the test half")
    parser.add_argument("--tune-for", action="append", default=[], metavar="LANG=DIR")
    args = parser.parse_args()
    tune_runs = {lang: args.tune for lang in TARGETS}
    for item in args.tune_for:
        lang, _, directory = item.partition("=")
        tune_runs[lang] = Path(directory)
    tune = rows(args.data, "tune", tune_runs)
    test = rows(args.data, "test", {lang: args.test for lang in TARGETS})
    model = load_model()
    print("| lang | tune lines | test lines | bad share (test) | AUC estimate | AUC agreement | AUC both |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for lang in TARGETS:
        bad_below = model.language(lang).bad_below
        fit, scored = tune[lang], test[lang]
        x = np.array([[_logit(e), a / 100] for e, a, _ in fit])
        mean, scale = x.mean(0), x.std(0) + 1e-9
        z = np.hstack([np.ones((len(fit), 1)), (x - mean) / scale])
        good = np.array([1.0 if c >= bad_below else 0.0 for _, _, c in fit])
        weights = logistic_newton(z, good, np.array([0.0, 1.0, 1.0]))
        xt = np.array([[_logit(e), a / 100] for e, a, _ in scored])
        both = np.hstack([np.ones((len(scored), 1)), (xt - mean) / scale]) @ weights
        bad = [c < bad_below for _, _, c in scored]
        print(
            f"| {lang} | {len(fit)} | {len(scored)} | {sum(bad) / len(bad):.2f} | "
            f"{auc([-e for e, _, _ in scored], bad):.3f} | {auc([-a for _, a, _ in scored], bad):.3f} | "
            f"{auc([-float(s) for s in both], bad):.3f} |"
        )


if __name__ == "__main__":
    main()
