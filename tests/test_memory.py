"""Tests of the translation memory on real SQLite files (and PostgreSQL, for its migration, when
LINTAS_TEST_POSTGRES_URL names a server)."""

from __future__ import annotations

import csv
import hashlib
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from dbs import database_url
from sqlalchemy import MetaData, create_engine, insert, inspect, text
from sqlalchemy.pool import StaticPool

from lintas.store import db
from lintas.store.memory import CSV_COLUMNS, Match, TranslationMemory
from lintas.store.schema import metadata, translation_memory

SOURCE = 'Presiden <a href="#1">Joko Widodo</a> tiba di Jakarta.'
TARGET = 'President <a href="#1">Joko Widodo</a> arrived in Jakarta.'


def _url(path: Path) -> str:
    return f"sqlite:///{path}"


@pytest.fixture
def tm(tmp_path: Path) -> Iterator[TranslationMemory]:
    memory = TranslationMemory(_url(tmp_path / "tm.sqlite"))
    yield memory
    memory.close()


def _tick() -> None:
    """Make sure the next row's created_at is later than the previous one's."""
    time.sleep(0.002)


# --- exact -----------------------------------------------------------------------------------------------------


def test_exact_hit_and_miss(tm: TranslationMemory) -> None:
    tm.add(SOURCE, TARGET, "en", author="rina")
    match = tm.exact(SOURCE, "en")
    assert isinstance(match, Match)
    assert match.source == SOURCE
    assert match.target == TARGET
    assert match.target_lang == "en"
    assert match.score == 100.0
    assert match.origin == "approved"
    assert match.author == "rina"
    assert match.same_context is True
    assert match.created_at.tzinfo is not None
    assert match.created_at.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    assert abs((datetime.now(UTC) - match.created_at).total_seconds()) < 60
    assert tm.exact(SOURCE, "fr") is None  # other target language
    assert tm.exact(SOURCE, "en", source_lang="ms") is None  # other source language
    assert tm.exact("Presiden tiba di Bandung.", "en") is None
    assert tm.exact("   ", "en") is None


def test_headline_entry_not_reused_for_a_sentence(tm: TranslationMemory) -> None:
    tm.add("Jokowi Tiba di Jakarta", "Jokowi Arrives in Jakarta", "en", kind="headline")
    assert tm.exact("Jokowi Tiba di Jakarta", "en", kind="sentence") is None
    assert tm.exact("Jokowi Tiba di Jakarta", "en", kind="caption") is None
    # Kinds in the same class share entries.
    for kind in ("headline", "kicker", "subheadline", "heading"):
        match = tm.exact("Jokowi Tiba di Jakarta", "en", kind=kind)
        assert match is not None and match.target == "Jokowi Arrives in Jakarta"
    tm.add("Jokowi Tiba di Jakarta", "Jokowi arrived in Jakarta", "en", kind="quote")
    match = tm.exact("Jokowi Tiba di Jakarta", "en", kind="list_item")
    assert match is not None and match.target == "Jokowi arrived in Jakarta"
    match = tm.exact("Jokowi Tiba di Jakarta", "en", kind="headline")
    assert match is not None and match.target == "Jokowi Arrives in Jakarta"


def test_newest_wins_and_history_is_kept(tm: TranslationMemory) -> None:
    tm.add(SOURCE, "first", "en")
    _tick()
    tm.add(SOURCE, "second", "en")
    assert len(tm) == 2
    match = tm.exact(SOURCE, "en")
    assert match is not None and match.target == "second"


