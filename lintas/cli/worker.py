"""``lintas worker``: translate the queued jobs of the database."""

from __future__ import annotations

import signal
import threading
from typing import Any

import click

from lintas.cli.db import open_database, prepare_database
from lintas.cli.options import db_option, engine_option
from lintas.engines import engine_class
from lintas.errors import InputError

__all__ = ["worker"]


@click.command()
@engine_option()
@db_option("Database (SQLAlchemy URL) holding the job queue.")
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
    # the worker, the pipeline and the store take a second and a half to import: only when the command runs
    from lintas.newsroom.notify import NotifyConfig
    from lintas.newsroom.options import configured_options  # desk terms, re-read as they change
    from lintas.newsroom.telemetry import WorkerMetrics
    from lintas.newsroom.worker import StopNow, default_worker_id, run_worker
    from lintas.store.memory import configured_memory

    cls = engine_class(engine_name)  # an unknown engine fails now, not on the first job
    worker_id = worker_id or default_worker_id()
    try:
        notify = NotifyConfig.from_settings()
    except ValueError as exc:
        raise InputError(str(exc)) from None
    bind, shown = open_database(db_url)
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
        prepare_database(bind, shown)
        metrics = WorkerMetrics()
        if metrics_port is not None:
            try:
                metrics.serve(metrics_port, metrics_host)
            except OSError as exc:
                raise InputError(
                    f"cannot serve metrics on {metrics_host}:{metrics_port}: {exc.strerror or exc}"
                ) from None
        memory = configured_memory()
        options = configured_options(bind, memory)
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
