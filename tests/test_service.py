"""lintas.service: the HTTP API over the store, with FastAPI's TestClient and once over real HTTP (uvicorn).

Every database test runs on SQLite (a file under tmp_path) and, when LINTAS_TEST_POSTGRES_URL names a PostgreSQL
server (e.g. postgresql+psycopg://lintas:lintas@127.0.0.1:5432/lintas_test), on PostgreSQL too, in a database of
its own, ``lintas_service_test`` (created when missing), emptied before each test.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from dbs import database_url
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text, update

from lintas.engines.fake import FakeEngine
from lintas.measure.loadtest import free_port
from lintas.pipeline.translate import translate_article
from lintas.service import create_app
from lintas.store import db, keys, queue, repo
from lintas.store.schema import jobs
from lintas.text.article import Edition

PG_DATABASE = "lintas_service_test"
TARGETS = ["ar", "en", "fr", "ja", "zh"]

ARTICLE: dict[str, Any] = {
    "id": "a1",
    "headline": "Presiden tiba di Jakarta untuk memimpin rapat kabinet",
    "dateline": "JAKARTA, KOMPAS.com -",
    "body": [
        {
            "type": "paragraph",
            "html": "Presiden <a href='https://example.com'>Joko Widodo</a> tiba di Jakarta pada hari Senin "
            "untuk memimpin rapat kabinet bersama para menteri.",
        },
        {"type": "paragraph", "html": "Rapat itu membahas anggaran negara dan harga beras yang terus naik."},
    ],
    "published_at": "2024-05-01T09:00:00+00:00",
}
ENGLISH = {
    "headline": "The president arrived in Jakarta to lead a cabinet meeting",
    "body": [{"type": "paragraph", "html": "The president arrived on Monday to discuss the state budget and rice."}],
}


def article_body(**changes: Any) -> dict[str, Any]:
    return {**ARTICLE, **changes}


# --- fixtures ------------------------------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path) -> str:
    return database_url(request.param, tmp_path, PG_DATABASE)


def api_key(db_url: str, role: str = "admin", **options: Any) -> str:
    """A new API key in the database at ``db_url`` (migrated first if need be)."""
    engine = db.make_engine(db_url)
    try:
        db.upgrade(engine)
        return keys.create_key(engine, f"test {role}", role, **options)[1]
    finally:
        engine.dispose()


def authorized(client: TestClient, db_url: str, role: str = "admin") -> TestClient:
    """``client`` (started) sending a new key with ``role`` on every request."""
    client.headers["Authorization"] = f"Bearer {api_key(db_url, role)}"
    return client


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    """A client of an app on ``db_url`` whose requests carry an admin key."""
    with TestClient(create_app(db_url, engine_name="fake")) as test_client:
        yield authorized(test_client, db_url)


@pytest.fixture
def store(client: TestClient, db_url: str) -> Iterator[Engine]:
    """An engine on the app's database (the app has created the schema), for what workers would do."""
    engine = db.make_engine(db_url)
    try:
        yield engine
    finally:
        engine.dispose()


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == code, error
    assert error["message"]
    assert "Traceback" not in response.text
    return error


def translate_job(store: Engine, worker: str = "w1") -> Edition:
    """Claim the next job and complete it with a FakeEngine translation, as a worker would."""
    job = queue.claim(store, worker)
    assert job is not None
    article = repo.get_article(store, job.article_id, job.revision)
    assert article is not None
    edition = translate_article(article, [job.target_lang], FakeEngine(), pivot="")[0].edition
    assert queue.complete(store, job.id, worker, edition)
    return edition


# --- articles ------------------------------------------------------------------------------------------------


def test_put_is_idempotent(client: TestClient, store: Engine) -> None:
    first = client.put("/v1/articles/a1", json=ARTICLE)
    assert first.status_code == 201, first.text
    body = first.json()
    assert (body["id"], body["revision"], body["changed"]) == ("a1", 1, True)
    assert sorted(body["editions"]) == TARGETS
    assert first.headers["location"] == "/v1/articles/a1"

    again = client.put("/v1/articles/a1", json=ARTICLE)
    assert again.status_code == 200, again.text
    assert (again.json()["revision"], again.json()["changed"]) == (1, False)
    assert [r.revision for r in repo.list_revisions(store, "a1")] == [1]
    assert queue.counts(store)["queued"] == 5  # no new work


