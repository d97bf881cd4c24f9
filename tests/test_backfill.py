"""`lintas backfill` on a local Ray: files and the database, skipping done work, and a kill -9 in the middle."""

from __future__ import annotations

import html
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from dbs import migrated_store
from test_cli import ROOT, assert_clean_error, run

from lintas.measure.evaluate import load_documents
from lintas.store import queue, repo
from lintas.text.article import Article, Block, Edition

pytest.importorskip("ray")

MINI = Path(__file__).parent / "fixtures" / "ntrex-mini"
TESTS = str(Path(__file__).parent)


def _articles(n: int) -> list[Article]:
    lines = [line for doc in load_documents(MINI, ["en"]) for line in doc.source]
    return [
        Article(
            id=f"arsip-{i}",
            headline=lines[(3 * i) % len(lines)],
            body=[
                Block(
                    type="paragraph",
                    html=html.escape(" ".join(lines[(3 * i + 1) % len(lines) : (3 * i + 1) % len(lines) + 2])),
                )
            ],
        )
        for i in range(n)
    ]


def _jsonl(path: Path, articles: list[Article], extra: str = "") -> Path:
    path.write_text("".join(a.model_dump_json() + "\n" for a in articles) + extra, encoding="utf-8")
    return path


def _summary(stdout: str) -> dict[str, float]:
    return json.loads(stdout.strip().splitlines()[-1])


def test_jsonl_archive_then_nothing_left_to_do(tmp_path: Path) -> None:
    source = _jsonl(tmp_path / "archive.jsonl", _articles(4), extra="{not an article}\n")
    out = tmp_path / "out"
    first = run(
        "backfill", str(source), "--out", str(out), "--to", "en,fr", "--engine", "fake", "--batch-articles", "2"
    )
    assert first.returncode == 1, first.stderr  # the bad line is a failure, the others are done
    assert "archive.jsonl line 5: not an article" in first.stderr
    summary = _summary(first.stdout)
    assert summary["translated_articles"] == 4 and summary["editions"] == 8 and summary["failed"] == 1
    files = sorted(out.glob("*/*.json"))
    assert [f"{p.parent.name}/{p.name}" for p in files] == [
        f"arsip-{i}/{lang}.json" for i in range(4) for lang in ("en", "fr")
    ]
    edition = Edition.model_validate_json(files[0].read_text())
    assert edition.target_lang == "en" and edition.segments and edition.engine == "fake"
    stamps = {p: p.stat().st_mtime_ns for p in files}
    second = run("backfill", str(source), "--out", str(out), "--to", "en,fr", "--engine", "fake")
    assert "0 articles to translate, 4 done already" in second.stderr and "line 5" in second.stderr
    assert _summary(second.stdout)["translated_articles"] == 0
    assert {p: p.stat().st_mtime_ns for p in files} == stamps  # nothing rewritten
    third = run("backfill", str(source), "--out", str(out), "--to", "en,fr,zh", "--engine", "fake")
    assert _summary(third.stdout)["editions"] == 4  # only the language added since


def test_killed_run_continues_where_it_stopped(tmp_path: Path) -> None:
    source = _jsonl(tmp_path / "archive.jsonl", _articles(10))
    out = tmp_path / "out"
    command = [sys.executable, "-m", "lintas", "backfill", str(source), "--out", str(out), "--to", "en,fr"]
    command += ["--engine", "slow_engine:SlowFakeEngine", "--batch-articles", "1", "--threads", "1"]
    env = {**os.environ, "PYTHONPATH": TESTS}
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    deadline = time.monotonic() + 120
    while len(list(out.glob("*/fr.json"))) < 2 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)  # the driver and what it started
    process.communicate(timeout=30)
    done_before = {p: p.stat().st_mtime_ns for p in out.glob("*/*.json")}
    finished = len(
        {p.parent for p in done_before if (p.parent / "en.json").exists() and (p.parent / "fr.json").exists()}
    )
    assert 2 <= finished < 10, "the kill should land in the middle of the run"
    again = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert f"{10 - finished} articles to translate, {finished} done already" in again.stderr
    assert len(list(out.glob("*/*.json"))) == 20
    for path, stamp in done_before.items():
        assert path.stat().st_mtime_ns == stamp  # done work is not redone
    for path in out.glob("*/*.json"):
        Edition.model_validate_json(path.read_text())  # every file is a whole edition


def test_database_queue_is_drained(tmp_path: Path) -> None:
    with migrated_store("sqlite", tmp_path, "backfill") as store:
        for article in _articles(3):
            repo.upsert_article(store.engine, article, ["en", "fr"])
        assert queue.counts(store.engine)["queued"] == 6
        done = run("backfill", "db", "--db", store.url, "--engine", "fake", "--batch-articles", "2")
        assert done.returncode == 0, done.stderr
        assert _summary(done.stdout)["editions"] == 6
        counts = queue.counts(store.engine)
        assert counts.get("done") == 6 and not counts.get("queued") and not counts.get("running")
        for article in _articles(3):
            assert repo.get_edition(store.engine, article.id, "fr") is not None
        again = run("backfill", "db", "--db", store.url, "--engine", "fake")
        assert "0 articles to translate, 3 done already" in again.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["/nowhere/archive.jsonl", "--out", "o"], "does not exist"),
        (["README.md", "--out", "o"], "give a directory of articles or a .jsonl file"),
        (["tests/fixtures"], "give --out DIR"),
        (["tests/fixtures", "--out", "o", "--to", "xx"], "xx"),
    ],
)
def test_bad_sources_are_clear_errors(args: list[str], needle: str) -> None:
    assert_clean_error(run("backfill", *args), 2, needle)


def test_directory_archive_with_its_output_inside(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    archive.mkdir()
    (archive / "contoh.html").write_text((ROOT / "lintas" / "data" / "example" / "article.html").read_text())
    (archive / "kabar.json").write_text(_articles(1)[0].model_dump_json())
    (archive / "rusak.md").write_bytes(b"\xff\xfe\x00 not text")
    out = archive / "editions"  # inside the archive: its JSON files must never be read as articles
    first = run("backfill", str(archive), "--out", str(out), "--to", "en", "--engine", "fake")
    assert first.returncode == 1 and "rusak.md" in first.stderr
    assert _summary(first.stdout)["translated_articles"] == 2
    again = run("backfill", str(archive), "--out", str(out), "--to", "en", "--engine", "fake")
    assert "0 articles to translate, 2 done already" in again.stderr
    assert again.returncode == 1 and "rusak.md" in again.stderr  # still unreadable, still said
