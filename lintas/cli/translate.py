"""``lintas translate``: one article file into its editions."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click
from tqdm import tqdm

from lintas.cli.options import engine_option, targets_option
from lintas.engines import get_engine
from lintas.text.languages import parse_targets

__all__ = ["translate"]


@click.command()
@click.argument("article", type=click.Path(dir_okay=False, path_type=Path))
@targets_option()
@engine_option()
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("out"),
    show_default=True,
    help="Where the editions are written.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["html", "md", "json"]),
    default=None,
    help="Input format (default: from the file extension or content).",
)
def translate(article: Path, targets: str, engine_name: str, out_dir: Path, fmt: str | None) -> None:
    """Translate ARTICLE (HTML, Markdown with front matter, or JSON) into editions."""
    # the pipeline, the store and the readers take a second to import: only when a command needs them
    from lintas.ingest import ensure_indonesian, read_article
    from lintas.newsroom.options import configured_options
    from lintas.pipeline.translate import translate_article
    from lintas.publish.render import source_filename, write_edition, write_source
    from lintas.store.memory import configured_memory
    from lintas.text.assemble import split_article

    langs = parse_targets(targets)
    doc = read_article(article, fmt)
    ensure_indonesian(doc)
    options = configured_options(memory=configured_memory())
    total = len(split_article(doc)) * len(langs)
    started = time.perf_counter()
    engine = get_engine(engine_name)
    load_s = time.perf_counter() - started
    with tqdm(total=total, unit="seg", desc="translating", file=sys.stderr, dynamic_ncols=True) as bar:

        def progress(lang: str, n: int) -> None:
            bar.set_postfix_str(lang)
            bar.update(n)

        reports = translate_article(doc, langs, engine, progress=progress, options=options)
    source_page = write_source(doc, out_dir)
    for report in reports:
        edition = report.edition
        paths = write_edition(edition, out_dir, original_href=source_filename(doc.id, doc.source_lang))
        click.echo(
            f"{edition.target_lang}: {report.segments} segments, {report.retried} retried, "
            f"{report.flagged} flagged, {edition.status} (confidence {edition.confidence:.2f}), "
            f"{report.seconds:.1f}s -> {paths[1]}"
        )
        for reason in edition.hold_reasons[:3]:
            click.echo(f"  held: {reason}")
    click.echo(
        f"original: {source_page}; engine {engine.name} ({engine.model}), model load {load_s:.1f}s, "
        f"total {time.perf_counter() - started:.1f}s"
    )
