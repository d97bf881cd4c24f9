"""``lintas worker``: durable processing of the store's job queue.

A worker loops: :func:`lintas.store.queue.claim` a job (one article revision, one target language), translate it
with :func:`lintas.pipeline.translate.translate_article` while a background thread renews the job's lease, then
:func:`lintas.store.queue.complete` it (edition saved and job done in one transaction) or, on any exception,
:func:`lintas.store.queue.fail` it (queued again with backoff, failed for good after its last attempt).

A worker killed mid-job (``kill -9``, a crash, a lost machine) loses nothing: its lease expires and another worker
claims the job again; an edition is written once per (article revision, language), so nothing is duplicated
either, and a worker whose lease was taken over cannot complete the job (``complete`` refuses). The engine is
wrapped in :class:`lintas.store.engine_cache.CachedEngine`, so the work a killed worker finished (per batch) and the
segments of an article that did not change between revisions come from the segment cache.

:func:`lintas.measure.chaos.chaos_run` is the kill -9 test: worker subprocesses killed with SIGKILL while they hold a
job's lease, then a count of jobs completed twice and editions announced twice.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from sqlalchemy.exc import OperationalError

from lintas.engines.base import Engine
from lintas.engines.lazy import LazyEngine
from lintas.ingest.language import warm_up
from lintas.newsroom.notify import TIMEOUT_SECONDS, Notifier, NotifyConfig, enqueue_for, send_due
from lintas.newsroom.telemetry import WorkerMetrics
from lintas.pipeline.batching import Batcher
from lintas.pipeline.translate import Options, translate_article
from lintas.store import db, queue, repo
from lintas.store.db import Bind
from lintas.store.engine_cache import CachedEngine
from lintas.text.article import Article, Edition

__all__ = ["StopNow", "run_worker", "default_worker_id", "warm_up"]

LogFn = Callable[[str], None]


class StopNow(BaseException):
    """Raised in the worker's main thread (by ``lintas worker``'s SIGTERM/SIGINT handler) to stop at once:
    :func:`run_worker` puts the jobs in hand back in the queue and raises it again, with ``jobs_done`` set."""

    jobs_done = 0


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def default_worker_id() -> str:
    """``host:pid``: unique among the live workers of one database."""
    return f"{socket.gethostname()}:{os.getpid()}"


# --- the lease keeper -----------------------------------------------------------------------------------------


class _LeaseKeeper:
    """Renews a job's lease every ``lease_seconds / 3`` in a background thread until stopped.

    ``lost`` becomes True when a renewal finds the job no longer ours (another worker reclaimed it): the job still
    runs to its end, and ``complete`` refuses to save its edition.
    """

    def __init__(self, bind: Bind, job_id: int, worker_id: str, lease_seconds: float, log: LogFn) -> None:
        self.bind, self.job_id, self.worker_id = bind, job_id, worker_id
        self.lease_seconds, self.log = lease_seconds, log
        self.lost = False
        self.renewals = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{job_id}", daemon=True)

    def _run(self) -> None:
        interval = max(self.lease_seconds / 3, 0.05)
        while not self._done.wait(interval):
            try:
                if not queue.renew(self.bind, self.job_id, self.worker_id, self.lease_seconds):
                    self.lost = True
                    self.log(f"worker {self.worker_id}: job {self.job_id}: lease lost to another worker")
                    return
                self.renewals += 1
            except Exception as exc:  # a database hiccup: try again at the next tick, the lease may still hold
                self.log(f"worker {self.worker_id}: job {self.job_id}: lease renewal failed: {type(exc).__name__}")

    def __enter__(self) -> _LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._done.set()
        self._thread.join()


# --- the worker loop ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Loaded:
    """What goes with the worker's engine (a :class:`CachedEngine` around ``batcher``): the pipeline options."""

    options: Options
    batcher: Batcher


@dataclass(frozen=True)
class _Context:
    """What every job of one worker shares."""

    bind: Bind
    engine: LazyEngine[CachedEngine, _Loaded]  # built on the first job, kept for the life of the process
    worker_id: str
    lease_seconds: float
    log: LogFn
    notify: NotifyConfig | None
    metrics: WorkerMetrics | None


