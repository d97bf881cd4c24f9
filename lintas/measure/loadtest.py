"""A bounded load run against ``lintas serve`` on loopback: concurrent ingests, then concurrent reads.

``lintas loadtest`` starts its own server (SQLite in a temporary directory, the fake engine, an admin API key
without a practical rate limit) unless ``--url`` names one (then ``--key`` is an API key of role ``ingest``).
It sends ``ingests`` article PUTs over ``concurrency`` client connections (each kept alive, one asyncio loop),
then, with its own server, translates them with ``lintas worker --once`` (fake engine; not timed), and then runs
three read phases of ``reads`` GETs each: what the API reads (``read status``: ``GET /v1/articles/{id}``) and what
readers read (``read page``: the public pages of the articles, and ``read feed``: the six RSS feeds). The pages
are the ones the feeds link to (every published version; with ``--url``, what that server's workers have
published so far). Each read phase follows an untimed warm-up that reads each of its distinct requests 8 times
(the steady state of a site between two publications); ``cold`` leaves it out. It prints latency percentiles and
errors per phase. The client runs on the same machine as the server, so on a 2-core machine they share the CPU:
the figures are an upper bound of what the server alone would show.
"""

from __future__ import annotations

import asyncio
import contextlib
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
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "PhaseResult",
    "Server",
    "run_load",
    "warm_up_calls",
    "WARM_UP_ROUNDS",
    "start_server",
    "publish",
    "reader_paths",
    "format_results",
    "free_port",
]

FEED_LANGS = ("id", "en", "zh", "ja", "ar", "fr")
PHASES = ("ingest (PUT)", "read status (GET /v1/articles)", "read page (GET pages)", "read feed (GET feeds)")

Call = tuple[str, str, bytes | None]
WARM_UP_ROUNDS = 8

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


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, call: Call, key: str | None
) -> int:
    """One request on a keep-alive connection; the answer's status (its body read and dropped)."""
    method, path, body = call
    head = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    if key:
        head.append(f"Authorization: Bearer {key}")
    if body is not None:
        head += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + (body or b""))
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionResetError("the server closed the connection")
    status = int(status_line.split(b" ", 2)[1])
    length, chunked = 0, False
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        while (size := int((await reader.readline()).split(b";")[0], 16)) > 0:
            await reader.readexactly(size + 2)
        await reader.readline()
    elif length:
        await reader.readexactly(length)
    return status


async def _phase_async(
    name: str, base: urllib.parse.SplitResult, calls: list[Call], concurrency: int, key: str | None
) -> PhaseResult:
    result = PhaseResult(name)
    host, port = base.hostname or "127.0.0.1", base.port or 80
    pending = iter(calls)

    async def client() -> None:
        # each client opens its keep-alive connection before the timed requests (as a browser or a CDN keeps one
        # open); a refused or dropped connection counts as an error of the request it was for
        connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        for call in pending:
            for retry in (False, True):
                try:
                    if connection is None:
                        connection = await asyncio.open_connection(host, port)
                    started = time.perf_counter()
                    status = await _exchange(*connection, host, call, key)
                    seconds = time.perf_counter() - started
                    break
                except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
                    if connection is not None:
                        connection[1].close()
                        with contextlib.suppress(OSError):
                            await connection[1].wait_closed()
                    connection = None
                    status, seconds = 0, 0.0
                    if retry:
                        break
            result.statuses[status] = result.statuses.get(status, 0) + 1
            if 200 <= status < 300:
                result.latencies.append(seconds)
            else:
                result.errors += 1
        if connection is not None:
            connection[1].close()
            with contextlib.suppress(OSError):
                await connection[1].wait_closed()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(min(concurrency, len(calls)) or 1)))
    result.seconds = time.perf_counter() - started
    return result


