"""``lintas backfill``: whole archives, on Ray."""

from __future__ import annotations

import sys
from contextlib import ExitStack
from pathlib import Path

import click
from tqdm import tqdm

from lintas.cli.db import database
from lintas.cli.options import db_option, engine_option, targets_option
from lintas.newsroom.backfill import open_source, run_backfill, summary_line
from lintas.text.languages import parse_targets

__all__ = ["backfill"]


@click.command()
@click.argument("source")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where editions of a file archive go (OUT/<id>/<lang>.json).",
)
@targets_option(help_text="Target languages (file archives).")
@click.option(
    "--address", default=None, help="Ray cluster address (ray://host:10001, host:6379 or auto); default: a local Ray."
)
@engine_option()
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
