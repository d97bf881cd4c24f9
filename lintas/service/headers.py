"""Security headers on every answer, and ``/docs`` served from installed files (no CDN, no inline script).

:class:`SecurityHeadersMiddleware` adds to each HTTP answer that does not set them itself (the desk sets its own):

* ``Content-Security-Policy``: nothing runs on the public pages, feeds, errors and ``/v1`` pages (no script at
  all; inline styles and images from anywhere, as articles have them); ``/docs`` may run its own files only
  (``script-src 'self'``);
* ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY`` (with ``frame-ancestors 'none'``) and
  ``Referrer-Policy: strict-origin-when-cross-origin``;
* ``Vary: Host`` when ``LINTAS_PUBLIC_URL`` is unset: absolute links are then made from the request's ``Host``,
  so a cache in front must not give one host's page to another (``lintas serve`` warns about it at start).

Swagger UI's files come from the ``fastapi-offline`` package (Swagger UI 5, which reads the OpenAPI 3.1 that
FastAPI writes; ``swagger-ui-bundle`` ships Swagger UI 4, which cannot): ``/docs/assets/...``, started by
``lintas/service/static/swagger-init.js``. An API key pasted into *Authorize* is seen by no outside script.
"""

from __future__ import annotations

import html
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lintas import settings

__all__ = ["DOCS_ASSETS", "PAGE_CSP", "DOCS_CSP", "SecurityHeadersMiddleware", "install_docs", "public_url_unset"]

DOCS_ASSETS = "/docs/assets"
PAGE_CSP = (
    "default-src 'none'; img-src http: https: data:; style-src 'unsafe-inline'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
_COMMON = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}
_STATIC = Path(__file__).parent / "static"


def public_url_unset() -> bool:
    return not settings.current().public_url.strip()


class SecurityHeadersMiddleware:
    """Add the security headers (see the module) to every HTTP answer that lacks them. Pure ASGI."""

    def __init__(self, app: ASGIApp, *, vary_host: bool) -> None:
        self.app = app
        self.vary_host = vary_host

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path, root = scope["path"], scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        csp = DOCS_CSP if path == "/docs" or path.startswith(DOCS_ASSETS + "/") else PAGE_CSP

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in (("Content-Security-Policy", csp), *_COMMON.items()):
                    if name not in headers:
                        headers[name] = value
                if self.vary_host:
                    headers.add_vary_header("Host")
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _swagger_assets() -> Path:
    return Path(str(files("fastapi_offline") / "static"))


def install_docs(app: FastAPI) -> None:
    """``/docs``: Swagger UI from the installed package's files and our own start script (no inline script).
    Before the public site's routes, whose ``/{lang}/{section}/{id}`` would take ``/docs/assets/...``."""
    app.mount(DOCS_ASSETS + "/lintas", StaticFiles(directory=_STATIC), name="docs-lintas")  # before the next
    app.mount(DOCS_ASSETS, StaticFiles(directory=_swagger_assets()), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        root = html.escape(str(request.scope.get("root_path", "")).rstrip("/"))
        openapi = html.escape(str(app.openapi_url))
        page = (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(app.title)} - Swagger UI</title>"
            f'<link rel="stylesheet" href="{root}{DOCS_ASSETS}/swagger-ui.css">'
            f'<link rel="icon" href="{root}{DOCS_ASSETS}/favicon.png"></head>'
            f'<body><div id="swagger-ui" data-openapi-url="{root}{openapi}"></div>'
            f'<script src="{root}{DOCS_ASSETS}/swagger-ui-bundle.js"></script>'
            f'<script src="{root}{DOCS_ASSETS}/lintas/swagger-init.js"></script></body></html>\n'
        )
        return HTMLResponse(page)