def test_changed_content_is_revision_2_and_both_stay_readable(client: TestClient) -> None:
    assert client.put("/v1/articles/a1", json=ARTICLE).status_code == 201
    changed = article_body(headline="Presiden tiba di Jakarta dan langsung memimpin rapat kabinet")
    second = client.put("/v1/articles/a1", json=changed)
    assert second.status_code == 201
    assert (second.json()["revision"], second.json()["changed"]) == (2, True)

    current = client.get("/v1/articles/a1").json()
    assert current["revision"] == 2
    assert current["article"]["headline"] == changed["headline"]
    assert [r["revision"] for r in current["revisions"]] == [1, 2]
    one = client.get("/v1/articles/a1/revisions/1")
    two = client.get(current["revisions"][1]["href"])
    assert one.json()["headline"] == ARTICLE["headline"] and one.json()["revision"] == 1
    assert two.json()["headline"] == changed["headline"] and two.json()["revision"] == 2


def test_post_takes_the_id_from_the_body_and_sanitizes_like_the_json_reader(client: TestClient) -> None:
    body = article_body(id="berita-2")
    body["body"] = [{"type": "paragraph", "html": body["body"][0]["html"] + "<script>alert(1)</script>"}]
    response = client.post("/v1/articles", json=body)
    assert response.status_code == 201, response.text
    assert response.headers["location"] == "/v1/articles/berita-2"
    stored = client.get("/v1/articles/berita-2").json()["article"]
    assert "<script" not in stored["body"][0]["html"]
    assert 'href="https://example.com"' in stored["body"][0]["html"]

    missing = assert_error(client.post("/v1/articles", json=article_body(id=None)), 422, "validation_error")
    assert missing["field"] == "id"


def test_put_takes_the_path_id_and_refuses_another_one(client: TestClient) -> None:
    body = {k: v for k, v in ARTICLE.items() if k != "id"}
    assert client.put("/v1/articles/from-path", json=body).json()["id"] == "from-path"
    error = assert_error(client.put("/v1/articles/other", json=ARTICLE), 422, "id_mismatch")
    assert error["field"] == "id"
    assert client.get("/v1/articles/other").status_code == 404


def test_targets_query_and_queued_statuses(client: TestClient) -> None:
    response = client.put("/v1/articles/a1", params={"targets": "en,zh"}, json=ARTICLE)
    assert sorted(response.json()["editions"]) == ["en", "zh"]
    article = client.get("/v1/articles/a1").json()
    assert article["published"] is True
    assert sorted(article["editions"]) == ["en", "zh"]
    for status in article["editions"].values():
        assert status["job_state"] == "queued"
        assert status["attempts"] == 0
        assert status["up_to_date"] is False
    assert article["links"]["editions"]["zh"]["html"] == "/v1/articles/a1/editions/zh.html"

    # the same content again with one more language queues only that one
    again = client.put("/v1/articles/a1", params={"targets": "fr"}, json=ARTICLE)
    assert again.status_code == 200
    assert sorted(again.json()["editions"]) == ["en", "fr", "zh"]

    error = assert_error(
        client.put("/v1/articles/a2", params={"targets": "en,de"}, json=ARTICLE | {"id": "a2"}), 422, "unknown_language"
    )
    assert error["valid"] == ["en", "zh", "ja", "ar", "fr"]
    assert "'de'" in error["message"]
    assert client.get("/v1/articles/a2").status_code == 404


# --- editions ------------------------------------------------------------------------------------------------


