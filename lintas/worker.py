"""``lintas worker``: durable processing of the store's job queue.

A worker loops: :func:`lintas.store.queue.claim` a job (one article revision, one target language), translate it
with :func:`lintas.pipeline.translate_article` while a background thread renews the job's lease, then
:func:`lintas.store.queue.complete` it (edition saved and job done in one transaction) or, on any exception,
:func:`lintas.store.queue.fail` it (queued again with backoff, failed for good after its last attempt).

A worker killed mid-job (``kill -9``, a crash, a lost machine) loses nothing: its lease expires and another worker
claims the job again; an edition is written once per (article revision, language), so nothing is duplicated
either, and a worker whose lease was taken over cannot complete the job (``complete`` refuses). The engine is
wrapped in :class:`lintas.engines.cache.CachedEngine`, so the work a killed worker finished (per batch) and the
segments of an article that did not change between revisions come from the segment cache.

:func:`chaos_run` is the kill -9 test: worker subprocesses killed with SIGKILL at random moments while they
translate, then a check that every job ended with exactly one complete edition.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.exc import OperationalError

from .article import Article, Edition
from .batching import Batcher
from .engines.base import Engine
from .engines.cache import CachedEngine
from .errors import InputError
from .ingest.language import warm_up
from .notify import TIMEOUT_SECONDS, Notifier, NotifyConfig, enqueue_for, send_due
from .pipeline import Options, translate_article
from .store import db, queue, repo
from .store.db import Bind
from .telemetry import WorkerMetrics

__all__ = ["StopNow", "run_worker", "resolve_engine", "engine_class", "default_worker_id", "warm_up", "chaos_run"]

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


def resolve_engine(spec: str, **options: Any) -> Engine:
    """An engine by registered name (:func:`lintas.engines.get_engine`) or as ``module:Class`` (imported)."""
    return engine_class(spec)(**options) if ":" in spec else _registered(spec, **options)


def _registered(name: str, **options: Any) -> Engine:
    from .engines import get_engine

    return get_engine(name, **options)


def engine_class(spec: str) -> Callable[..., Engine]:
    """The class named by ``module:Class``, or the registered engine's class (InputError when there is none)."""
    if ":" not in spec:
        from importlib.metadata import entry_points

        from .engines import ENGINES, engine_names

        target = ENGINES.get(spec) or next(
            (ep.value for ep in entry_points(group="lintas.engines") if ep.name == spec), None
        )
        if target is None:
            raise InputError(f"unknown engine {spec!r}: choose from {', '.join(engine_names())} or give module:Class")
        spec = target
    module_name, _, class_name = spec.partition(":")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise InputError(f"cannot load engine {spec!r}: {exc}") from None
    if not callable(cls):
        raise InputError(f"engine {spec!r} is not a class")
    return cls  # type: ignore[no-any-return]


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


