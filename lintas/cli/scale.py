"""``lintas bench`` and ``lintas backfill``: throughput, and whole archives."""

from __future__ import annotations

from pathlib import Path

import click

from lintas import settings
from lintas.cli.db import database, db_option
from lintas.errors import InputError

__all__ = ["bench", "backfill"]


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
    from lintas.measure.bench import format_table, run_bench

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


@click.command()
@click.argument("source")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where editions of a file archive go (OUT/<id>/<lang>.json).",
)
@click.option("--to", "targets", default="en,zh,ja,ar,fr", show_default=True, help="Target languages (file archives).")
@click.option(
    "--address", default=None, help="Ray cluster address (ray://host:10001, host:6379 or auto); default: a local Ray."
)
@click.option(
    "--engine",
    "engine_name",
    default=lambda: settings.current().engine,
    show_default="LINTAS_ENGINE",
    help="Engine name or module:Class.",
)
@click.option(
    "--replicas",
    type=click.IntRange(min=1),
    default=None,
    help="Engine replicas (default: one per Ray node), spread over the nodes.",
)
@click.option("--cpus-per-replica", type=click.FloatRange(min=0.1), default=1.0, show_default=True)
@click.option(
    "--batch-articles",
    type=click.IntRange(min=1),
    default=8,
    show_default=True,
    help="Articles per task sent to a replica.",
)
@click.option(
    "--threads", type=click.IntRange(min=1), default=16, show_default=True, help="Articles in flight inside a replica."
)
@db_option("With SOURCE=db: the database whose job queue is drained.")
@click.option(
    "--lease",
    type=click.FloatRange(min=5),
    default=120.0,
    show_default=True,
    help="With SOURCE=db: job lease seconds (renewed while running).",
)
def backfill(
    source: str,
    out_dir: Path | None,
    targets: str,
    address: str | None,
    engine_name: str,
    replicas: int | None,
    cpus_per_replica: float,
    batch_articles: int,
    threads: int,
    db_url: str,
    lease: float,
) -> None:
    """Translate an archive on Ray, resumably: SOURCE is a directory of articles, a .jsonl file, or 'db' (the
    database's job queue). Done editions are skipped; a killed run continues where it stopped."""
    import sys
    from contextlib import ExitStack

    from tqdm import tqdm

    from lintas.newsroom.backfill import open_source, run_backfill, summary_line
    from lintas.text.languages import parse_targets

    langs = parse_targets(targets)
    with ExitStack() as stack:
        bind = None
        if source == "db":
            bind = stack.enter_context(database(db_url))
            src = open_source(
                source, out=None, targets=langs, bind=bind, lease_seconds=lease, batch_articles=batch_articles
            )
        else:
            src = open_source(source, out=out_dir, targets=langs)
        bar = stack.enter_context(tqdm(total=0, unit="article", desc="backfill", file=sys.stderr, dynamic_ncols=True))

        def on_start(todo: int, done: int) -> None:
            bar.reset(total=todo)
            click.echo(f"{todo} articles to translate, {done} done already", err=True)

        def progress(articles: int, editions: int) -> None:
            bar.update(articles - bar.n)
            bar.set_postfix(editions=editions)

        summary = run_backfill(
            src,
            engine_spec=engine_name,
            address=address,
            replicas=replicas,
            cpus_per_replica=cpus_per_replica,
            batch_articles=batch_articles,
            threads=threads,
            progress=progress,
            on_start=on_start,
        )
    for error in summary.errors[:20]:
        click.echo(f"failed: {error}", err=True)
    click.echo(summary_line(summary))
    if summary.failed:
        raise SystemExit(1)