def _engine_loader(
    bind: Bind, engine_factory: Callable[[], Engine], options_factory: Callable[[], Options] | None
) -> LazyEngine[CachedEngine, _Loaded]:
    def make() -> tuple[CachedEngine, _Loaded]:
        try:
            batcher = Batcher(engine_factory())
            engine = CachedEngine(batcher, bind)
            options = options_factory() if options_factory else Options()
        except Exception as exc:
            raise _StartError(exc) from exc
        return engine, _Loaded(options, batcher)

    return LazyEngine(make)


def run_worker(
    bind: Bind,
    engine_factory: Callable[[], Engine],
    *,
    worker_id: str,
    lease_seconds: float = 60,
    poll_seconds: float = 1.0,
    stop: threading.Event | None = None,
    max_jobs: int | None = None,
    options_factory: Callable[[], Options] | None = None,
    exit_when_idle: bool = False,
    log: LogFn = _stderr,
    notify: NotifyConfig | None = None,
    metrics: WorkerMetrics | None = None,
    threads: int = 1,
) -> int:
    """Process jobs from the queue in ``bind`` until ``stop`` is set; returns the number of jobs processed.

    * ``engine_factory()`` is called once, on the first job (under its lease), and the engine is wrapped in a
      :class:`~lintas.store.engine_cache.CachedEngine` on ``bind``; ``options_factory()`` (default: plain
      :class:`~lintas.pipeline.translate.Options`) likewise. If a factory raises, the job is failed (queued again) and the
      exception propagates: a worker without an engine stops instead of burning every job's attempts.
      The checks' language identifier is loaded before the first claim (:func:`warm_up`).
    * While a job runs, its lease (``lease_seconds``) is renewed every third of it. A job that raises is
      :func:`~lintas.store.queue.fail`\\ ed with ``"<ExceptionType>: <message>"`` and the worker goes on.
    * No runnable job: sleep until the next queued job is due, at most ``poll_seconds`` (woken early by
      ``stop``); with ``exit_when_idle`` return instead (``lintas worker --once``). A database that cannot be
      reached while claiming (``OperationalError``) is logged and tried again after ``poll_seconds`` (at least 1 s).
    * ``max_jobs``: return after that many jobs. ``stop`` is checked between jobs: the current job ends. To stop
      at once, raise :class:`StopNow` in the main thread (a signal handler can): the jobs this worker holds are
      queued again right away (:func:`lintas.store.queue.release`, the attempt not counted) and StopNow goes on.

    Pivot: each job translates one language straight from the source (``pivot=""``), whatever ``LINTAS_PIVOT``
    says: going through English would translate the English edition again inside every other language's job.
    One line per job goes to ``log`` (stderr by default).

    ``notify``: each stored edition enqueues its outbound webhooks in the same transaction, and a
    :class:`~lintas.newsroom.notify.Notifier` thread sends them while the worker runs (and until they are sent, at most a
    few seconds, when it stops). ``metrics`` counts jobs, translation time, segments and cache hits.

    ``threads`` > 1: that many jobs run at once, sharing the one engine through a :class:`lintas.pipeline.batching.Batcher`
    (a sentence-MT engine then gets the segments of all of them in one call; an HTTP engine gets concurrent
    requests; llama.cpp still translates one prompt at a time). ``max_jobs`` counts all threads' jobs.
    """
    if lease_seconds <= 0:
        raise ValueError(f"lease_seconds must be > 0, not {lease_seconds}")
    stop = stop or threading.Event()
    warm_up()
    context = _Context(
        bind, _engine_loader(bind, engine_factory, options_factory), worker_id, lease_seconds, log, notify, metrics
    )
    notifier = Notifier(bind, notify, log) if notify is not None and notify.urls else None
    if notifier is not None:
        notifier.start()
    counter = _Counter(max_jobs)

    def loop() -> None:
        while not stop.is_set() and counter.more():
            try:
                job = queue.claim(bind, worker_id, lease_seconds)
                if job is None and not exit_when_idle:
                    stop.wait(_idle_seconds(bind, poll_seconds))
                    continue
            except OperationalError as exc:  # the database is away (restarting, locked): wait and try again
                reason = (str(exc.orig or exc).strip().splitlines() or ["?"])[0]
                log(f"worker {worker_id}: database unavailable ({reason}), trying again")
                stop.wait(max(poll_seconds, 1.0))
                continue
            if job is None:
                break
            counter.add()
            _process(context, job)

    try:
        if threads <= 1:
            loop()
        else:
            errors: list[BaseException] = []

            def guarded() -> None:
                try:
                    loop()
                except BaseException as exc:  # an engine that cannot start: every thread stops
                    errors.append(exc)
                    stop.set()

            # daemon: after StopNow the process exits without waiting for a job its thread still translates
            pool = [threading.Thread(target=guarded, name=f"lintas-job-{i}", daemon=True) for i in range(threads)]
            for thread in pool:
                thread.start()
            for thread in pool:
                thread.join()
            if errors:
                raise errors[0]
    except StopNow as order:
        stop.set()
        released = queue.release(bind, worker_id, f"worker {worker_id!r} stopped; its job was put back in the queue")
        log(f"worker {worker_id}: stopped, {released} job(s) put back in the queue")
        order.jobs_done = counter.count
        raise
    finally:
        if notifier is not None:
            notifier.stop()
            _drain(bind, notifier.config, log)
    return counter.count


