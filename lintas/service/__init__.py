"""The HTTP API of ``lintas serve`` (FastAPI), thin over :mod:`lintas.store`.

* :func:`create_app` / :func:`create_app_from_env`: the application (``uvicorn --factory
  lintas.service:create_app_from_env``; the database URL from ``LINTAS_DATABASE_URL``);
* :mod:`lintas.service.api`: the endpoints; :mod:`lintas.service.errors`: JSON errors and the body limit;
  :mod:`lintas.service.metrics`: Prometheus metrics on a per-app registry;
* :mod:`lintas.service.auth`: API keys and roles (:func:`~lintas.service.auth.require`), CORS;
  :mod:`lintas.service.ratelimit`: rate limits; :mod:`lintas.service.webhooks`: the signed CMS webhook.
* :mod:`lintas.service.accounts`: signing in to the editors' desk (``/desk/``: sessions, CSRF, HTML pages).
"""

from __future__ import annotations

from lintas.service.app import DATABASE_URL_ENV, DEFAULT_MAX_BODY_BYTES, create_app, create_app_from_env
from lintas.service.errors import ApiError
from lintas.service.metrics import Metrics

__all__ = ["DATABASE_URL_ENV", "DEFAULT_MAX_BODY_BYTES", "ApiError", "Metrics", "create_app", "create_app_from_env"]
