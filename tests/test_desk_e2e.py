"""The editors' desk end to end: Chromium (Playwright, Debian's build) against ``lintas serve`` and ``lintas worker``.

An editor made with ``lintas users add`` signs in with the keyboard, opens an article whose English edition the
fake engine got wrong (stored in-process without the glossary: a misspelled name, a critical flag, so the edition is held), fixes the sentence, approves
it, and the public page and the feed show the fix. A second article with the same Indonesian sentence, translated
by the worker afterwards, reuses the correction from the translation memory. Screenshots of the list, the Arabic
side-by-side view and the glossary page go to ``LINTAS_ARTIFACTS`` (tests/artifacts/).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import ROOT, LiveServer, _env, _wait_ready, artifacts_dir
from test_desk import FIX, FLAGGED_SOURCE, PASSWORD, flagged_article, store_translated

from lintas.measure.loadtest import free_port
from lintas.store import db, repo
from lintas.text.article import Article, Block

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 740}
LAYOUT = """() => ({
  overflow: document.documentElement.scrollWidth - window.innerWidth,
  unlabelled: [...document.querySelectorAll('input:not([type=hidden]), select, textarea, button')]
    .filter(el => el.tagName === 'BUTTON' ? !el.textContent.trim() : el.labels.length === 0).length,
})"""
FOCUS = """() => {
  const el = document.activeElement, style = getComputedStyle(el);
  return {tag: el.tagName, text: el.textContent.trim(), outline: style.outlineStyle, width: style.outlineWidth};
}"""


class DeskServer(LiveServer):
    """``lintas serve`` with a translation memory of its own (LINTAS_MEMORY), shared with the worker it runs."""

    memory_url: str = ""

    def env(self) -> dict[str, str]:
        return {**_env(), "LINTAS_MEMORY": self.memory_url}

    def run_cli(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "lintas", *args, "--db", self.db_url]
        done = subprocess.run(
            command, cwd=ROOT, env={**self.env(), **(env or {})}, capture_output=True, text=True, timeout=180
        )
        assert done.returncode == 0, f"{' '.join(args)}: {done.stderr[-2000:]}"
        return done

    def translate(self) -> str:
        return self.run_cli("worker", "--once", "--engine", "fake").stderr


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DeskServer]:
    folder = Path(tmp_path_factory.mktemp("desk-e2e"))
    port = free_port()
    db_url = f"sqlite:///{folder / 'site.sqlite'}"
    memory_url = f"sqlite:///{folder / 'memory.sqlite'}"
    log = folder / "serve.log"
    command = [sys.executable, "-m", "lintas", "serve", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--db", db_url, "--engine", "fake"]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env={**_env(), "LINTAS_MEMORY": memory_url}, stdout=out, stderr=subprocess.STDOUT
        )
    server = DeskServer(f"http://127.0.0.1:{port}", db_url, process, log)
    server.memory_url = memory_url
    _wait_ready(server)
    try:
        server.run_cli("users", "add", "ana", "--role", "editor", "--display-name", "Ana Putri",
                       env={"LINTAS_NEW_PASSWORD": PASSWORD})  # fmt: skip
        engine = db.make_engine(db_url)
        try:  # in-process, without the starter glossary: the fake engine misspells "Joko", a critical flag
            store_translated(engine, flagged_article(), ["en", "ar", "zh"], warn_ar=True)
        finally:
            engine.dispose()
        yield server
    finally:
        server.stop()


@pytest.fixture
def tab(chromium: Any, desk: DeskServer) -> Iterator[Any]:
    """A desktop-sized tab that reaches only the server."""
    context = chromium.new_context(viewport=DESKTOP)
    context.route(
        "**/*", lambda route: route.continue_() if route.request.url.startswith(desk.base_url) else route.abort()
    )
    page = context.new_page()
    yield page
    context.close()


def sign_in_by_keyboard(page: Any, desk: DeskServer, path: str = "/desk/") -> None:
    page.goto(desk.base_url + path, wait_until="load")
    assert "/desk/login" in page.url
    page.get_by_label("Username").focus()  # autofocused on desktop; not on every phone
    page.keyboard.type("ana")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == desk.base_url + path


def test_fix_a_flagged_segment_approve_and_reuse_it(tab: Any, desk: DeskServer) -> None:
    shots = artifacts_dir()
    sign_in_by_keyboard(tab, desk)
    main = tab.text_content("main")
    assert "Presiden tiba di Jakarta" in main and "Held for review" in main and "1 critical" in main
    assert tab.evaluate(LAYOUT)["unlabelled"] == 0
    tab.screenshot(path=str(shots / "desk-list.png"), full_page=True)

    # Arabic, side by side, right to left
    with tab.expect_navigation():
        tab.get_by_role("link", name="Arabic").first.click()
    target = tab.locator('.segments p.text[lang="ar"]').first
    assert target.evaluate("el => getComputedStyle(el).direction") == "rtl"
    assert tab.locator('textarea[lang="ar"]').first.evaluate("el => getComputedStyle(el).direction") == "rtl"
    tab.screenshot(path=str(shots / "desk-article-ar.png"), full_page=True)

    # English: the held edition with the flagged sentence
    with tab.expect_navigation():
        tab.get_by_role("link", name="English").first.click()
    flagged = tab.locator("li.critical")
    assert flagged.count() == 1
    assert "name spelled differently: Joko → okoj" in flagged.text_content()
    assert "Critical: must be fixed before this edition is published" in flagged.text_content()
    box = tab.get_by_label("Correction of segment 2 (English)")
    box.fill(FIX)
    box.focus()
    tab.keyboard.press("Tab")  # to "Save correction"
    focus = tab.evaluate(FOCUS)
    assert focus["tag"] == "BUTTON" and focus["text"] == "Save correction", focus
    assert focus["outline"] == "solid" and focus["width"] == "3px", focus
    with tab.expect_navigation():
        tab.keyboard.press("Enter")
    assert "done=corrected" in tab.url
    assert "Correction saved." in tab.get_by_role("status").text_content()
    assert tab.locator("li.critical").count() == 0
    assert "corrected by an editor" in tab.locator("#seg-b0-s0").text_content()
    with tab.expect_navigation():
        tab.get_by_role("button", name="Approve English").click()
    assert "Edition approved" in tab.get_by_role("status").text_content()
    public_link = tab.get_by_role("link", name="Public page")
    href = public_link.get_attribute("href")
    tab.screenshot(path=str(shots / "desk-article-en.png"), full_page=True)

    status, body = desk.get(href)
    assert status == 200 and FIX in body.decode()
    status, feed = desk.get("/en/feed.xml")
    assert status == 200 and FIX in feed.decode()

    # the glossary page (another engineer's): a screenshot when it is there
    response = tab.goto(desk.base_url + "/desk/glossary", wait_until="load")
    if response is not None and response.status == 200:
        tab.screenshot(path=str(shots / "desk-glossary.png"))  # the top: the whole glossary is long

    # a second article with the same sentence reuses the correction
    second = Article(
        id="a3",
        headline="Kunjungan kerja presiden",
        section="nasional",
        body=[Block(type="paragraph", html=f"Harga beras naik minggu ini. {FLAGGED_SOURCE}")],
    )
    desk.store(second, ["en"])
    desk.translate()
    engine = db.make_engine(desk.db_url)
    try:
        edition = repo.get_edition(engine, "a3", "en")
    finally:
        engine.dispose()
    assert edition is not None
    [reused] = [s for s in edition.segments if s.source == FLAGGED_SOURCE]
    assert (reused.target, reused.origin) == (FIX, "memory")


def test_desk_at_phone_width(chromium: Any, desk: DeskServer) -> None:
    context = chromium.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        sign_in_by_keyboard(page, desk, "/desk/articles/a1?lang=ar")
        for path in ("/desk/", "/desk/articles/a1?lang=ar", "/desk/articles/a1?lang=zh", "/desk/articles/a1?lang=en"):
            page.goto(desk.base_url + path, wait_until="load")
            layout = page.evaluate(LAYOUT)
            assert layout == {"overflow": 0, "unlabelled": 0}, (path, layout)
        page.goto(desk.base_url + "/desk/articles/a1?lang=ar", wait_until="load")
        columns = page.locator(".segments > li").first.evaluate("el => getComputedStyle(el).gridTemplateColumns")
        assert len(columns.split()) == 1, columns  # stacked: source above translation
        page.screenshot(path=str(artifacts_dir() / "desk-article-ar-phone.png"), full_page=True)
    finally:
        context.close()
