"""The durable job queue: one job per (article revision, target language), claimed by workers under a lease.

A worker :func:`claim`\\ s a runnable job (queued and due, or running with an expired lease: the job of a worker
that died), keeps its lease alive with :func:`renew` while it translates, and ends with :func:`complete` (the
edition is saved and the job marked done in one transaction) or :func:`fail` (queued again with exponential
backoff, or failed for good after ``max_attempts``). ``complete``, ``fail`` and ``renew`` only act while the
worker still owns the lease, so a worker whose lease was taken over can never overwrite the new owner's work.
A worker that is told to stop :func:`release`\\ s its jobs: queued again at once, the attempt not counted.

Claiming is safe with any number of workers: PostgreSQL locks the picked row with
``SELECT ... FOR UPDATE SKIP LOCKED`` (concurrent claimers skip it), SQLite serialises writers with
``BEGIN IMMEDIATE`` (engines from :func:`lintas.store.db.make_engine`).

Times come from the clock of the process calling (UTC), so workers and the database should agree on the time
to within a small part of a lease.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, and_, case, func, or_, select, update

from lintas.store.db import AnyRow, Bind, is_configured, transaction, utcnow
from lintas.store.repo import insert_edition
from lintas.store.schema import JOB_STATES, jobs
from lintas.text.article import Edition

__all__ = [
    "Job",
    "MAX_BACKOFF_SECONDS",
    "claim",
    "renew",
    "complete",
    "fail",
    "release",
    "counts",
    "next_due",
    "backoff_seconds",
]

MAX_BACKOFF_SECONDS = 300.0


@dataclass(frozen=True)
class Job:
    """A claimed job: translate revision ``revision`` of article ``article_id`` into ``target_lang``.

    ``attempts`` counts this attempt (1 on the first claim).
    """

    id: int
    article_id: str
    revision: int
    target_lang: str
    attempts: int


def backoff_seconds(attempts: int) -> float:
    """How long a job that failed its ``attempts``-th attempt waits before it runs again: 2**attempts, at most 300."""
    return min(MAX_BACKOFF_SECONDS, 2.0 ** min(attempts, 64))


def _check_lease(lease_seconds: float) -> timedelta:
    if not lease_seconds >= 0:
        raise ValueError(f"lease_seconds must be >= 0, not {lease_seconds}")
    return timedelta(seconds=lease_seconds)


def _check_bind(bind: Bind) -> None:
    if isinstance(bind, Engine) and not is_configured(bind):
        raise ValueError("an SQLite engine for the queue must come from lintas.store.db.make_engine")


def claim(bind: Bind, worker_id: str, lease_seconds: float = 60) -> Job | None:
    """Take one runnable job for ``worker_id`` for ``lease_seconds``, or None when there is none.

    Runnable: queued with ``next_run_at`` due, or running with an expired lease (reclaimed; its
    ``last_error`` says whose lease expired). The oldest due job goes first. The job becomes running, owned by
    ``worker_id``, with its attempts counted. A reclaimed job that has already used all its attempts is marked
    failed instead (a job that keeps killing its workers must not loop forever).
    """
    _check_bind(bind)
    lease = _check_lease(lease_seconds)
    if not worker_id:
        raise ValueError("worker_id must not be empty")
    with transaction(bind) as conn:
        now = utcnow()
        runnable = or_(
            and_(jobs.c.state == "queued", jobs.c.next_run_at <= now),
            and_(jobs.c.state == "running", jobs.c.lease_expires_at <= now),
        )
        query = (
            select(jobs)
            .where(runnable)
            .order_by(jobs.c.next_run_at, jobs.c.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        while (row := conn.execute(query).first()) is not None:
            values: dict[str, object] = {"updated_at": now}
            if row.state == "running":
                values["last_error"] = f"lease of worker {row.lease_owner!r} expired (attempt {row.attempts})"
                if row.attempts >= row.max_attempts:
                    values.update(state="failed", lease_owner=None, lease_expires_at=None)
                    conn.execute(update(jobs).where(jobs.c.id == row.id).values(**values))
                    continue
            attempts = row.attempts + 1
            values.update(state="running", lease_owner=worker_id, lease_expires_at=now + lease, attempts=attempts)
            conn.execute(update(jobs).where(jobs.c.id == row.id).values(**values))
            return Job(row.id, row.article_id, row.revision, row.target_lang, attempts)
    return None


def _owned(conn: Connection, job_id: int, worker_id: str) -> AnyRow | None:
    """The job's row, locked, if it is running under ``worker_id``'s lease; else None."""
    return conn.execute(
        select(jobs)
        .where(jobs.c.id == job_id, jobs.c.state == "running", jobs.c.lease_owner == worker_id)
        .with_for_update()
    ).first()


def renew(bind: Bind, job_id: int, worker_id: str, lease_seconds: float = 60) -> bool:
    """Extend the lease to now + ``lease_seconds``; False when ``worker_id`` no longer owns the job.

    A lease that expired but was not reclaimed yet is still the worker's and can be renewed.
    """
    _check_bind(bind)
    lease = _check_lease(lease_seconds)
    with transaction(bind) as conn:
        now = utcnow()
        result = conn.execute(
            update(jobs)
            .where(jobs.c.id == job_id, jobs.c.state == "running", jobs.c.lease_owner == worker_id)
            .values(lease_expires_at=now + lease, updated_at=now)
        )
    return result.rowcount == 1


def complete(
    bind: Bind,
    job_id: int,
    worker_id: str,
    edition: Edition,
    *,
    on_saved: Callable[[Connection, int], object] | None = None,
) -> bool:
    """Save the job's edition (once: an existing one is kept) and mark the job done, in one transaction.

    Returns False, writing nothing, when ``worker_id`` no longer owns the job. Raises ValueError (writing
    nothing) when the edition is not of the job's article and language. ``on_saved(conn, revision)`` runs in the
    same transaction when the edition was stored (not when one existed): to enqueue what announces it.
    """
    _check_bind(bind)
    with transaction(bind) as conn:
        row = _owned(conn, job_id, worker_id)
        if row is None:
            return False
        if edition.id != row.article_id or edition.target_lang != row.target_lang:
            raise ValueError(
                f"edition {edition.id!r}/{edition.target_lang!r} does not belong to job {job_id} "
                f"({row.article_id!r}/{row.target_lang!r})"
            )
        if insert_edition(conn, edition, row.revision) and on_saved is not None:
            on_saved(conn, row.revision)
        now = utcnow()
        conn.execute(
            update(jobs)
            .where(jobs.c.id == job_id)
            .values(state="done", lease_owner=None, lease_expires_at=None, last_error=None, updated_at=now)
        )
    return True


def fail(bind: Bind, job_id: int, worker_id: str, error: str) -> str | None:
    """Record a failed attempt; returns the job's new state, or None when ``worker_id`` no longer owns it.

    With attempts left the job is queued again after ``backoff_seconds(attempts)``; otherwise it is failed.
    Either way ``last_error`` is ``error``.
    """
    _check_bind(bind)
    with transaction(bind) as conn:
        row = _owned(conn, job_id, worker_id)
        if row is None:
            return None
        now = utcnow()
        values: dict[str, object] = {
            "lease_owner": None,
            "lease_expires_at": None,
            "last_error": error,
            "updated_at": now,
        }
        if row.attempts < row.max_attempts:
            values.update(state="queued", next_run_at=now + timedelta(seconds=backoff_seconds(row.attempts)))
        else:
            values.update(state="failed")
        conn.execute(update(jobs).where(jobs.c.id == job_id).values(**values))
        return str(values["state"])


def release(bind: Bind, worker_id: str, reason: str) -> int:
    """Put every job running under ``worker_id``'s lease back in the queue, due now, the attempt not counted
    (a worker told to stop is not the job's fault); ``last_error`` says ``reason``. Returns how many."""
    _check_bind(bind)
    with transaction(bind) as conn:
        now = utcnow()
        result = conn.execute(
            update(jobs)
            .where(jobs.c.state == "running", jobs.c.lease_owner == worker_id)
            .values(
                state="queued",
                lease_owner=None,
                lease_expires_at=None,
                attempts=case((jobs.c.attempts > 0, jobs.c.attempts - 1), else_=0),
                next_run_at=now,
                last_error=reason,
                updated_at=now,
            )
        )
    return int(result.rowcount or 0)


def counts(bind: Bind) -> dict[str, int]:
    """The number of jobs in each state (every state present, 0 when none)."""
    result = dict.fromkeys(JOB_STATES, 0)
    with transaction(bind, write=False) as conn:
        for state, count in conn.execute(select(jobs.c.state, func.count()).group_by(jobs.c.state)):
            result[state] = int(count)
    return result


def next_due(bind: Bind) -> datetime | None:
    """When the next queued job becomes due (None when nothing is queued): lets an idle worker sleep until then."""
    with transaction(bind, write=False) as conn:
        return conn.execute(select(func.min(jobs.c.next_run_at)).where(jobs.c.state == "queued")).scalar_one_or_none()
