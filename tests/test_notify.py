"""Outbound webhooks: the outbox written with the edition, signed POSTs to a real local HTTP receiver, retries."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select, update
from test_service import ARTICLE, db_url  # noqa: F401  (a fixture)

from lintas.engines.fake import FakeEngine
from lintas.newsroom.notify import NotifyConfig, enqueue_for, send_due
from lintas.newsroom.signing import verify
from lintas.newsroom.worker import run_worker
from lintas.pipeline.translate import translate_article
from lintas.store import db, outbox, queue, repo
from lintas.store.schema import deliveries, editions
from lintas.text.article import Article

SECRET = "s3cret-for-tests"


class Receiver:
    """A webhook receiver on loopback: records every POST; answers ``statuses`` in turn, then 204."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append({"headers": dict(self.headers), "body": body, "path": self.path})
                status = outer.statuses.pop(0) if outer.statuses else 204
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        if self.thread.is_alive():
            self.server.shutdown()
            self.server.server_close()
            self.thread.join()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def store(db_url: str) -> Iterator[Engine]:  # noqa: F811
    engine = db.make_engine(db_url)
    db.upgrade(engine)
    try:
        yield engine
    finally:
        engine.dispose()


def config(receiver: Receiver) -> NotifyConfig:
    return NotifyConfig((receiver.url,), SECRET, "https://news.example")


def test_worker_announces_each_edition_once_signed(store: Engine, receiver: Receiver) -> None:
    repo.upsert_article(store, Article.model_validate({**ARTICLE, "section": "nasional"}), ["en", "ar", "ja"])
    done = run_worker(
        store, FakeEngine, worker_id="w1", exit_when_idle=True, notify=config(receiver), log=lambda _line: None
    )
    assert done == 3
    assert len(receiver.received) == 3  # sent before run_worker returned
    seen = set()
    for request in receiver.received:
        headers, body = request["headers"], request["body"]
        assert verify(
            SECRET, headers["X-Lintas-Timestamp"], headers["X-Lintas-Delivery"], body, headers["X-Lintas-Signature"]
        )
        assert not verify(
            "other", headers["X-Lintas-Timestamp"], headers["X-Lintas-Delivery"], body, headers["X-Lintas-Signature"]
        )
        assert headers["X-Lintas-Event"] == "edition.ready"
        payload = json.loads(body)
        assert (payload["article_id"], payload["revision"]) == ("a1", 1)
        assert payload["page_url"].startswith(f"https://news.example/{payload['lang']}/nasional/a1/")
        assert payload["status"] in ("published", "held")
        seen.add(payload["lang"])
    assert seen == {"en", "ar", "ja"}
    assert outbox.counts(store) == {"pending": 0, "delivered": 3, "failed": 0}
    # The same article again queues nothing new, so nothing more is announced.
    repo.upsert_article(store, Article.model_validate({**ARTICLE, "section": "nasional"}), ["en", "ar", "ja"])
    run_worker(store, FakeEngine, worker_id="w1", exit_when_idle=True, notify=config(receiver), log=lambda _l: None)
    assert len(receiver.received) == 3


def _complete_one(store: Engine, receiver: Receiver, worker: str = "w1") -> None:
    job = queue.claim(store, worker)
    assert job is not None
    article = repo.get_article(store, job.article_id, job.revision)
    assert article is not None
    edition = translate_article(article, [job.target_lang], FakeEngine(), pivot="")[0].edition
    assert queue.complete(store, job.id, worker, edition, on_saved=enqueue_for(config(receiver), edition, None))


def test_failed_deliveries_are_retried_with_backoff_then_given_up(store: Engine, receiver: Receiver) -> None:
    repo.upsert_article(store, Article.model_validate(ARTICLE), ["fr"])
    _complete_one(store, receiver)
    receiver.statuses = [500, 503]
    with httpx.Client(timeout=5) as client:
        assert send_due(store, client, config(receiver)) == {"delivered": 0, "retry": 1, "failed": 0}
        assert send_due(store, client, config(receiver)) == {"delivered": 0, "retry": 0, "failed": 0}  # not due
        with store.begin() as conn:
            row = conn.execute(select(deliveries)).one()
            assert (row.state, row.attempts, row.last_error) == ("pending", 1, "HTTP 500")
            conn.execute(update(deliveries).values(next_attempt_at=db.utcnow() - timedelta(seconds=1)))
        assert send_due(store, client, config(receiver))["retry"] == 1
        with store.begin() as conn:
            conn.execute(update(deliveries).values(next_attempt_at=db.utcnow() - timedelta(seconds=1)))
        assert send_due(store, client, config(receiver))["delivered"] == 1
        ids = {r["headers"]["X-Lintas-Delivery"] for r in receiver.received}
        assert len(receiver.received) == 3 and len(ids) == 1  # one delivery id on every retry

        repo.upsert_article(store, Article.model_validate({**ARTICLE, "id": "a2"}), ["fr"])
        _complete_one(store, receiver)
        receiver.statuses = [500] * outbox.MAX_ATTEMPTS
        for _ in range(outbox.MAX_ATTEMPTS):
            with store.begin() as conn:
                conn.execute(update(deliveries).values(next_attempt_at=db.utcnow() - timedelta(seconds=1)))
            send_due(store, client, config(receiver))
    assert outbox.counts(store) == {"pending": 0, "delivered": 1, "failed": 1}


def test_an_unreachable_receiver_is_an_error_not_a_crash(store: Engine, receiver: Receiver) -> None:
    repo.upsert_article(store, Article.model_validate(ARTICLE), ["en"])
    _complete_one(store, receiver)
    receiver.close()
    with httpx.Client(timeout=2) as client:
        assert send_due(store, client, config(receiver))["retry"] == 1
    with store.begin() as conn:
        assert conn.execute(select(deliveries.c.last_error)).scalar_one().startswith("ConnectError")


def test_outbox_rows_share_the_editions_transaction(store: Engine, receiver: Receiver) -> None:
    repo.upsert_article(store, Article.model_validate(ARTICLE), ["en"])
    job = queue.claim(store, "w1")
    assert job is not None
    article = repo.get_article(store, "a1")
    assert article is not None
    edition = translate_article(article, ["en"], FakeEngine(), pivot="")[0].edition

    def broken(conn: Any, revision: int) -> None:
        enqueue_for(config(receiver), edition, None)(conn, revision)
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        queue.complete(store, job.id, "w1", edition, on_saved=broken)
    with store.begin() as conn:  # neither the edition nor its delivery was written
        assert conn.execute(select(editions)).first() is None
        assert conn.execute(select(deliveries)).first() is None
    assert queue.complete(store, job.id, "w1", edition, on_saved=enqueue_for(config(receiver), edition, None))
    with store.begin() as conn:
        assert outbox.enqueue(conn, [receiver.url], "edition.ready", "a1:1:en", {}) == 0  # once per key
    assert outbox.counts(store)["pending"] == 1


def test_config_refuses_urls_without_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINTAS_WEBHOOK_URLS", "https://cms.example/hook")
    monkeypatch.delenv("LINTAS_WEBHOOK_SIGNING_SECRET", raising=False)
    with pytest.raises(ValueError, match="SIGNING_SECRET"):
        NotifyConfig.from_settings()
    monkeypatch.setenv("LINTAS_WEBHOOK_URLS", "ftp://cms.example/hook")
    with pytest.raises(ValueError, match="not an http"):
        NotifyConfig.from_settings()
    monkeypatch.setenv("LINTAS_WEBHOOK_URLS", "")
    assert NotifyConfig.from_settings().urls == ()
