"""Security of the HTTP API: API keys and roles, rate limits, CORS and the signed CMS webhook.

On SQLite and, with LINTAS_TEST_POSTGRES_URL, on PostgreSQL in a database of its own (``lintas_auth_test``).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from dbs import database_url
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from test_service import ARTICLE, article_body, assert_error

from lintas.service import auth as auth_module
from lintas.service import create_app
from lintas.service.auth import required_role
from lintas.service.webhooks import sign
from lintas.store import db, keys, repo
from lintas.store.schema import api_keys, article_revisions, articles, jobs, webhook_receipts

PG_DATABASE = "lintas_auth_test"
SECRET = "s3cret-shared-with-the-cms"
ROUTES: list[tuple[str, str, str, Any]] = [  # method, path, role needed, JSON body
    ("GET", "/v1/articles/a1", "read", None),
    ("GET", "/v1/articles/a1/revisions/1", "read", None),
    ("GET", "/v1/articles/a1/editions/en", "read", None),
    ("GET", "/v1/articles/a1/editions/en.html", "read", None),
    ("GET", "/v1/articles/a1/source.html", "read", None),
    ("PUT", "/v1/articles/a1", "ingest", ARTICLE),
    ("POST", "/v1/articles", "ingest", ARTICLE),
    ("DELETE", "/v1/articles/a1/publication", "editor", None),
    ("POST", "/v1/translate", "editor", {"text": "Presiden tiba di Jakarta pada hari Senin.", "to": "en"}),
]


# --- fixtures ------------------------------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path) -> str:
    return database_url(request.param, tmp_path, PG_DATABASE)


@pytest.fixture
def app_client(db_url: str, store: Engine) -> Iterator[TestClient]:
    """A client without a key of its own, on an app with the default settings."""
    with TestClient(create_app(db_url, engine_name="fake")) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def call(client: TestClient, method: str, path: str, body: Any = None, **kwargs: Any) -> Any:
    return client.request(method, path, json=body, **kwargs)


def count(store: Engine, table: Any) -> int:
    with store.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


# --- keys in the store ---------------------------------------------------------------------------------------


def test_keys_are_stored_hashed_and_verified(store: Engine) -> None:
    key_id, token = keys.create_key(store, "cms", "ingest", rate_per_minute=50)
    prefix, id_part, secret = token.split("_", 2)
    assert (prefix, id_part) == ("lintas", key_id) and len(secret) >= 43
    with store.connect() as conn:
        row = conn.execute(select(api_keys)).one()
        dumped = " ".join(str(value) for value in row)
    assert secret not in dumped and token not in dumped
    assert row.secret_hash == hashlib.sha256(secret.encode()).hexdigest()

    info = keys.verify_key(store, token)
    assert info is not None and (info.id, info.name, info.role, info.rate_per_minute) == (key_id, "cms", "ingest", 50)
    assert info.allows("read") and info.allows("ingest") and not info.allows("editor")
    first_use = keys.list_keys(store)[0].last_used_at
    assert first_use is not None
    assert keys.verify_key(store, token) is not None
    assert keys.list_keys(store)[0].last_used_at == first_use  # not written again within a minute

    assert keys.verify_key(store, token[:-1] + ("A" if token[-1] != "A" else "B")) is None  # wrong secret
    assert keys.verify_key(store, "lintas_0123456789abcdef_" + secret) is None  # unknown id
    assert keys.verify_key(store, "not a key") is None
    revoked = keys.revoke_key(store, key_id)
    assert revoked is not None and revoked.revoked
    assert keys.verify_key(store, token) is None
    assert keys.revoke_key(store, key_id) == revoked  # again: unchanged
    assert keys.revoke_key(store, "nope") is None
    assert [k.id for k in keys.list_keys(store, include_revoked=False)] == []


@pytest.mark.parametrize(
    ("name", "role", "rate"), [("", "read", None), ("x" * 201, "read", None), ("a", "root", None), ("a", "read", 0)]
)
def test_bad_keys_are_refused(store: Engine, name: str, role: str, rate: int | None) -> None:
    with pytest.raises(ValueError):
        keys.create_key(store, name, role, rate)
    assert count(store, api_keys) == 0


# --- authentication and roles --------------------------------------------------------------------------------


def test_requests_without_a_valid_key_get_401(app_client: TestClient, store: Engine) -> None:
    for method, path, _role, body in ROUTES:
        response = call(app_client, method, path, body)
        assert_error(response, 401, "unauthorized")
        assert response.headers["WWW-Authenticate"] == "Bearer"
    basic = app_client.get("/v1/articles/a1", headers={"Authorization": "Basic dXNlcjpwdw=="})
    assert_error(basic, 401, "unauthorized")

    _, token = keys.create_key(store, "reader", "read")
    wrong = token[:-4] + "AAAA" if not token.endswith("AAAA") else token[:-4] + "BBBB"
    for bad in (wrong, "lintas_0123456789abcdef_" + token.split("_", 2)[2], "garbage"):
        response = app_client.get("/v1/articles/a1", headers=bearer(bad))
        assert_error(response, 401, "invalid_api_key")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert_error(app_client.get("/v1/articles/a1", headers={"X-API-Key": "garbage"}), 401, "invalid_api_key")
    assert count(store, articles) == 0


def test_a_revoked_key_stops_working_within_the_cache_ttl(
    app_client: TestClient, store: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_id, token = keys.create_key(store, "reader", "read")
    assert_error(app_client.get("/v1/articles/a1", headers=bearer(token)), 404, "article_not_found")
    keys.revoke_key(store, key_id)
    # still cached: accepted for at most KEY_CACHE_SECONDS
    assert_error(app_client.get("/v1/articles/a1", headers=bearer(token)), 404, "article_not_found")
    later = time.monotonic() + auth_module.KEY_CACHE_SECONDS + 1
    monkeypatch.setattr(auth_module.time, "monotonic", lambda: later)
    assert_error(app_client.get("/v1/articles/a1", headers=bearer(token)), 401, "invalid_api_key")


def test_roles_per_route_family(app_client: TestClient, store: Engine) -> None:
    tokens = {role: keys.create_key(store, role, role)[1] for role in ("read", "ingest", "editor", "admin")}
    for method, path, needed, body in ROUTES:
        for role, token in tokens.items():
            headers = bearer(token) if role != "editor" else {"X-API-Key": token}  # both headers work
            response = call(app_client, method, path, body, headers=headers)
            if keys.role_allows(role, needed):
                assert response.status_code not in (401, 403, 429), (method, path, role, response.text)
            else:
                error = assert_error(response, 403, "forbidden")
                assert error["required_role"] == needed and error["role"] == role
                assert repr(needed) in error["message"]
    # with the right roles the whole flow works
    assert (
        call(app_client, "PUT", "/v1/articles/a2", article_body(id="a2"), headers=bearer(tokens["ingest"])).status_code
        == 201
    )
    got = app_client.get("/v1/articles/a2", headers=bearer(tokens["read"]))
    assert got.status_code == 200 and got.json()["revision"] == 1
    gone = app_client.delete("/v1/articles/a2/publication", headers=bearer(tokens["editor"]))
    assert gone.status_code == 200 and gone.json()["published"] is False


def test_every_api_route_needs_a_key_and_public_ones_do_not(app_client: TestClient) -> None:
    for route in iter_route_contexts(app_client.app.routes):  # type: ignore[attr-defined]
        path = route.path or ""
        if path.startswith("/v1/") and not path.startswith("/v1/webhooks/"):
            assert required_role(route) is not None, f"{path} needs require(role)"
    public = ["/healthz", "/readyz", "/metrics", "/docs", "/openapi.json"]
    assert all(app_client.get(path).status_code == 200 for path in public)
    schema = app_client.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert schema["components"]["securitySchemes"]["apiKey"]["name"] == "X-API-Key"
    assert {"bearer": []} in schema["paths"]["/v1/articles/{article_id}"]["put"]["security"]
    assert "security" not in schema["paths"]["/healthz"]["get"]
    assert "security" not in schema["paths"]["/v1/webhooks/cms"]["post"]


def test_without_auth_the_api_is_open(db_url: str) -> None:
    with TestClient(create_app(db_url, engine_name="fake", auth=False)) as client:
        assert client.put("/v1/articles/a1", json=ARTICLE).status_code == 201
        assert client.get("/v1/articles/a1").status_code == 200


# --- rate limits ---------------------------------------------------------------------------------------------


def test_rate_limits_per_key_and_per_ip(db_url: str, store: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINTAS_RATE_LIMIT", "3/minute")
    monkeypatch.setenv("LINTAS_PUBLIC_RATE_LIMIT", "4/minute")
    _, limited = keys.create_key(store, "default rate", "read")
    _, generous = keys.create_key(store, "own rate", "read", rate_per_minute=6)
    with TestClient(create_app(db_url, engine_name="fake")) as client:
        for _ in range(3):
            assert client.get("/v1/articles/a1", headers=bearer(limited)).status_code == 404
        response = client.get("/v1/articles/a1", headers=bearer(limited))
        error = assert_error(response, 429, "rate_limited")
        assert 1 <= int(response.headers["Retry-After"]) <= 60 and error["retry_after"] >= 1
        statuses = [client.get("/v1/articles/a1", headers=bearer(generous)).status_code for _ in range(7)]
        assert statuses == [404] * 6 + [429]  # its own rate, counted apart from the other key's

        assert [client.get("/healthz").status_code for _ in range(4)] == [200] * 4
        public = client.get("/healthz")
        assert_error(public, 429, "rate_limited")
        assert int(public.headers["Retry-After"]) >= 1
        # the client's IP is spent: failed authentication counts against it too, keyed requests do not
        assert_error(client.get("/v1/articles/a1"), 429, "rate_limited")
        assert_error(client.get("/v1/articles/a1", headers=bearer("garbage")), 429, "rate_limited")
        assert_error(client.get("/docs"), 429, "rate_limited")


def test_rate_limits_can_be_off(db_url: str, store: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINTAS_RATE_LIMIT", "off")
    monkeypatch.setenv("LINTAS_PUBLIC_RATE_LIMIT", "off")
    _, token = keys.create_key(store, "reader", "read")
    with TestClient(create_app(db_url, engine_name="fake")) as client:
        assert all(client.get("/v1/articles/a1", headers=bearer(token)).status_code == 404 for _ in range(30))
        assert all(client.get("/healthz").status_code == 200 for _ in range(30))


# --- CORS ----------------------------------------------------------------------------------------------------


def preflight(client: TestClient, origin: str) -> Any:
    headers = {
        "Origin": origin,
        "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "authorization, content-type",
    }
    return client.options("/v1/articles/a1", headers=headers)


def test_cors_only_for_configured_origins(db_url: str, store: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    with TestClient(create_app(db_url, engine_name="fake")) as client:  # default: no CORS at all
        assert "access-control-allow-origin" not in preflight(client, "https://cms.example").headers
    monkeypatch.setenv("LINTAS_CORS_ORIGINS", "https://cms.example, https://desk.example/")
    _, token = keys.create_key(store, "reader", "read")
    with TestClient(create_app(db_url, engine_name="fake")) as client:
        allowed = preflight(client, "https://cms.example")
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://cms.example"
        assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
        assert "PUT" in allowed.headers["access-control-allow-methods"]
        assert preflight(client, "https://desk.example").status_code == 200
        refused = preflight(client, "https://evil.example")
        assert refused.status_code == 400
        assert "access-control-allow-origin" not in refused.headers
        simple = client.get("/v1/articles/a1", headers={"Origin": "https://cms.example", **bearer(token)})
        assert simple.headers["access-control-allow-origin"] == "https://cms.example"
        unauthorized = client.get("/v1/articles/a1", headers={"Origin": "https://cms.example"})
        assert unauthorized.status_code == 401  # errors are readable by the page too
        assert unauthorized.headers["access-control-allow-origin"] == "https://cms.example"


# --- CMS webhook ---------------------------------------------------------------------------------------------


def signed(
    body: bytes, delivery: str, *, timestamp: int | None = None, secret: str = SECRET, query: str = ""
) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "Content-Type": "application/json",
        "X-Lintas-Timestamp": stamp,
        "X-Lintas-Delivery": delivery,
        "X-Lintas-Signature": sign(secret, stamp, delivery, body, query.removeprefix("?")),
    }


@pytest.fixture
def hook(db_url: str, store: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("LINTAS_WEBHOOK_SECRET", SECRET)
    with TestClient(create_app(db_url, engine_name="fake")) as client:
        yield client


def post_hook(client: TestClient, body: bytes, headers: dict[str, Any], query: str = "") -> Any:
    return client.post("/v1/webhooks/cms" + query, content=body, headers=headers)


def nothing_stored(store: Engine) -> bool:
    return all(count(store, table) == 0 for table in (webhook_receipts, articles, article_revisions, jobs))


def test_webhook_accepts_a_signed_delivery_once(hook: TestClient, store: Engine) -> None:
    body = json.dumps(ARTICLE).encode()
    first = post_hook(hook, body, signed(body, "d-1", query="?targets=en,ar"), "?targets=en,ar")
    assert first.status_code == 201, first.text
    data = first.json()
    assert (data["id"], data["revision"], data["changed"]) == ("a1", 1, True)
    assert sorted(data["editions"]) == ["ar", "en"]
    assert first.headers["Location"].endswith("/v1/articles/a1")

    assert_error(post_hook(hook, body, signed(body, "d-1")), 409, "replayed")
    again = post_hook(hook, body, signed(body, "d-2", query="?targets=en,ar"), "?targets=en,ar")
    assert again.status_code == 200 and again.json()["changed"] is False
    changed = json.dumps(article_body(headline="Presiden tiba di Bandung untuk rapat kabinet")).encode()
    assert post_hook(hook, changed, signed(changed, "d-3")).json()["revision"] == 2
    assert count(store, webhook_receipts) == 3 and count(store, article_revisions) == 2


def test_webhook_refuses_bad_deliveries_and_stores_nothing(hook: TestClient, store: Engine) -> None:
    body = json.dumps(ARTICLE).encode()
    tampered = body.replace(b"Jakarta", b"Bandung", 1)
    assert_error(post_hook(hook, tampered, signed(body, "d-1")), 401, "bad_signature")
    assert_error(post_hook(hook, body, signed(body, "d-1", secret="another")), 401, "bad_signature")
    headers = signed(body, "d-1")
    headers["X-Lintas-Delivery"] = "d-other"  # the id is signed too
    assert_error(post_hook(hook, body, headers), 401, "bad_signature")
    old = int(time.time()) - 301
    assert_error(post_hook(hook, body, signed(body, "d-1", timestamp=old)), 401, "stale_timestamp")
    future = int(time.time()) + 400
    assert_error(post_hook(hook, body, signed(body, "d-1", timestamp=future)), 401, "stale_timestamp")
    for missing in ("X-Lintas-Timestamp", "X-Lintas-Delivery", "X-Lintas-Signature"):
        headers = signed(body, "d-1")
        del headers[missing]
        error = assert_error(post_hook(hook, body, headers), 400, "missing_header")
        assert error["missing"] == [missing]
    assert_error(post_hook(hook, body, signed(body, "d" * 201)), 400, "bad_request")
    for stamp in ("yesterday", "-5", "1.5", "\u00b2"):  # the last: a latin-1 digit that int() refuses
        bad_stamp = {**signed(body, "d-1"), "X-Lintas-Timestamp": stamp.encode("latin-1")}
        assert_error(post_hook(hook, body, bad_stamp), 400, "bad_request")
    # signed but unusable bodies: refused after the signature, and the delivery id is not spent
    malformed = b"{oops"
    assert_error(post_hook(hook, malformed, signed(malformed, "d-1")), 400, "malformed_json")
    english = json.dumps(
        article_body(
            headline="The president arrived in Jakarta to lead a cabinet meeting",
            body=[{"type": "paragraph", "html": "The president arrived on Monday to discuss the budget and rice."}],
        )
    ).encode()
    assert_error(post_hook(hook, english, signed(english, "d-1")), 422, "not_indonesian")
    assert_error(
        post_hook(hook, body, signed(body, "d-1", query="?targets=de"), "?targets=de"), 422, "unknown_language"
    )
    assert nothing_stored(store)
    assert post_hook(hook, body, signed(body, "d-1")).status_code == 201  # the id was never burned


def test_webhook_signature_covers_the_query_string(hook: TestClient, store: Engine) -> None:
    body = json.dumps(ARTICLE).encode()
    only_english = signed(body, "d-1", query="?targets=en")
    assert_error(post_hook(hook, body, only_english, "?targets=en,ar,zh"), 401, "bad_signature")
    assert_error(post_hook(hook, body, signed(body, "d-1"), "?targets=en"), 401, "bad_signature")  # added
    assert_error(post_hook(hook, body, only_english), 401, "bad_signature")  # dropped
    assert nothing_stored(store)
    answer = post_hook(hook, body, only_english, "?targets=en")
    assert answer.status_code == 201 and sorted(answer.json()["editions"]) == ["en"]


def test_webhook_timestamps_of_any_length_are_a_4xx(hook: TestClient, store: Engine) -> None:
    body = json.dumps(ARTICLE).encode()
    for digits in (13, 4000, 5000):
        stamp = "9" * digits
        unsigned = {**signed(body, "d-1"), "X-Lintas-Timestamp": stamp}
        assert_error(post_hook(hook, body, unsigned), 400, "bad_request")
        with_signature = {**unsigned, "X-Lintas-Signature": sign(SECRET, stamp, "d-1", body)}
        assert_error(post_hook(hook, body, with_signature), 400, "bad_request")
    far = signed(body, "d-1", timestamp=10**12 - 1)  # the longest accepted: only stale
    assert_error(post_hook(hook, body, far), 401, "stale_timestamp")
    assert nothing_stored(store)


def test_a_failed_upsert_does_not_spend_the_delivery(
    db_url: str, store: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LINTAS_WEBHOOK_SECRET", SECRET)
    body = json.dumps(ARTICLE).encode()
    real = repo.upsert_article

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("disk full")

    monkeypatch.setattr(repo, "upsert_article", broken)
    with TestClient(create_app(db_url, engine_name="fake"), raise_server_exceptions=False) as client:
        assert_error(post_hook(client, body, signed(body, "d-1")), 500, "internal_error")
        assert nothing_stored(store)
        monkeypatch.setattr(repo, "upsert_article", real)
        assert post_hook(client, body, signed(body, "d-1")).status_code == 201


def test_old_receipts_are_pruned(hook: TestClient, store: Engine) -> None:
    from datetime import timedelta

    from lintas.store import claim_delivery

    assert claim_delivery(store, "ancient", db.utcnow() - timedelta(hours=1))
    assert not claim_delivery(store, "ancient")
    body = json.dumps(ARTICLE).encode()
    assert post_hook(hook, body, signed(body, "d-new")).status_code == 201
    with store.connect() as conn:
        assert conn.execute(select(webhook_receipts.c.delivery_id)).scalars().all() == ["d-new"]


def test_webhook_without_a_secret_is_off(app_client: TestClient, store: Engine) -> None:
    body = json.dumps(ARTICLE).encode()
    assert_error(post_hook(app_client, body, signed(body, "d-1")), 503, "webhook_not_configured")
    assert nothing_stored(store)
