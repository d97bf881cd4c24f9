"""Outbound webhooks: tell subscribers (the CMS, a cache purger, a social scheduler) that an edition is ready.

Configured by ``LINTAS_WEBHOOK_URLS`` (comma-separated) and ``LINTAS_WEBHOOK_SIGNING_SECRET``. When a worker stores
an edition it enqueues, in the same transaction (:mod:`lintas.store.outbox`), one ``edition.ready`` delivery per
URL; a :class:`Notifier` thread in the worker sends them. Each POST carries the JSON payload of
:func:`edition_event` and the headers ``X-Lintas-Event``, ``X-Lintas-Delivery`` (the delivery's id, the same on
every retry: deduplicate on it), ``X-Lintas-Timestamp`` and ``X-Lintas-Signature`` (:mod:`lintas.newsroom.signing`).
A 2xx answer is success; anything else is retried with backoff, up to :data:`~lintas.store.outbox.MAX_ATTEMPTS`.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
from sqlalchemy import Connection

from lintas import settings
from lintas.newsroom.signing import sign
from lintas.publish.site import page_path
from lintas.store import outbox
from lintas.store.db import Bind
from lintas.text.article import Edition
from lintas.version import __version__

__all__ = ["EVENT", "NotifyConfig", "Notifier", "edition_event", "enqueue_for", "send_due"]

EVENT = "edition.ready"
TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class NotifyConfig:
    urls: tuple[str, ...]
    secret: str
    public_url: str = ""

    @classmethod
    def from_settings(cls) -> NotifyConfig:
        urls = settings.current().webhook_urls
        for url in urls:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"LINTAS_WEBHOOK_URLS: {url!r} is not an http(s) URL")
        secret = settings.current().webhook_signing_secret.get_secret_value()
        if urls and not secret:
            raise ValueError("LINTAS_WEBHOOK_URLS is set but LINTAS_WEBHOOK_SIGNING_SECRET is empty")
        return cls(urls, secret, settings.current().public_url.strip().rstrip("/"))


def edition_event(edition: Edition, revision: int, section: str | None, public_url: str = "") -> dict[str, Any]:
    """The payload announcing ``edition`` (of article revision ``revision``)."""
    article = quote(edition.id, safe="")
    return {
        "event": EVENT,
        "article_id": edition.id,
        "revision": revision,
        "lang": edition.target_lang,
        "status": edition.status,  # held editions wait for an editor: not on the public page yet
        "confidence": edition.confidence,
        "hold_reasons": edition.hold_reasons,
        "headline": edition.headline,
        "page_url": public_url + page_path(edition.target_lang, section, edition.id, edition.headline),
        "json_url": f"{public_url}/v1/articles/{article}/editions/{edition.target_lang}?revision={revision}",
        "created_at": edition.created_at.isoformat(),
    }


def enqueue_for(config: NotifyConfig, edition: Edition, section: str | None) -> Callable[[Connection, int], object]:
    """An ``on_saved`` callback for :func:`lintas.store.queue.complete` that enqueues the edition's deliveries."""

    def on_saved(conn: Connection, revision: int) -> int:
        if not config.urls:
            return 0
        payload = edition_event(edition, revision, section, config.public_url)
        key = f"{edition.id}:{revision}:{edition.target_lang}"
        return outbox.enqueue(conn, config.urls, EVENT, key, payload)

    return on_saved


def _post(client: httpx.Client, config: NotifyConfig, delivery: outbox.Delivery) -> str | None:
    """POST one delivery; None on a 2xx answer, else why it failed."""
    body = json.dumps(delivery.payload, ensure_ascii=False, sort_keys=True).encode("utf-8")
    timestamp, delivery_id = str(int(time.time())), str(delivery.id)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"Lintas/{__version__}",
        "X-Lintas-Event": delivery.event,
        "X-Lintas-Delivery": delivery_id,
        "X-Lintas-Timestamp": timestamp,
        "X-Lintas-Signature": sign(config.secret, timestamp, delivery_id, body),
    }
    try:
        response = client.post(delivery.url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"
    if 200 <= response.status_code < 300:
        return None
    return f"HTTP {response.status_code}"


def send_due(bind: Bind, client: httpx.Client, config: NotifyConfig, limit: int = 20) -> dict[str, int]:
    """Send the due deliveries (up to ``limit``); returns how many were delivered, retried later and failed."""
    result = {"delivered": 0, "retry": 0, "failed": 0}
    for delivery in outbox.claim(bind, lease_seconds=TIMEOUT_SECONDS * 3, limit=limit):
        error = _post(client, config, delivery)
        if error is None:
            outbox.delivered(bind, delivery.id)
            result["delivered"] += 1
        else:
            state = outbox.failed(bind, delivery, error)
            result["failed" if state == "failed" else "retry"] += 1
    return result


class Notifier(threading.Thread):
    """Sends due deliveries every ``interval`` seconds until :meth:`stop`; errors are logged, never raised."""

    def __init__(self, bind: Bind, config: NotifyConfig, log: Callable[[str], None], interval: float = 1.0) -> None:
        super().__init__(name="lintas-notifier", daemon=True)
        self.bind, self.config, self.log, self.interval = bind, config, log, interval
        self._stop_event = threading.Event()

    def run(self) -> None:
        with httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False) as client:
            while not self._stop_event.is_set():
                try:
                    sent = send_due(self.bind, client, self.config)
                    if any(sent.values()):
                        self.log(
                            f"webhooks: {sent['delivered']} delivered, {sent['retry']} to retry, {sent['failed']} failed"
                        )
                except Exception as exc:  # the database is away: try again later
                    self.log(f"webhooks: cannot send ({type(exc).__name__}: {exc})")
                self._stop_event.wait(self.interval)

    def stop(self, timeout: float = 15.0) -> None:
        self._stop_event.set()
        self.join(timeout)
