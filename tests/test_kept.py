"""Kept answers under load: the API status kept per article, answers served before routing, concurrent misses
made once, one-statement reads of the versions (SQLite and PostgreSQL).

Each test that shows a kept answer is right after a change has a control that shows the same check fails when
the version does not move, and the tests of "made once" and "served before routing" have controls that count
more than once and show the route running.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.responses import Response
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from starlette.requests import HTTPConnection
from test_service import ARTICLE, assert_error, db_url  # noqa: F401  (a fixture)

from lintas.engines.fake import FakeEngine
from lintas.measure.loadtest import WARM_UP_ROUNDS, warm_up_calls
from lintas.newsroom.editions import apply_correction, set_status
from lintas.pipeline.translate import translate_article
from lintas.service import api as api_module
from lintas.service import create_app
from lintas.service.pagecache import AnswerCache
from lintas.store import keys, queue, repo, site
from lintas.store.db import QuickReads
from lintas.text.article import Article

STATUS = "/v1/articles/a1"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def reader(store: Engine, **options: Any) -> str:
    return keys.create_key(store, "reader", "read", **options)[1]


def ingest(client: TestClient, store: Engine, data: dict[str, Any] = ARTICLE) -> None:
    token = keys.create_key(store, "cms", "ingest")[1]
    assert client.put(f"/v1/articles/{data['id']}", json=data, headers=bearer(token)).status_code in (200, 201)


def translate_one(store: Engine, held: bool = False) -> str:
    """Claim one job and complete it with the fake engine; its language."""
    job = queue.claim(store, "w")
    assert job is not None
    article = repo.get_article(store, job.article_id, job.revision)
    assert article is not None
    edition = translate_article(article, [job.target_lang], FakeEngine(), pivot="")[0].edition
    edition = edition.model_copy(update={"status": "held" if held else "published"})
    assert queue.complete(store, job.id, "w", edition)
    return job.target_lang


def connection() -> HTTPConnection:
    return HTTPConnection({"type": "http", "headers": [], "path": "/", "root_path": ""})


# --- made once ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [200, 404])
def test_concurrent_misses_of_one_key_make_one_answer(status: int) -> None:
    """Ten readers of a new version at once: a 200 is made once and given to all; a 404 is not kept, so each
    makes its own (the control: the count can go above one)."""
    cache, made = AnswerCache(), []
    version = site.SiteVersion((1,), None)

    def make() -> Response:
        made.append(1)
        time.sleep(0.05)  # in the thread pool: the other requests arrive meanwhile
        return Response(b"the page", status_code=status)

    async def readers() -> list[Response]:
        return list(await asyncio.gather(*(cache.answer(connection(), version, ("/p", "b"), make) for _ in range(10))))

    with ThreadPoolExecutor(max_workers=1) as pool:  # a loop of its own: another test may leave one running here
        answers = pool.submit(asyncio.run, readers()).result()
    assert [a.status_code for a in answers] == [status] * 10
    assert len(made) == (1 if status == 200 else 10)
    if status == 200:
        assert {bytes(a.body) for a in answers} == {b"the page"}
        assert (
            cache.kept(version, ("/p", "b")) is not None
            and cache.kept(site.SiteVersion((2,), None), ("/p", "b")) is None
        )


# --- the API status, kept per article ----------------------------------------------------------------------


def test_a_kept_status_follows_every_change_of_the_article(db_url: str, store: Engine) -> None:  # noqa: F811
    token = reader(store)
    with TestClient(create_app(db_url, engine_name="fake")) as client:
        ingest(client, store)
        seen = [client.get(STATUS, headers=bearer(token)).json()]
        tokens = [repo.article_version(store, "a1").token]

        def after(change: str) -> dict[str, Any]:
            body = client.get(STATUS, headers=bearer(token)).json()
            tokens.append(repo.article_version(store, "a1").token)
            assert tokens[-1] != tokens[-2], f"{change} did not move the article's version"
            seen.append(body)
            return body

        assert all(s["job_state"] == "queued" for s in seen[0]["editions"].values())
        job = queue.claim(store, "w")
        assert job is not None
        assert after("a claim")["editions"][job.target_lang]["job_state"] == "running"
        assert queue.fail(store, job.id, "w", "the engine fell over") in ("queued", "failed")
        assert after("a failure")["editions"][job.target_lang]["last_error"] == "the engine fell over"
        lang = translate_one(store)
        state = after("a completion")["editions"][lang]
        assert state["job_state"] == "done" and state["edition_status"] == "published"
        set_status(store, "a1", lang, "held", "ed", "check the quote")
        assert after("a hold")["editions"][lang]["edition_status"] == "held"
        edition = repo.get_edition(store, "a1", lang)
        assert edition is not None
        apply_correction(store, "a1", lang, edition.segments[0].id, "A corrected headline.", "ed")
        after("a correction")
        assert repo.unpublish(store, "a1")
        assert after("an unpublish")["published"] is False
        ingest(client, store, {**ARTICLE, "headline": "Presiden tiba di Bandung"})
        assert after("a new revision")["revision"] == 2
        statuses = client.app.state.lintas.statuses  # type: ignore[attr-defined]
        hits = statuses.hits
        assert client.get(STATUS, headers=bearer(token)).json() == seen[-1] and statuses.hits == hits + 1  # kept


def test_a_status_kept_under_a_version_that_does_not_move_goes_stale(
    db_url: str,  # noqa: F811
    store: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The control of the test above: with a version that never moves, the same check sees a stale status."""
    monkeypatch.setattr(api_module.repo, "article_version", lambda _bind, _id: repo.ArticleVersion((0,)))
    token = reader(store)
    with TestClient(create_app(db_url, engine_name="fake")) as client:
        ingest(client, store)
        before = client.get(STATUS, headers=bearer(token)).json()
        job = queue.claim(store, "w")
        assert job is not None
        assert client.get(STATUS, headers=bearer(token)).json() == before  # stale: still "queued"
        assert before["editions"][job.target_lang]["job_state"] == "queued"