def test_editions_are_served_as_json_and_html(client: TestClient, store: Engine) -> None:
    client.put("/v1/articles/a1", params={"targets": "ar,en"}, json=ARTICLE)
    made = {translate_job(store).target_lang for _ in range(2)}
    assert made == {"ar", "en"}

    edition = client.get("/v1/articles/a1/editions/ar")
    assert edition.status_code == 200, edition.text
    assert edition.headers["content-language"] == "ar"
    data = edition.json()
    assert (data["id"], data["target_lang"], data["revision"], data["engine"]) == ("a1", "ar", 1, "fake")
    assert data["segments"]

    page = client.get("/v1/articles/a1/editions/ar.html")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert 'lang="ar"' in page.text and 'dir="rtl"' in page.text
    assert 'href="/v1/articles/a1/source.html?revision=1"' in page.text
    english = client.get("/v1/articles/a1/editions/en.html", params={"revision": 1})
    assert 'lang="en"' in english.text and 'dir="ltr"' in english.text

    source = client.get("/v1/articles/a1/source.html")
    assert source.status_code == 200
    assert 'lang="id"' in source.text and "Presiden tiba di Jakarta" in source.text

    statuses = client.get("/v1/articles/a1").json()["editions"]
    assert statuses["ar"]["job_state"] == "done"
    assert statuses["ar"]["edition_status"] in ("published", "held")
    assert statuses["ar"]["up_to_date"] is True

    # a new revision: the newest edition (revision 1) is still served until revision 2 has one
    client.put("/v1/articles/a1", params={"targets": "ar"}, json=article_body(headline="Presiden kembali ke Bogor"))
    assert client.get("/v1/articles/a1/editions/ar").json()["revision"] == 1
    error = assert_error(client.get("/v1/articles/a1/editions/ar", params={"revision": 2}), 404, "edition_not_ready")
    assert error["job"]["revision"] == 2


def test_missing_editions_say_where_the_job_stands(client: TestClient, store: Engine) -> None:
    client.put("/v1/articles/a1", params={"targets": "en"}, json=ARTICLE)
    error = assert_error(client.get("/v1/articles/a1/editions/en"), 404, "edition_not_ready")
    assert error["job"]["state"] == "queued"
    assert "queued" in error["message"]
    assert assert_error(client.get("/v1/articles/a1/editions/en.html"), 404, "edition_not_ready")

    job = queue.claim(store, "w1")
    assert job is not None
    running = assert_error(client.get("/v1/articles/a1/editions/en"), 404, "edition_not_ready")
    assert running["job"]["state"] == "running" and "being translated" in running["message"]

    assert queue.fail(store, job.id, "w1", "engine crashed: out of memory") == "queued"
    retry = assert_error(client.get("/v1/articles/a1/editions/en"), 404, "edition_not_ready")
    assert "engine crashed: out of memory" in retry["message"]
    assert retry["job"]["last_error"] == "engine crashed: out of memory"

    with store.begin() as conn:  # the next failure is the last one
        conn.execute(update(jobs).where(jobs.c.id == job.id).values(max_attempts=1, next_run_at=db.utcnow()))
    job = queue.claim(store, "w1")
    assert job is not None
    assert queue.fail(store, job.id, "w1", "model file is corrupt") == "failed"
    failed = assert_error(client.get("/v1/articles/a1/editions/en"), 404, "translation_failed")
    assert failed["job"]["state"] == "failed" and "model file is corrupt" in failed["message"]

    not_asked = assert_error(client.get("/v1/articles/a1/editions/ja"), 404, "edition_not_found")
    assert "no translation into ja was requested" in not_asked["message"]
    unknown = assert_error(client.get("/v1/articles/a1/editions/de"), 422, "unknown_language")
    assert unknown["valid"] == ["en", "zh", "ja", "ar", "fr"]
    assert_error(client.get("/v1/articles/a1/editions/de.html"), 422, "unknown_language")
    assert_error(client.get("/v1/articles/nope/editions/en"), 404, "article_not_found")
    assert_error(client.get("/v1/articles/a1/source.html", params={"revision": 7}), 404, "revision_not_found")


