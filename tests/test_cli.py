"""The command line as users run it: a real subprocess, exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest

from lintas.cli.main import cli
from lintas.cli.options import DEFAULT_TARGETS, ENGINE_HELP
from lintas.measure.loadtest import free_port
from lintas.text.languages import TARGETS

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "lintas" / "data" / "example" / "article.html"
FIXTURES = Path(__file__).parent / "fixtures"


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lintas", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
        cwd=ROOT,
    )


def assert_clean_error(result: subprocess.CompletedProcess[str], code: int, needle: str) -> None:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert needle in lines[0]


def test_translate_with_fake_engine_writes_editions(tmp_path: Path) -> None:
    result = run("translate", str(EXAMPLE), "--engine", "fake", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    summary = [line for line in result.stdout.splitlines() if line[:3] in ("en:", "zh:", "ja:", "ar:", "fr:")]
    assert [line[:2] for line in summary] == ["en", "zh", "ja", "ar", "fr"]
    for lang in ("en", "zh", "ja", "ar", "fr"):
        data = json.loads((tmp_path / f"kanye-west-ye.{lang}.json").read_text(encoding="utf-8"))
        assert data["target_lang"] == lang and data["engine"] == "fake"
        assert all(seg["source"] and seg["target"] for seg in data["segments"])
        assert (tmp_path / f"kanye-west-ye.{lang}.html").is_file()
    assert (tmp_path / "kanye-west-ye.id.html").is_file()
    assert "translating" in result.stderr  # the progress bar


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["translate", "FIXTURES/empty.html"], 2, "empty"),
        (["translate", "FIXTURES/binary.bin"], 2, "binary"),
        (["translate", "FIXTURES/english.html", "--engine", "fake"], 2, "not Indonesian"),
        (["translate", "FIXTURES/malformed.json"], 2, "malformed JSON"),
        (["translate", "FIXTURES/no-such-file.html"], 2, "not found"),
        (["translate", "EXAMPLE", "--to", "en,xx"], 2, "unknown target language 'xx'"),
        (["translate", "EXAMPLE", "--engine", "nope"], 2, "unknown engine"),
        (
            ["eval", "--data", "FIXTURES", "--engine", "fake", "--save", "FIXTURES/eval"],
            2,
            "evaluation data incomplete",
        ),
    ],
)
def test_bad_input_is_one_clear_line(args: list[str], code: int, needle: str) -> None:
    args = [a.replace("FIXTURES", str(FIXTURES)).replace("EXAMPLE", str(EXAMPLE)) for a in args]
    assert_clean_error(run(*args), code, needle)


def test_missing_model_file(tmp_path: Path) -> None:
    result = run(
        "translate", str(EXAMPLE), "--out", str(tmp_path), env={"LINTAS_MODEL_PATH": str(tmp_path / "no.gguf")}
    )
    assert_clean_error(result, 3, "model file not found")


def test_corrupt_model_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF" + os.urandom(4096))
    result = run("translate", str(EXAMPLE), "--out", str(tmp_path), env={"LINTAS_MODEL_PATH": str(bad)})
    assert_clean_error(result, 3, "cannot load model")


def test_corrupt_cached_embedded_model(tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    (models / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf").write_bytes(b"not a model")
    result = run("translate", str(EXAMPLE), "--out", str(tmp_path), env={"LINTAS_DATA_DIR": str(tmp_path)})
    assert_clean_error(result, 3, "corrupt")


def test_one_megabyte_article_translates(tmp_path: Path) -> None:
    sentence = "Pemerintah kota Jakarta membangun jalan baru sepanjang 12 kilometer di wilayah utara. "
    paragraphs = "".join(f"<p>{sentence * 8}</p>\n" for _ in range(1_000_000 // (len(sentence) * 8) + 1))
    big = tmp_path / "big.html"
    big.write_text(f"<article><h1>Jalan baru di Jakarta</h1>{paragraphs}</article>", encoding="utf-8")
    assert big.stat().st_size > 1_000_000
    result = run("translate", str(big), "--engine", "fake", "--to", "en", "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    data = json.loads((tmp_path / "out" / "jalan-baru-di-jakarta.en.json").read_text(encoding="utf-8"))
    assert len(data["body"]) == paragraphs.count("<p>")


MINI = FIXTURES / "ntrex-mini"


def test_qe_bench_prints_the_table() -> None:
    result = run("qe-bench", "--data", str(MINI), "--to", "en,zh")
    assert result.returncode == 0, result.stderr
    assert "| number (detected) | ≥ 90% |" in result.stdout
    assert "clean sentences (false flags)" in result.stdout


def test_qe_bench_on_real_output_with_the_fake_engine(tmp_path: Path) -> None:
    saved = tmp_path / "editions"
    args = ("qe-bench", "--data", str(MINI), "--to", "en")
    result = run(*args, "--translate", "1", "--engine", "fake", "--save", str(saved))
    assert result.returncode == 0, result.stderr
    assert "Checks on the engine's real output:" in result.stdout
    assert re.search(r"\| en \| 10 \| 0 \(0\.0%\) \|", result.stdout), result.stdout
    assert len(list(saved.glob("*.en.json"))) == 1
    again = run(*args, "--recheck", str(saved))
    assert again.returncode == 0, again.stderr
    assert re.search(r"\| en \| 10 \| 0 \(0\.0%\) \|", again.stdout), again.stdout


def test_translate_reports_status_and_reuses_memory(tmp_path: Path) -> None:
    env = {"LINTAS_MEMORY": f"sqlite:///{tmp_path / 'tm.sqlite'}"}
    first = run("translate", str(EXAMPLE), "--engine", "fake", "--to", "en", "--out", str(tmp_path / "a"), env=env)
    assert first.returncode == 0, first.stderr
    assert "published (confidence" in first.stdout
    edition = tmp_path / "a" / next(p.name for p in (tmp_path / "a").glob("*.en.json"))
    approved = run("tm", "approve", str(edition), "--author", "siti", env=env)
    assert approved.returncode == 0, approved.stderr
    assert re.match(r"\d+ segments approved", approved.stdout)
    again = run("translate", str(EXAMPLE), "--engine", "fake", "--to", "en", "--out", str(tmp_path / "b"), env=env)
    data = json.loads(next((tmp_path / "b").glob("*.en.json")).read_text(encoding="utf-8"))
    assert data["segments"] and all(s["origin"] == "memory" for s in data["segments"])
    assert again.returncode == 0


def test_tm_commands(tmp_path: Path) -> None:
    env = {"LINTAS_MEMORY": f"sqlite:///{tmp_path / 'tm.sqlite'}"}
    added = run("tm", "add", "Harga beras naik.", "Rice prices rose.", "--to", "en", env=env)
    assert added.returncode == 0 and "1 segments" in added.stdout
    found = run("tm", "search", "Harga beras naik lagi.", "--to", "en", env=env)
    assert "Rice prices rose." in found.stdout
    exported = run("tm", "export", str(tmp_path / "tm.csv"), env=env)
    assert exported.returncode == 0 and (tmp_path / "tm.csv").read_text(encoding="utf-8").count("\n") == 2
    assert_clean_error(run("tm", "add", " ", "x", "--to", "en", env=env), 2, "error:")
    bad = tmp_path / "bad.csv"
    bad.write_text("source,target\nx,y\n", encoding="utf-8")
    assert_clean_error(run("tm", "import", str(bad), env=env), 2, "error:")
    assert_clean_error(run("tm", "search", "x", "--to", "en", env={"LINTAS_MEMORY": "off"}), 2, "memory is off")


def test_glossary_commands(tmp_path: Path) -> None:
    found = run("glossary", "lookup", "Rapat KPK dan Kementerian Keuangan", "--to", "en,zh")
    assert found.returncode == 0, found.stderr
    assert "Kementerian Keuangan [Kementerian Keuangan] -> en: Ministry of Finance; zh: 财政部" in found.stdout
    assert "KPK" in found.stdout
    out = tmp_path / "g.csv"
    assert run("glossary", "export", str(out)).returncode == 0
    assert out.read_text(encoding="utf-8").startswith("source,aliases,en,zh,ja,ar,fr")
    bad = tmp_path / "bad.yaml"
    bad.write_text("terms: [", encoding="utf-8")
    assert_clean_error(run("glossary", "lookup", "x", env={"LINTAS_GLOSSARY": str(bad)}), 2, "not valid YAML")


def test_qe_bench_backtranslation_table() -> None:
    result = run("qe-bench", "--data", str(MINI), "--to", "fr", "--backtranslate", "2", "--engine", "fake")
    assert result.returncode == 0, result.stderr
    assert "Back-translation check (fr -> id" in result.stdout
    assert re.search(r"\| clean \| 2 \| \d+\.\d \| \d \(\d+%\) \|", result.stdout), result.stdout


def test_serve_and_worker_end_to_end(tmp_path: Path) -> None:
    """`lintas serve` takes an article over HTTP, `lintas worker --once` translates it, the API serves it."""
    import time
    import urllib.request

    env = {**os.environ, "LINTAS_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}", "LINTAS_MEMORY": "off"}
    created = run("keys", "create", "e2e", "--role", "ingest", env=env)
    assert created.returncode == 0, created.stderr
    auth = {"Authorization": f"Bearer {created.stdout.strip()}"}
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "lintas", "serve", "--engine", "fake", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                with urllib.request.urlopen(base + "/readyz", timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.1)
        body = FIXTURES.joinpath("article.json").read_bytes()
        request = urllib.request.Request(
            base + "/v1/articles/kanye-west-ye?targets=en,ar",
            data=body,
            method="PUT",
            headers={"content-type": "application/json", **auth},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 201
        worker = run("worker", "--engine", "fake", "--once", env=env)
        assert worker.returncode == 0, worker.stderr
        assert "2 jobs processed" in worker.stderr
        page_request = urllib.request.Request(base + "/v1/articles/kanye-west-ye/editions/ar.html", headers=auth)
        with urllib.request.urlopen(page_request, timeout=10) as response:
            page = response.read().decode("utf-8")
        assert 'lang="ar"' in page and 'dir="rtl"' in page
        status_request = urllib.request.Request(base + "/v1/articles/kanye-west-ye", headers=auth)
        with urllib.request.urlopen(status_request, timeout=10) as response:
            data = json.loads(response.read())
        assert {lang: e["job_state"] for lang, e in data["editions"].items()} == {"en": "done", "ar": "done"}
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_keys_commands(tmp_path: Path) -> None:
    db = ["--db", f"sqlite:///{tmp_path / 'keys.sqlite'}"]
    assert "no API keys" in run("keys", "list", *db).stdout
    created = run("keys", "create", "cms", "--role", "editor", "--rate", "120", *db)
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert re.fullmatch(r"lintas_[0-9a-f]{16}_[A-Za-z0-9_-]{43}", token)
    assert "cannot be shown again" in created.stderr
    key_id = token.split("_")[1]
    listed = run("keys", "list", *db).stdout
    assert key_id in listed and "editor" in listed and "120/min" in listed and "active" in listed
    assert token.split("_", 2)[2] not in listed
    revoked = run("keys", "revoke", key_id, *db)
    assert revoked.returncode == 0 and "revoked" in revoked.stdout
    assert "revoked 20" in run("keys", "list", *db).stdout
    assert_clean_error(run("keys", "revoke", "0123456789abcdef", *db), 2, "no API key with id")
    assert_clean_error(run("keys", "create", " ", "--role", "read", *db), 2, "name must be")
    assert_clean_error(run("keys", "list", "--db", "nosuchdriver://x"), 2, "cannot open the database")
    bad_role = run("keys", "create", "x", "--role", "root", *db)
    assert bad_role.returncode == 2 and "Traceback" not in bad_role.stderr and "'root' is not one of" in bad_role.stderr
    bad_rate = run("keys", "create", "x", "--role", "read", "--rate", "0", *db)
    assert bad_rate.returncode == 2 and "Traceback" not in bad_rate.stderr


def test_loadtest_runs_against_its_own_server() -> None:
    result = run("loadtest", "--ingests", "5", "--reads", "20", "--concurrency", "4")
    assert result.returncode == 0, result.stderr
    assert re.search(r"\| ingest \(PUT\) \| 5 \| 4 \| 0 \|", result.stdout), result.stdout
    for phase in ("read status", "read page", "read feed"):  # what the API reads, and what readers read
        assert re.search(rf"\| {phase} \(GET [^)]+\) \| 20 \| 4 \| 0 \|", result.stdout), result.stdout


def test_shared_options_are_declared_once() -> None:
    """Every ``--engine`` of a command that takes one engine is the same option (one help text, LINTAS_ENGINE), and
    every ``--to`` of target languages defaults to all of them (but eval's, which scores two)."""

    def commands(group: click.Group, path: str = "") -> list[tuple[str, click.Command]]:
        found: list[tuple[str, click.Command]] = []
        for name, command in group.commands.items():
            found += (
                commands(command, f"{path}{name} ") if isinstance(command, click.Group) else [(path + name, command)]
            )
        return found

    engines, targets = {}, {}
    for name, command in commands(cli):
        for param in command.params:
            if isinstance(param, click.Option) and param.name == "engine_name":
                engines[name] = (param.help, param.show_default)
            if isinstance(param, click.Option) and param.name == "targets":
                targets[name] = param.default
    assert set(engines) == {"translate", "eval", "qe-bench", "serve", "worker", "backfill"}
    assert set(engines.values()) == {(ENGINE_HELP, "LINTAS_ENGINE, else llamacpp")}
    assert DEFAULT_TARGETS == ",".join(TARGETS) == "en,zh,ja,ar,fr"
    assert set(targets) == {"translate", "eval", "qe-bench", "watch", "glossary lookup", "backfill"}
    assert set(targets.values()) == {DEFAULT_TARGETS}
