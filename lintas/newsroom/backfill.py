"""``lintas backfill``: a whole archive through the pipeline on Ray, resumable.

The driver (this process) reads the archive lazily, skips what is done, and hands batches of articles to engine
**replicas**: Ray actors that each load the engine once and translate their batch with
:func:`lintas.pipeline.batching.translate_many` (so a batching engine gets whole batches of segments). Ray runs locally by
default (a one-machine cluster started for the run) or on a cluster given by ``address``. Results come back to the
driver, which writes them; what was written is never redone:

* **files** (a directory of article files, or a JSONL file of article JSON objects): each edition is written to
  ``OUT/<article id>/<lang>.json`` (atomically: a temporary file renamed), and an article whose editions are all
  there is skipped. A killed run loses only the batches in flight;
* **the database** (``SOURCE`` = ``db``): the driver drains the job queue of :mod:`lintas.store.queue` like a fleet
  of workers: it claims jobs under a lease (renewed while they run), and completes each with its edition (which also
  enqueues the ``edition.ready`` webhook). A killed run's jobs come back when their lease expires.

Progress (articles, rate, ETA) goes to stderr; the summary is returned (:class:`Summary`).
"""

from __future__ import annotations

import json
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import ValidationError

from lintas import settings
from lintas.errors import InputError
from lintas.text.article import Article, Edition

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement, Select

    from lintas.store.db import Bind

__all__ = ["Work", "Summary", "FileSource", "DatabaseSource", "run_backfill", "open_source"]

ARTICLE_SUFFIXES = (".html", ".htm", ".md", ".markdown", ".json")


@dataclass
class Work:
    """One article and the languages it still needs (``jobs``: language -> job id, for the database)."""

    key: str
    article_json: str
    targets: list[str]
    jobs: dict[str, int] = field(default_factory=dict)


@dataclass
class Summary:
    articles: int = 0  # translated in this run
    editions: int = 0
    failed: int = 0
    skipped: int = 0  # done before this run
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    @property
    def per_minute(self) -> float:
        return self.articles / self.seconds * 60 if self.seconds else 0.0


class Source(Protocol):
    def pending(self) -> Iterator[Work]: ...

    def count(self) -> tuple[int, int]: ...  # (to do, done already)

    def save(self, work: Work, editions: dict[str, str], error: str | None) -> None: ...

    def close(self) -> None: ...


def _safe(article_id: str) -> str:
    return re.sub(r"[^\w.-]+", "-", article_id).strip(".-") or "article"


class FileSource:
    """Articles from a directory of files or a JSONL file; editions to ``out/<id>/<lang>.json``."""

    def __init__(self, path: Path, out: Path, targets: Sequence[str]) -> None:
        self.path, self.out, self.targets = path, out, list(targets)
        self._problems: dict[str, str] = {}  # unreadable inputs by place, reported and skipped
        if not path.exists():
            raise InputError(f"{path} does not exist")
        if path.is_file() and path.suffix != ".jsonl":
            raise InputError(f"{path}: give a directory of articles or a .jsonl file (one article JSON per line)")
        out.mkdir(parents=True, exist_ok=True)

    def _articles(self) -> Iterator[tuple[str, Article | None]]:
        from lintas.ingest import read_article

        if self.path.is_dir():
            out = self.out.resolve()
            files = (p for p in self.path.rglob("*") if p.suffix.lower() in ARTICLE_SUFFIXES)
            for file in sorted(p for p in files if not p.resolve().is_relative_to(out)):  # never our own output
                try:
                    yield str(file), read_article(file)
                except Exception as exc:
                    self._problems[str(file)] = f"{file}: {exc}"
                    yield str(file), None
            return
        with self.path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                try:
                    yield f"{self.path}:{number}", Article.model_validate_json(line)
                except ValidationError as exc:
                    first = exc.errors()[0]
                    where = ".".join(str(part) for part in first["loc"])
                    reason = f"{where}: {first['msg']}" if where else first["msg"]
                    self._problems[str(number)] = f"{self.path} line {number}: not an article ({reason})"
                    yield f"{self.path}:{number}", None

    def _missing(self, article: Article) -> list[str]:
        folder = self.out / _safe(article.id)
        return [t for t in self.targets if not (folder / f"{t}.json").is_file()]

    def count(self) -> tuple[int, int]:
        todo = done = 0
        for _where, article in self._articles():
            if article is not None:
                todo, done = (todo + 1, done) if self._missing(article) else (todo, done + 1)
        return todo, done

    @property
    def problems(self) -> list[str]:
        return list(self._problems.values())

    def pending(self) -> Iterator[Work]:
        for where, article in self._articles():
            if article is None:
                continue
            missing = self._missing(article)
            if missing:
                yield Work(key=f"{article.id} ({where})", article_json=article.model_dump_json(), targets=missing)

    def save(self, work: Work, editions: dict[str, str], error: str | None) -> None:
        for lang, edition_json in editions.items():
            edition = Edition.model_validate_json(edition_json)
            folder = self.out / _safe(edition.id)
            folder.mkdir(parents=True, exist_ok=True)
            partial = folder / f".{lang}.json.partial"
            partial.write_text(edition_json, encoding="utf-8")
            os.replace(partial, folder / f"{lang}.json")  # all or nothing

    def close(self) -> None:
        pass


