"""Signing in to the editors' desk: ``/desk/login``, ``/desk/logout``, session cookies and CSRF protection.

The desk is for people in a browser, so it uses sessions (:mod:`lintas.store.accounts`), not API keys, and
answers with small HTML pages (Jinja2, autoescaped), not JSON. No API key is needed under ``/desk/``; the
per-IP rate limit applies as on every route without a key.

* ``GET /desk/login`` shows the sign-in form; ``POST /desk/login`` (form-encoded) checks the password and sets
  the ``lintas_session`` cookie (HttpOnly, SameSite=Lax, Path=/, Secure on https or with
  ``LINTAS_COOKIE_SECURE=1``), then answers 303 to ``next`` (a local path) or ``/desk/``. A wrong username or
  password answers 401 with the same words whichever it was. Failed sign-ins are limited per username, from
  any address (``LINTAS_LOGIN_RATE_LIMIT``, 10/minute), and per client IP, for any username
  (``LINTAS_LOGIN_IP_RATE_LIMIT``, 30/minute): 429 beyond, before the password is hashed. A sign-in that succeeds
  counts against neither.
* CSRF: the sign-in form has no session yet, so it is a double submit, a random ``lintas_csrf`` cookie that the
  form's hidden ``csrf_token`` field must repeat. After sign-in every POST, PUT, PATCH and DELETE of
  :data:`router` (:func:`csrf_protect`, a router dependency) must send the session's CSRF token in a
  ``csrf_token`` form field or an ``X-CSRF-Token`` header: 403 otherwise.
* Desk pages take the signed-in user from :func:`require_editor_session`: no session answers 303 to the sign-in
  page (coming back afterwards), a role too low answers a 403 page.
"""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Annotated, Any
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined
from limits import RateLimitItem
from starlette.concurrency import run_in_threadpool

from lintas import settings
from lintas.service.api import service_state
from lintas.service.ratelimit import client_ip, rate_limit_item
from lintas.store.accounts import User, authenticate, close_session, open_session, prune_sessions, session_user
from lintas.store.schema import ROLES

__all__ = [
    "CSRF_COOKIE",
    "CSRF_FIELD",
    "CSRF_HEADER",
    "SESSION_COOKIE",
    "DeskConfig",
    "DeskSession",
    "csrf_protect",
    "desk_session",
    "install_desk",
    "login_router",
    "require_editor_session",
    "router",
    "safe_next",
]

SESSION_COOKIE = "lintas_session"
CSRF_COOKIE = "lintas_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{32,64}")
_LOCAL_PATH = re.compile(r"/(?![/\\])[^\\\s\x00-\x1f\x7f]{0,2000}")  # /path, not //host or /\host; no controls
_MAX_FORM_FIELDS = 40  # the glossary term form has 23
_MAX_USERNAME = 100
_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}
_WRONG_PASSWORD = (
    "The username or password is not right, or the account is switched off. Check both and try again; "
    "an administrator can reset your password."
)
_FORM_EXPIRED = "The form had expired or did not come from this site. Go back, reload the page and try again."


@dataclass(frozen=True)
class DeskConfig:
    """The desk's settings, read once when the app is made."""

    session_ttl: timedelta
    login_limit: RateLimitItem | None  # failed sign-ins per username
    login_ip_limit: RateLimitItem | None  # failed sign-ins per client IP
    cookie_secure: bool

    @classmethod
    def from_settings(cls) -> DeskConfig:
        configured = settings.current()  # LINTAS_SESSION_HOURS: a positive, finite number of hours
        return cls(
            session_ttl=timedelta(hours=configured.session_hours),
            login_limit=rate_limit_item("login_rate_limit"),
            login_ip_limit=rate_limit_item("login_ip_rate_limit"),
            cookie_secure=configured.cookie_secure,
        )


@dataclass(frozen=True)
class DeskSession:
    """The signed-in user of a request, the session's CSRF token and the cookie's token."""

    user: User
    csrf: str
    token: str


class DeskPage(Exception):
    """Answer the request with an HTML message page (raised by dependencies; see :func:`install_desk`)."""

    def __init__(
        self, status: int, title: str, message: str, *, headers: dict[str, str] | None = None, link: str = ""
    ) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message
        self.headers = headers or {}
        self.link = link  # a path to go on from ("" for none)


