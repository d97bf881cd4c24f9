"""Measure the round-trip signal: each line's translation translated back into Indonesian and compared with the
source (sentence chrF), alone and beside the quality estimate, on saved editions of one half of the dev split.

    lintas qe-bench --data ../shared/data/ntrex-dev --real test --save runs/test --lines 6   # the editions
    python scripts/roundtrip_signal.py --data ../shared/data/ntrex-dev --half test --editions runs/test

The back-translations are kept next to the editions (``<doc>.<lang>.roundtrip.json``), so a rerun only does
what is missing. The engine is the embedded model (``LINTAS_ENGINE``), the same that made the editions. A line is
bad as in the estimate's model file (its sentence chrF below the language's ``bad_below``, chosen on tune).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from lintas import settings
from lintas.engines import get_engine
from lintas.measure.evaluate import load_documents, split_documents
from lintas.measure.qereal import LineRecord, auc, line_estimate, line_records, logistic_newton
from lintas.quality.backtranslate import backtranslation_flags
from lintas.quality.estimate import QualityModel, load_model
from lintas.text.article import Segment
from lintas.text.languages import TARGETS


def roundtrip(records: list[LineRecord], editions: Path, engine_name: str) -> dict[tuple[str, str, int], float]:
    """Each record's round-trip chrF, from the kept files or made now."""
    groups: dict[tuple[str, str], list[LineRecord]] = {}
    for record in records:
        groups.setdefault((record.doc, record.lang), []).append(record)
    scores: dict[tuple[str, str, int], float] = {}
    engine = None
    todo = {k: v for k, v in groups.items() if not (editions / f"{k[0]}.{k[1]}.roundtrip.json").exists()}
    with tqdm(total=sum(len(v) for v in todo.values()), unit="line", desc="back-translating") as bar:
        for (doc, lang), lines in groups.items():
            path = editions / f"{doc}.{lang}.roundtrip.json"
            if not path.exists():
                engine = engine or get_engine(engine_name)
                started = time.perf_counter()
                pairs = [
                    (Segment(f"l{r.line}", r.source, "headline" if r.line == 0 else "sentence"), r.hypothesis)
                    for r in lines
                ]
                found = backtranslation_flags(pairs, engine, "id", lang)
                kept = {
                    "lines": {str(r.line): round(score, 2) for r, (score, _) in zip(lines, found, strict=True)},
                    "seconds": round(time.perf_counter() - started, 2),
                }
                path.write_text(json.dumps(kept) + "\n")
                bar.update(len(lines))
            kept = json.loads(path.read_text())
            for r in lines:
                scores[(doc, lang, r.line)] = float(kept["lines"][str(r.line)])
    return scores


def _fit(x: np.ndarray, y: np.ndarray, l2: float = 1.0) -> np.ndarray:
    """P(bad | x) by logistic regression, with an intercept that the L2 penalty leaves alone."""
    penalty = np.full(x.shape[1] + 1, l2)
    penalty[0] = 0.0
    return logistic_newton(np.column_stack([np.ones(len(x)), x]), y, penalty)


def _columns(rows: list[LineRecord], scores: dict[tuple[str, str, int], float], model: QualityModel) -> np.ndarray:
    """Per line: the estimate's log-odds of a good line, and the round-trip chrF (scaled to 0-1)."""
    estimate = np.clip([line_estimate(r, model) for r in rows], 1e-4, 1 - 1e-4)
    return np.column_stack([np.log(estimate / (1 - estimate)), [scores[(r.doc, r.lang, r.line)] / 100 for r in rows]])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--half", choices=["tune", "test"], required=True)
    parser.add_argument("--editions", type=Path, required=True)
    parser.add_argument("--langs", default=",".join(TARGETS))
    parser.add_argument(
        "--tune-editions",
        type=Path,
        default=None,
        help="with --half test: tune-half editions (with their round trips) to fit estimate + round trip on",
    )
    args = parser.parse_args()
    langs = args.langs.split(",")
    docs = split_documents(load_documents(args.data, langs), args.half)
    docs = [d for d in docs if all((args.editions / f"{d.id}.{lang}.json").exists() for lang in langs)]
    records = line_records(docs, langs, args.editions)
    scores = roundtrip(records, args.editions, settings.current().engine)
    model = load_model()
    print(f"{args.half} half: {len(docs)} documents, {len(records)} lines")
    combined: dict[str, np.ndarray] = {}
    if args.tune_editions is not None:
        tune_docs = split_documents(load_documents(args.data, langs), "tune")
        tune_docs = [
            d for d in tune_docs if all((args.tune_editions / f"{d.id}.{x}.roundtrip.json").exists() for x in langs)
        ]
        tune = line_records(tune_docs, langs, args.tune_editions)
        tune_scores = roundtrip(tune, args.tune_editions, settings.current().engine)
        for lang in langs:
            rows = [r for r in tune if r.lang == lang]
            y = np.array([r.chrf < model.language(lang).bad_below for r in rows], dtype=float)
            combined[lang] = _fit(_columns(rows, tune_scores, model), y)
        print(f"estimate + round trip fitted on the tune half: {len(tune_docs)} documents, {len(tune)} lines")
    print(
        "| lang | lines | bad | round-trip chrF AUC | estimate AUC | estimate + round trip AUC "
        "| back-translation s/line (median) |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for lang in langs:
        rows = [r for r in records if r.lang == lang]
        bad = [r.chrf < model.language(lang).bad_below for r in rows]
        rt = [-scores[(r.doc, r.lang, r.line)] for r in rows]  # a low round-trip chrF: a likely bad line
        est = [1.0 - line_estimate(r, model) for r in rows]
        per_line = sorted(
            json.loads((args.editions / f"{d.id}.{lang}.roundtrip.json").read_text())["seconds"]
            / max(1, sum(1 for r in rows if r.doc == d.id))
            for d in docs
        )
        median = per_line[len(per_line) // 2] if per_line else float("nan")
        both = "-"
        if lang in combined:
            z = np.column_stack([np.ones(len(rows)), _columns(rows, scores, model)])
            both = f"{auc(list(z @ combined[lang]), bad):.2f}"
        print(
            f"| {lang} | {len(rows)} | {sum(bad)} | {auc(rt, bad):.2f} | {auc(est, bad):.2f} | {both} | {median:.1f} |"
        )


if __name__ == "__main__":
    main()
