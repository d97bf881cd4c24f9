"""Measuring commands: ``lintas eval``, ``qe-bench``, ``segbench``, ``bench`` and ``loadtest``."""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import click
from tqdm import tqdm

from lintas import settings
from lintas.cli.options import engine_option, targets_option
from lintas.engines import get_engine
from lintas.errors import InputError
from lintas.measure.loadtest import format_results, main_run
from lintas.measure.segbench import format_scores, segmentation_scores
from lintas.text.glossary import configured_glossary, load_glossary
from lintas.text.languages import TARGETS, parse_targets

__all__ = ["bench", "eval_cmd", "loadtest", "qe_bench", "segbench"]

# lintas.measure's evaluate, qebench, qereal and bench import the pipeline (a second): imported by their commands


@click.command("eval")
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="NTREX-style folder: doc_ids.txt and ntrex.<lang>.txt files (its documents must be in the tune/test split).",
)
@targets_option(default="en,zh,ja,ar,fr")
@click.option(
    "--half",
    type=click.Choice(["tune", "test"]),
    default="test",
    show_default=True,
    help="Half of the fixed split (lintas/data/eval/ntrex-dev-split.tsv): choose settings on tune, report on test.",
)
@click.option(
    "--docs", type=click.IntRange(min=1), default=None, help="Only the first N documents of the half.  [default: all]"
)
@click.option(
    "--lines",
    type=click.IntRange(min=1),
    default=8,
    show_default=True,
    help="First lines of each document (1: headline).",
)
@engine_option()
@click.option(
    "--save",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder for the translations (pipeline/ and naive/); a rerun reuses what is there.",
)
@click.option(
    "--memory",
    "memory_half",
    type=click.Choice(["none", "tune"]),
    default="none",
    show_default=True,
    help="Translation memory of the pipeline: none, or the tune half's documents with their references (all lines; "
    "on the tune half each document is translated without its own). For LINTAS_MEMORY_EXAMPLES.",
)
def eval_cmd(
    data_dir: Path,
    targets: str,
    half: str,
    docs: int | None,
    lines: int,
    engine_name: str,
    save: Path,
    memory_half: str,
) -> None:
    """The pipeline against naive prompting of the same engine, with and without the pipeline's output cleaning:
    chrF++ (chrF for zh/ja) and BLEU per language, the gain over naive + cleaning with its 95% paired-bootstrap
    interval, and seconds per segment."""
    from sqlalchemy import URL

    from lintas.measure.evaluate import (
        SPLIT_FILE,
        Document,
        article_seconds,
        compare,
        format_rows,
        load_documents,
        naive_half,
        split_documents,
        translate_half,
        write_memory_csv,
    )
    from lintas.pipeline.translate import Options
    from lintas.store.memory import TranslationMemory

    langs = parse_targets(targets)
    sample = split_documents(load_documents(data_dir, langs), half)[:docs]
    engine = get_engine(engine_name)
    naive = get_engine(engine_name, style="naive") if engine_name == "llamacpp" else engine
    options = Options.from_settings(configured_glossary())
    per_system = sum(min(lines, len(d.source)) for d in sample) * len(langs)
    started = time.perf_counter()
    memories: dict[str | None, TranslationMemory] = {}
    memory_docs = split_documents(load_documents(data_dir, list(TARGETS)), "tune") if memory_half == "tune" else []
    scratch = Path(tempfile.mkdtemp(prefix="lintas-eval-memory-")) if memory_docs else None

    def memory_for(doc: Document) -> TranslationMemory:
        """A memory of the tune half without ``doc`` (one for all test documents), in a scratch folder removed at
        the end."""
        assert scratch is not None
        leave_out = doc.id if any(d.id == doc.id for d in memory_docs) else None
        if leave_out not in memories:
            path = scratch / f"{len(memories)}.csv"
            write_memory_csv(memory_docs, path, leave_out=leave_out)
            memory = TranslationMemory(URL.create("sqlite", database=str(scratch / f"{len(memories)}.sqlite")))
            memory.import_csv(path, origin="approved")
            memories[leave_out] = memory
        return memories[leave_out]

    with tqdm(total=2 * per_system, unit="seg", desc=f"evaluating on {half}", file=sys.stderr) as bar:
        try:
            made = translate_half(
                sample,
                langs,
                engine,
                options,
                save / "pipeline",
                lines=lines,
                progress=bar.update,
                memory_for=memory_for if scratch else None,
            )
        finally:
            for memory in memories.values():
                memory.close()
            if scratch:
                shutil.rmtree(scratch, ignore_errors=True)
        made_naive = naive_half(sample, langs, naive, save / "naive", lines=lines, progress=bar.update)
    rows = compare(sample, langs, save / "pipeline", save / "naive", lines)
    totals = article_seconds(sample, save / "pipeline")
    click.echo(
        f"split {SPLIT_FILE.name}, {half} half: {len(sample)} documents, first {lines} lines each "
        f"({rows[0].lines if rows else 0} lines per language); engine {engine_name}"
    )
    click.echo(
        f"{made} pipeline articles and {made_naive} naive (document, language) runs made now in "
        f"{time.perf_counter() - started:.0f} s; the rest reused from {save}"
    )
    click.echo(format_rows(rows))
    if totals:
        click.echo(
            f"pipeline: median {statistics.median(totals):.1f} s per article into {len(langs)} languages "
            f"({sum(totals):.0f} s for {len(totals)} articles)"
        )