def test_preference_same_context_then_corrected_then_newest(tm: TranslationMemory) -> None:
    tm.add(SOURCE, "other context, corrected", "en", context="article-2", origin="corrected")
    _tick()
    tm.add(SOURCE, "same context, approved, older", "en", context="article-1")
    _tick()
    tm.add(SOURCE, "same context, imported, newest", "en", context="article-1", origin="imported")
    _tick()
    tm.add(SOURCE, "no context, approved, newest", "en")

    # Same context beats a better origin and a newer row.
    match = tm.exact(SOURCE, "en", context="article-1")
    assert match is not None
    assert match.target == "same context, approved, older"
    assert match.same_context is True
    # Context is normalised like the source.
    match = tm.exact(SOURCE, "en", context="  article-1 ")
    assert match is not None and match.target == "same context, approved, older"

    # Without a matching context, "corrected" beats newer approved rows.
    match = tm.exact(SOURCE, "en", context="article-9")
    assert match is not None
    assert match.target == "other context, corrected"
    assert match.same_context is False

    # Empty context matches the entry added without context.
    match = tm.exact(SOURCE, "en")
    assert match is not None and match.target == "no context, approved, newest" and match.same_context

    # Among equal context and origin, the newest.
    _tick()
    tm.add(SOURCE, "other context, corrected, newer", "en", context="article-3", origin="corrected")
    match = tm.exact(SOURCE, "en", context="article-9")
    assert match is not None and match.target == "other context, corrected, newer"


def test_approved_beats_imported(tm: TranslationMemory) -> None:
    tm.add(SOURCE, "approved", "en", origin="approved")
    _tick()
    tm.add(SOURCE, "imported", "en", origin="imported")
    match = tm.exact(SOURCE, "en")
    assert match is not None and match.target == "approved" and match.origin == "approved"


def test_tags_and_case_matter(tm: TranslationMemory) -> None:
    tm.add(SOURCE, TARGET, "en")
    assert tm.exact("Presiden Joko Widodo tiba di Jakarta.", "en") is None
    assert tm.exact('Presiden <a href="#2">Joko Widodo</a> tiba di Jakarta.', "en") is None
    assert tm.exact('Presiden <b><a href="#1">Joko Widodo</a></b> tiba di Jakarta.', "en") is None
    assert tm.exact(SOURCE.upper(), "en") is None
    assert tm.exact(SOURCE.lower(), "en") is None


def test_whitespace_and_nfkc_normalisation(tm: TranslationMemory) -> None:
    tm.add("Harga naik ５０ persen.", "Prices rose 50 percent.", "en")
    # NFKC folds full-width digits; whitespace runs, tabs, newlines and no-break spaces collapse.
    for variant in (
        "Harga naik 50 persen.",
        "  Harga   naik\t50\npersen.  ",
        "Harga\u00a0naik 50 persen.",
        "Harga naik ５０ persen.",
    ):
        match = tm.exact(variant, "en")
        assert match is not None, variant
        assert match.source == "Harga naik ５０ persen."  # the raw text is stored
    assert tm.exact("Harga naik 50persen.", "en") is None


# --- fuzzy -----------------------------------------------------------------------------------------------------


def test_fuzzy_returns_similar_sorted_and_excludes_the_exact_one(tm: TranslationMemory) -> None:
    query = "Presiden Joko Widodo tiba di Jakarta pada hari Senin."
    tm.add(query, "exact", "en")  # same normalised source: excluded
    tm.add("Presiden Joko Widodo tiba di Jakarta pada hari Selasa.", "close", "en")
    tm.add("Presiden Joko Widodo tiba di Bandung pada hari Rabu.", "further", "en")
    tm.add("Harga cabai naik tajam menjelang Lebaran tahun ini.", "unrelated", "en")
    tm.add("Presiden Joko Widodo tiba di Jakarta pada hari Selasa.", "other language", "fr")

    matches = tm.fuzzy(query, "en", min_score=50.0)
    targets = [m.target for m in matches]
    assert "exact" not in targets
    assert "unrelated" not in targets
    assert "other language" not in targets
    assert targets[:2] == ["close", "further"]
    scores = [m.score for m in matches]
    assert scores == sorted(scores, reverse=True)
    assert all(50.0 <= s < 100.0 for s in scores)
    assert all(m.target_lang == "en" and m.same_context is False for m in matches)


def test_fuzzy_ignores_case_and_tags(tm: TranslationMemory) -> None:
    tm.add(SOURCE, TARGET, "en")
    matches = tm.fuzzy("PRESIDEN JOKO WIDODO TIBA DI JAKARTA.", "en")
    assert len(matches) == 1
    assert matches[0].target == TARGET
    assert matches[0].score == 100.0  # same plain text, but not the same segment: exact() misses it
    assert tm.exact("PRESIDEN JOKO WIDODO TIBA DI JAKARTA.", "en") is None


