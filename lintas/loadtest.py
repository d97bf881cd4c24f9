"""A bounded load run against ``lintas serve`` on loopback: concurrent ingests, then concurrent reads.

``lintas loadtest`` starts its own server (SQLite in a temporary directory, the fake engine, an admin API key
without a practical rate limit) unless ``--url`` names one (then ``--key`` is an API key of role ``ingest``), sends ``ingests`` article PUTs and then ``reads`` GETs of article status from
``concurrency`` client threads (each with its own keep-alive connection), and prints latency
percentiles and errors per phase.  The client
runs on the same machine as the server, so on a 2-core machine they share the CPU: the figures
are an upper bound of what the server alone would show.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["PhaseResult", "run_load", "start_server", "format_results", "free_port"]

_ARTICLE_HTML = (
    "Harga beras di pasar induk Jakarta naik 12 persen pada Senin, kata pedagang. "
    "Pemerintah berjanji menambah pasokan dari gudang Bulog minggu ini."
)


@dataclass
class PhaseResult:
    name: str
    latencies: list[float] = field(default_factory=list)  # seconds, successful requests
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    seconds: float = 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _article(i: int) -> bytes:
    return json.dumps(
        {
            "id": f"load-{i}",
            "headline": f"Harga beras naik di Jakarta, laporan nomor {i}",
            "body": [{"type": "paragraph", "html": _ARTICLE_HTML}],
        }
    ).encode("utf-8")


_LOCAL = threading.local()


def _request(
    base: urllib.parse.SplitResult, method: str, path: str, body: bytes | None, key: str | None = None
) -> tuple[int, float]:
    """One request on this thread's keep-alive connection (reconnecting once if the server closed it)."""
    headers = {"content-type": "application/json"} if body is not None else {}
    if key:
        headers["authorization"] = f"Bearer {key}"
    for retry in (False, True):
        conn = getattr(_LOCAL, "conn", None)
        if conn is None or retry:
            if conn is not None:
                conn.close()
            conn = _LOCAL.conn = http.client.HTTPConnection(base.hostname or "127.0.0.1", base.port or 80, timeout=60)
        started = time.perf_counter()
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            return response.status, time.perf_counter() - started
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            if retry:
                raise
    raise AssertionError("unreachable")


def _phase(
    name: str,
    base: urllib.parse.SplitResult,
    calls: list[tuple[str, str, bytes | None]],
    concurrency: int,
    key: str | None = None,
) -> PhaseResult:
    result = PhaseResult(name)

    def one(call: tuple[str, str, bytes | None]) -> tuple[int, float]:
        try:
            return _request(base, *call, key)
        except OSError:
            return 0, 0.0

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for status, seconds in pool.map(one, calls):
            result.statuses[status] = result.statuses.get(status, 0) + 1
            if 200 <= status < 300:
                result.latencies.append(seconds)
            else:
                result.errors += 1
    result.seconds = time.perf_counter() - started
    return result


def run_load(
    url: str, *, ingests: int = 200, reads: int = 2000, concurrency: int = 50, seed: int = 0, key: str | None = None
) -> list[PhaseResult]:
    """Ingest ``ingests`` articles concurrently, then read their status ``reads`` times (with API key ``key``)."""
    base = urllib.parse.urlsplit(url)
    rng = random.Random(seed)
    puts = [("PUT", f"/v1/articles/load-{i}", _article(i)) for i in range(ingests)]
    gets: list[tuple[str, str, bytes | None]] = [
        ("GET", f"/v1/articles/load-{rng.randrange(ingests)}", None) for _ in range(reads)
    ]
    return [_phase("ingest (PUT)", base, puts, concurrency, key), _phase("read (GET)", base, gets, concurrency, key)]


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _admin_key(db_url: str) -> str:
    """A new admin key in the database at ``db_url`` whose rate limit a load run does not reach."""
    from lintas.store import create_key, make_engine, upgrade

    engine = make_engine(db_url)
    try:
        upgrade(engine)
        return create_key(engine, "loadtest", "admin", rate_per_minute=10_000_000)[1]
    finally:
        engine.dispose()


def start_server(workdir: Path, engine: str = "fake") -> tuple[subprocess.Popen[bytes], str, str]:
    """``lintas serve`` on a free loopback port with its own SQLite database; waits until ready.

    Returns the process, its URL and an admin API key.
    """
    port = free_port()
    db_url = f"sqlite:///{workdir / 'load.sqlite'}"
    key = _admin_key(db_url)
    env = {**os.environ, "LINTAS_DATABASE_URL": db_url, "LINTAS_MEMORY": "off"}
    process = subprocess.Popen(
        [sys.executable, "-m", "lintas", "serve", "--engine", engine, "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    base = urllib.parse.urlsplit(url)
    for _ in range(300):
        try:
            if _request(base, "GET", "/readyz", None)[0] == 200:
                _LOCAL.conn = None
                return process, url, key
        except OSError:
            _LOCAL.conn = None
            time.sleep(0.1)
    process.terminate()
    raise RuntimeError("lintas serve did not become ready in 30 s")


def format_results(results: list[PhaseResult], concurrency: int) -> str:
    lines = [
        "| phase | requests | concurrency | errors | p50 ms | p90 ms | p99 ms | max ms | requests/s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        total = len(r.latencies) + r.errors
        lines.append(
            f"| {r.name} | {total} | {concurrency} | {r.errors} | {r.percentile(0.5) * 1000:.1f} | "
            f"{r.percentile(0.9) * 1000:.1f} | {r.percentile(0.99) * 1000:.1f} | "
            f"{(max(r.latencies) if r.latencies else float('nan')) * 1000:.1f} | {total / r.seconds:.0f} |"
        )
        odd = {k: v for k, v in r.statuses.items() if not 200 <= k < 300}
        if odd:
            lines.append(f"  {r.name}: non-2xx statuses {odd} (0 = connection error)")
    return "\n".join(lines)


def main_run(
    url: str | None,
    ingests: int,
    reads: int,
    concurrency: int,
    echo: Callable[[str], None] = print,
    key: str | None = None,
) -> list[PhaseResult]:
    if url:
        return run_load(url, ingests=ingests, reads=reads, concurrency=concurrency, key=key)
    with tempfile.TemporaryDirectory() as tmp:
        process, started_url, admin_key = start_server(Path(tmp))
        try:
            echo(f"started lintas serve at {started_url} (SQLite, fake engine)")
            return run_load(started_url, ingests=ingests, reads=reads, concurrency=concurrency, key=admin_key)
        finally:
            process.terminate()
            process.wait(timeout=30)
