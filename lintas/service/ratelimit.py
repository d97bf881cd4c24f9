"""Rate limits of the service, counted by the ``limits`` package: per API key, and per client IP without one.

* requests to a route that needs a key are counted per key (``LINTAS_RATE_LIMIT``, default 600/minute, or the
  key's own ``rate_per_minute``) by :func:`lintas.service.auth.require`; requests that fail to authenticate
  count against their client IP;
* every other request (``/healthz``, ``/readyz``, ``/metrics``, ``/docs``, ``/openapi.json``, the CMS webhook,
  unknown paths) is counted per client IP (``LINTAS_PUBLIC_RATE_LIMIT``, default 1200/minute) by
  :class:`PublicRateLimitMiddleware`.

Over the limit: 429 ``rate_limited`` with ``Retry-After`` (seconds). Counters live in the process
(``memory://``, a moving window) unless ``LINTAS_RATE_LIMIT_STORAGE`` names a shared storage of ``limits``
(``redis://host:6379``, with ``pip install 'limits[redis]'``), which several service processes then share.
The client IP is the connection's; behind a reverse proxy, name the proxy in ``LINTAS_TRUSTED_PROXIES`` so that
``lintas serve`` takes the client's from its ``X-Forwarded-For`` (no proxy is trusted by default, not even
loopback: a header from anyone else changes nothing), or every client is the proxy.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from limits import RateLimitItem, RateLimitItemPerMinute, parse
from limits.storage import MemoryStorage, MovingWindowSupport, storage_from_string
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter, RateLimiter
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from lintas import settings
from lintas.errors import InputError
from lintas.service.errors import ApiError, error_response

__all__ = ["RateLimits", "PublicRateLimitMiddleware", "client_ip"]

_OFF = ("", "off", "none")


def rate_limit_item(setting: str) -> RateLimitItem | None:
    value = str(getattr(settings.current(), setting)).strip()
    if value.lower() in _OFF:
        return None
    try:
        return parse(value)
    except ValueError:
        env = settings.env_name(setting)
        raise InputError(f"{env}={value!r} is not a rate such as '600/minute' or '10/second' (or 'off')") from None


def client_ip(conn: HTTPConnection) -> str:
    return conn.client.host if conn.client else "unknown"


class RateLimits:
    """The per-key and per-IP limits of one app, and their counters."""

    def __init__(self, per_key: RateLimitItem | None, public: RateLimitItem | None, storage_url: str = "memory://"):
        try:
            storage = storage_from_string(storage_url)
        except Exception as exc:  # limits' ConfigurationError: unknown scheme, missing driver
            raise InputError(f"cannot use rate-limit storage {storage_url!r}: {exc}") from None
        limiter_class = MovingWindowRateLimiter if isinstance(storage, MovingWindowSupport) else FixedWindowRateLimiter
        self.limiter: RateLimiter = limiter_class(storage)
        self.inline = isinstance(storage, MemoryStorage)  # in-process: cheap enough for the event loop
        self.per_key = per_key
        self.public = public

    @classmethod
    def from_settings(cls) -> RateLimits:
        storage = settings.current().rate_limit_storage.strip() or "memory://"
        return cls(rate_limit_item("rate_limit"), rate_limit_item("public_rate_limit"), storage)

    def _hit(self, item: RateLimitItem, identifiers: tuple[str, ...]) -> int | None:
        if self.limiter.hit(item, *identifiers):
            return None
        reset = self.limiter.get_window_stats(item, *identifiers).reset_time
        return max(1, math.ceil(reset - time.time()))

    async def hit(self, item: RateLimitItem | None, *identifiers: str) -> int | None:
        """Count one request; None if allowed, else the seconds until the client may retry."""
        if item is None:
            return None
        if self.inline:
            return self._hit(item, identifiers)
        return await run_in_threadpool(self._hit, item, identifiers)

    def _test(self, item: RateLimitItem, identifiers: tuple[str, ...]) -> int | None:
        if self.limiter.test(item, *identifiers):
            return None
        reset = self.limiter.get_window_stats(item, *identifiers).reset_time
        return max(1, math.ceil(reset - time.time()))

    async def test(self, item: RateLimitItem | None, *identifiers: str) -> int | None:
        """Whether one more request would be allowed, without counting it: None if so, else the seconds to wait."""
        if item is None:
            return None
        if self.inline:
            return self._test(item, identifiers)
        return await run_in_threadpool(self._test, item, identifiers)

    def key_item(self, rate_per_minute: int | None) -> RateLimitItem | None:
        return RateLimitItemPerMinute(rate_per_minute) if rate_per_minute else self.per_key

    async def check_key(self, key_id: str, rate_per_minute: int | None) -> None:
        item = self.key_item(rate_per_minute)
        retry = await self.hit(item, "key", key_id)
        if retry is not None:
            raise rate_limited(item, retry, f"API key {key_id}")

    async def check_ip(self, ip: str) -> None:
        retry = await self.hit(self.public, "ip", ip)
        if retry is not None:
            raise rate_limited(self.public, retry, f"client {ip}")


def rate_limited(item: RateLimitItem | None, retry: int, who: str) -> ApiError:
    return ApiError(
        429,
        "rate_limited",
        f"rate limit of {item} exceeded for {who}: retry in {retry} s",
        headers={"Retry-After": str(retry)},
        retry_after=retry,
    )


class PublicRateLimitMiddleware:
    """Count requests per client IP unless ``keyed(scope)`` says a route that needs an API key will answer
    them (:func:`~lintas.service.auth.require` counts those per key). Pure ASGI."""

    def __init__(self, app: ASGIApp, limits: RateLimits, keyed: Callable[[Scope], bool]) -> None:
        self.app = app
        self.limits = limits
        self.keyed = keyed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.limits.public is not None and not self.keyed(scope):
            try:
                await self.limits.check_ip(client_ip(HTTPConnection(scope)))
            except ApiError as err:
                await error_response(err)(scope, receive, send)
                return
        await self.app(scope, receive, send)