@click.command()
@click.option("--data", "data_dir", type=click.Path(file_okay=False, path_type=Path), required=True)
def segbench(data_dir: Path) -> None:
    """Sentence segmentation precision/recall/F1 on NTREX-style data."""
    if not (data_dir / "ntrex.id.txt").is_file():
        raise InputError(f"{data_dir} has no ntrex.id.txt")
    click.echo(format_scores(segmentation_scores(data_dir)))


@click.command("qe-bench")
@click.option("--data", "data_dir", type=click.Path(file_okay=False, path_type=Path), required=True)
@targets_option()
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Use only the first N documents.")
@click.option("--seed", type=int, default=13, show_default=True, help="Seed of the corruption suite.")
@click.option(
    "--translate",
    "translate_docs",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Also translate the first N documents with the engine and count what the checks flag.",
)
@engine_option()
@click.option(
    "--samples", type=click.IntRange(min=0), default=3, show_default=True, help="Flagged examples per language."
)
@click.option(
    "--save",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="With --translate: write the editions (JSON) here.",
)
@click.option(
    "--backtranslate",
    "back_cases",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Also run the back-translation check with the engine on N cases per type (first target language).",
)
@click.option(
    "--recheck",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help="Instead: run the current checks again on editions saved earlier with --save.",
)
@click.option(
    "--real",
    type=click.Choice(["tune", "test"]),
    default=None,
    help="Instead: translate this half of the tune/test split with the engine (editions kept in --save, resumable) "
    "and measure the quality estimate, the hold policy and the name table against the references.",
)
@click.option(
    "--half",
    type=click.Choice(["tune", "test"]),
    default=None,
    help="Only the documents of this half of the tune/test split (lintas/data/eval/ntrex-dev-split.tsv).",
)
@click.option(
    "--lines",
    type=click.IntRange(min=2),
    default=8,
    show_default=True,
    help="With --real: the first N lines of each document (headline included).",
)
def qe_bench(
    real: str | None,
    half: str | None,
    lines: int,
    recheck: Path | None,
    data_dir: Path,
    targets: str,
    limit: int | None,
    seed: int,
    translate_docs: int,
    engine_name: str,
    samples: int,
    save: Path | None,
    back_cases: int,
) -> None:
    """Detection and false-flag rates of the checks on a corruption suite built from references."""
    from lintas.measure.evaluate import load_documents, split_documents
    from lintas.measure.qebench import (
        BACK_TYPES,
        format_backtranslation,
        format_real,
        format_result,
        run_backtranslation,
        run_bench,
        run_real,
    )
    from lintas.measure.qebench import recheck as recheck_editions
    from lintas.pipeline.translate import Options

    langs = parse_targets(targets)
    glossary = configured_glossary() or load_glossary(starter=False)
    if real is not None:
        _qe_real(data_dir, real, langs, limit, lines, engine_name, glossary, save)
        return
    if recheck is not None:
        rows = recheck_editions(recheck, glossary)
        click.echo(format_real(rows, [lang for lang in langs if lang in rows], samples=samples))
        return
    docs = load_documents(data_dir, langs)
    docs = (split_documents(docs, half) if half else docs)[:limit]
    total = sum(len(d.source) for d in docs) * len(langs) * 12
    with tqdm(total=total, unit="case", desc="checking", file=sys.stderr, dynamic_ncols=True) as bar:
        result = run_bench(docs, langs, glossary, seed=seed, progress=bar.update)
    where = f", the {half} half" if half else ""
    click.echo(
        f"Corruption suite{where}: {len(docs)} documents, {sum(len(d.source) for d in docs)} segments, seed {seed}"
    )
    click.echo(format_result(result, langs))
    if translate_docs:
        engine = get_engine(engine_name)
        chosen = docs[:translate_docs]
        total = sum(len(d.source) for d in chosen) * len(langs)
        with tqdm(total=total, unit="seg", desc="translating", file=sys.stderr, dynamic_ncols=True) as bar:
            translated = run_real(
                chosen, langs, engine, Options.from_settings(glossary), progress=bar.update, save=save
            )
        click.echo("")
        click.echo(format_real(translated, langs, samples=samples))
    if back_cases:
        threshold = settings.current().backtranslate_min_chrf
        engine = get_engine(engine_name)
        with tqdm(total=back_cases * len(BACK_TYPES), unit="case", desc="back-translating", file=sys.stderr) as bar:
            scores = run_backtranslation(
                docs, langs[0], glossary, engine, per_type=back_cases, seed=seed, progress=bar.update
            )
        click.echo("")
        click.echo(format_backtranslation(scores, langs[0], threshold))


