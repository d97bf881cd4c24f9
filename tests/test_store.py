"""lintas.store: migrations, articles and revisions, editions, the segment cache and the durable job queue.

Every test runs on SQLite (a file under tmp_path) and, when LINTAS_TEST_POSTGRES_URL names a PostgreSQL database
(e.g. postgresql+psycopg://lintas:lintas@127.0.0.1:5432/lintas_test), on PostgreSQL too, from a clean schema.
"""

from __future__ import annotations

import os
import pathlib
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, MetaData, create_engine, func, inspect, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lintas.store import db, queue, repo
from lintas.store.memory import TranslationMemory
from lintas.store.schema import article_revisions, articles, editions, jobs, metadata
from lintas.text.article import Article, Block, Edition, Flag

PG_ENV = "LINTAS_TEST_POSTGRES_URL"
TABLES = {
    "articles",
    "article_revisions",
    "editions",
    "jobs",
    "segment_cache",
    "translation_memory",
    "api_keys",
    "webhook_receipts",
    "feed_sources",
    "feed_items",
    "deliveries",
    "users",
    "sessions",
    "edition_changes",
    "glossary_terms",
}
TARGETS = ["en", "zh", "ja", "ar", "fr"]


def _reset_postgres(engine: Engine) -> None:
    """Drop every table (alembic_version included) so the test starts from an empty schema."""
    with engine.begin() as conn:
        existing = MetaData()
        existing.reflect(conn)
        existing.drop_all(conn)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path) -> Iterator[Engine]:
    if request.param == "sqlite":
        eng = db.make_engine(f"sqlite:///{tmp_path / 'store.sqlite'}")
    else:
        url = os.environ.get(PG_ENV)
        if not url:
            pytest.skip(f"PostgreSQL tests need {PG_ENV} (e.g. postgresql+psycopg://user:pw@127.0.0.1:5432/db)")
        eng = db.make_engine(url)
        try:
            _reset_postgres(eng)
        except BaseException:
            eng.dispose()
            raise
    try:
        db.upgrade(eng)
        yield eng
    finally:
        eng.dispose()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    """The store's clock, frozen; tests move it with ``clock[0] += timedelta(...)``."""
    now = [datetime.now(UTC)]
    monkeypatch.setattr(queue, "utcnow", lambda: now[0])
    monkeypatch.setattr(repo, "utcnow", lambda: now[0])
    return now


def make_article(headline: str = "Presiden tiba di Jakarta", article_id: str = "a1") -> Article:
    return Article(
        id=article_id,
        headline=headline,
        body=[Block(type="paragraph", html="Presiden <a href='https://example.com'>Joko Widodo</a> tiba.")],
        published_at=datetime(2024, 5, 1, 9, 0, tzinfo=UTC),
    )


def make_edition(article: Article, lang: str = "en", *, status: str = "published", headline: str = "") -> Edition:
    data = article.model_dump()
    data["headline"] = headline or f"[{lang}] {article.headline}"
    return Edition.model_validate(
        data
        | {
            "target_lang": lang,
            "engine": "fake",
            "model": "fake-1",
            "created_at": datetime.now(UTC),
            "status": status,
            "confidence": 0.75,
        }
    )


def count(engine: Engine, table, **where) -> int:
    query = select(func.count()).select_from(table)
    for column, value in where.items():
        query = query.where(table.c[column] == value)
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def job_row(engine: Engine, job_id: int):
    with engine.connect() as conn:
        return conn.execute(select(jobs).where(jobs.c.id == job_id)).one()


# --- engine and migrations -----------------------------------------------------------------------------------


def test_migration_creates_every_table_and_matches_the_models(engine: Engine) -> None:
    names = set(inspect(engine).get_table_names())
    assert names >= TABLES | {"alembic_version"}
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "0005"
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []
    db.upgrade(engine)  # at head already: nothing to do


def test_translation_memory_works_on_the_migrated_database(engine: Engine) -> None:
    with TranslationMemory.from_engine(engine) as memory:
        memory.add("Presiden tiba.", "The president arrives.", "en")
        match = memory.exact("Presiden tiba.", "en")
    assert match is not None and match.target == "The president arrives."


def test_sqlite_engine_settings(tmp_path) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'x.sqlite'}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one() == 30000
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
    finally:
        engine.dispose()