class DatabaseSource:
    """The store's job queue: claim, renew, complete (see the module docs)."""

    def __init__(self, bind: Bind, lease_seconds: float = 120.0, batch_articles: int = 8) -> None:
        from lintas.newsroom.notify import NotifyConfig

        self.bind = bind
        self.lease = lease_seconds
        self.batch = batch_articles
        self.worker_id = f"backfill:{socket.gethostname()}:{os.getpid()}"
        self.notify = NotifyConfig.from_settings()
        self.held: set[int] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._renewer = threading.Thread(target=self._renew, name="lintas-backfill-leases", daemon=True)
        self._renewer.start()

    def _renew(self) -> None:
        from lintas.store import queue

        while not self._stop.wait(self.lease / 3):
            with self._lock:
                held = list(self.held)
            for job_id in held:
                if not queue.renew(self.bind, job_id, self.worker_id, self.lease):
                    with self._lock:
                        self.held.discard(job_id)

    def count(self) -> tuple[int, int]:
        """Articles (revisions) with a queued or running job, and those whose jobs are all done."""
        from sqlalchemy import func, select

        from lintas.store.db import transaction
        from lintas.store.schema import jobs

        def revisions(condition: ColumnElement[bool]) -> Select[int]:
            inner = select(jobs.c.article_id, jobs.c.revision).where(condition).distinct().subquery()
            return select(func.count()).select_from(inner)

        open_states = jobs.c.state.in_(("queued", "running"))
        with transaction(self.bind, write=False) as conn:
            todo = conn.execute(revisions(open_states)).scalar_one()
            touched = conn.execute(revisions(jobs.c.state.isnot(None))).scalar_one()
            finished = conn.execute(revisions(jobs.c.state == "done")).scalar_one()
        return todo, min(finished, touched - todo)

    def pending(self) -> Iterator[Work]:
        from lintas.store import queue, repo

        while True:
            claimed: dict[tuple[str, int], Work] = {}
            while len(claimed) < self.batch:
                job = queue.claim(self.bind, self.worker_id, self.lease)
                if job is None:
                    break
                with self._lock:
                    self.held.add(job.id)
                key = (job.article_id, job.revision)
                if key not in claimed:
                    article = repo.get_article(self.bind, job.article_id, job.revision)
                    if article is None:
                        queue.fail(self.bind, job.id, self.worker_id, f"article revision {key} is gone")
                        continue
                    claimed[key] = Work(f"{job.article_id}@{job.revision}", article.model_dump_json(), [])
                claimed[key].targets.append(job.target_lang)
                claimed[key].jobs[job.target_lang] = job.id
            if not claimed:
                return
            yield from claimed.values()

    def save(self, work: Work, editions: dict[str, str], error: str | None) -> None:
        from lintas.newsroom.notify import enqueue_for
        from lintas.store import queue

        for lang, job_id in work.jobs.items():
            if lang in editions:
                edition = Edition.model_validate_json(editions[lang])
                queue.complete(
                    self.bind,
                    job_id,
                    self.worker_id,
                    edition,
                    on_saved=enqueue_for(self.notify, edition, edition.section),
                )
            else:
                queue.fail(self.bind, job_id, self.worker_id, error or "no edition came back")
            with self._lock:
                self.held.discard(job_id)

    def close(self) -> None:
        self._stop.set()


def open_source(
    source: str,
    *,
    out: Path | None,
    targets: Sequence[str],
    bind: Bind | None = None,
    lease_seconds: float = 120.0,
    batch_articles: int = 8,
) -> Source:
    """The store's job queue (``db``: ``bind`` required, leases and batch size as given) or a file archive."""
    if source == "db":
        if bind is None:
            raise ValueError("the db source needs a database (bind)")
        return DatabaseSource(bind, lease_seconds, batch_articles)
    if out is None:
        raise InputError("give --out DIR: where the editions of a file archive are written")
    return FileSource(Path(source), out, targets)


class _Replica:
    """A Ray actor holding one engine (loaded once) and the pipeline options."""

    def __init__(self, engine_spec: str, threads: int) -> None:
        from lintas.engines import get_engine
        from lintas.newsroom.options import configured_options
        from lintas.store.memory import configured_memory

        self.engine = get_engine(engine_spec)
        self.options = configured_options(memory=configured_memory())
        self.threads = threads

    def translate(self, batch: list[tuple[str, str, list[str]]]) -> list[tuple[str, dict[str, str], str | None]]:
        """(key, article JSON, targets) in; (key, {lang: edition JSON}, error) out."""
        from lintas.pipeline.batching import translate_many

        articles = {key: Article.model_validate_json(article_json) for key, article_json, _ in batch}
        wanted = {key: targets for key, _, targets in batch}
        keys = {id(article): key for key, article in articles.items()}
        out: list[tuple[str, dict[str, str], str | None]] = []
        for result in translate_many(
            articles.values(),
            lambda article: wanted[keys[id(article)]],
            self.engine,
            threads=self.threads,
            options=self.options,
        ):
            key = keys[id(result.article)]
            if result.error is not None:
                out.append((key, {}, f"{type(result.error).__name__}: {result.error}"))
            else:
                out.append((key, {r.edition.target_lang: r.edition.model_dump_json() for r in result.reports}, None))
        return out