def _qe_real(
    data_dir: Path,
    half: str,
    langs: list[str],
    limit: int | None,
    lines: int,
    engine_name: str,
    glossary: Any,
    save: Path | None,
) -> None:
    """``qe-bench --real``: translate (or reuse) a half's editions, then report the estimate on them."""
    from lintas.measure.evaluate import load_documents, split_documents, translate_half
    from lintas.measure.qereal import format_report, line_records, report
    from lintas.pipeline.translate import Options

    if save is None:
        raise click.UsageError("--real needs --save DIR (the editions are kept there, and a rerun reuses them)")
    docs = split_documents(load_documents(data_dir, langs), half)[:limit]
    total = sum(min(lines, len(d.source)) for d in docs) * len(langs)
    started = time.perf_counter()
    with tqdm(total=total, unit="seg", desc=f"translating the {half} half", file=sys.stderr) as bar:
        made = translate_half(
            docs,
            langs,
            get_engine(engine_name),
            Options.from_settings(glossary),
            save,
            lines=lines,
            progress=bar.update,
        )
    records = line_records(docs, langs, save)
    click.echo(
        f"{half} half: {len({r.doc for r in records})} documents (first {lines} lines each), {len(records)} lines; "
        f"{made} translated now in {time.perf_counter() - started:.0f} s, the rest reused from {save}"
    )
    click.echo(format_report(report(records, langs)))


@click.command()
@click.option(
    "--url", default=None, help="A running `lintas serve` (default: start one on loopback, SQLite, fake engine)."
)
@click.option("--ingests", type=click.IntRange(min=1), default=200, show_default=True)
@click.option("--reads", type=click.IntRange(min=1), default=2000, show_default=True)
@click.option("--concurrency", type=click.IntRange(min=1, max=1000), default=200, show_default=True)
@click.option("--key", default=None, help="With --url: an API key of role ingest or higher.")
@click.option(
    "--cold",
    is_flag=True,
    help="No untimed warm-up before each read phase: its first reads make the answers the server keeps.",
)
def loadtest(url: str | None, ingests: int, reads: int, concurrency: int, key: str | None, cold: bool) -> None:
    """Concurrent article ingests, then reads (API status, public pages, feeds): latency percentiles and errors.

    With its own server the articles are translated (fake engine, not timed) before the reads, so the pages and
    feeds are those of published articles. Each read phase follows an untimed warm-up that reads each of its
    distinct requests 8 times (the steady state between two publications); --cold measures without it."""

    def echo(line: str) -> None:
        click.echo(line, err=True)

    results = main_run(url, ingests, reads, concurrency, echo=echo, key=key, cold=cold)
    click.echo(format_results(results, concurrency))
    if any(r.errors for r in results):
        sys.exit(1)


@click.command()
@click.option(
    "--data", "data_dir", type=click.Path(file_okay=False, path_type=Path), required=True, help="NTREX-style dev data."
)
@click.option(
    "--engine",
    "engines",
    type=click.Choice(["ctranslate2", "llamacpp"]),
    multiple=True,
    default=("ctranslate2", "llamacpp"),
    show_default=True,
    help="Engines to measure (repeat the option).",
)
@click.option("--docs", type=click.IntRange(min=1), default=62, show_default=True, help="Dev articles for ctranslate2.")
@click.option(
    "--llama-docs", type=click.IntRange(min=1), default=2, show_default=True, help="Dev articles for llamacpp."
)
@click.option(
    "--out-tokens", type=click.IntRange(min=1), default=32, show_default=True, help="Fixed output length (ctranslate2)."
)
@click.option(
    "--threads", type=click.IntRange(min=1), default=16, show_default=True, help="Articles in flight in the pipeline."
)
@click.option(
    "--repeat",
    type=click.IntRange(min=1),
    default=3,
    show_default=True,
    help="Runs of each (ctranslate2); the fastest counts.",
)
@click.option(
    "--llama-repeat", type=click.IntRange(min=1), default=1, show_default=True, help="Runs of each (llamacpp)."
)
@click.option(
    "--size",
    type=click.Choice(["opus-mt", "tiny"]),
    default="opus-mt",
    show_default=True,
    help="Random-weight model for ctranslate2: OPUS-MT size (6+6 layers, d512, 32k vocabulary) or a tiny one.",
)
def bench(
    data_dir: Path,
    engines: tuple[str, ...],
    docs: int,
    llama_docs: int,
    out_tokens: int,
    threads: int,
    repeat: int,
    llama_repeat: int,
    size: str,
) -> None:
    """Raw engine vs whole pipeline on the same dev segments: segments/s, tokens/s, load time, peak memory."""
    from lintas.measure.bench import format_table, run_bench  # imports the pipeline

    if not (data_dir / "ntrex.id.txt").is_file() or not (data_dir / "doc_ids.txt").is_file():
        raise InputError(f"{data_dir} has no ntrex.id.txt and doc_ids.txt (NTREX-style data)")
    rows = []
    for name in dict.fromkeys(engines):
        click.echo(f"measuring {name}...", err=True)
        rows += run_bench(
            [name],
            data_dir,
            docs=docs,
            llama_docs=llama_docs,
            out_tokens=out_tokens,
            threads=threads,
            size=size,
            repeat=repeat,
            llama_repeat=llama_repeat,
        )
    click.echo(format_table(rows))