def test_default_url_is_lintas_sqlite_in_the_data_dir(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINTAS_DATA_DIR", str(tmp_path / "data"))
    db.upgrade(None)  # makes and disposes of its own engine
    engine = db.make_engine(None)
    try:
        assert engine.url.database == str(tmp_path / "data" / "lintas.sqlite")
        assert set(inspect(engine).get_table_names()) >= TABLES
    finally:
        engine.dispose()


def test_queue_refuses_an_unconfigured_sqlite_engine(tmp_path) -> None:
    plain = create_engine(f"sqlite:///{tmp_path / 'plain.sqlite'}")
    try:
        with pytest.raises(ValueError, match="make_engine"):
            queue.claim(plain, "w1")
    finally:
        plain.dispose()


# --- articles ------------------------------------------------------------------------------------------------


def test_upsert_same_content_is_idempotent(engine: Engine) -> None:
    article = make_article()
    assert repo.upsert_article(engine, article, TARGETS) == (1, True)
    assert repo.upsert_article(engine, article, TARGETS) == (1, False)
    # the revision field is the store's, not content: a stored copy posted back is still the same content
    assert repo.upsert_article(engine, article.model_copy(update={"revision": 7}), TARGETS) == (1, False)
    assert count(engine, article_revisions) == 1
    assert count(engine, jobs) == len(TARGETS)
    info = repo.article_info(engine, "a1")
    assert info is not None and info.current_revision == 1 and info.published
    assert info.content_hash == repo.content_hash(article)
    assert info.created_at.tzinfo is not None


def test_same_content_queues_only_languages_not_yet_requested(engine: Engine) -> None:
    article = make_article()
    repo.upsert_article(engine, article, ["en", "fr"])
    assert repo.upsert_article(engine, article, ["en", "fr", "ja", "ja"]) == (1, False)
    assert sorted(repo.edition_statuses(engine, "a1")) == ["en", "fr", "ja"]
    assert count(engine, jobs) == 3


def test_changed_content_bumps_revision_and_queues_new_jobs(engine: Engine) -> None:
    first = make_article()
    repo.upsert_article(engine, first, TARGETS)
    second = make_article("Presiden tiba di Bandung")
    assert repo.upsert_article(engine, second, TARGETS) == (2, True)
    assert repo.upsert_article(engine, second, TARGETS) == (2, False)
    assert count(engine, jobs, revision=2) == len(TARGETS)
    assert count(engine, jobs) == len(TARGETS)  # revision 1's jobs were still queued: superseded (issue 15)

    current = repo.get_article(engine, "a1")
    assert current is not None and current.headline == second.headline and current.revision == 2
    old = repo.get_article(engine, "a1", revision=1)
    assert old is not None and old.headline == first.headline and old.revision == 1
    assert old.model_dump(exclude={"revision"}) == first.model_dump(exclude={"revision"})
    assert [r.revision for r in repo.list_revisions(engine, "a1")] == [1, 2]
    assert repo.get_article(engine, "a1", revision=3) is None
    assert repo.get_article(engine, "nope") is None
    assert repo.list_revisions(engine, "nope") == []


def test_upsert_rejects_bad_targets(engine: Engine) -> None:
    with pytest.raises(ValueError, match="source language"):
        repo.upsert_article(engine, make_article(), ["en", "id"])
    with pytest.raises(ValueError, match="code"):
        repo.upsert_article(engine, make_article(), ["english!"])
    assert count(engine, articles) == 0


def test_unpublish(engine: Engine) -> None:
    repo.upsert_article(engine, make_article(), ["en"])
    assert repo.unpublish(engine, "a1") is True
    info = repo.article_info(engine, "a1")
    assert info is not None and not info.published
    assert repo.get_article(engine, "a1") is not None  # the content stays
    assert repo.unpublish(engine, "nope") is False


def test_failed_job_insert_leaves_no_partial_rows(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_enqueue(*args, **kwargs):
        raise RuntimeError("job insert failed")

    repo.upsert_article(engine, make_article(), TARGETS)
    monkeypatch.setattr(repo, "_enqueue", broken_enqueue)
    with pytest.raises(RuntimeError):
        repo.upsert_article(engine, make_article("Berubah"), TARGETS)  # revision 2 would be written
    with pytest.raises(RuntimeError):
        repo.upsert_article(engine, make_article(article_id="a2"), TARGETS)  # a new article would be written
    assert count(engine, article_revisions) == 1
    assert count(engine, articles) == 1
    info = repo.article_info(engine, "a1")
    assert info is not None and info.current_revision == 1
    assert count(engine, jobs) == len(TARGETS)


def test_functions_take_a_connection_or_session_in_a_transaction(engine: Engine) -> None:
    with engine.connect() as conn:
        with conn.begin() as outer:
            repo.upsert_article(conn, make_article(), ["en"])
            outer.rollback()  # the caller's transaction decides
        assert repo.get_article(conn, "a1") is None
        repo.upsert_article(conn, make_article(), ["en"])  # no transaction open: its own, committed
    with Session(engine) as session:
        assert repo.upsert_article(session, make_article("Lain"), ["en"]) == (2, True)
        session.commit()
    assert repo.article_info(engine, "a1").current_revision == 2


# --- editions ------------------------------------------------------------------------------------------------


def test_save_edition_exactly_once(engine: Engine) -> None:
    article = make_article()
    repo.upsert_article(engine, article, ["en"])
    assert repo.save_edition(engine, make_edition(article, headline="first"), 1) is True
    assert repo.save_edition(engine, make_edition(article, headline="second"), 1) is False
    assert count(engine, editions) == 1
    stored = repo.get_edition(engine, "a1", "en")
    assert stored is not None and stored.headline == "first" and stored.revision == 1
    with pytest.raises(IntegrityError):  # no such article revision
        repo.save_edition(engine, make_edition(article), 5)


def test_get_edition_defaults_to_the_newest_revision_with_that_language(engine: Engine) -> None:
    first = make_article()
    repo.upsert_article(engine, first, ["en", "fr"])
    repo.save_edition(engine, make_edition(first, "en", headline="en r1"), 1)
    repo.save_edition(engine, make_edition(first, "fr", headline="fr r1"), 1)
    second = make_article("Berubah")
    repo.upsert_article(engine, second, ["en", "fr"])
    repo.save_edition(engine, make_edition(second, "en", headline="en r2", status="held"), 2)

    assert repo.get_edition(engine, "a1", "en").headline == "en r2"
    assert repo.get_edition(engine, "a1", "en", revision=1).headline == "en r1"
    assert repo.get_edition(engine, "a1", "fr").headline == "fr r1"  # r2 has no French edition yet
    assert repo.get_edition(engine, "a1", "ja") is None
    statuses = repo.edition_statuses(engine, "a1")
    assert statuses["en"]["edition_status"] == "held" and statuses["en"]["up_to_date"]
    assert statuses["fr"]["edition_revision"] == 1 and not statuses["fr"]["up_to_date"]
    assert statuses["fr"]["job_revision"] == 2 and statuses["fr"]["job_state"] == "queued"
    assert repo.edition_statuses(engine, "nope") == {}


# --- segment cache -------------------------------------------------------------------------------------------


def test_segment_cache(engine: Engine) -> None:
    key = repo.cache_key("Presiden tiba.", "", "llamacpp", "m1", "prompt:abc", "en")
    assert len(key) == 64
    assert key != repo.cache_key("Presiden tiba.", "", "llamacpp", "m1", "prompt:abc", "fr")
    assert key != repo.cache_key("Presiden tiba.", "ctx", "llamacpp", "m1", "prompt:abc", "en")
    assert repo.cache_get(engine, key) is None
    flag = Flag(code="numbers", severity="warning", message="changed", repaired=True)
    repo.cache_put(engine, key, "The president arrives.", [flag])
    assert repo.cache_get(engine, key) == ("The president arrives.", [flag])
    repo.cache_put(engine, key, "The President arrives.", [])
    assert repo.cache_get(engine, key) == ("The President arrives.", [])


# --- queue ---------------------------------------------------------------------------------------------------


def test_claim_renew_complete_lifecycle(engine: Engine, clock: list[datetime]) -> None:
    article = make_article()
    repo.upsert_article(engine, article, ["en"])
    assert queue.counts(engine) == {"queued": 1, "running": 0, "done": 0, "failed": 0}

    job = queue.claim(engine, "w1", lease_seconds=30)
    assert job is not None
    assert (job.article_id, job.revision, job.target_lang, job.attempts) == ("a1", 1, "en", 1)
    row = job_row(engine, job.id)
    assert row.state == "running" and row.lease_owner == "w1"
    assert row.lease_expires_at == clock[0] + timedelta(seconds=30)
    assert queue.claim(engine, "w2") is None  # the only job is leased
    assert queue.counts(engine)["running"] == 1

    clock[0] += timedelta(seconds=20)
    assert queue.renew(engine, job.id, "w1", 30) is True
    assert job_row(engine, job.id).lease_expires_at == clock[0] + timedelta(seconds=30)
    assert queue.renew(engine, job.id, "w2", 30) is False

    assert queue.complete(engine, job.id, "w1", make_edition(article)) is True
    row = job_row(engine, job.id)
    assert row.state == "done" and row.lease_owner is None
    assert repo.get_edition(engine, "a1", "en") is not None
    assert queue.complete(engine, job.id, "w1", make_edition(article)) is False  # done: no longer leased
    assert queue.renew(engine, job.id, "w1", 30) is False
    assert queue.counts(engine) == {"queued": 0, "running": 0, "done": 1, "failed": 0}
    status = repo.edition_statuses(engine, "a1")["en"]
    assert status["job_state"] == "done" and status["edition_status"] == "published" and status["confidence"] == 0.75


def test_complete_rejects_an_edition_of_another_job(engine: Engine) -> None:
    article = make_article()
    repo.upsert_article(engine, article, ["en"])
    job = queue.claim(engine, "w1")
    with pytest.raises(ValueError, match="does not belong"):
        queue.complete(engine, job.id, "w1", make_edition(article, "fr"))
    assert count(engine, editions) == 0
    assert job_row(engine, job.id).state == "running"


def test_expired_lease_is_reclaimed_and_the_late_worker_writes_nothing(engine: Engine, clock: list[datetime]) -> None:
    article = make_article()
    repo.upsert_article(engine, article, ["en"])
    first = queue.claim(engine, "w1", lease_seconds=10)
    clock[0] += timedelta(seconds=5)
    assert queue.claim(engine, "w2") is None  # not expired yet
    clock[0] += timedelta(seconds=6)
    second = queue.claim(engine, "w2", lease_seconds=10)
    assert second is not None and second.id == first.id and second.attempts == 2
    row = job_row(engine, first.id)
    assert row.lease_owner == "w2" and "w1" in row.last_error

    assert queue.renew(engine, first.id, "w1", 10) is False
    assert queue.complete(engine, first.id, "w1", make_edition(article, headline="late")) is False
    assert queue.fail(engine, first.id, "w1", "boom") is None
    assert count(engine, editions) == 0
    assert job_row(engine, first.id).state == "running"

    assert queue.complete(engine, second.id, "w2", make_edition(article, headline="on time")) is True
    assert repo.get_edition(engine, "a1", "en").headline == "on time"


def test_fail_backs_off_then_fails_after_max_attempts(engine: Engine, clock: list[datetime]) -> None:
    repo.upsert_article(engine, make_article(), ["en"])
    for attempt in range(1, repo.DEFAULT_MAX_ATTEMPTS):
        job = queue.claim(engine, "w1")
        assert job is not None and job.attempts == attempt
        assert queue.fail(engine, job.id, "w1", f"error {attempt}") == "queued"
        row = job_row(engine, job.id)
        assert row.next_run_at == clock[0] + timedelta(seconds=min(300, 2**attempt))
        assert row.lease_owner is None and row.last_error == f"error {attempt}"
        clock[0] += timedelta(seconds=2**attempt - 1)
        assert queue.claim(engine, "w1") is None  # still backing off
        clock[0] += timedelta(seconds=1)
    job = queue.claim(engine, "w1")
    assert job is not None and job.attempts == repo.DEFAULT_MAX_ATTEMPTS
    assert queue.fail(engine, job.id, "w1", "model crashed") == "failed"
    clock[0] += timedelta(hours=1)
    assert queue.claim(engine, "w1") is None
    status = repo.edition_statuses(engine, "a1")["en"]
    assert status["job_state"] == "failed" and status["last_error"] == "model crashed"
    assert status["attempts"] == repo.DEFAULT_MAX_ATTEMPTS and status["edition_status"] is None
    assert queue.counts(engine)["failed"] == 1


def test_backoff_is_capped() -> None:
    assert queue.backoff_seconds(1) == 2
    assert queue.backoff_seconds(8) == 256
    assert queue.backoff_seconds(9) == 300
    assert queue.backoff_seconds(1000) == 300


def test_a_job_that_keeps_losing_its_worker_ends_failed(engine: Engine, clock: list[datetime]) -> None:
    repo.upsert_article(engine, make_article(), ["en"])
    for _ in range(repo.DEFAULT_MAX_ATTEMPTS):
        assert queue.claim(engine, "w", lease_seconds=10) is not None
        clock[0] += timedelta(seconds=11)  # the worker died
    assert queue.claim(engine, "w") is None
    row = job_row(engine, 1)
    assert row.state == "failed" and "expired" in row.last_error


def test_next_due(engine: Engine, clock: list[datetime]) -> None:
    assert queue.next_due(engine) is None
    repo.upsert_article(engine, make_article(), ["en"])
    job = queue.claim(engine, "w1")
    assert queue.next_due(engine) is None
    queue.fail(engine, job.id, "w1", "x")
    assert queue.next_due(engine) == clock[0] + timedelta(seconds=2)


def test_concurrent_claims_never_share_a_job(engine: Engine) -> None:
    for number in range(4):
        repo.upsert_article(engine, make_article(article_id=f"a{number}"), TARGETS)  # 20 jobs
    claimed: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(4)

    def worker(name: str) -> None:
        try:
            start.wait()
            while (job := queue.claim(engine, name)) is not None:
                with lock:
                    claimed.append(job.id)
                assert queue.complete(engine, job.id, name, _edition_for(engine, job)) is True
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(f"w{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert sorted(claimed) == sorted(set(claimed)) and len(claimed) == 20
    assert queue.counts(engine) == {"queued": 0, "running": 0, "done": 20, "failed": 0}
    assert count(engine, editions) == 20


def _edition_for(engine: Engine, job: queue.Job) -> Edition:
    article = repo.get_article(engine, job.article_id, job.revision)
    assert article is not None
    return make_edition(article, job.target_lang)


def test_postgres_claim_skips_rows_locked_by_another_transaction(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SKIP LOCKED is PostgreSQL's; SQLite serialises writers instead")
    repo.upsert_article(engine, make_article(), ["en", "fr"])
    with engine.connect() as holder, holder.begin():
        held = queue.claim(holder, "w1")  # in the caller's open transaction: the row stays locked
        other = queue.claim(engine, "w2")  # another connection: must skip the locked row, not wait
        assert held is not None and other is not None and held.id != other.id
        assert queue.claim(engine, "w3") is None


@pytest.mark.parametrize("same_content", [True, False], ids=["same-content", "changed-content"])
def test_concurrent_upserts_of_one_article(engine: Engine, same_content: bool) -> None:
    results: list[tuple[int, bool]] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def post(number: int) -> None:
        try:
            start.wait()
            headline = "Presiden tiba" if same_content else f"Presiden tiba ({number})"
            results.append(repo.upsert_article(engine, make_article(headline), TARGETS))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=post, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    if same_content:
        assert sorted(results) == [(1, False), (1, False), (1, False), (1, True)]
        assert count(engine, jobs) == len(TARGETS)
    else:
        assert sorted(results) == [(1, True), (2, True), (3, True), (4, True)]
        assert count(engine, jobs) == len(TARGETS)  # each revision superseded the queued jobs of the one before
        assert count(engine, jobs, revision=4) == len(TARGETS)
    assert count(engine, article_revisions) == len({revision for revision, _ in results})


def test_the_site_counter_starts_where_an_older_database_is(tmp_path: pathlib.Path) -> None:
    """Migration 0005 on a database with articles already: the counter row counts them and keeps their newest
    time, and from then on the triggers move it."""
    from lintas.store import site

    engine = db.make_engine(f"sqlite:///{tmp_path / 'old.sqlite'}")
    try:
        db.upgrade(engine, "0004")
        repo.upsert_article(engine, Article(id="old", headline="Harga beras naik"), ["en"])
        db.upgrade(engine)
        before = site.version(engine)
        info = repo.article_info(engine, "old")
        assert info is not None and before.token == (1,) and before.modified == info.updated_at
        repo.upsert_article(engine, Article(id="new", headline="Harga cabai turun"), ["en"])
        after = site.version(engine)
        assert after.token == (2,) and after.modified is not None and after.modified > before.modified
    finally:
        engine.dispose()
