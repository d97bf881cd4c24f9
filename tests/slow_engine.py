"""A slow fake engine for the worker's kill -9 test (``lintas worker --engine slow_engine:SlowFakeEngine``,
with tests/ on PYTHONPATH): the fake engine's output after a short random sleep per batch, so jobs are in flight
when a worker is killed."""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from typing import Any

from lintas.engines.fake import FakeEngine
from lintas.text.article import Segment


class SlowFakeEngine(FakeEngine):
    """:class:`FakeEngine` sleeping 0.05–0.15 s per batch (same name, model and output)."""

    def translate_batch(
        self,
        segments: Sequence[Segment],
        source_lang: str,
        target_lang: str,
        *,
        context: Sequence[tuple[Segment, str]] = (),
        attempt: int = 0,
    ) -> list[str]:
        time.sleep(random.uniform(0.05, 0.15))
        return super().translate_batch(segments, source_lang, target_lang, context=context, attempt=attempt)


class StuckFakeEngine(FakeEngine):
    """:class:`FakeEngine` that takes a minute per batch: a job that is still in hand when its worker is told to
    stop (``tests/test_hardening.py``)."""

    def translate_batch(
        self,
        segments: Sequence[Segment],
        source_lang: str,
        target_lang: str,
        *,
        context: Sequence[tuple[Segment, str]] = (),
        attempt: int = 0,
    ) -> list[str]:
        time.sleep(60)
        return super().translate_batch(segments, source_lang, target_lang, context=context, attempt=attempt)


class UnleasedSlowFakeEngine(SlowFakeEngine):
    """:class:`SlowFakeEngine` in a worker whose lease checks are off: the control of the kill -9 test, showing
    that its counters of jobs completed twice and editions announced twice can go above 0.

    Built on the worker's first job, it turns off, in that worker process only: lease renewal (the lease expires
    mid-job and another worker claims the job), the owner check of ``queue.complete`` (the worker that lost the
    lease still completes it) and the outbox's sending lease (two workers' notifiers send the same delivery).
    """

    def __init__(self, faults: Sequence[str] = (), persistent: bool = False) -> None:
        super().__init__(faults, persistent)
        disable_lease_checks()


def disable_lease_checks() -> None:
    """Patch :mod:`lintas.store.queue` and :mod:`lintas.store.outbox` in this process as described above."""
    from sqlalchemy import Connection, Row, select

    from lintas.store import outbox, queue
    from lintas.store.schema import jobs

    def owned(conn: Connection, job_id: int, worker_id: str) -> Row[Any] | None:
        return conn.execute(select(jobs).where(jobs.c.id == job_id)).first()

    queue.renew = lambda *args, **kwargs: True  # type: ignore[assignment]
    queue._owned = owned  # type: ignore[assignment]
    outbox.claim = _claim_without_lease  # type: ignore[assignment]


def _claim_without_lease(bind: Any, lease_seconds: float = 60.0, limit: int = 20) -> list[Any]:
    """:func:`lintas.store.outbox.claim` without its lease: every pending delivery, even one another sender holds."""
    import json

    from sqlalchemy import select

    from lintas.store.db import transaction
    from lintas.store.outbox import Delivery
    from lintas.store.schema import deliveries as d

    with transaction(bind) as conn:
        rows = conn.execute(
            select(d.c.id, d.c.url, d.c.event, d.c.event_key, d.c.payload_json, d.c.attempts)
            .where(d.c.state == "pending")
            .limit(limit)
        ).all()
    return [Delivery(r.id, r.url, r.event, r.event_key, json.loads(r.payload_json), r.attempts + 1) for r in rows]