def _phase(
    name: str,
    base: urllib.parse.SplitResult,
    calls: list[Call],
    concurrency: int,
    key: str | None = None,
) -> PhaseResult:
    """``calls`` sent by ``concurrency`` clients, each on its own keep-alive connection, each sending its next
    request as soon as its last one is answered (a closed loop: the clients wait for the server, never queue
    up behind it). One asyncio loop drives them all, so the client's own cost on the shared CPU stays small; it runs
    in a thread of its own, so a caller that has an event loop running (a notebook, a test) can call this too."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, _phase_async(name, base, calls, concurrency, key)).result()


def warm_up_calls(calls: Sequence[Call], rounds: int = WARM_UP_ROUNDS, seed: int = 1) -> list[Call]:
    """Each distinct request of ``calls`` ``rounds`` times, shuffled: read before a timed phase (not timed), so the
    phase measures a site whose answers were each read before, in every server process (a request lands on one
    of them by its connection: after 8 reads a path is still unread in one of two processes about once in 128)."""
    distinct = list(dict.fromkeys(calls))
    warm = distinct * rounds
    random.Random(seed).shuffle(warm)
    return warm


def run_load(
    url: str,
    *,
    ingests: int = 200,
    reads: int = 2000,
    concurrency: int = 50,
    seed: int = 0,
    key: str | None = None,
    publish_with: Callable[[], None] | None = None,
    cold: bool = False,
) -> list[PhaseResult]:
    """Ingest ``ingests`` articles concurrently, ``publish_with()`` them (when given), then the read phases of
    ``reads`` GETs each: article status (with API key ``key``), public pages and feeds (no key). Unless ``cold``,
    each read phase follows an untimed warm-up (:func:`warm_up_calls`): readers read a page many times between
    two publications, and the first read of each, which makes the kept answer, is measured with ``cold``."""
    base = urllib.parse.urlsplit(url)
    rng = random.Random(seed)
    puts: list[Call] = [("PUT", f"/v1/articles/load-{i}", _article(i)) for i in range(ingests)]
    results = [_phase(PHASES[0], base, puts, concurrency, key)]
    if publish_with is not None:
        publish_with()
    statuses: list[Call] = [("GET", f"/v1/articles/load-{rng.randrange(ingests)}", None) for _ in range(reads)]
    pages = reader_paths(base)
    page_calls: list[Call] = [("GET", rng.choice(pages), None) for _ in range(reads if pages else 0)]
    feeds: list[Call] = [("GET", f"/{rng.choice(FEED_LANGS)}/feed.xml", None) for _ in range(reads)]
    for name, calls, phase_key in (
        (PHASES[1], statuses, key),
        (PHASES[2], page_calls, None),
        (PHASES[3], feeds, None),
    ):
        if not cold:
            _phase(f"{name}, warm-up", base, warm_up_calls(calls), concurrency, phase_key)
        results.append(_phase(name, base, calls, concurrency, phase_key))
    return results


def reader_paths(base: urllib.parse.SplitResult, langs: Sequence[str] = FEED_LANGS) -> list[str]:
    """The paths of the public pages the feeds in ``langs`` link to (read once, before the timed phases)."""
    paths: list[str] = []
    for lang in langs:
        status, body = _fetch(base, f"/{lang}/feed.xml")
        if status != 200:
            raise RuntimeError(f"GET /{lang}/feed.xml answered {status}")
        links = (item.findtext("link") or "" for item in ET.fromstring(body).iter("item"))
        paths += [urllib.parse.urlsplit(link).path for link in links if link]
    return paths


def _fetch(base: urllib.parse.SplitResult, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(base.hostname or "127.0.0.1", base.port or 80, timeout=60)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


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


@dataclass(frozen=True)
class Server:
    """A ``lintas serve`` started by :func:`start_server`."""

    process: subprocess.Popen[bytes]
    url: str
    key: str  # an admin API key
    db_url: str


def start_server(workdir: Path, engine: str = "fake") -> Server:
    """``lintas serve`` on a free loopback port with its own SQLite database; waits until ready."""
    port = free_port()
    db_url = f"sqlite:///{workdir / 'load.sqlite'}"
    key = _admin_key(db_url)
    # every reader here is one client IP: the per-IP limit for readers would answer 429 to the load itself
    env = {**os.environ, "LINTAS_DATABASE_URL": db_url, "LINTAS_MEMORY": "off", "LINTAS_PUBLIC_RATE_LIMIT": "off"}
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
                return Server(process, url, key, db_url)
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
            f"{(max(r.latencies) if r.latencies else float('nan')) * 1000:.1f} | {total / r.seconds if r.seconds else 0:.0f} |"
        )
        odd = {k: v for k, v in r.statuses.items() if not 200 <= k < 300}
        if odd:
            lines.append(f"  {r.name}: non-2xx statuses {odd} (0 = connection error)")
    return "\n".join(lines)


def publish(db_url: str, engine: str = "fake") -> None:
    """Translate every queued job with one ``lintas worker --once`` on ``db_url`` (the articles then have pages)."""
    env = {**os.environ, "LINTAS_MEMORY": "off"}
    command = [sys.executable, "-m", "lintas", "worker", "--once", "--engine", engine, "--db", db_url, "--poll", "0.2"]
    done = subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    if done.returncode != 0:
        tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
        raise RuntimeError(f"lintas worker --once exited {done.returncode}: {' / '.join(tail)}")


def main_run(
    url: str | None,
    ingests: int,
    reads: int,
    concurrency: int,
    echo: Callable[[str], None] = print,
    key: str | None = None,
    cold: bool = False,
) -> list[PhaseResult]:
    if not cold:
        echo(f"each read phase follows an untimed warm-up: its distinct requests read {WARM_UP_ROUNDS} times each")
    if url:
        return run_load(url, ingests=ingests, reads=reads, concurrency=concurrency, key=key, cold=cold)
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(Path(tmp))

        def publish_all() -> None:
            echo("publishing: lintas worker --once (fake engine), not timed")
            publish(server.db_url)

        try:
            echo(f"started lintas serve at {server.url} (SQLite, fake engine)")
            return run_load(
                server.url,
                ingests=ingests,
                reads=reads,
                concurrency=concurrency,
                key=server.key,
                publish_with=publish_all,
                cold=cold,
            )
        finally:
            server.process.terminate()
            server.process.wait(timeout=30)
