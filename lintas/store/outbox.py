"""The outbox of outbound webhooks: deliveries written in the same transaction as what they announce.

:func:`enqueue` runs inside the caller's transaction (the worker's :func:`~lintas.store.queue.complete`), so an
edition and its deliveries are stored together or not at all, and a (url, event, key) is enqueued once.
Senders :func:`claim` due deliveries (a conditional UPDATE moves ``next_attempt_at`` a lease ahead, so two
senders never take the same one), then :func:`delivered` or :func:`failed` (exponential backoff; ``failed``
for good after :data:`MAX_ATTEMPTS`). A sender that dies mid-send leaves the delivery due again when its lease
ends: delivery is at least once, and receivers deduplicate by delivery id.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, func, select, update

from lintas.store.db import Bind, transaction, utcnow
from lintas.store.queue import backoff_seconds
from lintas.store.repo import insert_statement
from lintas.store.schema import DELIVERY_STATES, deliveries

__all__ = ["Delivery", "MAX_ATTEMPTS", "enqueue", "claim", "delivered", "failed", "counts"]

MAX_ATTEMPTS = 8  # with backoff_seconds: about 8.5 minutes of retries


@dataclass(frozen=True)
class Delivery:
    """A claimed delivery; ``attempts`` counts this one."""

    id: int
    url: str
    event: str
    event_key: str
    payload: dict[str, Any]
    attempts: int


def enqueue(conn: Connection, urls: Sequence[str], event: str, event_key: str, payload: dict[str, Any]) -> int:
    """Add a delivery of ``payload`` to each URL (inside the caller's transaction); returns how many were new."""
    now = utcnow()
    statement = (
        insert_statement(conn, deliveries)
        .on_conflict_do_nothing(index_elements=["url", "event", "event_key"])
        .execution_options(preserve_rowcount=True)
    )
    added = 0
    for url in dict.fromkeys(urls):
        row = {
            "url": url,
            "event": event,
            "event_key": event_key,
            "payload_json": json.dumps(payload, ensure_ascii=False, sort_keys=True),
            "state": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        added += conn.execute(statement, row).rowcount
    return added


def claim(bind: Bind, lease_seconds: float = 60.0, limit: int = 20) -> list[Delivery]:
    """Take up to ``limit`` due deliveries for ``lease_seconds`` (each attempt counted when it is taken)."""
    d = deliveries
    now = utcnow()
    taken: list[Delivery] = []
    with transaction(bind) as conn:
        rows = conn.execute(
            select(d.c.id, d.c.url, d.c.event, d.c.event_key, d.c.payload_json, d.c.attempts, d.c.next_attempt_at)
            .where(d.c.state == "pending", d.c.next_attempt_at <= now)
            .order_by(d.c.next_attempt_at, d.c.id)
            .limit(limit)
        ).all()
        for row in rows:
            moved = conn.execute(
                update(d)
                .where(d.c.id == row.id, d.c.state == "pending", d.c.next_attempt_at == row.next_attempt_at)
                .values(next_attempt_at=now + timedelta(seconds=lease_seconds), attempts=row.attempts + 1)
                .execution_options(preserve_rowcount=True)
            )
            if moved.rowcount == 1:
                payload = json.loads(row.payload_json)
                taken.append(Delivery(row.id, row.url, row.event, row.event_key, payload, row.attempts + 1))
    return taken


def delivered(bind: Bind, delivery_id: int) -> None:
    with transaction(bind) as conn:
        conn.execute(
            update(deliveries)
            .where(deliveries.c.id == delivery_id)
            .values(state="delivered", delivered_at=utcnow(), last_error=None)
        )


def failed(bind: Bind, delivery: Delivery, error: str) -> str:
    """Record a failed attempt; returns the new state (``pending`` again after a backoff, or ``failed``)."""
    state = "failed" if delivery.attempts >= MAX_ATTEMPTS else "pending"
    next_at = utcnow() + timedelta(seconds=backoff_seconds(delivery.attempts))
    with transaction(bind) as conn:
        conn.execute(
            update(deliveries)
            .where(deliveries.c.id == delivery.id)
            .values(state=state, next_attempt_at=next_at, last_error=error[:2000])
        )
    return state


def counts(bind: Bind) -> dict[str, int]:
    """Deliveries per state (every state present, 0 when none)."""
    with transaction(bind, write=False) as conn:
        rows = conn.execute(select(deliveries.c.state, func.count()).group_by(deliveries.c.state)).all()
    out = dict.fromkeys(DELIVERY_STATES, 0)
    out.update({state: int(n) for state, n in rows})
    return out