def test_fuzzy_respects_min_score_and_limit(tm: TranslationMemory) -> None:
    base = "Gubernur meresmikan jembatan baru di kota Surabaya"
    for i in range(6):
        tm.add(f"{base} {i}.", f"target {i}", "en")
    tm.add("Gubernur meresmikan pasar baru di kota Malang.", "market", "en")
    query = f"{base} 9."

    assert len(tm.fuzzy(query, "en")) == 3  # default limit
    everything = tm.fuzzy(query, "en", limit=10)
    assert len(everything) == 7
    assert everything[-1].target == "market"
    assert 75.0 <= everything[-1].score < 80.0
    high = tm.fuzzy(query, "en", limit=10, min_score=95.0)
    assert {m.target for m in high} == {f"target {i}" for i in range(6)}
    assert all(m.score >= 95.0 for m in high)
    assert tm.fuzzy(query, "en", limit=10, min_score=100.0) == []
    assert len(tm.fuzzy(query, "en", limit=2)) == 2
    # Equal scores: the newest first.
    assert [m.target for m in tm.fuzzy(query, "en", limit=2)] == ["target 5", "target 4"]
    with pytest.raises(ValueError, match="limit"):
        tm.fuzzy(query, "en", limit=0)
    with pytest.raises(ValueError, match="min_score"):
        tm.fuzzy(query, "en", min_score=101)


def test_fuzzy_one_match_per_source_newest_row(tm: TranslationMemory) -> None:
    similar = "Menteri Keuangan mengumumkan anggaran baru hari ini."
    tm.add(similar, "old", "en", origin="corrected")
    _tick()
    tm.add(similar, "new", "en")
    _tick()
    tm.add(f"  {similar}  ", "newest, same normalised source", "en", kind="headline")
    matches = tm.fuzzy("Menteri Keuangan mengumumkan anggaran baru kemarin.", "en", min_score=50.0)
    assert [m.target for m in matches] == ["newest, same normalised source"]


def test_fuzzy_length_prefilter(tm: TranslationMemory) -> None:
    tm.add("Rapat ditunda.", "short", "en")
    tm.add("Rapat ditunda sampai minggu depan karena banyak anggota dewan sedang berada di luar kota.", "long", "en")
    assert tm.fuzzy("Rapat ditunda sampai besok.", "en", min_score=0.0) == []
    assert tm.fuzzy("<b> </b>", "en") == []