def test_unpublished_articles_are_gone(client: TestClient, store: Engine) -> None:
    client.put("/v1/articles/a1", params={"targets": "en"}, json=ARTICLE)
    translate_job(store)
    assert client.get("/v1/articles/a1/editions/en").status_code == 200

    response = client.delete("/v1/articles/a1/publication")
    assert response.status_code == 200
    assert response.json() == {"id": "a1", "published": False}
    for path in ("editions/en", "editions/en.html", "editions/fr", "source.html"):
        assert_error(client.get(f"/v1/articles/a1/{path}"), 410, "unpublished")
    article = client.get("/v1/articles/a1").json()  # the newsroom's view stays
    assert article["published"] is False
    assert client.get("/v1/articles/a1/revisions/1").status_code == 200
    assert client.delete("/v1/articles/a1/publication").status_code == 200  # idempotent
    assert_error(client.delete("/v1/articles/nope/publication"), 404, "article_not_found")


# --- errors --------------------------------------------------------------------------------------------------


def test_malformed_and_invalid_bodies(client: TestClient, store: Engine) -> None:
    bad = assert_error(
        client.put("/v1/articles/a1", content=b'{"headline": "x",', headers={"content-type": "application/json"}),
        400,
        "malformed_json",
    )
    assert "line 1" in bad["message"]
    assert_error(client.put("/v1/articles/a1", content=b""), 400, "malformed_json")
    assert_error(client.put("/v1/articles/a1", content=b"\xff\xfe{}"), 400, "malformed_json")
    not_object = assert_error(client.put("/v1/articles/a1", json=[ARTICLE]), 422, "validation_error")
    assert "object" in not_object["message"]

    no_headline = {k: v for k, v in ARTICLE.items() if k != "headline"}
    error = assert_error(client.put("/v1/articles/a1", json=no_headline), 422, "validation_error")
    assert error["field"] == "headline" and "headline" in error["message"]
    bad_block = article_body(body=[{"type": "table", "html": "x"}])
    assert (
        assert_error(client.put("/v1/articles/a1", json=bad_block), 422, "validation_error")["field"] == "body[0].type"
    )
    extra = article_body(colour="red")
    assert assert_error(client.put("/v1/articles/a1", json=extra), 422, "validation_error")["field"] == "colour"
    english = assert_error(client.put("/v1/articles/a1", json=ARTICLE | ENGLISH), 422, "not_indonesian")
    assert "English" in english["message"]
    slash = assert_error(client.post("/v1/articles", json=article_body(id="a/b")), 422, "validation_error")
    assert slash["field"] == "id"
    assert_error(client.put("/v1/articles/a1", json=article_body(source_lang="ms")), 422, "validation_error")

    # nothing of the refused requests was written
    assert_error(client.get("/v1/articles/a1"), 404, "article_not_found")
    assert queue.counts(store) == {"queued": 0, "running": 0, "done": 0, "failed": 0}


def test_bodies_over_the_limit_get_413(db_url: str) -> None:
    with TestClient(create_app(db_url, engine_name="fake", max_body_bytes=2000)) as client:
        authorized(client, db_url)
        big = article_body(body=[{"type": "paragraph", "html": "Presiden tiba di Jakarta. " * 200}])
        declared = assert_error(client.put("/v1/articles/a1", json=big), 413, "body_too_large")
        assert declared["limit"] == 2000

        def chunks() -> Iterator[bytes]:  # no Content-Length: chunked transfer encoding
            for _ in range(10):
                yield b" " * 500

        streamed = assert_error(client.put("/v1/articles/a1", content=chunks()), 413, "body_too_large")
        assert streamed["limit"] == 2000
        assert client.put("/v1/articles/a1", json=ARTICLE).status_code == 201  # under the limit: fine
        metrics = client.get("/metrics").text
        # refused from its Content-Length before routing, and while reading the chunked one
        assert 'lintas_http_requests_total{method="PUT",route="(unmatched)",status="413"} 1.0' in metrics
        assert 'lintas_http_requests_total{method="PUT",route="/v1/articles/{article_id}",status="413"} 1.0' in metrics


