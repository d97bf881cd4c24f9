"""API keys on the HTTP API: :func:`require` (a FastAPI dependency), and :func:`install_security` for the app.

A key (``lintas keys create``; :mod:`lintas.store.keys`) is sent as ``Authorization: Bearer <key>`` or
``X-API-Key: <key>``. No key: 401 ``unauthorized`` (with ``WWW-Authenticate: Bearer``); an unknown, wrong or
revoked key: 401 ``invalid_api_key``; a key whose role is too low: 403 ``forbidden``, naming the role needed.
Roles: ``read`` < ``ingest`` < ``editor`` < ``admin``, each including the ones before.

Verified keys are cached in the process for :data:`KEY_CACHE_SECONDS` (30 s), so most requests read no row:
a revoked key therefore stops working within 30 s (at once in a newly started process). Rate limits: see
:mod:`lintas.service.ratelimit`. CORS: ``LINTAS_CORS_ORIGINS`` (comma-separated origins; empty: off).
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request, Security
from fastapi.routing import iter_route_contexts
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import HTTPConnection
from starlette.routing import BaseRoute, compile_path
from starlette.types import Scope

from lintas import settings
from lintas.service.errors import ApiError
from lintas.service.ratelimit import PublicRateLimitMiddleware, RateLimits, client_ip
from lintas.store.keys import KeyInfo, verify_key
from lintas.store.schema import ROLES

__all__ = [
    "KEY_CACHE_SECONDS",
    "Auth",
    "KeyCache",
    "KeyedRoutes",
    "authorize",
    "install_security",
    "request_key",
    "require",
    "required_role",
]

KEY_CACHE_SECONDS = 30.0
_ROLE_ATTR = "lintas_required_role"
_BEARER = HTTPBearer(
    scheme_name="bearer",
    bearerFormat="lintas_<id>_<secret>",
    description="An API key from `lintas keys create`, as `Authorization: Bearer <key>`.",
    auto_error=False,
)
_API_KEY = APIKeyHeader(
    name="X-API-Key", scheme_name="apiKey", description="The same API key, as `X-API-Key: <key>`.", auto_error=False
)


class KeyCache:
    """Keys verified in the last ``ttl`` seconds, by sha256 of their token (positive answers only)."""

    def __init__(self, ttl: float = KEY_CACHE_SECONDS, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: dict[str, tuple[float, KeyInfo]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _slot(token: str) -> str:
        return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()

    def get(self, token: str) -> KeyInfo | None:
        entry = self._entries.get(self._slot(token))
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, token: str, key: KeyInfo) -> None:
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[self._slot(token)] = (time.monotonic() + self.ttl, key)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


@dataclass
class Auth:
    """What :func:`require` needs from its app: whether keys are required, the database, limits, the cache."""

    enabled: bool
    database: Callable[[], Engine]
    limits: RateLimits
    cache: KeyCache = field(default_factory=KeyCache)

    async def key(self, token: str) -> KeyInfo | None:
        key = self.cache.get(token)
        if key is None:
            key = await run_in_threadpool(verify_key, self.database(), token)
            if key is not None:
                self.cache.put(token, key)
        return key


def _auth(request: HTTPConnection) -> Auth:
    auth: Auth = request.app.state.lintas_auth
    return auth


def _unauthorized(code: str, message: str, challenge: str = "Bearer") -> ApiError:
    return ApiError(401, code, message, headers={"WWW-Authenticate": challenge})


def request_key(conn: HTTPConnection) -> str | None:
    """The API key a request sends: ``Authorization: Bearer <key>``, else ``X-API-Key: <key>``, else None."""
    scheme, credentials = get_authorization_scheme_param(conn.headers.get("authorization"))
    if scheme.lower() == "bearer" and credentials:
        return credentials
    return conn.headers.get("x-api-key") or None


async def authorize(request: HTTPConnection, needed: str, token: str | None) -> KeyInfo | None:
    """The key ``token`` names if it may do what the role ``needed`` allows, counted against its rate limit
    (None when the app runs without keys); ApiError 401, 403 or 429 otherwise (a missing or failed key is counted
    against the client's IP)."""
    auth = _auth(request)
    if not auth.enabled:
        await auth.limits.check_ip(client_ip(request))
        return None
    if not token:
        await auth.limits.check_ip(client_ip(request))
        raise _unauthorized(
            "unauthorized", "this endpoint needs an API key: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'"
        )
    key = await auth.key(token)
    if key is None:
        await auth.limits.check_ip(client_ip(request))  # failed attempts count against the client
        raise _unauthorized(
            "invalid_api_key", "the API key is not valid (unknown, wrong or revoked)", 'Bearer error="invalid_token"'
        )
    await auth.limits.check_key(key.id, key.rate_per_minute)
    if not key.allows(needed):
        raise ApiError(
            403,
            "forbidden",
            f"this endpoint needs the {needed!r} role or higher; key {key.id} has {key.role!r}",
            required_role=needed,
            role=key.role,
        )
    request.state.api_key = key
    return key


def require(role: str) -> Any:
    """A dependency: the request needs a key with ``role`` (or higher); its value is the :class:`KeyInfo`
    (None when the app runs without auth). Use as ``dependencies=[require("read")]``."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}: choose from {', '.join(ROLES)}")

    async def check(
        request: Request,
        _bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_BEARER)],  # for OpenAPI: the schemes
        _api_key: Annotated[str | None, Security(_API_KEY)],
    ) -> KeyInfo | None:
        return await authorize(request, role, request_key(request))

    setattr(check, _ROLE_ATTR, role)
    return Depends(check)


def required_role(route: object) -> str | None:
    """The role a route (or FastAPI route context) needs through :func:`require`; None for a public route."""
    roles = [getattr(dep.dependency, _ROLE_ATTR, None) for dep in getattr(route, "dependencies", None) or ()]
    needed = [role for role in roles if role]
    return max(needed, key=ROLES.index) if needed else None


class KeyedRoutes:
    """Whether the route that will answer a request needs a key: the first route whose path and method
    match, as the router picks it. Built from the app's routes on first use."""

    def __init__(self) -> None:
        self._table: list[tuple[re.Pattern[str], set[str] | None, bool]] | None = None

    def _build(self, routes: Sequence[BaseRoute]) -> list[tuple[re.Pattern[str], set[str] | None, bool]]:
        table = []
        for route in iter_route_contexts(routes):
            if isinstance(route.path, str) and route.path.startswith("/"):
                table.append((compile_path(route.path)[0], route.methods, required_role(route) is not None))
        return table

    def __call__(self, scope: Scope) -> bool:
        if self._table is None:
            self._table = self._build(scope["app"].routes)
        path, root = scope["path"], scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        for pattern, methods, keyed in self._table:
            if pattern.match(path) and (methods is None or scope["method"] in methods):
                return keyed
        return False


def _origins() -> list[str]:
    return [origin.rstrip("/") for origin in settings.current().cors_origins]


def install_security(app: FastAPI, database: Callable[[], Engine], *, enabled: bool = True) -> Auth:
    """Set up keys (``enabled``), rate limits and CORS on ``app``; add it inside the metrics middleware."""
    auth = Auth(enabled=enabled, database=database, limits=RateLimits.from_settings())
    app.state.lintas_auth = auth
    app.add_middleware(PublicRateLimitMiddleware, limits=auth.limits, keyed=KeyedRoutes())
    origins = _origins()
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "HEAD", "PUT", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-API-Key"],
            expose_headers=["Location", "Retry-After", "X-Lintas-Revision", "X-Lintas-Edition-Status"],
        )
    return auth