# --- validation ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"source": "  \n ", "target": "x", "target_lang": "en"}, "source is empty"),
        ({"source": "x", "target": "\u3000", "target_lang": "en"}, "target is empty"),
        ({"source": "x", "target": "y", "target_lang": "en", "origin": "machine"}, "origin must be one of"),
        ({"source": "x", "target": "y", "target_lang": "en", "kind": "paragraph"}, "kind must be one of"),
        ({"source": "x", "target": "y", "target_lang": ""}, "target_lang must be a language code"),
        ({"source": "x", "target": "y", "target_lang": "en", "source_lang": "en"}, "must differ"),
    ],
)
def test_add_validates(tm: TranslationMemory, kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        tm.add(**kwargs)  # type: ignore[arg-type]
    assert len(tm) == 0


# --- CSV -------------------------------------------------------------------------------------------------------


def test_csv_round_trip(tm: TranslationMemory, tmp_path: Path) -> None:
    multiline = 'Baris pertama,<br>baris "kedua"\nbaris ketiga.'
    tm.add(SOURCE, TARGET, "en", author="rina")
    _tick()
    tm.add(SOURCE, "总统佐科·维多多抵达雅加达。", "zh", kind="caption", origin="corrected")
    _tick()
    tm.add(multiline, 'First line,<br>"second" line\nthird line.', "fr", kind="quote")
    path = tmp_path / "tm.csv"
    assert tm.export_csv(path) == 3

    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert rows[0]["author"] == "rina"
    assert rows[1]["author"] == ""
    assert rows[1]["kind"] == "caption"

    other = TranslationMemory(_url(tmp_path / "other.sqlite"))
    try:
        assert other.import_csv(path, origin=None) == 3
        assert len(other) == 3
        for lang, kind in (("en", "sentence"), ("zh", "caption"), ("fr", "quote")):
            original = tm.exact(SOURCE if lang != "fr" else multiline, lang, kind=kind)
            copy = other.exact(SOURCE if lang != "fr" else multiline, lang, kind=kind)
            assert original is not None and copy is not None
            assert copy == original
        # The default marks every imported row "imported".
        assert other.import_csv(path) == 3
        assert len(other) == 6
        assert other.exact(SOURCE, "zh", kind="caption").origin == "corrected"  # type: ignore[union-attr]
        other.add(SOURCE, "approved later", "zh", kind="caption")
        match = other.exact(SOURCE, "zh", kind="caption")
        assert match is not None and match.origin == "corrected"  # imported copies do not outrank
        back = tmp_path / "back.csv"
        assert other.export_csv(back) == 7
        with back.open(encoding="utf-8", newline="") as handle:
            origins = [row["origin"] for row in csv.DictReader(handle)]
        assert origins[3:6] == ["imported"] * 3
    finally:
        other.close()


def test_import_minimal_columns_and_defaults(tm: TranslationMemory, tmp_path: Path) -> None:
    path = tmp_path / "min.csv"
    path.write_text(
        "\ufefftarget_lang,source,target,created_at\n"
        "en,Selamat pagi.,Good morning.,2024-05-01T08:30:00\n"
        "\n"
        "ja,Terima kasih.,ありがとう。,\n",
        encoding="utf-8",
    )
    assert tm.import_csv(path) == 2
    match = tm.exact("Selamat pagi.", "en")
    assert match is not None
    assert match.origin == "imported"
    assert match.author is None
    assert match.created_at == datetime(2024, 5, 1, 8, 30, tzinfo=UTC)
    assert tm.exact("Terima kasih.", "ja") is not None


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ("id,en,sentence,   ,Empty source.,approved,,\n", "line 3: source is empty"),
        ("id,en,paragraph,Sumber.,Target.,approved,,\n", "line 3: kind must be one of"),
        ("id,en,sentence,Sumber.,Target.,approved,,kemarin\n", "line 3: created_at is not an ISO 8601 time"),
        ("id,en,sentence,Sumber.,Target.\n", "line 3: 5 fields"),
    ],
)
def test_import_with_a_bad_row_imports_nothing(
    tm: TranslationMemory, tmp_path: Path, bad_line: str, message: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        ",".join(CSV_COLUMNS) + "\n"
        "id,en,sentence,Kalimat pertama.,First sentence.,approved,rina,2024-01-01T00:00:00+00:00\n"
        + bad_line
        + "id,en,sentence,Kalimat ketiga.,Third sentence.,approved,,\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match=message) as info:
        tm.import_csv(path)
    assert str(path) in str(info.value)
    assert len(tm) == 0


def test_import_bad_origin_when_kept_and_line_after_multiline_field(tm: TranslationMemory, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        ",".join(CSV_COLUMNS) + "\n"
        'id,en,quote,"Dua\nbaris.","Two\nlines.",approved,,\n'  # lines 2-4
        "id,en,sentence,Sumber.,Target.,machine,,\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="line 5: origin must be one of"):
        tm.import_csv(path, origin=None)
    assert tm.import_csv(path) == 2  # the default origin replaces the bad one
    with pytest.raises(ValueError, match="origin must be one of"):
        tm.import_csv(path, origin="machine")


def test_import_bad_header(tm: TranslationMemory, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("target_lang,sorce,target\nen,a,b\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 1: bad header: unknown column"):
        tm.import_csv(path)
    path.write_text("", encoding="utf-8")
    with pytest.raises(ValueError, match="empty file"):
        tm.import_csv(path)
    assert len(tm) == 0


# --- opening ---------------------------------------------------------------------------------------------------


def test_persistence_across_instances(tmp_path: Path) -> None:
    url = _url(tmp_path / "shared.sqlite")
    first = TranslationMemory(url)
    second = TranslationMemory(url)
    try:
        first.add(SOURCE, TARGET, "en")
        match = second.exact(SOURCE, "en")
        assert match is not None and match.target == TARGET
        with first.engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
    finally:
        first.close()
        second.close()
    with TranslationMemory(url) as third:
        assert len(third) == 1
        assert third.exact(SOURCE, "en") is not None


def test_default_location_under_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINTAS_DATA_DIR", str(tmp_path / "data" / "nested"))
    with TranslationMemory() as memory:
        memory.add(SOURCE, TARGET, "ar")
    assert (tmp_path / "data" / "nested" / "memory.sqlite").is_file()


def test_from_engine_in_memory() -> None:
    engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    try:
        memory = TranslationMemory.from_engine(engine)
        memory.add(SOURCE, TARGET, "ja")
        memory.close()  # leaves the engine it was given alone
        assert len(memory) == 1
        again = TranslationMemory.from_engine(engine)  # the table exists already
        match = again.exact(SOURCE, "ja")
        assert match is not None and match.target == TARGET
    finally:
        engine.dispose()


def test_one_instance_shared_between_threads(tm: TranslationMemory) -> None:
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(20):
                tm.add(f"Kalimat {n} nomor {i}.", f"Sentence {n} {i}.", "en")
                assert tm.exact(f"Kalimat {n} nomor {i}.", "en") is not None
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(tm) == 80


# --- the store's migrations ----------------------------------------------------------------------------------


def _assert_at_head_and_matching(url: str) -> None:
    engine = db.make_engine(url)
    try:
        assert {"translation_memory", "articles", "alembic_version"} <= set(inspect(engine).get_table_names())
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == db.head_revision()
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, metadata) == []
    finally:
        engine.dispose()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_database_of_its_own_is_migrated_to_the_head_revision(kind: str, tmp_path: Path) -> None:
    url = database_url(kind, tmp_path, "lintas_test_memory")
    with TranslationMemory(url) as memory:
        memory.add(SOURCE, TARGET, "en")
    _assert_at_head_and_matching(url)
    with TranslationMemory(url) as again:  # at head: opened without migrating
        assert db.ensure_current(again.engine) is False
        match = again.exact(SOURCE, "en")
    assert match is not None and match.target == TARGET


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_database_made_by_create_all_is_migrated_and_keeps_its_rows(kind: str, tmp_path: Path) -> None:
    url = database_url(kind, tmp_path, "lintas_test_memory")
    legacy = MetaData(naming_convention=metadata.naming_convention)
    translation_memory.to_metadata(legacy)  # what older versions made with create_all: the table, no versions
    plain = create_engine(url)  # a plain engine, as older versions made
    try:
        legacy.create_all(plain)
        with plain.begin() as conn:
            conn.execute(
                insert(legacy.tables["translation_memory"]),
                [
                    {
                        "source_lang": "id",
                        "target_lang": "fr",
                        "kind": "sentence",
                        "kind_class": "body",
                        "source": "Hujan turun.",
                        "target": "Il pleut.",
                        "source_hash": hashlib.sha256(b"Hujan turun.").hexdigest(),
                        "plain_len": len("hujan turun."),
                        "context_hash": "",
                        "origin": "approved",
                        "author": "ani",
                        "created_at": datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
                    }
                ],
            )
        assert "alembic_version" not in inspect(plain).get_table_names()
    finally:
        plain.dispose()
    with TranslationMemory(url) as memory:
        match = memory.exact("Hujan turun.", "fr")
        memory.add(SOURCE, TARGET, "fr")
        assert len(memory) == 2
    assert match is not None and (match.target, match.author) == ("Il pleut.", "ani")
    assert match.created_at == datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    _assert_at_head_and_matching(url)


def test_the_engine_is_the_stores(tm: TranslationMemory) -> None:
    assert db.is_configured(tm.engine)
    with tm.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one() == db.SQLITE_BUSY_TIMEOUT_MS
