"""Every 4xx/5xx answer is JSON ``{"error": {"code": "...", "message": "...", ...}}``, never a traceback.

:class:`ApiError` is what the endpoints raise; the handlers installed by :func:`install_error_handlers` turn it,
Starlette's own HTTP errors (unknown route, wrong method), request validation errors, Lintas' errors and
anything unexpected into that shape. :class:`BodyLimitMiddleware` refuses bodies over the app's limit, from the
``Content-Length`` header before the app runs and while a body without one (chunked) is read.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lintas.errors import EngineError, InputError, LintasError, ModelError
from lintas.ingest.common import field_path

__all__ = ["ApiError", "BodyLimitMiddleware", "error_body", "error_response", "install_error_handlers"]

log = logging.getLogger(__name__)

_DEFAULT_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    410: "gone",
    413: "body_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    500: "internal_error",
    502: "engine_error",
    503: "unavailable",
}


class ApiError(StarletteHTTPException):
    """An HTTP error with a machine-readable ``code``; ``extra`` fields go into the error object."""

    def __init__(
        self, status_code: int, code: str, message: str, *, headers: dict[str, str] | None = None, **extra: object
    ) -> None:
        super().__init__(status_code=status_code, detail=message, headers=headers)
        self.code = code
        self.message = message
        self.extra = extra


def error_body(code: str, message: str, **extra: object) -> dict[str, object]:
    return {"error": {"code": code, "message": message, **extra}}


def _response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None, **extra: object
) -> JSONResponse:
    return JSONResponse(jsonable_encoder(error_body(code, message, **extra)), status_code=status, headers=headers)


def _human(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB" if size >= 1024 * 1024 else f"{size / 1024:.0f} KiB"


def body_too_large(limit: int, size: int | None = None) -> ApiError:
    what = f"{size} bytes" if size is not None else f"over {limit} bytes"
    return ApiError(
        413, "body_too_large", f"the request body is too large: {what} (limit {_human(limit)})", limit=limit
    )


def error_response(err: ApiError) -> JSONResponse:
    """The JSON answer to ``err``, as the app's handler gives it (for code that answers outside the routes)."""
    headers = dict(err.headers) if err.headers else None
    return _response(err.status_code, err.code, err.message, headers, **err.extra)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if isinstance(exc, ApiError):
        return error_response(exc)
    headers = dict(exc.headers) if exc.headers else None
    code = _DEFAULT_CODES.get(exc.status_code, "http_error")
    message = str(exc.detail)
    if exc.status_code == 404 and message == "Not Found":
        message = "no such endpoint"
    elif exc.status_code == 405:
        message = "method not allowed on this endpoint"
    return _response(exc.status_code, code, message, headers)


def _field(loc: tuple[int | str, ...]) -> str:
    parts = tuple(loc)
    if parts and parts[0] in ("path", "query", "header", "body"):
        where, parts = parts[0], parts[1:]
        return f"{where}.{field_path(parts)}" if parts else where
    return field_path(parts)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    first = errors[0] if errors else {}
    if first.get("type") == "json_invalid":
        detail = (first.get("ctx") or {}).get("error", "invalid JSON")
        return _response(400, "malformed_json", f"malformed JSON: {detail}")
    field = _field(tuple(first.get("loc", ())))
    message = f"invalid value for '{field}': {first.get('msg', 'invalid value')}"
    return _response(422, "validation_error", message, field=field)


async def _lintas_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, LintasError)
    if isinstance(exc, InputError):
        return _response(422, "invalid_input", str(exc))
    if isinstance(exc, ModelError):
        return _response(503, "model_unavailable", str(exc))
    if isinstance(exc, EngineError):
        return _response(502, "engine_error", str(exc))
    return _response(500, "internal_error", str(exc))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("unexpected error in %s %s", request.method, request.url.path, exc_info=exc)
    return _response(500, "internal_error", "internal server error (see the server log)")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(LintasError, _lintas_error)
    app.add_exception_handler(Exception, _unexpected)


class BodyLimitMiddleware:
    """Refuse request bodies over ``max_body_bytes`` with 413 (pure ASGI).

    A ``Content-Length`` over the limit is refused before the app runs (the body is never read); a body
    without one (chunked) is counted as the app reads it, and the read raises :class:`ApiError` (413) as soon
    as the count passes the limit, which the app's error handler answers.
    """

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        if max_body_bytes < 0:
            raise ValueError("max_body_bytes must be >= 0")
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_body_bytes
        declared: int | None = None
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    response = _response(400, "bad_request", "invalid Content-Length header")
                    await response(scope, receive, send)
                    return
        if declared is not None and declared > limit:
            error = body_too_large(limit, declared)
            response = _response(413, error.code, error.message, None, **error.extra)
            await response(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise body_too_large(limit)
            return message

        await self.app(scope, limited_receive, send)
