"""Prometheus metrics of a worker process: what it translated, how fast, how much the segment cache saved.

Workers are separate processes, so each serves its own metrics (``lintas worker --metrics-port 9101``, the usual
Prometheus pattern of one target per process); the queue's sizes come from the database through the service's
``/metrics``.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

__all__ = ["WorkerMetrics"]

_ARTICLE_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, float("inf"))


class WorkerMetrics:
    """The metrics of one worker, on a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.jobs = Counter(
            "lintas_worker_jobs", "Jobs this worker ended, by outcome.", ["outcome"], registry=self.registry
        )
        self.translation_seconds = Histogram(
            "lintas_translation_seconds",
            "Time to translate one article into one language.",
            ["lang"],
            buckets=_ARTICLE_BUCKETS,
            registry=self.registry,
        )
        self.segments = Counter("lintas_translation_segments", "Segments translated.", ["lang"], registry=self.registry)
        self.segments_per_second = Gauge(
            "lintas_translation_segments_per_second",
            "Segments per second of the last translation, per language.",
            ["lang"],
            registry=self.registry,
        )
        self.cache_hits = Counter(
            "lintas_segment_cache_hits", "Segments taken from the segment cache.", registry=self.registry
        )
        self.cache_misses = Counter(
            "lintas_segment_cache_misses", "Segments sent to the engine (not in the cache).", registry=self.registry
        )

    def observe(self, lang: str, seconds: float, segments: int, hits: int, misses: int) -> None:
        """One job done: ``segments`` segments into ``lang`` in ``seconds``, ``hits`` of them from the cache."""
        self.jobs.labels("done").inc()
        self.translation_seconds.labels(lang).observe(max(0.0, seconds))
        self.segments.labels(lang).inc(max(0, segments))
        if seconds > 0:
            self.segments_per_second.labels(lang).set(segments / seconds)
        self.cache_hits.inc(max(0, hits))
        self.cache_misses.inc(max(0, misses))

    def serve(self, port: int, host: str = "127.0.0.1") -> None:
        """Serve ``/metrics`` on ``host:port`` from a daemon thread."""
        start_http_server(port, addr=host, registry=self.registry)
