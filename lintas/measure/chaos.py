"""The kill -9 test of ``lintas worker``: workers killed with SIGKILL while they hold a job's lease, then a count of
what was lost and of what happened twice.

:func:`chaos_run` queues articles × languages, runs ``lintas worker`` subprocesses with a webhook receiver
(:class:`WebhookReceiver`) attached, SIGKILLs busy ones, drains the queue and the outbox, and counts:

* per job, its successful completions (``queue.complete`` returned True: the worker's ``done`` log line), so a job
  completed twice shows as ``extra_completions``;
* per edition, the ``edition.ready`` POSTs the receiver got (signature checked), so an edition announced twice
  shows as ``extra_deliveries``. Deliveries are at least once: a worker killed between a POST and marking it
  delivered leaves it to be sent again with the same ``X-Lintas-Delivery`` id; those are counted apart
  (``redeliveries``), and ``editions_announced_twice`` counts editions with more than one delivery id, which is
  never expected;
* per kill, whether the victim held a live lease: checked in the database once it is dead (a dead process cannot
  take a lease), so ``kills_in_flight`` counts only verified kills.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import datetime
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from lintas.newsroom.notify import EVENT
from lintas.newsroom.signing import verify
from lintas.store import db, queue, repo
from lintas.store.db import Bind
from lintas.store.schema import deliveries, editions, jobs
from lintas.text.article import Article, Edition

__all__ = ["EditionKey", "WebhookReceiver", "chaos_run", "completions_in_logs", "duplicate_counts"]

EditionKey = tuple[str, int, str]  # (article id, revision, language)

SECRET = "chaos-webhook-secret"
_DONE = re.compile(r"^worker \S+: job (\d+) .*: done, ", re.MULTILINE)


# --- the webhook receiver -------------------------------------------------------------------------------------


class WebhookReceiver:
    """An HTTP server on loopback that records each signed ``edition.ready`` POST as (delivery id, edition key).

    Each answer waits ``delay`` seconds first (a receiver that takes time widens the window in which a sender can
    die mid-send). Unsigned or wrongly signed POSTs are answered 401 and counted in ``refused``.
    """

    def __init__(self, secret: str = SECRET, delay: float = 0.0) -> None:
        self.secret, self.delay = secret, delay
        self.posts: list[tuple[str, EditionKey]] = []
        self.refused = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="chaos-webhooks", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hook"

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def record(self, headers: Message, body: bytes) -> bool:
        """Record one POST; False when its signature or event is wrong."""
        delivery, timestamp = headers.get("X-Lintas-Delivery", ""), headers.get("X-Lintas-Timestamp", "")
        signed = verify(self.secret, timestamp, delivery, body, headers.get("X-Lintas-Signature", ""))
        if not signed or headers.get("X-Lintas-Event") != EVENT:
            with self._lock:
                self.refused += 1
            return False
        payload = json.loads(body)
        with self._lock:
            self.posts.append((delivery, (payload["article_id"], int(payload["revision"]), payload["lang"])))
        return True

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                ok = receiver.record(self.headers, body)
                time.sleep(receiver.delay)
                self.send_response(204 if ok else 401)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler


# --- counting -------------------------------------------------------------------------------------------------


def completions_in_logs(logs: Path) -> Counter[int]:
    """Successful completions per job id: the ``done`` lines of every worker log under ``logs``."""
    found: Counter[int] = Counter()
    for path in logs.glob("*.log"):
        found.update(int(job) for job in _DONE.findall(path.read_text(encoding="utf-8", errors="replace")))
    return found


def duplicate_counts(
    completions: Counter[int],
    done_jobs: set[int],
    posts: Sequence[tuple[str, EditionKey]],
    stored: set[EditionKey],
) -> dict[str, int]:
    """What happened more than once (or not at all) in a run, from the completions per job and the POSTs received.

    ``completions_unlogged``: done jobs whose worker was killed between the commit and its log line (not a
    duplicate). ``redeliveries``: POSTs of a delivery id received before (at-least-once delivery).
    """
    per_edition = Counter(key for _, key in posts)
    ids_per_edition = Counter(key for _, key in set(posts))
    return {
        "completions": sum(completions.values()),
        "jobs_completed_twice": sum(1 for n in completions.values() if n > 1),
        "extra_completions": sum(n - 1 for n in completions.values() if n > 1),
        "completions_unlogged": len(done_jobs - set(completions)),
        "deliveries": len(posts),
        "editions_delivered_twice": sum(1 for n in per_edition.values() if n > 1),
        "extra_deliveries": sum(n - 1 for n in per_edition.values() if n > 1),
        "redeliveries": len(posts) - len(set(posts)),
        "editions_announced_twice": sum(1 for n in ids_per_edition.values() if n > 1),
        "unannounced": len(stored - set(per_edition)),
    }


def _verify(bind: Bind, articles: Sequence[Article]) -> dict[str, int]:
    from lintas.text.assemble import split_article

    units = {a.id: len(split_article(a)) for a in articles}
    with db.transaction(bind, write=False) as conn:
        job_rows = conn.execute(select(jobs)).all()
        edition_rows = conn.execute(
            select(editions.c.article_id, editions.c.revision, editions.c.target_lang, editions.c.edition_json)
        ).all()
    per_job: Counter[EditionKey] = Counter((r.article_id, r.revision, r.target_lang) for r in edition_rows)
    incomplete = 0
    for row in edition_rows:
        edition = Edition.model_validate_json(row.edition_json)
        complete = len(edition.segments) == units.get(row.article_id, -1)
        incomplete += int(not complete or not all(s.target.strip() for s in edition.segments))
    keys = [(r.article_id, r.revision, r.target_lang) for r in job_rows]
    return {
        "articles": len(articles),
        "jobs": len(job_rows),
        "editions": len(edition_rows),
        "lost": sum(1 for k in keys if per_job.get(k, 0) == 0),
        "incomplete": incomplete,
        "failed": sum(1 for r in job_rows if r.state == "failed"),
        "unfinished": sum(1 for r in job_rows if r.state in ("queued", "running")),
        "reclaimed": sum(1 for r in job_rows if r.attempts > 1),
    }


def _done_jobs(bind: Bind) -> set[int]:
    with db.transaction(bind, write=False) as conn:
        return {int(job_id) for (job_id,) in conn.execute(select(jobs.c.id).where(jobs.c.state == "done"))}


def _stored_editions(bind: Bind) -> set[EditionKey]:
    with db.transaction(bind, write=False) as conn:
        rows = conn.execute(select(editions.c.article_id, editions.c.revision, editions.c.target_lang)).all()
    return {(r.article_id, int(r.revision), r.target_lang) for r in rows}


# --- the run --------------------------------------------------------------------------------------------------


class _Chaos:
    """The worker subprocesses of one run and the database they share."""

    def __init__(self, db_url: str, engine: str, lease: float, logs: Path, env: dict[str, str], seed: int) -> None:
        self.db_url, self.engine, self.lease, self.logs, self.env, self.seed = db_url, engine, lease, logs, env, seed
        self.bind = db.make_engine(db_url)
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.serial = 0
        self.deadline = time.monotonic()

    def in_time(self) -> bool:
        return time.monotonic() < self.deadline

    def left(self) -> float:
        return max(1.0, self.deadline - time.monotonic())

    def spawn(self, *extra: str) -> str:
        self.serial += 1
        worker_id = f"chaos-{self.seed}-{self.serial}"
        command = [sys.executable, "-m", "lintas", "worker", "--engine", self.engine, "--db", self.db_url]
        command += ["--id", worker_id, "--lease", str(self.lease), "--poll", "0.2", *extra]
        with open(self.logs / f"{worker_id}.log", "wb") as out:
            self.procs[worker_id] = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=self.env)
        return worker_id

    def remaining(self) -> int:
        c = queue.counts(self.bind)
        return c["queued"] + c["running"]

    def undelivered(self) -> int:
        with db.transaction(self.bind, write=False) as conn:
            query = select(func.count()).select_from(deliveries).where(deliveries.c.state == "pending")
            return int(conn.execute(query).scalar_one())

    def busy_workers(self) -> set[str]:
        """Live workers holding a live lease on a job with attempts to spare after this kill; of those, the ones
        whose job was killed the fewest times."""
        query = select(jobs.c.lease_owner, jobs.c.attempts).where(
            jobs.c.state == "running",
            jobs.c.attempts < jobs.c.max_attempts - 1,
            jobs.c.lease_expires_at > db.utcnow(),
        )
        with db.transaction(self.bind, write=False) as conn:
            owners = {owner: attempts for owner, attempts in conn.execute(query) if owner in self.procs}
        fewest = min(owners.values(), default=0)
        return {owner for owner, attempts in owners.items() if attempts == fewest}

    def held_lease(self, worker_id: str, at: datetime) -> bool:
        """Whether ``worker_id`` (dead now) still holds a running job whose lease was live at ``at``."""
        query = select(func.count()).where(
            jobs.c.state == "running", jobs.c.lease_owner == worker_id, jobs.c.lease_expires_at > at
        )
        with db.transaction(self.bind, write=False) as conn:
            return int(conn.execute(query).scalar_one()) > 0

    def kill(self, victim: str) -> bool:
        """SIGKILL ``victim``; True when it held a live lease at that moment (checked once it is dead)."""
        at = db.utcnow()
        self.procs[victim].kill()
        self.procs.pop(victim).wait()
        return self.held_lease(victim, at)

    def wait_ready(self) -> None:
        """Until each worker has said it started (its SIGTERM handler is in place), or has exited."""
        for worker_id, proc in self.procs.items():
            while proc.poll() is None and time.monotonic() < self.deadline:
                if f"worker {worker_id}: engine" in (self.logs / f"{worker_id}.log").read_text(errors="replace"):
                    break
                time.sleep(0.05)

    def wait_all(self) -> int:
        """Wait for every worker; the number that did not exit 0."""
        bad = sum(int(proc.wait(timeout=self.left()) != 0) for proc in self.procs.values())
        self.procs.clear()
        return bad

    def next_delivery_in(self) -> float:
        """Seconds until the next pending delivery is due (its sender's lease or backoff ends), 0.2 to 5."""
        with db.transaction(self.bind, write=False) as conn:
            query = select(func.min(deliveries.c.next_attempt_at)).where(deliveries.c.state == "pending")
            due = conn.execute(query).scalar_one_or_none()
        if due is None:
            return 0.2
        due = datetime.fromisoformat(due) if isinstance(due, str) else due
        due = due if due.tzinfo else due.replace(tzinfo=db.utcnow().tzinfo)
        return min(5.0, max(0.2, (due - db.utcnow()).total_seconds()))

    def close(self) -> None:
        for proc in self.procs.values():
            with contextlib.suppress(OSError):
                proc.kill()
            proc.wait()
        self.bind.dispose()


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
    receiver_delay: float = 0.05,
) -> dict[str, Any]:
    """Queue ``articles`` × ``targets`` in ``db_url``, run ``workers`` worker subprocesses (``lintas worker``)
    that announce each edition to a :class:`WebhookReceiver`, SIGKILL a random busy one (holding a live lease on
    a job killed the fewest times yet; waiting for one if none is) every ``kill_every`` seconds until ``kills``
    kills were verified in flight (at most ``2 * kills`` in all; each victim replaced by a new worker; a job is
    never killed on its second-to-last or last attempt, so the chaos alone cannot use up a job's attempts and fail
    it), SIGTERM the rest once they have started, drain the queue and the outbox with ``lintas worker --once``
    runs, and count the outcome.

    Returns ``kills`` (all SIGKILLs), ``kills_in_flight`` (those whose victim was verified to hold a live lease:
    one that finished its job between the choice and the kill is not), ``articles``,
    ``jobs``, ``editions``, ``lost`` (jobs without an edition), ``incomplete`` (editions whose segments do not
    match the source's units, or with an empty target), ``failed`` and ``unfinished`` jobs, ``reclaimed`` (jobs
    run more than once), ``discarded`` (completions refused because the lease was lost), ``bad_exits`` (workers
    stopped by SIGTERM or ``--once`` that did not exit 0), ``undelivered`` and ``refused`` webhooks, the counts
    of :func:`duplicate_counts`, and ``seconds``. ``env`` is added to the workers' environment; their stderr goes
    to ``log_dir`` (default: a temporary directory, removed at the end).
    """
    started = time.perf_counter()
    temp: tempfile.TemporaryDirectory[str] | None = None
    if log_dir is None:
        temp = tempfile.TemporaryDirectory(prefix="lintas-chaos-")
        log_dir = temp.name
    logs = Path(log_dir)
    logs.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    with WebhookReceiver(delay=receiver_delay) as receiver:
        hooks = {"LINTAS_WEBHOOK_URLS": receiver.url, "LINTAS_WEBHOOK_SIGNING_SECRET": receiver.secret}
        run = _Chaos(db_url, engine, lease_seconds, logs, {**os.environ, **(env or {}), **hooks}, seed)
        run.deadline = time.monotonic() + timeout
        try:
            db.upgrade(run.bind)
            for article in articles:
                repo.upsert_article(run.bind, article, list(targets))
            result = _kill_and_drain(run, rng, workers, kills, kill_every)
            result.update(_verify(run.bind, articles))
            result["undelivered"], result["refused"] = run.undelivered(), receiver.refused
            posts = list(receiver.posts)
            completions = completions_in_logs(logs)
            result.update(duplicate_counts(completions, _done_jobs(run.bind), posts, _stored_editions(run.bind)))
            result["discarded"] = _count_in_logs(logs, "edition discarded")
        finally:
            run.close()
            if temp is not None:
                temp.cleanup()
    result["seconds"] = round(time.perf_counter() - started, 1)
    return result


def _kill_and_drain(
    run: _Chaos, rng: random.Random, workers: int, kills: int, kill_every: tuple[float, float]
) -> dict[str, Any]:
    result = {"kills": 0, "kills_in_flight": 0, "bad_exits": 0}
    for _ in range(workers):
        run.spawn()
    while result["kills_in_flight"] < kills and result["kills"] < 2 * kills and run.in_time() and run.remaining():
        time.sleep(rng.uniform(*kill_every))
        run.wait_ready()  # every worker started: kills spread over several workers' jobs
        while not (busy := run.busy_workers()) and run.remaining() and time.monotonic() < run.deadline:
            time.sleep(0.05)  # kill while a job is in flight: wait for a worker to hold a lease
        if not busy:  # the queue ran dry (or time ran out)
            break
        result["kills_in_flight"] += int(run.kill(rng.choice(sorted(busy))))
        result["kills"] += 1
        run.spawn()
    run.wait_ready()
    for proc in run.procs.values():  # graceful: each puts its job back and sends what is due
        proc.terminate()
    result["bad_exits"] += run.wait_all()
    for _ in _drain_rounds(run, workers):
        result["bad_exits"] += run.wait_all()
    return result


def _drain_rounds(run: _Chaos, workers: int) -> Iterator[None]:
    """``lintas worker --once`` runs until the queue and the outbox are empty: the killed workers' leases expire
    (jobs, then deliveries), and the next run takes them."""
    first = True
    while time.monotonic() < run.deadline:
        if run.remaining():
            time.sleep(0 if first else 0.3)
            for _ in range(workers):
                run.spawn("--once")
        elif run.undelivered():
            time.sleep(run.next_delivery_in())
            run.spawn("--once")
        else:
            return
        first = False
        yield


def _count_in_logs(logs: Path, text: str) -> int:
    return sum(path.read_text(encoding="utf-8", errors="replace").count(text) for path in logs.glob("*.log"))
