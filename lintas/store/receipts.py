"""Replay protection of inbound webhooks: each delivery id is accepted once (table ``webhook_receipts``).

:func:`claim_delivery` is meant to run inside the transaction that does the delivery's work (pass that
transaction's connection), so a delivery whose work fails and rolls back can be sent again with the same id.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete

from lintas.store.db import Bind, transaction, utcnow
from lintas.store.repo import insert_statement
from lintas.store.schema import webhook_receipts

__all__ = ["MAX_DELIVERY_ID", "claim_delivery", "prune_receipts"]

MAX_DELIVERY_ID = 200


def claim_delivery(bind: Bind, delivery_id: str, received_at: datetime | None = None) -> bool:
    """Record ``delivery_id``; False if it was recorded before (a replay). ValueError for a blank or long id."""
    if not delivery_id.strip() or len(delivery_id) > MAX_DELIVERY_ID:
        raise ValueError(f"a delivery id must be 1 to {MAX_DELIVERY_ID} characters")
    with transaction(bind) as conn:
        statement = (
            insert_statement(conn, webhook_receipts)
            .values(delivery_id=delivery_id, received_at=received_at or utcnow())
            .on_conflict_do_nothing(index_elements=["delivery_id"])
            .execution_options(preserve_rowcount=True)
        )
        return conn.execute(statement).rowcount == 1


def prune_receipts(bind: Bind, before: datetime) -> int:
    """Forget deliveries received before ``before`` (older ones are refused by their timestamp anyway)."""
    with transaction(bind) as conn:
        return conn.execute(delete(webhook_receipts).where(webhook_receipts.c.received_at < before)).rowcount