def _lintas_env() -> dict[str, str]:
    """The driver's LINTAS_* settings, for replicas on other machines."""
    return settings.environment()


def run_backfill(
    source: Source,
    *,
    engine_spec: str,
    address: str | None = None,
    replicas: int | None = None,
    cpus_per_replica: float = 1.0,
    batch_articles: int = 8,
    threads: int = 16,
    progress: Callable[[int, int], None] | None = None,
    on_start: Callable[[int, int], None] | None = None,
) -> Summary:
    """Translate what ``source`` still needs on Ray (see the module docs). ``progress(articles, editions)`` after
    each article; ``on_start(to_do, done_already)`` once counted."""
    try:
        import ray
    except ImportError:
        raise InputError("lintas backfill needs Ray: pip install 'lintas[ray]'") from None

    todo, done = source.count()
    summary = Summary(skipped=done)
    if on_start:
        on_start(todo, done)
    if todo == 0:
        source.close()
        return _with_problems(summary, source)
    started = time.perf_counter()
    local = not address
    env = {"env_vars": _lintas_env()}
    try:
        if local:
            ray.init(num_cpus=os.cpu_count() or 1, include_dashboard=False, log_to_driver=False, runtime_env=env)
        else:
            ray.init(address=address, log_to_driver=False, runtime_env=env)
    except Exception as exc:
        raise InputError(f"cannot start or reach Ray{f' at {address}' if address else ''}: {exc}") from None
    try:
        # one replica per machine unless told otherwise: a replica's engine uses all the cores it is given
        count = replicas or max(1, sum(1 for node in ray.nodes() if node.get("Alive")))
        actor = ray.remote(_Replica).options(
            num_cpus=cpus_per_replica, max_restarts=2, max_task_retries=2, scheduling_strategy="SPREAD"
        )
        pool = [actor.remote(engine_spec, threads) for _ in range(count)]
        summary = _drive(ray, pool, source, summary, batch_articles, progress)
    finally:
        source.close()
        ray.shutdown()
    summary.seconds = time.perf_counter() - started
    return summary


def _drive(
    ray: ModuleType,
    pool: list[Any],  # Ray actor handles (Ray types them as Any)
    source: Source,
    summary: Summary,
    batch_articles: int,
    progress: Callable[[int, int], None] | None,
) -> Summary:
    """Keep two batches in flight per replica; save each result as it arrives."""
    works = source.pending()
    in_flight: dict[Any, tuple[Any, dict[str, Work]]] = {}
    busy: dict[Any, int] = dict.fromkeys(range(len(pool)), 0)

    def submit(slot: int) -> bool:
        batch: dict[str, Work] = {}
        for work in works:
            batch[work.key] = work
            if len(batch) >= batch_articles:
                break
        if not batch:
            return False
        ref = pool[slot].translate.remote([(w.key, w.article_json, w.targets) for w in batch.values()])
        in_flight[ref] = (slot, batch)
        busy[slot] += 1
        return True

    exhausted = False
    for slot in range(len(pool)):
        for _ in range(2):
            exhausted = exhausted or not submit(slot)
    while in_flight:
        ready, _ = ray.wait(list(in_flight), num_returns=1)
        ref = ready[0]
        slot, batch = in_flight.pop(ref)
        busy[slot] -= 1
        try:
            results = ray.get(ref)
        except Exception as exc:  # the replica died for good: these articles stay to do
            results = [(key, {}, f"replica failed: {type(exc).__name__}: {exc}") for key in batch]
        for key, editions, error in results:
            work = batch[key]
            source.save(work, editions, error)
            if error is None and editions:
                summary.articles += 1
                summary.editions += len(editions)
            else:
                summary.failed += 1
                summary.errors.append(f"{key}: {error}")
            if progress:
                progress(summary.articles + summary.failed, summary.editions)
        if not exhausted:
            exhausted = not submit(slot)
    return _with_problems(summary, source)


def _with_problems(summary: Summary, source: Source) -> Summary:
    """Inputs that could not be read count as failures (they are named in ``errors``)."""
    problems = list(getattr(source, "problems", []))
    summary.errors += problems
    summary.failed += len(problems)
    return summary


def summary_line(summary: Summary) -> str:
    return json.dumps(
        {
            "translated_articles": summary.articles,
            "editions": summary.editions,
            "failed": summary.failed,
            "skipped_done_before": summary.skipped,
            "seconds": round(summary.seconds, 1),
            "articles_per_minute": round(summary.per_minute, 1),
        }
    )
