"""Shared fixtures: cheap password hashes, a migrated database, a Playwright-driven Chromium and the real service
over HTTP (see tests/browser.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import CHROMIUM_FLAGS, LiveServer, require_browser, start_server
from deskutil import CHEAP
from sqlalchemy import Engine

from lintas.store import accounts, db


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Desk passwords hashed with cheap argon2 parameters in-process (tests that need the real ones set them)."""
    monkeypatch.setattr(accounts, "PASSWORD_HASHER", CHEAP)


@pytest.fixture
def store(db_url: str) -> Iterator[Engine]:
    """An engine on the module's ``db_url`` (its own fixture: SQLite, or PostgreSQL in the module's database), migrated
    to the head. A module that needs another store (one the app has created, say) defines its own."""
    engine = db.make_engine(db_url)
    try:
        db.upgrade(engine)
        yield engine
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """One headless Debian Chromium for the session (skips, or fails under LINTAS_REQUIRE_BROWSER=1, without it)."""
    path = require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=list(CHROMIUM_FLAGS))
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """``lintas serve --engine fake`` over HTTP on a free port, with a fresh SQLite database (one per module)."""
    server = start_server(Path(tmp_path_factory.mktemp("live-server")))
    try:
        yield server
    finally:
        server.stop()
