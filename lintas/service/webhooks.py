"""``POST /v1/webhooks/cms``: the newsroom's CMS pushes an article, signed with a shared secret (HMAC-SHA256).

The body is the article JSON, as for ``PUT /v1/articles/{id}`` (``?targets=`` too), and the answer is the same
(201 new revision, 200 unchanged). Three headers authenticate it instead of an API key:

* ``X-Lintas-Timestamp``: the sending time, unix seconds; refused when more than ``LINTAS_WEBHOOK_TOLERANCE``
  (300) seconds from the server's clock (401 ``stale_timestamp``);
* ``X-Lintas-Delivery``: a unique id of this delivery (at most 200 characters); an id seen before is refused
  (409 ``replayed``). It is recorded in the transaction that stores the article, so a delivery that fails can
  be retried with the same id;
* ``X-Lintas-Signature``: ``sha256=`` and the hex HMAC-SHA256, keyed with ``LINTAS_WEBHOOK_SECRET``, of
  ``f"{timestamp}.{delivery}."`` followed by the raw body bytes (401 ``bad_signature``); with a query string
  (``?targets=en,ar``), of ``f"{timestamp}.{delivery}.?{query}."`` and the body, ``query`` as sent
  (:mod:`lintas.newsroom.signing`), so that nobody can change the languages of a signed delivery.

The signature is checked on the raw bytes before the body is parsed. Without ``LINTAS_WEBHOOK_SECRET`` the
endpoint answers 503 ``webhook_not_configured``. Signing, in Python::

    import hashlib, hmac, json, time, uuid, urllib.request

    body = json.dumps(article).encode("utf-8")
    timestamp, delivery, query = str(int(time.time())), str(uuid.uuid4()), "targets=en,ar"
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp}.{delivery}.?{query}.".encode() + body, hashlib.sha256)
    request = urllib.request.Request(
        "https://lintas.example/v1/webhooks/cms?" + query, data=body, method="POST",
        headers={"Content-Type": "application/json", "X-Lintas-Timestamp": timestamp,
                 "X-Lintas-Delivery": delivery, "X-Lintas-Signature": "sha256=" + digest.hexdigest()},
    )
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from lintas import settings
from lintas.newsroom.signing import sign, verify
from lintas.service.api import (
    ARTICLE_JSON_BODY,
    TargetsQuery,
    article_from_json,
    parse_target_query,
    read_json,
    service_state,
    stored_answer,
)
from lintas.service.errors import ApiError
from lintas.store import receipts, repo
from lintas.store.db import transaction, utcnow
from lintas.text.article import Article

__all__ = ["WebhookConfig", "install_webhooks", "router", "sign"]


_HEADERS = ("X-Lintas-Timestamp", "X-Lintas-Delivery", "X-Lintas-Signature")
_MAX_TIMESTAMP_DIGITS = 12  # unix seconds until the year 33658: a longer number is refused before int() and float()


@dataclass(frozen=True)
class WebhookConfig:
    secret: str
    tolerance: int  # seconds

    @classmethod
    def from_settings(cls) -> WebhookConfig:
        configured = settings.current()  # LINTAS_WEBHOOK_TOLERANCE: 1 to 86400 seconds
        return cls(secret=configured.webhook_secret.get_secret_value(), tolerance=configured.webhook_tolerance)


def _headers(request: Request) -> tuple[int, str, str]:
    values = [request.headers.get(name, "").strip() for name in _HEADERS]
    missing = [name for name, value in zip(_HEADERS, values, strict=True) if not value]
    if missing:
        raise ApiError(400, "missing_header", f"the webhook needs the header(s) {', '.join(missing)}", missing=missing)
    timestamp, delivery, signature = values
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > _MAX_TIMESTAMP_DIGITS:
        raise ApiError(
            400,
            "bad_request",
            f"X-Lintas-Timestamp must be unix time in whole seconds (at most {_MAX_TIMESTAMP_DIGITS} digits)",
        )
    if len(delivery) > receipts.MAX_DELIVERY_ID:
        raise ApiError(400, "bad_request", f"X-Lintas-Delivery is over {receipts.MAX_DELIVERY_ID} characters")
    return int(timestamp), delivery, signature


def _verify(config: WebhookConfig, timestamp: int, delivery: str, signature: str, body: bytes, query: str) -> None:
    if not verify(config.secret, str(timestamp), delivery, body, signature, query):
        raise ApiError(401, "bad_signature", "the X-Lintas-Signature does not match the body, query string and headers")
    skew = abs(time.time() - timestamp)
    if skew > config.tolerance:
        raise ApiError(
            401,
            "stale_timestamp",
            f"X-Lintas-Timestamp is {skew:.0f} s from the server's clock (tolerance {config.tolerance} s)",
        )


def _store(
    db: Engine, delivery: str, article: Article, langs: list[str], tolerance: int
) -> tuple[int, bool, dict[str, repo.EditionState]]:
    """The receipt and the article in one transaction: a failure leaves neither."""
    now = utcnow()
    with transaction(db) as conn:
        if not receipts.claim_delivery(conn, delivery, now):
            raise ApiError(409, "replayed", f"delivery {delivery!r} was received before", delivery=delivery)
        revision, changed = repo.upsert_article(conn, article, langs)
        statuses = repo.edition_statuses(conn, article.id)
        receipts.prune_receipts(conn, now - timedelta(seconds=2 * tolerance))
    return revision, changed, statuses


router = APIRouter()


@router.post(
    "/v1/webhooks/cms",
    tags=["webhooks"],
    summary="Store an article pushed by the CMS, signed with HMAC-SHA256 (no API key; see docs/security.md)",
    status_code=201,
    responses={200: {"description": "same content as the current revision: nothing new"}},
    openapi_extra={"requestBody": {"required": True, "content": ARTICLE_JSON_BODY}},
)
async def cms_webhook(request: Request, targets: TargetsQuery = None) -> JSONResponse:
    config: WebhookConfig = request.app.state.lintas_webhook
    if not config.secret:
        raise ApiError(503, "webhook_not_configured", "the CMS webhook is off: LINTAS_WEBHOOK_SECRET is not set")
    timestamp, delivery, signature = _headers(request)
    query = request.scope.get("query_string", b"").decode("utf-8", "surrogateescape")  # as sent: signed
    _verify(config, timestamp, delivery, signature, await request.body(), query)
    langs = parse_target_query(targets)
    article = await run_in_threadpool(article_from_json, await read_json(request), None)
    db = service_state(request).database()
    revision, changed, statuses = await run_in_threadpool(_store, db, delivery, article, langs, config.tolerance)
    return stored_answer(request, article.id, revision, changed, statuses)


def install_webhooks(app: FastAPI) -> None:
    """Add the webhook route, configured from the settings (InputError for a bad tolerance)."""
    app.state.lintas_webhook = WebhookConfig.from_settings()
    app.include_router(router)