def test_a_kept_status_still_needs_its_key_role_and_rate(
    db_url: str,  # noqa: F811
    store: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LINTAS_RATE_LIMIT", "4/minute")
    limited, other = reader(store), reader(store, rate_per_minute=100)
    with TestClient(create_app(db_url, engine_name="fake")) as client:
        state = client.app.state.lintas  # type: ignore[attr-defined]
        ingest(client, store)
        first = client.get(STATUS, headers=bearer(limited))
        assert first.status_code == 200 and state.statuses.holds(("a1", ""))
        hits = state.statuses.hits
        # no key, a wrong key: refused as the route refuses them, though the answer is kept
        assert_error(client.get(STATUS), 401, "unauthorized")
        assert_error(client.get(STATUS, headers=bearer("garbage")), 401, "invalid_api_key")
        again = [client.get(STATUS, headers=bearer(limited)) for _ in range(4)]
        assert [r.status_code for r in again] == [200, 200, 200, 429]  # 4 a minute, the first one included
        assert_error(again[-1], 429, "rate_limited")
        assert again[0].json() == first.json() and again[0].headers["etag"] == first.headers["etag"]
        assert state.statuses.hits >= hits + 3  # answered from the cache
        conditional = client.get(STATUS, headers={**bearer(other), "If-None-Match": first.headers["etag"]})
        assert conditional.status_code == 304 and conditional.headers["x-content-type-options"] == "nosniff"
        metrics = client.get("/metrics").text
        label = 'method="GET",route="/v1/articles/{article_id}",status="200"'
        assert any(label in line and not line.endswith(" 0.0") for line in metrics.splitlines()), metrics


def test_kept_answers_are_served_before_routing(
    db_url: str,  # noqa: F811
    store: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A kept page and a kept status are answered without their route running; the first read (the control)
    runs it."""
    token = reader(store)
    routed: list[str] = []
    original_answer = AnswerCache.answer

    async def counting(self: AnswerCache, *args: Any, **kwargs: Any) -> Any:
        routed.append("route")
        return await original_answer(self, *args, **kwargs)

    monkeypatch.setattr(AnswerCache, "answer", counting)
    with TestClient(create_app(db_url, engine_name="fake")) as client:
        ingest(client, store)
        while queue.counts(store).get("queued", 0):
            translate_one(store)
        for path, headers in (("/en/feed.xml", {}), (STATUS, bearer(token))):
            routed.clear()
            first = client.get(path, headers=headers)
            assert first.status_code == 200 and routed == ["route"]  # the control: made by the route
            for _ in range(3):
                assert client.get(path, headers=headers).content == first.content
            assert routed == ["route"], path  # the repeats never reached it


# --- one-statement reads -------------------------------------------------------------------------------------


def raw_connection(reads: QuickReads) -> Any:
    return reads._connection().connection.dbapi_connection


def in_transaction(raw: Any) -> bool:
    if hasattr(raw, "in_transaction"):  # sqlite3
        return bool(raw.in_transaction)
    return str(raw.info.transaction_status.name) != "IDLE"  # psycopg


def test_quick_reads_see_every_commit_and_hold_no_transaction(store: Engine) -> None:
    reads = QuickReads(store)
    try:
        first = site.version(reads)
        assert not in_transaction(raw_connection(reads))
        repo.upsert_article(store, Article.model_validate(ARTICLE), ["en"])  # another connection commits
        second = site.version(reads)
        assert second.token != first.token and second == site.version(store)
        assert not in_transaction(raw_connection(reads))
        # a connection that failed is dropped and the read made on a new one
        raw_connection(reads).close()
        assert site.version(reads) == second
    finally:
        reads.close()
    # the control of in_transaction(): a connection inside a transaction says so
    with store.connect() as conn, conn.begin():
        conn.exec_driver_sql("SELECT 1")
        assert in_transaction(conn.connection.dbapi_connection)


# --- the load test's warm-up ---------------------------------------------------------------------------------


def test_the_warm_up_reads_each_distinct_request_the_same_number_of_times() -> None:
    calls = [("GET", f"/p/{n % 7}", None) for n in range(40)]
    warm = warm_up_calls(calls)
    assert len(warm) == 7 * WARM_UP_ROUNDS
    assert {call: warm.count(call) for call in set(warm)} == {call: WARM_UP_ROUNDS for call in set(calls)}
    assert warm != sorted(warm)  # shuffled: the repeats of one path land on different connections
