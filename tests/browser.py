"""Browser-test helpers: Debian's Chromium under Playwright, and the real service (``lintas serve``) over HTTP.

tests/conftest.py turns them into fixtures. Chromium is ``/usr/bin/chromium`` (``.ci/chromium.sh`` installs it) or
``LINTAS_CHROMIUM``; without it (or without the ``playwright`` package) browser tests skip, unless
``LINTAS_REQUIRE_BROWSER=1`` (set by ``.ci/run``) makes that a failure. Never ``playwright install``: no browser
downloads, Debian's package is the browser.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from lintas.measure.loadtest import free_port
from lintas.store import db, repo
from lintas.text.article import Article

__all__ = [
    "CHROMIUM_FLAGS",
    "LiveServer",
    "artifacts_dir",
    "chromium_path",
    "missing_browser",
    "require_browser",
    "start_server",
]

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ENV = "LINTAS_CHROMIUM"
REQUIRE_ENV = "LINTAS_REQUIRE_BROWSER"
ARTIFACTS_ENV = "LINTAS_ARTIFACTS"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
# As root, in a closed network: no sandbox, and no background connections (refused here, and slow to time out).
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def chromium_path() -> str:
    """The Chromium binary: ``LINTAS_CHROMIUM`` or Debian's ``/usr/bin/chromium``."""
    return os.environ.get(CHROMIUM_ENV) or DEFAULT_CHROMIUM


def missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed (pip install -e '.[dev]')"
    path = chromium_path()
    if not os.access(path, os.X_OK):
        return f"no Chromium at {path} (run .ci/chromium.sh, or set {CHROMIUM_ENV})"
    return None


def require_browser() -> str:
    """Chromium's path; skips the test without a browser, or fails it when ``LINTAS_REQUIRE_BROWSER=1``."""
    reason = missing_browser()
    if reason is None:
        return chromium_path()
    if os.environ.get(REQUIRE_ENV, "").strip() not in ("", "0"):
        pytest.fail(f"{REQUIRE_ENV} is set but {reason}", pytrace=False)
    pytest.skip(reason)


def artifacts_dir() -> Path:
    """Where screenshots go: ``LINTAS_ARTIFACTS`` or tests/artifacts/ (git-ignored)."""
    path = Path(os.environ.get(ARTIFACTS_ENV) or ROOT / "tests" / "artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _env() -> dict[str, str]:
    """This environment without any LINTAS_* setting (defaults only), translation memory off."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINTAS_")}
    return {**env, "LINTAS_MEMORY": "off"}


@dataclass
class LiveServer:
    """``lintas serve --engine fake`` on a free port, over a SQLite file of its own."""

    base_url: str
    db_url: str
    process: subprocess.Popen[bytes]
    log: Path

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        """GET ``path``: ``(status, body)``, errors included."""
        request = urllib.request.Request(self.base_url + path, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as err:
            with err:
                return err.code, err.read()

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """``python -m lintas ARGS --db <this server's database>``; fails the test on a non-zero exit."""
        command = [sys.executable, "-m", "lintas", *args, "--db", self.db_url]
        done = subprocess.run(command, cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"{' '.join(args)}: {done.stderr[-2000:]}"
        return done

    def store(self, article: Article, targets: Sequence[str]) -> None:
        """Write ``article`` straight into the database (no API key, no ingest sanitizing) and queue ``targets``."""
        engine = db.make_engine(self.db_url)
        try:
            repo.upsert_article(engine, article, list(targets))
        finally:
            engine.dispose()

    def translate(self) -> str:
        """Run ``lintas worker --once --engine fake``; its stderr."""
        return self.cli("worker", "--once", "--engine", "fake").stderr

    def api_headers(self, probe: str) -> dict[str, str]:
        """Headers for /v1 pages: a new ``read`` key when ``probe`` answers 401, else none (no API keys yet)."""
        status, _ = self.get(probe)
        if status != 401:
            return {}
        token = self.cli("keys", "create", "browser-tests", "--role", "read").stdout.strip()
        return {"Authorization": f"Bearer {token}"}

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def _wait_ready(server: LiveServer, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            break
        try:
            if server.get("/readyz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    server.stop()
    log = server.log.read_text(encoding="utf-8", errors="replace")[-3000:]
    raise AssertionError(f"lintas serve did not get ready at {server.base_url}:\n{log}")


def start_server(folder: Path) -> LiveServer:
    """Start ``lintas serve`` over ``folder``/site.sqlite and wait until /readyz answers 200 (schema migrated)."""
    port = free_port()
    db_url = f"sqlite:///{folder / 'site.sqlite'}"
    log = folder / "serve.log"
    command = [sys.executable, "-m", "lintas", "serve", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--db", db_url, "--engine", "fake"]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=_env(), stdout=out, stderr=subprocess.STDOUT)
    server = LiveServer(f"http://127.0.0.1:{port}", db_url, process, log)
    _wait_ready(server)
    return server
