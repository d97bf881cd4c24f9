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

from tqdm import tqdm

from lintas import settings
from lintas.engines import get_engine
from lintas.measure.evaluate import load_documents, split_documents
from lintas.measure.qereal import LineRecord, auc, line_estimate, line_records
from lintas.quality.backtranslate import backtranslation_flags
from lintas.quality.estimate import load_model
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--half", choices=["tune", "test"], required=True)
    parser.add_argument("--editions", type=Path, required=True)
    parser.add_argument("--langs", default=",".join(TARGETS))
    args = parser.parse_args()
    langs = args.langs.split(",")
    docs = split_documents(load_documents(args.data, langs), args.half)
    docs = [d for d in docs if all((args.editions / f"{d.id}.{lang}.json").exists() for lang in langs)]
    records = line_records(docs, langs, args.editions)
    scores = roundtrip(records, args.editions, settings.current().engine)
    model = load_model()
    print(f"{args.half} half: {len(docs)} documents, {len(records)} lines")
    print("| lang | lines | bad | round-trip chrF AUC | estimate AUC | back-translation s/line (median) |")
    print("| --- | --- | --- | --- | --- | --- |")
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
        print(f"| {lang} | {len(rows)} | {sum(bad)} | {auc(rt, bad):.2f} | {auc(est, bad):.2f} | {median:.1f} |")


if __name__ == "__main__":
    main()
