"""``lintas bench`` and ``lintas backfill``: throughput, and whole archives."""

from __future__ import annotations

from pathlib import Path

import click

from .errors import InputError

__all__ = ["bench"]


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
    "--size",
    type=click.Choice(["opus-mt", "tiny"]),
    default="opus-mt",
    show_default=True,
    help="Random-weight model for ctranslate2: OPUS-MT size (6+6 layers, d512, 32k vocabulary) or a tiny one.",
)
def bench(
    data_dir: Path, engines: tuple[str, ...], docs: int, llama_docs: int, out_tokens: int, threads: int, size: str
) -> None:
    """Raw engine vs whole pipeline on the same dev segments: segments/s, tokens/s, load time, peak memory."""
    from .bench import format_table, run_bench

    if not (data_dir / "ntrex.id.txt").is_file() or not (data_dir / "doc_ids.txt").is_file():
        raise InputError(f"{data_dir} has no ntrex.id.txt and doc_ids.txt (NTREX-style data)")
    rows = []
    for name in dict.fromkeys(engines):
        click.echo(f"measuring {name}...", err=True)
        rows += run_bench(
            [name], data_dir, docs=docs, llama_docs=llama_docs, out_tokens=out_tokens, threads=threads, size=size
        )
    click.echo(format_table(rows))
