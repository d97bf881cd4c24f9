"""Prometheus metrics of one app, on its own :class:`~prometheus_client.CollectorRegistry`.

Several apps can live in one process (tests do): nothing is registered on the global registry.

* ``lintas_jobs{state}``: jobs per queue state, read from the database at scrape time;
  ``lintas_store_up`` is 0 when that read failed.
* ``lintas_http_requests_total{method,route,status}`` and ``lintas_http_request_duration_seconds{method,route}``
  (``route`` is the route's template, e.g. ``/v1/articles/{article_id}``, so ids never become labels).
* ``lintas_translate_request_seconds``: the synchronous ``POST /v1/translate``.
* The translation work itself (time per article and language, segments per second, segment-cache hits) is
  measured where it happens, in each worker process: :mod:`lintas.newsroom.telemetry` (``lintas worker --metrics-port``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import Engine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lintas.store import queue
from lintas.store.schema import JOB_STATES

__all__ = ["CONTENT_TYPE_LATEST", "Metrics", "MetricsMiddleware"]

log = logging.getLogger(__name__)

_HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_TRANSLATE_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)


class _JobsCollector:
    """``lintas_jobs{state}`` and ``lintas_store_up``, from :func:`lintas.store.queue.counts` at scrape time."""

    def __init__(self, engine: Callable[[], Engine | None]) -> None:
        self._engine = engine

    def describe(self) -> Iterable[Metric]:
        yield GaugeMetricFamily("lintas_jobs", "Translation jobs per queue state.", labels=["state"])
        yield GaugeMetricFamily("lintas_store_up", "1 when the database answered the last scrape, else 0.")

    def collect(self) -> Iterable[Metric]:
        jobs = GaugeMetricFamily("lintas_jobs", "Translation jobs per queue state.", labels=["state"])
        up = GaugeMetricFamily("lintas_store_up", "1 when the database answered the last scrape, else 0.")
        engine = self._engine()
        counts: dict[str, int] | None = None
        if engine is not None:
            try:
                counts = queue.counts(engine)
            except Exception:  # a scrape must not fail because the database is down
                log.warning("metrics: cannot read the job counts", exc_info=True)
        if counts is not None:
            for state in JOB_STATES:
                jobs.add_metric([state], counts.get(state, 0))
        up.add_metric([], 1.0 if counts is not None else 0.0)
        yield jobs
        yield up


class Metrics:
    """The metrics of one app; :meth:`render` is the ``/metrics`` body."""

    def __init__(self, engine: Callable[[], Engine | None]) -> None:
        self.registry = CollectorRegistry()
        self.registry.register(_JobsCollector(engine))
        self.http_requests = Counter(
            "lintas_http_requests",
            "HTTP requests answered.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.http_seconds = Histogram(
            "lintas_http_request_duration_seconds",
            "Time to answer an HTTP request.",
            ["method", "route"],
            buckets=_HTTP_BUCKETS,
            registry=self.registry,
        )
        self.translate_seconds = Histogram(
            "lintas_translate_request_seconds",
            "Time spent translating in POST /v1/translate.",
            buckets=_TRANSLATE_BUCKETS,
            registry=self.registry,
        )

    # --- HTTP -----------------------------------------------------------------------------------------------

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.http_requests.labels(method, route, str(status)).inc()
        self.http_seconds.labels(method, route).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Counts and times every HTTP request by method, route template and status (pure ASGI)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "(unmatched)"
            self.metrics.observe_request(scope["method"], template, status, time.perf_counter() - started)
