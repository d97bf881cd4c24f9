"""The typed settings (lintas.settings): parsed once per environment, a bad value is one clear error naming its
variable, secrets stay out of reprs, and the README's settings table is the generated one."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from lintas import settings
from lintas.errors import InputError

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
START, END = "<!-- settings-table:start -->\n", "<!-- settings-table:end -->"


def readme_table(text: str) -> str:
    """The text between the README's settings-table markers."""
    assert text.count(START) == 1 and text.count(END) == 1, "the README needs one pair of settings-table markers"
    return text.split(START, 1)[1].split(END, 1)[0]


def table_differences(text: str) -> list[str]:
    """Rows of the generated table missing from the README's, and rows of the README's that it does not generate."""
    ours = settings.markdown_table().splitlines()
    theirs = readme_table(text).splitlines()
    return [f"missing: {row}" for row in ours if row not in theirs] + [
        f"not generated: {row}" for row in theirs if row not in ours
    ]


def test_readme_settings_table_is_the_generated_one() -> None:
    text = README.read_text(encoding="utf-8")
    assert table_differences(text) == [], "run: python -m lintas.settings, and paste it between the markers"
    assert readme_table(text) == settings.markdown_table()  # the same rows in the same order


def test_the_table_check_fails_on_an_edited_copy(tmp_path: Path) -> None:
    """Control: a README whose table differs by one default, one row or the order fails the check."""
    text = README.read_text(encoding="utf-8")
    edited = text.replace("| `LINTAS_N_CTX` | `4096` |", "| `LINTAS_N_CTX` | `2048` |")
    assert edited != text
    copy = tmp_path / "README.md"
    copy.write_text(edited, encoding="utf-8")
    assert table_differences(copy.read_text(encoding="utf-8")) == [
        "missing: | `LINTAS_N_CTX` | `4096` | llama.cpp context window, in tokens |",
        "not generated: | `LINTAS_N_CTX` | `2048` | llama.cpp context window, in tokens |",
    ]
    rows = readme_table(text).splitlines(keepends=True)
    dropped = text.replace(rows[-1], "")
    assert table_differences(dropped) == [f"missing: {rows[-1].rstrip()}"]
    swapped = text.replace(rows[2] + rows[3], rows[3] + rows[2])
    assert table_differences(swapped) == [] and readme_table(swapped) != settings.markdown_table()


def test_every_setting_is_in_the_table_once() -> None:
    rows = settings.markdown_table().splitlines()[2:]
    assert [row.split(" | ", 1)[0] for row in rows] == [
        f"| `{settings.env_name(n)}`" for n in settings.Settings.model_fields
    ]


def test_module_prints_the_table() -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path])}
    out = subprocess.run(
        [sys.executable, "-m", "lintas.settings"], capture_output=True, text=True, env=env, check=True, timeout=60
    )
    assert out.stdout == settings.markdown_table()


def test_defaults_are_typed(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.upper().startswith(settings.ENV_PREFIX):
            monkeypatch.delenv(name)
    current = settings.current()
    assert current.n_ctx == 4096 and current.openai_timeout == 120.0 and current.threads is None
    assert current.names is True and current.ct2_tune_malloc is True and current.cookie_secure is False
    assert current.pivot == "en" and current.ct2_models == () and current.new_password is None


def test_values_are_parsed_once_and_again_when_the_environment_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINTAS_N_CTX", "2048")
    first = settings.current()
    assert first.n_ctx == 2048 and settings.current() is first  # cached while LINTAS_* is the same
    monkeypatch.setenv("LINTAS_N_CTX", "1024")
    assert settings.current().n_ctx == 1024
    monkeypatch.setenv("LINTAS_CT2_MODELS", " opus-id-en, nllb ,,opus-id-en")
    monkeypatch.setenv("LINTAS_NAMES", "off")
    monkeypatch.setenv("LINTAS_CT2_TUNE_MALLOC", "0")
    monkeypatch.setenv("LINTAS_COOKIE_SECURE", "yes")
    monkeypatch.setenv("LINTAS_BACKTRANSLATE_MIN_CHRF", "40.5")
    current = settings.current()
    assert current.ct2_models == ("opus-id-en", "nllb")
    assert current.names is False and current.ct2_tune_malloc is False and current.cookie_secure is True
    assert current.backtranslate_min_chrf == 40.5


def test_empty_means_the_default_except_for_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINTAS_N_CTX", "")
    monkeypatch.setenv("LINTAS_NAMES", " ")
    monkeypatch.setenv("LINTAS_PIVOT", "")
    monkeypatch.setenv("LINTAS_NEW_PASSWORD", "")
    current = settings.current()
    assert current.n_ctx == 4096 and current.names is True
    assert current.pivot == "" and current.new_password is None


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("LINTAS_N_CTX", "abc", r"LINTAS_N_CTX='abc': Input should be a valid integer"),
        ("LINTAS_N_CTX", "0", r"LINTAS_N_CTX='0': Input should be greater than or equal to 1"),
        ("LINTAS_OPENAI_TIMEOUT", "soon", r"LINTAS_OPENAI_TIMEOUT='soon': Input should be a valid number"),
        ("LINTAS_NAMES", "maybe", r"LINTAS_NAMES='maybe': Input should be a valid boolean"),
        ("LINTAS_CT2_DEVICE", "tpu", r"LINTAS_CT2_DEVICE='tpu': Input should be 'cpu', 'cuda' or 'auto'"),
        ("LINTAS_WEBHOOK_TOLERANCE", "86401", r"LINTAS_WEBHOOK_TOLERANCE='86401' is not 1 to 86400 seconds"),
        ("LINTAS_SESSION_HOURS", "inf", r"LINTAS_SESSION_HOURS='inf' is not a positive number of hours"),
    ],
)
def test_a_bad_value_is_one_error_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(InputError, match=message) as caught:
        settings.current()
    assert caught.value.__cause__ is None and "\n" not in str(caught.value)


