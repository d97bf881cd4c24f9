"""Fit the quality estimate (lintas/data/quality/estimate.json) on the tune half of the dev split.

    lintas qe-bench --data ../shared/data/ntrex-dev --real tune --save runs/tune   # translate the tune half
    python scripts/fit_quality.py --data ../shared/data/ntrex-dev --editions runs/tune

Only tune-half documents are read (the split is lintas/data/eval/ntrex-dev-split.tsv); the test half is for
`lintas qe-bench --real test`, never for fitting.
"""

from __future__ import annotations

import argparse
import json
import subprocess
from pathlib import Path

from lintas.measure.evaluate import load_documents, split_documents
from lintas.measure.qereal import cross_validate, fit_model, line_records
from lintas.quality.estimate import MODEL_FILE
from lintas.text.languages import TARGETS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="the NTREX dev directory")
    parser.add_argument("--editions", type=Path, required=True, help="editions of the tune half (qe-bench --save)")
    parser.add_argument("--out", type=Path, default=MODEL_FILE)
    parser.add_argument(
        "--l2", type=float, nargs="+", default=[0.3, 1.0, 3.0, 10.0, 30.0], help="L2 penalties to choose from"
    )
    args = parser.parse_args()
    targets = list(TARGETS)
    docs = split_documents(load_documents(args.data, targets), "tune")
    records = line_records(docs, targets, args.editions)
    # the penalty: the best mean AUC over languages when each tune document is scored by a model fitted without it
    validated = {l2: cross_validate(records, targets, l2=l2) for l2 in args.l2}
    for l2, aucs in validated.items():
        print(f"l2 {l2}: cross-validated AUC " + ", ".join(f"{k} {v:.3f}" for k, v in aucs.items()))
    l2 = max(validated, key=lambda k: sum(validated[k].values()))
    model = fit_model(records, targets, l2=l2)
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    except OSError:
        commit = ""
    documents = sorted({r.doc for r in records})
    meta = {
        "fitted_on": f"tune half of ntrex-dev: {len(documents)} documents, {len(records)} lines over {len(targets)} "
        f"languages, editions made at commit {commit or '?'}",
        "bad_line": "sentence chrF (chrF++ for en/fr/ar) below bad_below: the lowest quarter of the tune half's lines",
        "documents": documents,
        "l2": l2,
        "cross_validated_auc": {lang: round(v, 3) for lang, v in validated[l2].items()},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({**meta, "model": model.to_json()}, indent=1, ensure_ascii=False) + "\n")
    for lang, m in model.languages.items():
        print(lang, "bad below", m.bad_below, "hold below", m.hold_below)


if __name__ == "__main__":
    main()
