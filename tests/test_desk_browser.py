"""Signing in to the editors' desk in a real browser (Chromium, at phone width) against ``lintas serve``.

The sign-in form is usable at 360 px with a keyboard (labelled fields, a visible focus ring, no sideways scroll),
the session cookie is out of reach of page script, and a form on another site cannot sign the editor out.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from browser import LiveServer, artifacts_dir

from lintas.store import accounts, db

PASSWORD = "correct horse battery"
PHONE = {"width": 360, "height": 740}
EVIL_HOST = "http://localhost"  # another site than 127.0.0.1 for the browser

LAYOUT = """() => ({
  overflow: document.documentElement.scrollWidth - window.innerWidth,
  unlabelled: [...document.querySelectorAll('input:not([type=hidden]), button')]
    .filter(el => el.tagName === 'INPUT' ? el.labels.length === 0 : !el.textContent.trim()).length,
})"""
FOCUS = """() => {
  const style = getComputedStyle(document.activeElement);
  return {id: document.activeElement.id, outline: style.outlineStyle, width: style.outlineWidth};
}"""


@pytest.fixture(scope="module")
def desk(live_server: LiveServer) -> LiveServer:
    engine = db.make_engine(live_server.db_url)
    try:
        accounts.create_user(engine, "ana", PASSWORD, "editor", display_name="Ana Putri")
    finally:
        engine.dispose()
    return live_server


@pytest.fixture
def phone(chromium: Any, desk: LiveServer) -> Iterator[Any]:
    """A phone-sized tab; requests to hosts other than the server's and the 'evil' one are aborted."""
    context = chromium.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    allowed = re.compile(rf"^({re.escape(desk.base_url)}|{re.escape(EVIL_HOST)}:)")
    context.route(
        re.compile(r".*"), lambda route: route.continue_() if allowed.match(route.request.url) else route.abort()
    )
    page = context.new_page()
    yield page
    context.close()


def test_sign_in_by_keyboard_at_phone_width(phone: Any, desk: LiveServer) -> None:
    response = phone.goto(f"{desk.base_url}/desk/", wait_until="load")
    assert response is not None and response.status == 200
    assert phone.url == f"{desk.base_url}/desk/login?next=/desk/"
    layout = phone.evaluate(LAYOUT)
    assert layout == {"overflow": 0, "unlabelled": 0}, layout
    phone.get_by_label("Username").fill("ana")
    phone.keyboard.press("Tab")
    focus = phone.evaluate(FOCUS)
    assert focus["id"] == "password" and focus["outline"] == "solid" and focus["width"] == "3px", focus
    phone.screenshot(path=str(artifacts_dir() / "desk-login-phone.png"), full_page=True)
    phone.keyboard.type(PASSWORD)
    with phone.expect_navigation():
        phone.keyboard.press("Enter")
    assert phone.url == f"{desk.base_url}/desk/"
    assert "Signed in as Ana Putri (editor)." in phone.text_content("main")
    assert phone.evaluate(LAYOUT)["overflow"] == 0
    [cookie] = [c for c in phone.context.cookies() if c["name"] == "lintas_session"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["path"] == "/"
    assert "lintas_session" not in phone.evaluate("document.cookie")


def test_a_form_on_another_site_cannot_sign_out(phone: Any, desk: LiveServer) -> None:
    phone.goto(f"{desk.base_url}/desk/login", wait_until="load")
    phone.get_by_label("Username").fill("ana")
    phone.get_by_label("Password").fill(PASSWORD)
    with phone.expect_navigation():
        phone.get_by_role("button", name="Sign in").click()
    evil = f"{EVIL_HOST}:1/evil"
    form = (
        f'<form method="post" action="{desk.base_url}/desk/logout"><input name="csrf_token" value="guess"></form>'
        "<script>document.forms[0].submit()</script>"
    )
    phone.route(evil, lambda route: route.fulfill(status=200, content_type="text/html", body=form))
    with phone.expect_navigation(url=re.compile(r"/desk/")):
        phone.goto(evil)
    # SameSite=Lax: the cross-site POST came without the session cookie, so it was sent to sign in, and that
    # top-level GET (with the cookie) went on to the desk; with the cookie the POST would have met the CSRF check
    assert phone.url == f"{desk.base_url}/desk/"
    phone.goto(f"{desk.base_url}/desk/", wait_until="load")
    assert "Signed in as Ana Putri" in phone.text_content("main")  # still signed in
    with phone.expect_navigation():
        phone.get_by_role("button", name="Sign out").click()
    assert phone.url == f"{desk.base_url}/desk/login"
    phone.goto(f"{desk.base_url}/desk/", wait_until="load")
    assert phone.url.startswith(f"{desk.base_url}/desk/login")