@dataclass
class _Lazy:
    """The engine and options, built on the first job and kept for the life of the process."""

    engine: CachedEngine | None = None
    options: Options | None = None
    batcher: Batcher | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


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
      :class:`~lintas.engines.cache.CachedEngine` on ``bind``; ``options_factory()`` (default: plain
      :class:`~lintas.pipeline.Options`) likewise. If a factory raises, the job is failed (queued again) and the
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
    :class:`~lintas.notify.Notifier` thread sends them while the worker runs (and until they are sent, at most a
    few seconds, when it stops). ``metrics`` counts jobs, translation time, segments and cache hits.

    ``threads`` > 1: that many jobs run at once, sharing the one engine through a :class:`lintas.batching.Batcher`
    (a sentence-MT engine then gets the segments of all of them in one call; an HTTP engine gets concurrent
    requests; llama.cpp still translates one prompt at a time). ``max_jobs`` counts all threads' jobs.
    """
    if lease_seconds <= 0:
        raise ValueError(f"lease_seconds must be > 0, not {lease_seconds}")
    stop = stop or threading.Event()
    warm_up()
    lazy = _Lazy()
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
            _process(bind, job, engine_factory, options_factory, lazy, worker_id, lease_seconds, log, notify, metrics)

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


def _process(
    bind: Bind,
    job: queue.Job,
    engine_factory: Callable[[], Engine],
    options_factory: Callable[[], Options] | None,
    lazy: _Lazy,
    worker_id: str,
    lease_seconds: float,
    log: LogFn,
    notify: NotifyConfig | None = None,
    metrics: WorkerMetrics | None = None,
) -> None:
    started = time.perf_counter()
    what = f"worker {worker_id}: job {job.id} {job.article_id}@{job.revision} -> {job.target_lang}"
    hits = misses = 0
    try:
        with _LeaseKeeper(bind, job.id, worker_id, lease_seconds, log) as keeper:  # a model load is under it too
            with lazy.lock:  # threads share one engine, loaded once
                if lazy.engine is None or lazy.options is None or lazy.batcher is None:
                    try:
                        lazy.batcher = lazy.batcher or Batcher(engine_factory())
                        lazy.engine = lazy.engine or CachedEngine(lazy.batcher, bind)
                        lazy.options = lazy.options or (options_factory() if options_factory else Options())
                    except Exception as exc:
                        raise _StartError(exc) from exc
            engine, options = lazy.engine, lazy.options
            hits, misses = engine.hits, engine.misses
            article = repo.get_article(bind, job.article_id, job.revision)
            if article is None:
                raise LookupError(f"article {job.article_id!r} has no revision {job.revision}")
            with lazy.batcher.task():
                edition = _translate(article, job.target_lang, engine, options)
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


# --- the kill -9 test -----------------------------------------------------------------------------------------


def chaos_run(
    db_url: str,
    articles: Sequence[Article],
    targets: Sequence[str] = ("en", "zh", "ja", "ar", "fr"),
    *,
    workers: int = 3,
    kills: int = 8,
    seed: int = 0,
    engine: str = "fake",
    lease_seconds: float = 2.0,
    kill_every: tuple[float, float] = (0.5, 1.5),
    env: dict[str, str] | None = None,
    log_dir: str | Path | None = None,
    timeout: float = 120.0,
) -> dict[str, Any]:
    """Queue ``articles`` × ``targets`` in ``db_url``, run ``workers`` worker subprocesses (``lintas worker``),
    SIGKILL a random busy one (holding the lease of a job killed the fewest times yet; waiting for one if none is) every ``kill_every`` seconds
    (``kills`` times, each replaced by a new worker; a job is never killed on its second-to-last or last attempt,
    so the chaos alone cannot use up a job's attempts and fail it), SIGTERM the rest once they have started, drain the queue with
    ``lintas worker --once`` runs, and check the outcome.

    Returns counts: ``kills``, ``kills_in_flight`` (the victim held a job's lease: all of them), ``articles``, ``jobs``,
    ``editions``, ``lost`` (jobs without an edition), ``duplicated`` (extra editions of one job),
    ``incomplete`` (editions whose segments do not match the source's units, or with an empty target),
    ``failed`` and ``unfinished`` jobs, ``reclaimed`` (jobs run more than once), ``discarded`` (completions refused
    because the lease was lost), ``bad_exits`` (workers stopped by SIGTERM or ``--once`` that did not exit 0) and
    ``seconds``. ``env`` is added to the workers' environment; their stderr goes to ``log_dir`` (default: a
    temporary directory, removed at the end).
    """
    from sqlalchemy import select

    from .assemble import split_article
    from .store.schema import editions, jobs

    rng = random.Random(seed)
    started = time.perf_counter()
    bind = db.make_engine(db_url)
    temp = None if log_dir is not None else tempfile.TemporaryDirectory(prefix="lintas-chaos-")
    logs = Path(log_dir if log_dir is not None else temp.name)  # type: ignore[union-attr]
    logs.mkdir(parents=True, exist_ok=True)
    child_env = {**os.environ, **(env or {})}
    procs: dict[str, subprocess.Popen[bytes]] = {}
    serial = 0
    result: dict[str, Any] = {"kills": 0, "kills_in_flight": 0, "bad_exits": 0}

    def spawn(*extra: str) -> str:
        nonlocal serial
        serial += 1
        worker_id = f"chaos-{seed}-{serial}"
        command = [sys.executable, "-m", "lintas", "worker", "--engine", engine, "--db", db_url]
        command += ["--id", worker_id, "--lease", str(lease_seconds), "--poll", "0.2", *extra]
        with open(logs / f"{worker_id}.log", "wb") as out:
            procs[worker_id] = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=child_env)
        return worker_id

    def remaining() -> int:
        c = queue.counts(bind)
        return c["queued"] + c["running"]

    def busy_workers() -> set[str]:
        """Live workers holding a job's lease, when the job has attempts to spare after this kill; of those, the
        ones whose job was killed the fewest times."""
        query = select(jobs.c.lease_owner, jobs.c.attempts).where(
            jobs.c.state == "running", jobs.c.attempts < jobs.c.max_attempts - 1
        )
        with db.transaction(bind, write=False) as conn:
            owners = {owner: attempts for owner, attempts in conn.execute(query) if owner in procs}
        fewest = min(owners.values(), default=0)
        return {owner for owner, attempts in owners.items() if attempts == fewest}

    def wait_ready() -> None:
        """Until each worker has said it started (its SIGTERM handler is in place), or has exited."""
        for worker_id, proc in procs.items():
            while proc.poll() is None and time.monotonic() < deadline:
                if f"worker {worker_id}: engine" in (logs / f"{worker_id}.log").read_text(errors="replace"):
                    break
                time.sleep(0.05)

    deadline = time.monotonic() + timeout
    try:
        db.upgrade(bind)
        for article in articles:
            repo.upsert_article(bind, article, list(targets))
        for _ in range(workers):
            spawn()
        while result["kills"] < kills and remaining() and time.monotonic() < deadline:
            time.sleep(rng.uniform(*kill_every))
            wait_ready()  # every worker started: kills spread over several workers' jobs
            while not (busy := busy_workers()) and remaining() and time.monotonic() < deadline:
                time.sleep(0.05)  # kill while a job is in flight: wait for a worker to hold a lease
            if not busy:  # the queue ran dry (or time ran out)
                break
            victim = rng.choice(sorted(busy))
            procs[victim].kill()
            procs.pop(victim).wait()
            result["kills"] += 1
            result["kills_in_flight"] += 1
            spawn()
        wait_ready()
        for proc in procs.values():  # graceful: each finishes its current job
            proc.terminate()
        for proc in procs.values():
            result["bad_exits"] += int(proc.wait(timeout=max(1.0, deadline - time.monotonic())) != 0)
        procs.clear()
        while remaining() and time.monotonic() < deadline:  # the killed workers' leases expire, then --once drains
            for _ in range(workers):
                spawn("--once")
            for proc in procs.values():
                result["bad_exits"] += int(proc.wait(timeout=max(1.0, deadline - time.monotonic())) != 0)
            procs.clear()
            if remaining():
                time.sleep(0.3)
        result.update(_verify(bind, articles, split_article, editions, jobs))
    finally:
        for proc in procs.values():
            with contextlib.suppress(OSError):
                proc.kill()
            proc.wait()
        discarded = 0
        for path in logs.glob("*.log"):
            discarded += path.read_text(encoding="utf-8", errors="replace").count("edition discarded")
        result["discarded"] = discarded
        bind.dispose()
        if temp is not None:
            temp.cleanup()
    result["seconds"] = round(time.perf_counter() - started, 1)
    return result


def _verify(bind: Bind, articles: Sequence[Article], split_article: Any, editions: Any, jobs: Any) -> dict[str, int]:
    from sqlalchemy import select

    units = {a.id: len(split_article(a)) for a in articles}
    with db.transaction(bind, write=False) as conn:
        job_rows = conn.execute(select(jobs)).all()
        edition_rows = conn.execute(
            select(editions.c.article_id, editions.c.revision, editions.c.target_lang, editions.c.edition_json)
        ).all()
    per_job: dict[tuple[str, int, str], int] = {}
    incomplete = 0
    for row in edition_rows:
        key = (row.article_id, row.revision, row.target_lang)
        per_job[key] = per_job.get(key, 0) + 1
        edition = Edition.model_validate_json(row.edition_json)
        complete = len(edition.segments) == units.get(row.article_id, -1)
        incomplete += int(not complete or not all(s.target.strip() for s in edition.segments))
    keys = [(r.article_id, r.revision, r.target_lang) for r in job_rows]
    return {
        "articles": len(articles),
        "jobs": len(job_rows),
        "editions": len(edition_rows),
        "lost": sum(1 for k in keys if per_job.get(k, 0) == 0),
        "duplicated": sum(max(0, n - 1) for n in per_job.values()) + len(set(per_job) - set(keys)),
        "incomplete": incomplete,
        "failed": sum(1 for r in job_rows if r.state == "failed"),
        "unfinished": sum(1 for r in job_rows if r.state in ("queued", "running")),
        "reclaimed": sum(1 for r in job_rows if r.attempts > 1),
    }