class DeskRedirect(Exception):
    """Answer the request with 303 to ``location``."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


# --- pages and paths -----------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _env() -> Environment:
    return Environment(
        loader=PackageLoader("lintas.service", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def root_path(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/")


def _config(request: Request) -> DeskConfig:
    config: DeskConfig = request.app.state.lintas_desk
    return config


def render_page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    root = root_path(request)
    context = {"logout_action": f"{root}/desk/logout", "csrf": "", **context}
    return HTMLResponse(_env().get_template(template).render(**context), status_code=status, headers=_HEADERS)


def safe_next(request: Request, value: str | None) -> str:
    """``value`` if it is a path on this site (``/...``, not ``//host`` or ``/\\host``), else ``/desk/``."""
    if value and _LOCAL_PATH.fullmatch(value):
        return value
    return f"{root_path(request)}/desk/"


def _login_url(request: Request) -> str:
    url = f"{root_path(request)}/desk/login"
    if request.method not in ("GET", "HEAD"):
        return url
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"{url}?next={quote(here, safe='/')}"


def _secure(request: Request) -> bool:
    return _config(request).cookie_secure or request.url.scheme == "https"


def _set_cookie(response: Response, request: Request, name: str, value: str, path: str) -> None:
    response.set_cookie(name, value, path=path, secure=_secure(request), httponly=True, samesite="lax")


def _clear_cookie(response: Response, request: Request, name: str, path: str) -> None:
    response.delete_cookie(name, path=path, secure=_secure(request), httponly=True, samesite="lax")


# --- form bodies ---------------------------------------------------------------------------------------------


async def read_form(request: Request) -> dict[str, str]:
    """The request's ``application/x-www-form-urlencoded`` fields (first value of each); {} for other bodies."""
    cached: dict[str, str] | None = getattr(request.state, "desk_form", None)
    if cached is not None:
        return cached
    fields: dict[str, str] = {}
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type == "application/x-www-form-urlencoded":
        body = (await request.body()).decode("latin-1")  # percent-encoded ASCII; parse_qs decodes UTF-8
        try:
            parsed = parse_qs(body, keep_blank_values=True, max_num_fields=_MAX_FORM_FIELDS, errors="replace")
        except ValueError:
            raise DeskPage(400, "Form not understood", "The form sent too many fields.") from None
        fields = {name: values[0] for name, values in parsed.items()}
    request.state.desk_form = fields
    return fields


def _same(sent: str | None, expected: str | None) -> bool:
    if not sent or not expected:
        return False
    return hmac.compare_digest(sent.encode("utf-8", "replace"), expected.encode("utf-8", "replace"))


# --- sessions and CSRF: dependencies -------------------------------------------------------------------------


async def desk_session(request: Request) -> DeskSession | None:
    """The request's session (from the ``lintas_session`` cookie), or None; looked up once per request."""
    if hasattr(request.state, "desk_session"):
        found: DeskSession | None = request.state.desk_session
        return found
    token = request.cookies.get(SESSION_COOKIE, "")
    session = None
    if token:
        result = await run_in_threadpool(session_user, service_state(request).database(), token)
        session = DeskSession(result[0], result[1], token) if result else None
    request.state.desk_session = session
    return session


OptionalDeskSession = Annotated[DeskSession | None, Depends(desk_session)]


def require_editor_session(role: str = "editor") -> Any:
    """A dependency whose value is the signed-in :class:`~lintas.store.accounts.User` with ``role`` or higher:
    no session answers 303 to the sign-in page (``next``: this page), a lower role a 403 page. Use as
    ``user: Annotated[User, require_editor_session()]``."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}: choose from {', '.join(ROLES)}")

    async def check(request: Request, session: OptionalDeskSession) -> User:
        if session is None:
            raise DeskRedirect(_login_url(request))
        if not session.user.allows(role):
            raise DeskPage(
                403,
                "Not allowed",
                f"This page is for the {role} role or higher. You are signed in as {session.user.name} "
                f"({session.user.role}); sign out to use another account.",
            )
        return session.user

    return Depends(check)


async def csrf_protect(request: Request, session: OptionalDeskSession) -> None:
    """A dependency: a POST, PUT, PATCH or DELETE must come from a signed-in session and carry its CSRF token
    (``csrf_token`` form field or ``X-CSRF-Token`` header): 303 to the sign-in page without a session, 403 without
    the right token. Other methods pass."""
    if request.method not in _UNSAFE_METHODS:
        return
    if session is None:
        raise DeskRedirect(_login_url(request))
    sent = request.headers.get(CSRF_HEADER) or (await read_form(request)).get(CSRF_FIELD)
    if not _same(sent, session.csrf):
        raise DeskPage(403, "Form expired", _FORM_EXPIRED)


# --- routes --------------------------------------------------------------------------------------------------

login_router = APIRouter(prefix="/desk", include_in_schema=False)
router = APIRouter(prefix="/desk", dependencies=[Depends(csrf_protect)], include_in_schema=False)
"""The desk's pages: every state-changing route added here is CSRF-checked by :func:`csrf_protect`."""


def _login_csrf(request: Request) -> str:
    """The browser's sign-in CSRF token (the cookie's, when well formed), or a new one."""
    current = request.cookies.get(CSRF_COOKIE, "")
    return current if _TOKEN_RE.fullmatch(current) else secrets.token_urlsafe(32)


def _login_page(
    request: Request, status: int = 200, *, error: str = "", username: str = "", next_path: str
) -> Response:
    csrf = _login_csrf(request)
    root = root_path(request)
    response = render_page(
        request,
        "desk_login.html",
        status,
        action=f"{root}/desk/login",
        csrf=csrf,
        next=next_path,
        username=username,
        error=error,
    )
    _set_cookie(response, request, CSRF_COOKIE, csrf, f"{root}/desk/login")
    return response


@login_router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, session: OptionalDeskSession) -> Response:
    next_path = safe_next(request, request.query_params.get("next"))
    if session is not None:
        return RedirectResponse(next_path, 303, headers={"Cache-Control": "no-store"})
    return _login_page(request, next_path=next_path)


def _login_counters(request: Request, username: str) -> list[tuple[RateLimitItem | None, tuple[str, ...], str]]:
    """The failed sign-in counters an attempt falls under: its client IP's and its username's."""
    config = _config(request)
    return [
        (config.login_ip_limit, ("login-ip", client_ip(request)), "from your address"),
        (config.login_limit, ("login-user", username.lower()[:_MAX_USERNAME]), "for this account"),
    ]


async def _limit_login(request: Request, username: str) -> None:
    """429 when the client IP or the username has had too many failed sign-ins (before any password is hashed)."""
    limits = request.app.state.lintas_auth.limits
    for item, identifiers, whose in _login_counters(request, username):
        retry = await limits.test(item, *identifiers)
        if retry is not None:
            message = f"Too many failed sign-ins {whose}. Wait {retry} seconds and try again."
            raise DeskPage(429, "Too many attempts", message, headers={"Retry-After": str(retry)})


async def _count_failure(request: Request, username: str) -> None:
    limits = request.app.state.lintas_auth.limits
    for item, identifiers, _whose in _login_counters(request, username):
        await limits.hit(item, *identifiers)


def _sign_in(request: Request, username: str, password: str) -> tuple[User, str] | None:
    """Check the password and open a session (in a worker thread): ``(user, token)`` or None."""
    db, config = service_state(request).database(), _config(request)
    user = authenticate(db, username, password)
    if user is None:
        return None
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        close_session(db, old)  # a new token at every sign-in: no session fixation
    token, _csrf = open_session(db, user.id, config.session_ttl)
    prune_sessions(db)
    return user, token


@login_router.post("/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    form = await read_form(request)
    if not _same(form.get(CSRF_FIELD), request.cookies.get(CSRF_COOKIE)):
        raise DeskPage(403, "Form expired", _FORM_EXPIRED, link=f"{root_path(request)}/desk/login")
    username, password = form.get("username", "").strip(), form.get("password", "")
    next_path = safe_next(request, form.get("next"))
    await _limit_login(request, username)
    signed_in = await run_in_threadpool(_sign_in, request, username, password) if username and password else None
    if signed_in is None:
        await _count_failure(request, username)
        return _login_page(request, 401, error=_WRONG_PASSWORD, username=username[:_MAX_USERNAME], next_path=next_path)
    response = RedirectResponse(next_path, 303, headers={"Cache-Control": "no-store"})
    _set_cookie(response, request, SESSION_COOKIE, signed_in[1], "/")
    _clear_cookie(response, request, CSRF_COOKIE, f"{root_path(request)}/desk/login")
    return response


# GET /desk/ (the article list) and the other desk pages are lintas.service.desk's.


@router.post("/logout")
async def logout(request: Request, session: OptionalDeskSession) -> Response:
    if session is not None:  # csrf_protect saw to it
        await run_in_threadpool(close_session, service_state(request).database(), session.token)
    response = RedirectResponse(f"{root_path(request)}/desk/login", 303, headers={"Cache-Control": "no-store"})
    _clear_cookie(response, request, SESSION_COOKIE, "/")
    return response


# --- the app -------------------------------------------------------------------------------------------------


async def _desk_page(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DeskPage)
    session = getattr(request.state, "desk_session", None)
    csrf = session.csrf if session is not None else ""
    link = {"href": exc.link, "text": "Back to the sign-in page"} if exc.link else None
    response = render_page(
        request, "desk_message.html", exc.status, title=exc.title, message=exc.message, csrf=csrf, link=link
    )
    response.headers.update(exc.headers)
    return response


async def _desk_redirect(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DeskRedirect)
    return RedirectResponse(exc.location, 303, headers={"Cache-Control": "no-store"})


def install_desk(app: FastAPI) -> None:
    """Add the sign-in routes and :data:`router` to ``app``, with the handlers of their HTML answers; reads the
    settings (InputError for a bad value)."""
    app.state.lintas_desk = DeskConfig.from_settings()
    app.add_exception_handler(DeskPage, _desk_page)
    app.add_exception_handler(DeskRedirect, _desk_redirect)
    app.include_router(login_router)
    app.include_router(router)
