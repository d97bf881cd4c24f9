"""The command line as users run it: a real subprocess, exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

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
        (["eval", "--data", "FIXTURES", "--engine", "fake"], 2, "evaluation data incomplete"),
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