def test_unknown_ids_routes_methods_and_parameters(client: TestClient) -> None:
    assert_error(client.get("/v1/articles/nope"), 404, "article_not_found")
    assert_error(client.get("/v1/articles/nope/revisions/1"), 404, "article_not_found")
    client.put("/v1/articles/a1", json=ARTICLE)
    assert_error(client.get("/v1/articles/a1/revisions/9"), 404, "revision_not_found")
    error = assert_error(client.get("/v1/articles/a1/revisions/one"), 422, "validation_error")
    assert error["field"] == "path.revision"
    error = assert_error(client.get("/v1/articles/a1/editions/en", params={"revision": 0}), 422, "validation_error")
    assert error["field"] == "query.revision"
    assert_error(client.get("/v2/nothing"), 404, "not_found")
    assert_error(client.patch("/v1/articles/a1", json={}), 405, "method_not_allowed")


def test_unexpected_errors_are_json_without_traceback(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(repo, "article_info", broken)
    with TestClient(create_app(db_url, engine_name="fake"), raise_server_exceptions=False) as client:
        authorized(client, db_url)
        error = assert_error(client.get("/v1/articles/a1"), 500, "internal_error")
        assert "secret" not in error["message"]


# --- translate -----------------------------------------------------------------------------------------------


def test_translate_with_the_fake_engine(client: TestClient) -> None:
    state = client.app.state.lintas  # type: ignore[attr-defined]
    assert state.translator is None  # made on first use
    text = "Presiden Joko Widodo tiba di Jakarta pada hari Senin untuk rapat kabinet."
    response = client.post("/v1/translate", json={"text": text, "to": "ja"})
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["translation"] and data["translation"] != text
    assert any("\u3040" <= ch <= "\u30ff" for ch in data["translation"])  # the fake engine writes kana for ja
    assert data["status"] in ("published", "held")
    assert 0.0 <= data["confidence"] <= 1.0
    assert isinstance(data["flags"], list)
    assert all({"segment", "code", "severity", "message"} <= set(flag) for flag in data["flags"])
    engine = state.translator
    assert client.post("/v1/translate", json={"text": text, "to": "AR"}).status_code == 200
    assert state.translator is engine  # once per app
    assert "lintas_translate_request_seconds_count 2.0" in client.get("/metrics").text

    long = assert_error(client.post("/v1/translate", json={"text": "kata " * 401, "to": "en"}), 413, "text_too_long")
    assert long["limit"] == 2000
    assert assert_error(client.post("/v1/translate", json={"text": text}), 422, "validation_error")["field"] == "to"
    assert assert_error(client.post("/v1/translate", json={"text": "", "to": "en"}), 422, "validation_error")
    assert_error(client.post("/v1/translate", json={"text": "   ", "to": "en"}), 422, "validation_error")
    unknown = assert_error(client.post("/v1/translate", json={"text": text, "to": "de"}), 422, "unknown_language")
    assert unknown["valid"] == ["en", "zh", "ja", "ar", "fr"]
    english = "The president arrived in Jakarta on Monday to lead a cabinet meeting with his ministers."
    assert_error(client.post("/v1/translate", json={"text": english, "to": "fr"}), 422, "not_indonesian")
    assert_error(client.post("/v1/translate", content=b"text=halo"), 400, "malformed_json")


# --- operations ----------------------------------------------------------------------------------------------


def test_health_readiness_and_metrics(client: TestClient, store: Engine) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["status"] == "ready"

    client.put("/v1/articles/a1", json=ARTICLE)
    metrics = client.get("/metrics")
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    assert 'lintas_jobs{state="queued"} 5.0' in metrics.text
    assert 'lintas_jobs{state="failed"} 0.0' in metrics.text
    assert "lintas_store_up 1.0" in metrics.text
    assert 'lintas_http_requests_total{method="PUT",route="/v1/articles/{article_id}",status="201"} 1.0' in metrics.text
    assert "lintas_http_request_duration_seconds_bucket" in metrics.text

    with store.begin() as conn:  # a database that lost its schema version is not ready
        conn.execute(text("DROP TABLE alembic_version"))
    assert_error(client.get("/readyz"), 503, "database_not_migrated")
    assert client.get("/healthz").status_code == 200


def test_an_unreachable_database_is_not_ready(client: TestClient, tmp_path) -> None:
    state = client.app.state.lintas  # type: ignore[attr-defined]
    working, state.db = state.db, db.make_engine(f"sqlite:///{tmp_path / 'missing' / 'dir' / 'x.sqlite'}")
    try:
        assert_error(client.get("/readyz"), 503, "database_unreachable")
        scraped = client.get("/metrics")
        assert scraped.status_code == 200
        assert "lintas_store_up 0.0" in scraped.text
        assert 'lintas_jobs{state="queued"}' not in scraped.text
        assert client.get("/healthz").status_code == 200
    finally:
        state.db.dispose()
        state.db = working
    assert client.get("/readyz").status_code == 200


def test_apps_are_independent_and_startup_is_idempotent(db_url: str) -> None:
    first = create_app(db_url, engine_name="fake")
    second = create_app(db_url, engine_name="fake")  # its own metrics registry: no clash
    with TestClient(first) as one, TestClient(second) as two:
        authorized(one, db_url)
        authorized(two, db_url)
        assert one.put("/v1/articles/a1", json=ARTICLE).status_code == 201
        assert two.get("/v1/articles/a1").status_code == 200
        assert 'method="PUT"' in one.get("/metrics").text
        assert 'method="PUT"' not in two.get("/metrics").text  # each app counts its own requests
    with TestClient(create_app(db_url, engine_name="fake")) as three:  # the schema is there already
        authorized(three, db_url, "read")
        assert three.get("/readyz").status_code == 200
        assert three.get("/v1/articles/a1").json()["revision"] == 1


def test_openapi_documents_the_bodies(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    schema = client.get("/openapi.json").json()
    put = schema["paths"]["/v1/articles/{article_id}"]["put"]
    ref = put["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    name = ref.rsplit("/", 1)[1]
    components = schema["components"]["schemas"]
    assert "headline" in components[name]["properties"]
    assert "Block" in components
    assert "/v1/translate" in schema["paths"] and "TranslateRequest" in components


# --- a real server -------------------------------------------------------------------------------------------


def test_real_server_over_http(tmp_path) -> None:
    port = free_port()
    key = api_key(f"sqlite:///{tmp_path / 'server.sqlite'}", "ingest")
    env = {
        **os.environ,
        "LINTAS_DATABASE_URL": f"sqlite:///{tmp_path / 'server.sqlite'}",
        "LINTAS_ENGINE": "fake",
        "LINTAS_DATA_DIR": str(tmp_path / "data"),
    }
    command = [sys.executable, "-m", "uvicorn", "--factory", "lintas.service:create_app_from_env"]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.communicate()[0]
            try:
                if httpx2.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx2.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not get ready in 60 s"
            time.sleep(0.2)
        with httpx2.Client(base_url=base, timeout=30, headers={"Authorization": f"Bearer {key}"}) as http:
            put = http.put("/v1/articles/live-1", params={"targets": "en,ar"}, json=ARTICLE | {"id": "live-1"})
            assert put.status_code == 201, put.text
            got = http.get("/v1/articles/live-1")
            assert got.status_code == 200
            assert got.json()["article"]["headline"] == ARTICLE["headline"]
            assert sorted(got.json()["editions"]) == ["ar", "en"]
            assert http.put("/v1/articles/live-1", content=b"{oops").json()["error"]["code"] == "malformed_json"
    finally:
        proc.terminate()
        try:
            output = proc.communicate(timeout=30)[0]
        except subprocess.TimeoutExpired:
            proc.kill()
            output = proc.communicate()[0]
    assert "Application shutdown complete" in output, output
    assert (tmp_path / "server.sqlite").exists()