def test_a_bad_value_stops_the_command_with_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "LINTAS_N_CTX": "abc", "LINTAS_DATA_DIR": str(tmp_path)}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *sys.path])
    article = ROOT / "lintas" / "data" / "example" / "article.html"
    out = subprocess.run(
        [sys.executable, "-m", "lintas", "translate", str(article), "--engine", "fake", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert out.returncode == 2, out.stderr
    assert out.stderr.strip().splitlines() == [
        "error: LINTAS_N_CTX='abc': Input should be a valid integer, unable to parse string as an integer"
    ]


def test_secrets_stay_out_of_reprs(monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = {
        "LINTAS_OPENAI_API_KEY": "sk-very-secret",
        "LINTAS_WEBHOOK_SECRET": "cms-hmac-secret",
        "LINTAS_WEBHOOK_SIGNING_SECRET": "outbound-hmac-secret",
        "LINTAS_NEW_PASSWORD": "a long passphrase",
        "LINTAS_DATABASE_URL": "postgresql+psycopg://lintas:db-password@db/lintas",
        "LINTAS_MEMORY": "postgresql+psycopg://lintas:tm-password@db/memory",
    }
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    current = settings.current()
    shown = repr(current) + str(current)
    for word in ("sk-very-secret", "cms-hmac-secret", "outbound-hmac-secret", "passphrase", "password@"):
        assert word not in shown
    assert current.openai_api_key.get_secret_value() == "sk-very-secret"  # the value itself is there to use
    assert current.database_url.endswith("db-password@db/lintas")


def test_environment_is_the_lintas_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINTAS_PIVOT", "fr")
    monkeypatch.setenv("NOT_LINTAS_PIVOT", "x")
    env = settings.environment()
    assert env["LINTAS_PIVOT"] == "fr" and "NOT_LINTAS_PIVOT" not in env
    assert all(name.upper().startswith("LINTAS_") for name in env)


def test_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LINTAS_DATA_DIR", str(tmp_path / "data"))
    assert settings.data_dir() == tmp_path / "data"
    monkeypatch.delenv("LINTAS_DATA_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert settings.data_dir() == tmp_path / "xdg" / "lintas"


_READS = ("os.environ.get(", "os.getenv(", "environ.items()", "os.environ[")
_WRITES = ("putenv(", "environ.setdefault(", "environ.update(", "environ.pop(", "del os.environ")


def test_nothing_outside_the_registry_reads_or_writes_lintas_variables() -> None:
    """Every ``LINTAS_*`` variable is read through lintas.settings, and no module writes ``os.environ``."""
    offenders = []
    for path in sorted((ROOT / "lintas").rglob("*.py")):
        if path.name == "settings.py" and path.parent.name == "lintas":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            reads_lintas = "LINTAS_" in code and any(r in code for r in _READS)
            if reads_lintas or any(w in code for w in _WRITES) or re.search(r"os\.environ\[[^]]*\]\s*=[^=]", code):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []
