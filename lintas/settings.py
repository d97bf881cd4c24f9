"""Every setting declared once, typed: its environment variable (``LINTAS_`` and the field's name in capitals), its
type, its default and its help.

:func:`current` reads the environment into a :class:`Settings` once and keeps it while no ``LINTAS_*`` variable
changes; a value that does not parse is an :class:`~lintas.errors.InputError` naming the variable. Nothing else in
the package reads a ``LINTAS_*`` variable, and nothing writes one. The README's settings table is
:func:`markdown_table` (``python -m lintas.settings`` prints it; a test compares the two).

An empty value means the default for every setting that is not plain text (``LINTAS_N_CTX=`` is 4096); for text
settings an empty value is the value (``LINTAS_PIVOT=``: no pivot). Comma lists are split and stripped. The small
languages of a few settings (rate limits, ``LINTAS_HOLD``, ``LINTAS_HOLD_BELOW``, ``LINTAS_BACKTRANSLATE``) stay
text here and are parsed by the module that applies them, with the variable named in its error.
"""

from __future__ import annotations

import math
import os
import threading
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic.fields import FieldInfo
from pydantic.json_schema import JsonDict
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from lintas.errors import InputError

__all__ = ["ENV_PREFIX", "Settings", "current", "data_dir", "env_name", "environment", "markdown_table"]

ENV_PREFIX = "LINTAS_"

CommaList = Annotated[tuple[str, ...], NoDecode]  # "a, b,,c" -> ("a", "b", "c")


def _setting(default: Any, help: str, *, shown: str | None = None, **constraints: Any) -> Any:
    """A field: its default, its help, and ``shown``, the default as the README's table says it (when the value
    alone says nothing, e.g. an empty default)."""
    extra: JsonDict | None = {"shown": shown} if shown is not None else None
    return Field(default, description=help, json_schema_extra=extra, **constraints)


class Settings(BaseSettings):
    """The settings of one process (see :func:`current`)."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, extra="ignore")

    data_dir: Path | None = _setting(
        None,
        "models and caches",
        shown="`$XDG_DATA_HOME/lintas` or `~/.local/share/lintas`",
    )
    model_path: Path | None = _setting(
        None, "another GGUF for the llamacpp engine (skips the hash check)", shown="(embedded model)"
    )
    engine: str = _setting("llamacpp", "default engine (`llamacpp`, `openai`, `ctranslate2`, `fake`, or a plugin's)")
    openai_base_url: str = _setting("http://127.0.0.1:8080/v1", "endpoint of the `openai` engine (OpenAI-compatible)")
    openai_model: str = _setting("", "model name the `openai` engine sends", shown="(the server's first)")
    openai_api_key: SecretStr = _setting(SecretStr(""), "bearer token of the `openai` engine", shown="`OPENAI_API_KEY`")
    openai_concurrency: int = _setting(4, "requests the `openai` engine keeps in flight at once", ge=1)
    openai_timeout: float = _setting(120.0, "seconds the `openai` engine waits for one answer", gt=0)
    ct2_models: CommaList = _setting(
        (),
        "registered CTranslate2 models the `ctranslate2` engine uses (comma-separated)",
        shown="(all registered)",
    )
    ct2_device: Literal["cpu", "cuda", "auto"] = _setting(
        "cpu", "device of the `ctranslate2` engine: `cpu`, `cuda` or `auto`"
    )
    ct2_compute_type: str = _setting(
        "int8", "weight type of the `ctranslate2` engine (`int8`, `int8_float16`, `float16`...)"
    )
    ct2_inter_threads: int = _setting(1, "batches a CTranslate2 model runs in parallel", ge=1)
    ct2_intra_threads: int = _setting(0, "threads per CTranslate2 batch (`0`: cores / inter threads)", ge=0)
    ct2_beam_size: int = _setting(2, "beam size of the `ctranslate2` engine (retries use a beam of at least 4)", ge=1)
    ct2_max_batch_size: int = _setting(32, "sentences per CTranslate2 batch", ge=1)
    ct2_max_decoding_length: int = _setting(256, "most tokens the `ctranslate2` engine generates for a sentence", ge=1)
    ct2_tune_malloc: bool = _setting(
        True, "`0`: leave glibc's allocator alone (the `ctranslate2` engine raises its mmap threshold: docs/engines.md)"
    )
    batch_segments: int = _setting(
        256, "most segments one batched engine call carries (`worker --threads`, `backfill`, `bench`)", ge=1
    )
    threads: int | None = _setting(None, "llama.cpp threads (`0`: all cores)", shown="all cores", ge=0)
    n_ctx: int = _setting(4096, "llama.cpp context window, in tokens", ge=1)
    history_turns: int = _setting(
        0,
        "earlier segments an LLM engine sees as document context (4 lost in English and French on the tune half, "
        "at +12% time: docs/evaluation.md)",
        ge=0,
    )
    pivot: str = _setting(
        "en", "translate the other languages from this edition on the first pass (empty: straight from Indonesian)"
    )
    straight: CommaList = _setting(
        ("zh",),
        "languages translated straight from Indonesian on their first pass although `LINTAS_PIVOT` is set (chosen "
        "per language on the tune half: docs/evaluation.md; `none`: every language through the pivot)",
        shown="`zh`",
    )
    second_route: str = _setting(
        "off",
        "a segment translated through the pivot whose quality estimate is under this is translated again straight "
        "from Indonesian, and the better of the two kept (per language: `zh=0.5; ar=0.6`; `off`)",
    )
    max_attempts: int = _setting(3, "attempts per segment when a check finds a critical problem", ge=1)
    database_url: str = _setting(
        "",
        "database of `serve` and `worker` (SQLAlchemy URL, e.g. `postgresql+psycopg://user:pw@host/db`)",
        shown="`lintas.sqlite` in the data dir",
        repr=False,
    )
    glossary: str = _setting(
        "",
        "glossary files (`.yaml`/`.csv`, `:`-separated) on top of the starter glossary; `none`: no glossary",
        shown="(starter only)",
    )
    memory: str = _setting(
        "",
        "translation memory, an SQLAlchemy URL; `off`: none",
        shown="`memory.sqlite` in the data dir",
        repr=False,
    )
    memory_examples: int = _setting(
        0,
        "translations from the memory, the most like each segment, an LLM engine is shown before the segment as "
        "worked examples (docs/evaluation.md)",
        le=8,
        ge=0,
    )
    hold: str = _setting(
        "critical",
        "lowest unrepaired severity that holds an edition for an editor, per-language overrides: "
        "`critical; ar=warning`; `never`",
    )
    hold_below: str = _setting(
        "auto",
        "confidence under which an edition is held: `auto` (per language, chosen on the tune half and stored in "
        "`lintas/data/quality/estimate.json`), a number (`0.6`), overrides (`auto; ar=0.7`), or `off`",
    )
    names: bool = _setting(
        True,
        "the article's name table: each name resolved once per language (glossary, CLDR, the engine) and held to "
        "in every segment; `off`: none",
        shown="`on`",
    )
    names_latin: CommaList = _setting(
        ("zh", "ja"),
        "languages whose names neither the glossary nor CLDR knows stay in Latin letters instead of being asked of "
        "the engine (chosen on the tune half: docs/evaluation.md; `none`: ask the engine in every language)",
        shown="`zh,ja`",
    )
    backtranslate: str = _setting(
        "off", "back-translation check: `off`, `flagged`, `all` or a sampling rate such as `0.2`"
    )
    backtranslate_min_chrf: float = _setting(35.0, "back-translations below this chrF against the source get a warning")
    rate_limit: str = _setting("600/minute", "requests per API key (a key's `--rate` overrides it); `off`: none")
    public_rate_limit: str = _setting("1200/minute", "requests per client IP without a key; `off`: none")
    rate_limit_storage: str = _setting(
        "memory://", "rate-limit counters: per process, or shared, e.g. `redis://host:6379`"
    )
    cors_origins: CommaList = _setting(
        (), "comma-separated origins whose pages may call the API", shown="(none: no CORS)"
    )
    webhook_secret: SecretStr = _setting(
        SecretStr(""),
        "HMAC secret of `POST /v1/webhooks/cms` (docs/service.md#security)",
        shown="(none: webhook off)",
    )
    webhook_tolerance: int = _setting(300, "seconds (1 to 86400) a webhook's timestamp may be off the server's clock")
    public_url: str = _setting(
        "",
        "base URL of the public site in feeds, sitemap, canonical and hreflang links; unset: answers carry "
        "`Vary: Host` and `lintas serve` warns at start",
        shown="(the request's host)",
    )
    webhook_urls: CommaList = _setting(
        (), "comma-separated URLs the workers POST a signed `edition.ready` event to", shown="(none)"
    )
    webhook_signing_secret: SecretStr = _setting(
        SecretStr(""), "HMAC secret that signs those events (required with `LINTAS_WEBHOOK_URLS`)", shown="(none)"
    )
    session_hours: float = _setting(
        12.0, "hours an editors' desk sign-in lasts after its last use (at most 7 days in all)"
    )
    login_rate_limit: str = _setting(
        "10/minute",
        "failed desk sign-ins per username, from any address (a success counts nothing); `off`: none",
    )
    login_ip_rate_limit: str = _setting(
        "30/minute", "failed desk sign-ins per client IP, whatever the username; `off`: none"
    )
    trusted_proxies: CommaList = _setting(
        (),
        "comma-separated addresses of reverse proxies whose `X-Forwarded-For` `lintas serve` believes (not even "
        "loopback by default)",
        shown="(none)",
    )
    desk_engines: CommaList = _setting(
        (), "engines (comma-separated) editors may re-translate a segment or an edition with", shown="`LINTAS_ENGINE`"
    )
    cookie_secure: bool = _setting(
        False,
        "`1`: desk cookies are `Secure` over plain HTTP too, e.g. behind a TLS-terminating proxy",
        shown="(on https only)",
    )
    new_password: SecretStr | None = _setting(
        None, "the password of `lintas users add` / `passwd`, for scripts", shown="(asked for)"
    )
    debug: bool = _setting(False, "`1`: an unexpected error shows its traceback (exit code 70)")

    @field_validator("*", mode="before")
    @classmethod
    def _empty_is_default(cls, value: Any, info: ValidationInfo) -> Any:
        """An empty value is the default, except for text (where it is the value); comma lists are split."""
        field = cls.model_fields[info.field_name or ""]
        if isinstance(value, str) and field.annotation is not str:
            if not value.strip():
                return field.get_default(call_default_factory=True)
            if field.annotation == tuple[str, ...]:
                return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("webhook_tolerance", mode="before")
    @classmethod
    def _tolerance(cls, value: Any) -> Any:
        try:
            seconds = int(value) if len(str(value)) <= 12 else -1
        except ValueError:
            seconds = -1
        if not 1 <= seconds <= 86_400:  # a day: receipts are kept twice as long; a bigger number overflowed
            raise ValueError("is not 1 to 86400 seconds")
        return seconds

    @field_validator("session_hours", mode="after")
    @classmethod
    def _hours(cls, value: float) -> float:
        try:
            ok = math.isfinite(value) and timedelta(hours=value) > timedelta(0)
        except OverflowError:
            ok = False
        if not ok:
            raise ValueError("is not a positive number of hours")
        return value

    @field_validator("desk_engines", "ct2_models", mode="after")
    @classmethod
    def _unique(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(value))


def env_name(field: str) -> str:
    """The environment variable of a setting: ``n_ctx`` -> ``LINTAS_N_CTX``."""
    if field not in Settings.model_fields:
        raise KeyError(field)
    return ENV_PREFIX + field.upper()


def _error(exc: ValidationError) -> InputError:
    lines = []
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else ""
        name = env_name(field) if field in Settings.model_fields else field
        message = str(error["msg"]).removeprefix("Value error, ")
        lines.append(
            f"{name}={error['input']!r} {message}"
            if message.startswith("is ")
            else f"{name}={error['input']!r}: {message}"
        )
    return InputError("; ".join(lines))


_lock = threading.Lock()
_cached: tuple[tuple[tuple[str, str], ...], Settings] | None = None


def _snapshot() -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, v) for k, v in os.environ.items() if k.upper().startswith(ENV_PREFIX)))


def environment() -> dict[str, str]:
    """This process's ``LINTAS_*`` variables as they are set, to hand to processes elsewhere (backfill's replicas
    on other machines)."""
    return dict(_snapshot())


def current() -> Settings:
    """The settings of the environment, parsed once and read again only when a ``LINTAS_*`` variable changed;
    InputError (naming the variable) for a value that does not parse."""
    global _cached
    snapshot = _snapshot()
    cached = _cached
    if cached is not None and cached[0] == snapshot:
        return cached[1]
    with _lock:
        try:
            parsed = Settings()
        except ValidationError as exc:
            raise _error(exc) from None
        _cached = (snapshot, parsed)
    return parsed


def data_dir() -> Path:
    """``LINTAS_DATA_DIR``, else ``$XDG_DATA_HOME/lintas``, else ``~/.local/share/lintas``."""
    configured = current().data_dir
    if configured is not None:
        return configured.expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "lintas"


def _shown(field: FieldInfo) -> str:
    extra = field.json_schema_extra
    if isinstance(extra, dict) and isinstance(extra.get("shown"), str):
        return str(extra["shown"])
    default = field.get_default(call_default_factory=True)
    if isinstance(default, bool):
        return "`1`" if default else "`0`"
    if isinstance(default, float):
        return f"`{default:g}`"
    if default is None or default == "" or default == ():
        raise ValueError(f"{field.description!r}: an empty default needs shown=")
    return f"`{default}`"


def markdown_table() -> str:
    """The README's settings table: variable, default, meaning, one row per setting in declaration order."""
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for name, field in Settings.model_fields.items():
        rows.append(f"| `{env_name(name)}` | {_shown(field)} | {field.description} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(markdown_table(), end="")