class _Counter:
    """Jobs taken by all of a worker's threads, against ``max_jobs``."""

    def __init__(self, limit: int | None) -> None:
        self.limit, self.count, self._lock = limit, 0, threading.Lock()

    def more(self) -> bool:
        with self._lock:
            return self.limit is None or self.count < self.limit

    def add(self) -> None:
        with self._lock:
            self.count += 1


def _drain(bind: Bind, notify: NotifyConfig, log: LogFn) -> None:
    """Send what is due before the worker exits (a quick last pass, so ``--once`` runs announce their work)."""
    with httpx.Client(timeout=TIMEOUT_SECONDS) as client:
        try:
            send_due(bind, client, notify, limit=100)
        except Exception as exc:
            log(f"webhooks: cannot send ({type(exc).__name__}: {exc})")


def _idle_seconds(bind: Bind, poll_seconds: float) -> float:
    due = queue.next_due(bind)
    if due is None:
        return poll_seconds
    return min(poll_seconds, max(0.05, (due - db.utcnow()).total_seconds()))


def _process(context: _Context, job: queue.Job) -> None:
    bind, worker_id, log = context.bind, context.worker_id, context.log
    notify, metrics = context.notify, context.metrics
    started = time.perf_counter()
    what = f"worker {worker_id}: job {job.id} {job.article_id}@{job.revision} -> {job.target_lang}"
    hits = misses = 0
    try:
        with _LeaseKeeper(bind, job.id, worker_id, context.lease_seconds, log) as keeper:  # a model load is under it
            engine, loaded = context.engine.get()  # threads share one engine, loaded once
            hits, misses = engine.hits, engine.misses
            article = repo.get_article(bind, job.article_id, job.revision)
            if article is None:
                raise LookupError(f"article {job.article_id!r} has no revision {job.revision}")
            with loaded.batcher.task():
                edition = _translate(article, job.target_lang, engine, loaded.options)
        on_saved = enqueue_for(notify, edition, article.section) if notify is not None else None
        saved = queue.complete(bind, job.id, worker_id, edition, on_saved=on_saved)
    except Exception as exc:
        cause = exc.__cause__ if isinstance(exc, _StartError) and exc.__cause__ is not None else exc
        error = f"{type(cause).__name__}: {cause}"
        try:
            state = queue.fail(bind, job.id, worker_id, error)
        except Exception as db_exc:  # the lease will expire and the job run again
            state = f"not recorded ({type(db_exc).__name__})"
        if metrics is not None:
            metrics.jobs.labels("failed" if state == "failed" else "error").inc()
        if isinstance(exc, _StartError):
            log(f"{what}: cannot start the engine: {error} (job {state or 'lost'})")
            raise cause from None
        log(f"{what}: error after {time.perf_counter() - started:.2f}s: {error} (job {state or 'lost'})")
        return
    seconds = time.perf_counter() - started
    hit, missed = engine.hits - hits, engine.misses - misses
    if saved:
        status = f"done, {edition.status} ({edition.confidence:.2f})"
        if metrics is not None:
            metrics.observe(job.target_lang, seconds, len(edition.segments), hit, missed)
    else:
        status = "lease lost, edition discarded" + (" (renewal refused)" if keeper.lost else "")
        if metrics is not None:
            metrics.jobs.labels("lost").inc()
    log(f"{what}: {status} in {seconds:.2f}s, cache {hit}/{hit + missed}")


class _StartError(Exception):
    """The engine or options factory failed: the worker stops (after failing the job)."""


def _translate(article: Article, target: str, engine: Engine, options: Options) -> Edition:
    (report,) = translate_article(article, [target], engine, pivot="", options=options)
    return report.edition
