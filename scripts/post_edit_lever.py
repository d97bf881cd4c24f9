"""Measure the post-editing lever offline: the engine asked to correct the pipeline's own translation of each line.

The pipeline's lines come from a folder ``lintas eval`` wrote (``pipeline/`` editions, ``naive/`` lines) on one half
of the split. Every line is post-edited once with the embedded model (greedy; the prompt is ``PROMPT`` below, given
the Indonesian source and the pipeline's translation) and the answers are saved in ``<folder>/post-edit/`` (a rerun
reuses them). Per language it then scores, against naive prompting + cleaning (chrF++, chrF for zh/ja; the gain's
95% paired-bootstrap interval): the pipeline as it is; every line post-edited; and post-editing only the lines whose
quality estimate is under a threshold (the share of lines that costs), which is what a pipeline pass over doubted
segments would do. Seconds are the post-edit's own per line:

    lintas eval --data ../shared/data/ntrex-dev --half tune --docs 10 --save runs/tune-default
    python scripts/post_edit_lever.py --data ../shared/data/ntrex-dev --half tune --to en,zh,fr runs/tune-default
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from eval_levers import estimates  # a sibling script: python scripts/post_edit_lever.py puts scripts/ on the path
from tqdm import tqdm

from lintas.engines.llamacpp import LlamaCppEngine
from lintas.engines.prompts import clean_output
from lintas.measure.evaluate import (
    chrf_metric,
    paired_bootstrap,
    read_naive,
    read_pipeline,
    references,
    saved_sample,
)
from lintas.text.languages import get_language

PROMPT = (
    "Here is an Indonesian news sentence and its {lang} translation. The translation may contain mistakes: "
    "mistranslated words, wrong names or numbers, changed meaning, missing parts, or words left in another "
    "language.\n\nIndonesian: {source}\n{lang}: {draft}\n\nWrite the corrected {lang} translation. Keep what is "
    "right; change only what is wrong. Answer with the corrected translation only."
)


def post_edit(engine: LlamaCppEngine, source: str, draft: str, lang: str) -> str:
    name = get_language(lang).name
    messages = [{"role": "user", "content": PROMPT.format(lang=name, source=source, draft=draft)}]
    limit = 3 * len(engine.llm.tokenize(draft.encode("utf-8"), add_bos=False)) + 32
    result = engine.llm.create_chat_completion(messages=messages, temperature=0.0, top_k=1, max_tokens=limit)
    return str(result["choices"][0]["message"]["content"] or "").strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--half", choices=["tune", "test"], default="tune")
    parser.add_argument("--lines", type=int, default=8)
    parser.add_argument("--to", default="en,zh,fr")
    parser.add_argument("--naive", type=Path, default=None, help="naive/ folder, if not the run's own")
    parser.add_argument("run", type=Path, help="eval folder whose pipeline lines are post-edited")
    args = parser.parse_args()
    langs = args.to.split(",")
    docs = saved_sample(args.data, langs, args.half, args.lines, args.run)
    out = args.run / "post-edit"
    out.mkdir(exist_ok=True)
    engine = LlamaCppEngine()
    for lang in langs:
        path = out / f"{lang}.json"
        first = read_pipeline(docs, lang, args.run / "pipeline")
        sources = [line for doc in docs for line in doc.source]
        if not path.is_file():
            started = time.perf_counter()
            edited = []
            for source, draft in tqdm(list(zip(sources, first.lines, strict=True)), desc=f"post-editing {lang}"):
                edited.append(" ".join(clean_output(post_edit(engine, source, draft, lang), draft)[0].split()))
            seconds = time.perf_counter() - started
            path.write_text(json.dumps({"lines": edited, "seconds": seconds}, ensure_ascii=False, indent=1))
        saved = json.loads(path.read_text(encoding="utf-8"))
        edited, seconds = saved["lines"], float(saved["seconds"])
        refs = references(docs, lang)
        base = read_naive(docs, lang, (args.naive or args.run / "naive"), clean=True).lines
        est = estimates(docs, lang, args.run / "pipeline")
        rows = {"pipeline": (first.lines, first.seconds / len(refs)), "all post-edited": (edited, seconds / len(refs))}
        for cut in (0.3, 0.5, 0.7):
            doubted = [e < cut for e in est]
            share = sum(doubted) / len(doubted)
            hyps = [b if d else a for a, b, d in zip(first.lines, edited, doubted, strict=True)]
            rows[f"post-edited if est<{cut} ({share:.0%})"] = (
                hyps,
                first.seconds / len(refs) + share * seconds / len(refs),
            )
        metric = chrf_metric(lang)
        print(f"\n{lang}: naive + cleaning {metric.corpus_score(base, [refs]).score:.1f}")
        for name, (hyps, cost) in rows.items():
            gain = paired_bootstrap(hyps, base, refs, lang)
            versus = paired_bootstrap(hyps, first.lines, refs, lang)
            print(
                f"  {name:<34} {metric.corpus_score(hyps, [refs]).score:6.1f}  gain {gain.gain:+5.1f} "
                f"[{gain.low:+.1f}, {gain.high:+.1f}]  over the pipeline {versus.gain:+5.1f} "
                f"[{versus.low:+.1f}, {versus.high:+.1f}]  {cost:.2f} s/line"
            )


if __name__ == "__main__":
    main()
