"""The package's face: ``lintas.__all__`` names the public API, imported lazily; the README's snippet runs."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import lintas
from lintas.engines import get_engine
from lintas.errors import InputError, LintasError
from lintas.ingest import read_article
from lintas.pipeline.translate import EditionReport, Options, translate_article
from lintas.text.article import Article, Edition

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"

EXPECTED = {
    "translate_article": translate_article,
    "read_article": read_article,
    "get_engine": get_engine,
    "Article": Article,
    "Edition": Edition,
    "EditionReport": EditionReport,
    "Options": Options,
    "LintasError": LintasError,
    "InputError": InputError,
}


def test_every_public_name_resolves_to_its_object() -> None:
    assert set(lintas.__all__) == {"__version__", *EXPECTED}
    for name, expected in EXPECTED.items():
        assert getattr(lintas, name) is expected, name
    namespace: dict[str, object] = {}
    exec("from lintas import *", namespace)
    assert {name: namespace[name] for name in EXPECTED} == EXPECTED
    assert set(EXPECTED) <= set(dir(lintas))


def test_version_is_written_once_and_matches_the_project() -> None:
    from lintas import version

    assert lintas.__version__ == version.__version__ == "0.1.0"
    project = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    declared = re.search(r'^version = "([^"]+)"', project, re.MULTILINE)
    assert declared is not None and declared.group(1) == lintas.__version__
    source = Path(version.__file__).read_text(encoding="utf-8")
    body = [line for line in source.split('"""', 2)[2].splitlines() if line.strip()]
    assert body == ['__version__ = "0.1.0"']  # the version alone: importing it imports nothing else


def test_unknown_attribute_raises_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_thing"):
        _ = lintas.no_such_thing
    assert not hasattr(lintas, "_PRIVATE")
    with pytest.raises(ImportError):
        exec("from lintas import no_such_thing", {})


def _modules_after(code: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", f"import json, sys\n{code}\nprint(json.dumps(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    loaded: list[str] = json.loads(result.stdout.strip().splitlines()[-1])
    return loaded


def test_import_lintas_loads_nothing_of_the_pipeline() -> None:
    loaded = [m for m in _modules_after("import lintas; lintas.__version__") if m.split(".")[0] == "lintas"]
    assert sorted(loaded) == ["lintas", "lintas.version"]


def test_a_public_name_loads_its_module_on_first_use() -> None:
    loaded = _modules_after("import lintas; lintas.LintasError")
    assert "lintas.errors" in loaded
    assert "lintas.pipeline.translate" not in loaded
    loaded = _modules_after("from lintas import translate_article")
    assert "lintas.pipeline.translate" in loaded


def _readme_python() -> str:
    match = re.search(r"## Use it from Python\n.*?```python\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)
    assert match is not None, "README.md has no 'Use it from Python' section with a python block"
    return match.group(1)


def test_the_readme_snippet_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("LINTAS_DATA_DIR", str(tmp_path / "data"))
    namespace: dict[str, object] = {"__name__": "readme"}
    exec(compile(_readme_python(), str(README), "exec"), namespace)
    reports = namespace["reports"]
    assert isinstance(reports, list) and [r.edition.target_lang for r in reports] == ["en", "fr"]
    assert all(isinstance(r.edition, Edition) for r in reports)
