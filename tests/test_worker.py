"""lintas worker: the segment cache (CachedEngine), the worker loop over the durable queue, and a real kill -9 test.

Every test runs on SQLite (a file under tmp_path) and, when LINTAS_TEST_POSTGRES_URL names a PostgreSQL server
(e.g. postgresql+psycopg://lintas:lintas@127.0.0.1:5432/lintas_test), on PostgreSQL too: in a database of its
own, ``lintas_worker_test`` on the same server, created here (``CREATE DATABASE``, through an autocommit connection
to the configured database: the role needs CREATEDB) and emptied before each test, so these tests never touch the
tables tests/test_store.py uses.

The kill -9 test (rerun it with ``.venv/bin/python -m pytest -q -s tests/test_worker.py -k kill``) prints its
figures: kills (and those verified in flight), jobs, editions, lost, completions per job and edition.ready
deliveries per edition; its control run (lease checks off) shows those counters above 0.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from dbs import Store, migrated_store
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from lintas.cli.main import cli
from lintas.engines.base import capabilities
from lintas.engines.fake import FakeEngine
from lintas.errors import ModelError
from lintas.measure.chaos import WebhookReceiver, chaos_run, completions_in_logs, duplicate_counts
from lintas.measure.evaluate import Document, document_article, load_documents
from lintas.measure.loadtest import free_port
from lintas.newsroom.signing import sign
from lintas.newsroom.telemetry import WorkerMetrics
from lintas.newsroom.worker import run_worker
from lintas.pipeline.translate import translate_article
from lintas.store import queue, repo
from lintas.store.engine_cache import CachedEngine
from lintas.store.schema import editions, jobs
from lintas.text.article import Article, Block, Segment
from lintas.text.assemble import split_article

PG_DATABASE = "lintas_worker_test"
TESTS = Path(__file__).resolve().parent
NTREX = TESTS / "fixtures" / "ntrex-mini"
TARGETS = ["en", "zh", "ja", "ar", "fr"]


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    with migrated_store(request.param, tmp_path, PG_DATABASE) as migrated:
        yield migrated


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINTAS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LINTAS_MEMORY", "off")


def article(paragraphs: Sequence[str] = (), article_id: str = "a1", headline: str = "Presiden tiba di Jakarta"):
    paragraphs = paragraphs or (
        "Presiden tiba di Jakarta pada hari Senin. Dia bertemu menteri.",
        "Pertemuan itu membahas ekonomi.",
        "Harga beras naik lima persen. Pedagang mengeluh.",
    )
    return Article(id=article_id, headline=headline, body=[Block(type="paragraph", html=p) for p in paragraphs])


def engine_segments(engine: FakeEngine, attempt: int = 0) -> int:
    """Segments the engine was asked to translate on ``attempt``."""
    return sum(size for size, _src, _tgt, n in engine.calls if n == attempt)


def quiet(_line: str) -> None:
    pass


# --- the segment cache ----------------------------------------------------------------------------------------


def test_cached_engine_serves_hits_and_sends_only_misses(store: Store) -> None:
    inner = FakeEngine()
    cached = CachedEngine(inner, store.engine)
    assert (cached.name, cached.model, capabilities(cached).glossary_mode) == ("fake", "fake-1", "placeholder")
    segs = [Segment(f"s{i}", f"Kalimat nomor {i} di sini.", context="paragraf") for i in range(3)]
    first = cached.translate_batch(segs, "id", "en")
    assert first == FakeEngine().translate_batch(segs, "id", "en")
    assert (cached.hits, cached.misses, engine_segments(inner)) == (0, 3, 3)

    assert cached.translate_batch(segs, "id", "en") == first
    assert (cached.hits, cached.misses, len(inner.calls)) == (3, 3, 1)

    fresh = Segment("s9", "Kalimat yang baru sama sekali.")
    history = [(segs[0], first[0])]
    mixed = cached.translate_batch([segs[2], fresh, segs[0]], "id", "en", context=history)
    assert mixed == [first[2], *FakeEngine().translate_batch([fresh], "id", "en"), first[0]]
    assert inner.calls[-1] == (1, "id", "en", 0) and (cached.hits, cached.misses) == (5, 4)

    # the key covers the language pair, the paragraph context and glossary constraints
    cached.translate_batch(segs[:1], "id", "fr")
    cached.translate_batch(segs[:1], "en", "fr")
    cached.translate_batch([Segment("s0", segs[0].text, context="lain")], "id", "en")
    cached.translate_batch([Segment("s0", segs[0].text, context="paragraf", terms=(("nomor", "number"),))], "id", "en")
    assert (cached.hits, cached.misses) == (5, 8)

    # retries always go to the engine and are not cached
    calls = len(inner.calls)
    cached.translate_batch(segs[:2], "id", "en", attempt=1)
    cached.translate_batch(segs[:2], "id", "en", attempt=1)
    assert len(inner.calls) == calls + 2 and (cached.hits, cached.misses) == (5, 8)
    assert cached.translate_batch([], "id", "en") == []


def test_only_the_changed_paragraph_is_translated_again(store: Store) -> None:
    inner = FakeEngine()
    first = article()
    metrics = WorkerMetrics()
    repo.upsert_article(store.engine, first, ["en"])
    assert run_worker(store.engine, lambda: inner, worker_id="w1", exit_when_idle=True, log=quiet, metrics=metrics) == 1
    assert engine_segments(inner) == len(split_article(first)) == 6

    changed = article(
        (
            "Presiden tiba di Jakarta pada hari Senin. Dia bertemu menteri.",
            "Pertemuan itu membahas ekonomi dan pangan.",  # the only change: one paragraph, one unit
            "Harga beras naik lima persen. Pedagang mengeluh.",
        )
    )
    assert repo.upsert_article(store.engine, changed, ["en"]) == (2, True)
    assert run_worker(store.engine, lambda: inner, worker_id="w2", exit_when_idle=True, log=quiet, metrics=metrics) == 1
    assert engine_segments(inner) == 6 + 1
    port = free_port()
    metrics.serve(port)  # what Prometheus scrapes from `lintas worker --metrics-port`
    scraped = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    assert "lintas_segment_cache_hits_total 5.0" in scraped and "lintas_segment_cache_misses_total 7.0" in scraped
    assert 'lintas_worker_jobs_total{outcome="done"} 2.0' in scraped
    assert 'lintas_translation_segments_total{lang="en"} 12.0' in scraped
    assert 'lintas_translation_seconds_count{lang="en"} 2.0' in scraped
    first_ed = repo.get_edition(store.engine, "a1", "en", revision=1)
    second_ed = repo.get_edition(store.engine, "a1", "en", revision=2)
    assert first_ed is not None and second_ed is not None and second_ed.revision == 2
    changed_targets = [
        (a.target, b.target) for a, b in zip(first_ed.segments, second_ed.segments, strict=True) if a.target != b.target
    ]
    assert len(changed_targets) == 1
    statuses = repo.edition_statuses(store.engine, "a1")
    assert statuses["en"]["up_to_date"] and statuses["en"]["job_state"] == "done"


# --- the worker loop ------------------------------------------------------------------------------------------


class BrokenEngine(FakeEngine):
    def translate_batch(self, segments, source_lang, target_lang, *, context=(), attempt=0):  # type: ignore[no-untyped-def]
        raise RuntimeError("the model fell over")


def test_a_failing_job_is_queued_again_then_failed_with_its_error(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queue, "backoff_seconds", lambda attempts: 0.0)  # no waiting between attempts
    repo.upsert_article(store.engine, article(), ["fr"])
    lines: list[str] = []
    assert run_worker(store.engine, BrokenEngine, worker_id="w1", max_jobs=1, log=lines.append) == 1
    status = repo.edition_statuses(store.engine, "a1")["fr"]
    assert (status["job_state"], status["attempts"]) == ("queued", 1)
    assert status["last_error"] == "RuntimeError: the model fell over"
    assert "error" in lines[0] and "RuntimeError: the model fell over" in lines[0] and "queued" in lines[0]

    assert run_worker(store.engine, BrokenEngine, worker_id="w1", exit_when_idle=True, log=lines.append) == 4
    status = repo.edition_statuses(store.engine, "a1")["fr"]
    assert (status["job_state"], status["attempts"], status["max_attempts"]) == ("failed", 5, 5)
    assert status["last_error"] == "RuntimeError: the model fell over" and status["edition_status"] is None
    assert "(job failed)" in lines[-1]
    assert queue.counts(store.engine) == {"queued": 0, "running": 0, "done": 0, "failed": 1}


def test_an_engine_that_cannot_start_stops_the_worker_and_releases_the_job(store: Store) -> None:
    repo.upsert_article(store.engine, article(), ["en"])

    def no_model() -> FakeEngine:
        raise ModelError("model file missing")

    with pytest.raises(ModelError):
        run_worker(store.engine, no_model, worker_id="w1", exit_when_idle=True, log=quiet)
    status = repo.edition_statuses(store.engine, "a1")["en"]
    assert status["job_state"] == "queued" and status["last_error"] == "ModelError: model file missing"


class SlowEngine(FakeEngine):
    """Sleeps ``delay`` per batch, and runs ``during`` once, in the middle of the first batch."""

    def __init__(self, delay: float, during=None) -> None:  # type: ignore[no-untyped-def]
        super().__init__()
        self.delay, self.during, self.seen = delay, during, []

    def translate_batch(self, segments, source_lang, target_lang, *, context=(), attempt=0):  # type: ignore[no-untyped-def]
        time.sleep(self.delay / 2)
        if self.during is not None:
            self.seen.append(self.during())
            self.during = None
        time.sleep(self.delay / 2)
        return super().translate_batch(segments, source_lang, target_lang, context=context, attempt=attempt)


def test_the_lease_is_renewed_while_a_job_runs(store: Store) -> None:
    repo.upsert_article(store.engine, article(), ["en"])
    slow = SlowEngine(0.4, during=lambda: (time.sleep(0.3), queue.claim(store.engine, "thief", 10))[1])
    # lease 0.3 s, the job takes > 0.9 s: without renewals "thief" would take it over in the middle
    assert run_worker(store.engine, lambda: slow, worker_id="w1", lease_seconds=0.3, max_jobs=1, log=quiet) == 1
    assert slow.seen == [None]
    assert repo.edition_statuses(store.engine, "a1")["en"]["job_state"] == "done"


def test_a_worker_that_lost_its_lease_cannot_complete(store: Store) -> None:
    repo.upsert_article(store.engine, article(), ["en"])

    def steal() -> None:
        with store.engine.begin() as conn:
            conn.execute(update(jobs).values(lease_owner="thief"))

    lines: list[str] = []
    assert run_worker(store.engine, lambda: SlowEngine(0.1, steal), worker_id="w1", max_jobs=1, log=lines.append) == 1
    assert "lease lost, edition discarded" in lines[-1]
    with store.engine.connect() as conn:
        assert conn.execute(select(editions)).all() == []
        assert conn.execute(select(jobs.c.state, jobs.c.lease_owner)).one() == ("running", "thief")


def test_a_database_outage_while_claiming_is_waited_out(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    repo.upsert_article(store.engine, article(), ["en"])
    real_claim, outages = queue.claim, [1]

    def flaky_claim(*args, **kwargs):  # type: ignore[no-untyped-def]
        if outages:
            outages.pop()
            raise OperationalError("SELECT", {}, Exception("server closed the connection"))
        return real_claim(*args, **kwargs)

    monkeypatch.setattr(queue, "claim", flaky_claim)
    lines: list[str] = []
    assert run_worker(store.engine, FakeEngine, worker_id="w1", poll_seconds=0.1, max_jobs=1, log=lines.append) == 1
    assert "database unavailable (server closed the connection)" in lines[0] and "done" in lines[1]


def test_stop_wakes_an_idle_worker(store: Store) -> None:
    stop = threading.Event()
    result: list[int] = []
    thread = threading.Thread(
        target=lambda: result.append(
            run_worker(store.engine, FakeEngine, worker_id="w1", poll_seconds=30, stop=stop, log=quiet)
        )
    )
    thread.start()
    time.sleep(0.2)
    started = time.monotonic()
    stop.set()
    thread.join(5)
    assert result == [0] and time.monotonic() - started < 2


def test_cli_worker_once_drains_the_queue(store: Store) -> None:
    repo.upsert_article(store.engine, article(), ["en", "ar"])
    runner = CliRunner()
    result = runner.invoke(cli, ["worker", "--engine", "fake", "--db", store.url, "--id", "cli-1", "--once"])
    assert result.exit_code == 0, result.output
    assert "2 jobs processed" in result.output
    assert queue.counts(store.engine)["done"] == 2
    bad = runner.invoke(cli, ["worker", "--engine", "no-such-engine", "--db", store.url, "--once"])
    assert bad.exit_code != 0 and "unknown engine 'no-such-engine'" in str(bad.exception)


# --- kill -9 --------------------------------------------------------------------------------------------------


CITIES = ["Bandung", "Medan", "Surabaya", "Makassar", "Padang", "Ambon"]


def chaos_articles(count: int = 12) -> list[Article]:
    """``count`` different articles from the NTREX sample (each sentence made distinct with a place name)."""
    docs = load_documents(NTREX, [])
    result = []
    for k in range(count):
        doc, city = docs[k % len(docs)], CITIES[(k // len(docs)) % len(CITIES)]
        variant = Document(f"{doc.id}-{k}", [f"Di {city} {k}, {s[0].lower()}{s[1:]}" for s in doc.source])
        result.append(document_article(variant))
    return result


def chaos_env(tmp_path: Path) -> dict[str, str]:
    env = {"PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    return env | {"LINTAS_DATA_DIR": str(tmp_path / "data"), "LINTAS_MEMORY": "off"}


def test_kill_9_loses_and_duplicates_nothing(store: Store, tmp_path: Path) -> None:
    """SIGKILLs until 8 were verified to hit a worker holding a live lease; then per job its successful completions and
    per edition the edition.ready webhooks a receiver got: nothing lost, nothing done twice, and every extra POST
    a redelivery of the same delivery id (at least once: a worker killed between the POST and marking it sent)."""
    articles = chaos_articles(12)
    result = chaos_run(
        store.url,
        articles,
        TARGETS,
        workers=3,
        kills=8,
        seed=7,
        engine="slow_engine:SlowFakeEngine",
        lease_seconds=2.0,
        kill_every=(0.3, 0.8),
        env=chaos_env(tmp_path),
        log_dir=tmp_path / "logs",
        timeout=120,
    )
    print(f"\nkill -9 ({store.engine.dialect.name}): {result}", file=sys.stderr)
    assert result["kills_in_flight"] == 8, result  # verified in flight: the figure docs/service.md gives
    assert 8 <= result["kills"] <= 16, result  # one whose victim had just finished its job is not counted
    assert (result["articles"], result["jobs"], result["editions"]) == (12, 60, 60), result
    assert result["lost"] == result["incomplete"] == 0, result
    assert result["failed"] == result["unfinished"] == result["bad_exits"] == 0, result
    assert result["extra_completions"] == result["jobs_completed_twice"] == 0, result
    assert result["completions"] + result["completions_unlogged"] == 60, result
    assert result["unannounced"] == result["undelivered"] == result["refused"] == 0, result
    assert result["editions_announced_twice"] == 0, result
    assert result["extra_deliveries"] == result["redeliveries"], result  # every extra POST: a delivery id again
    assert result["deliveries"] == 60 + result["redeliveries"], result
    with store.engine.connect() as conn:
        rows = conn.execute(select(editions.c.article_id, editions.c.target_lang)).all()
    assert sorted(rows) == sorted((a.id, lang) for a in articles for lang in TARGETS)


def test_kill_9_control_without_lease_checks_counts_duplicates(store: Store, tmp_path: Path) -> None:
    """The control: the same run with the workers' lease checks off (tests/slow_engine.py
    UnleasedSlowFakeEngine) and a lease shorter than a job. Jobs are then completed twice and deliveries sent
    twice, and the counters the kill -9 test asserts to be 0 see it."""
    result = chaos_run(
        store.url,
        chaos_articles(6),
        TARGETS,
        workers=3,
        kills=2,
        seed=7,
        engine="slow_engine:UnleasedSlowFakeEngine",
        lease_seconds=0.5,
        kill_every=(0.3, 0.8),
        env=chaos_env(tmp_path),
        log_dir=tmp_path / "logs",
        timeout=120,
        receiver_delay=0.2,
    )
    print(f"\nkill -9 control ({store.engine.dialect.name}): {result}", file=sys.stderr)
    assert result["extra_completions"] > 0 and result["jobs_completed_twice"] > 0, result
    assert result["extra_deliveries"] > 0 and result["editions_delivered_twice"] > 0, result


def test_duplicate_counts_tell_redelivery_from_a_second_announcement() -> None:
    key_a, key_b, key_c = ("a", 1, "en"), ("a", 1, "fr"), ("b", 1, "en")
    posts = [("1", key_a), ("1", key_a), ("2", key_b), ("3", key_b)]
    counts = duplicate_counts(Counter({1: 1, 2: 3}), {1, 2, 3}, posts, {key_a, key_b, key_c})
    assert counts == {
        "completions": 4,
        "jobs_completed_twice": 1,
        "extra_completions": 2,
        "completions_unlogged": 1,
        "deliveries": 4,
        "editions_delivered_twice": 2,
        "extra_deliveries": 2,
        "redeliveries": 1,
        "editions_announced_twice": 1,
        "unannounced": 1,
    }


def test_completions_are_read_from_the_done_lines(tmp_path: Path) -> None:
    (tmp_path / "w1.log").write_text(
        "worker w1: job 3 a@1 -> en: done, published (0.90) in 0.20s, cache 0/2\n"
        "worker w1: job 4 a@1 -> fr: lease lost, edition discarded in 0.20s, cache 0/2\n"
        "worker w1: job 5 a@1 -> ja: error after 0.10s: ValueError: x (job queued)\n"
    )
    (tmp_path / "w2.log").write_text("worker w2: job 3 a@1 -> en: done, held (0.50) in 0.20s, cache 2/2\n")
    assert completions_in_logs(tmp_path) == Counter({3: 2})


def test_the_webhook_receiver_refuses_unsigned_posts() -> None:
    with WebhookReceiver(secret="s") as receiver:
        body = json.dumps({"article_id": "a", "revision": 1, "lang": "en"}).encode()
        headers = {"X-Lintas-Event": "edition.ready", "X-Lintas-Delivery": "9", "X-Lintas-Timestamp": "1"}
        bad = httpx.post(receiver.url, content=body, headers=headers | {"X-Lintas-Signature": "sha256=0"})
        good = httpx.post(
            receiver.url, content=body, headers=headers | {"X-Lintas-Signature": sign("s", "1", "9", body)}
        )
    assert (bad.status_code, good.status_code) == (401, 204)
    assert receiver.posts == [("9", ("a", 1, "en"))] and receiver.refused == 1


def test_threads_share_one_engine_and_batch_jobs_together(store: Store) -> None:
    """`lintas worker --threads 4` on a batching engine: every job done, far fewer engine calls than jobs, one
    call carrying several articles' segments, and the same editions as one thread makes."""
    from test_batching import MergingFake

    articles = chaos_articles(8)
    for item in articles:
        repo.upsert_article(store.engine, item, ["en", "fr"])
    engine = MergingFake()
    loads: list[int] = []

    def factory() -> MergingFake:
        loads.append(1)
        return engine

    done = run_worker(store.engine, factory, worker_id="w1", exit_when_idle=True, log=quiet, threads=4)
    assert done == 16 and len(loads) == 1  # the engine is built once for all threads
    assert queue.counts(store.engine)["done"] == 16
    requests = sum(len(call) for call in engine.merged)
    assert len(engine.merged) < requests  # some calls carried several jobs' segments
    alone = FakeEngine()
    for item in articles:
        for lang in ("en", "fr"):
            stored = repo.get_edition(store.engine, item.id, lang)
            assert stored is not None
            (report,) = translate_article(item, [lang], alone, pivot="")
            assert [s.target for s in stored.segments] == [s.target for s in report.edition.segments]
