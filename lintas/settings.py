"""Every setting declared once: name, default, environment variable, help."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Setting", "SETTINGS", "get", "data_dir"]


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str

    @property
    def env(self) -> str:
        return "LINTAS_" + self.name.upper()


SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in (
        Setting(
            "data_dir", "", "Where models and caches live (default: $XDG_DATA_HOME/lintas or ~/.local/share/lintas)."
        ),
        Setting("model_path", "", "A GGUF file to use instead of the embedded model (skips the hash check)."),
        Setting("engine", "llamacpp", "Default translation engine."),
        Setting("threads", "", "CPU threads for the llamacpp engine (default: all cores)."),
        Setting("n_ctx", "4096", "Context window of the llamacpp engine, in tokens."),
        Setting(
            "history_turns",
            "0",
            "Previous segments an LLM engine sees as document context (0: none; see docs/evaluation.md).",
        ),
        Setting("openai_base_url", "http://127.0.0.1:8080/v1", "Endpoint of the openai engine (OpenAI-compatible)."),
        Setting("openai_model", "", "Model name for the openai engine (default: the first the server lists)."),
        Setting(
            "openai_api_key", "", "API key of the openai engine (default: OPENAI_API_KEY); sent as a bearer token."
        ),
        Setting("openai_concurrency", "4", "Requests the openai engine keeps in flight at once."),
        Setting("openai_timeout", "120", "Seconds the openai engine waits for one answer."),
        Setting(
            "ct2_models",
            "",
            "Registered CTranslate2 models the ctranslate2 engine uses (comma-separated; default: all).",
        ),
        Setting("ct2_device", "cpu", "Device of the ctranslate2 engine: cpu, cuda or auto."),
        Setting(
            "ct2_compute_type",
            "int8",
            "Weights' compute type in the ctranslate2 engine (int8, int8_float16, float16...).",
        ),
        Setting("ct2_inter_threads", "1", "Batches a CTranslate2 model runs in parallel."),
        Setting("ct2_intra_threads", "0", "Threads per CTranslate2 batch (0: cores / inter threads)."),
        Setting("ct2_beam_size", "2", "Beam size of the ctranslate2 engine (retries use at least 4)."),
        Setting("ct2_max_batch_size", "32", "Sentences per CTranslate2 batch."),
        Setting("ct2_max_decoding_length", "256", "Most tokens the ctranslate2 engine generates for one sentence."),
        Setting(
            "ct2_tune_malloc", "1", "0: leave glibc's allocator alone in the ctranslate2 engine (docs/engines.md)."
        ),
        Setting("batch_segments", "256", "Most segments lintas.pipeline.batching sends a batching engine in one call."),
        Setting("pivot", "en", "Translate the other languages from this edition on the first pass (empty: direct)."),
        Setting("max_attempts", "3", "Attempts per segment when a check finds a critical problem."),
        Setting(
            "glossary",
            "",
            "Glossary files (.yaml or .csv, separated by ':') applied on top of the starter glossary "
            "('none' alone: no glossary at all).",
        ),
        Setting(
            "memory",
            "",
            "Translation memory: an SQLAlchemy URL (default: memory.sqlite in the data directory; 'off': none).",
        ),
        Setting(
            "hold",
            "critical",
            "Hold policy: lowest unrepaired severity that holds an edition for an editor, "
            "with per-language overrides ('critical; ar=warning'; 'never').",
        ),
        Setting(
            "hold_below",
            "auto",
            "Confidence under which an edition is held for an editor: 'auto' (per language, chosen on the tune half: "
            "lintas/data/quality/estimate.json), a number ('0.6'), per-language overrides ('auto; ar=0.7'), or 'off'.",
        ),
        Setting(
            "names",
            "on",
            "Name table: resolve each proper name once per article and language and hold every segment to it "
            "('off': no table).",
        ),
        Setting("backtranslate", "off", "Back-translation check: off, flagged, all, or a sampling rate (0.2)."),
        Setting("backtranslate_min_chrf", "35", "Back-translations scoring below this chrF get a warning."),
        Setting(
            "public_url",
            "",
            "Base URL of the public site in feeds, sitemaps and hreflang links (default: the request's own).",
        ),
        Setting(
            "desk_engines",
            "",
            "Engines (comma-separated) editors may re-translate with in the desk (default: LINTAS_ENGINE).",
        ),
        Setting("webhook_urls", "", "URLs (comma-separated) the workers POST a signed edition.ready event to."),
        Setting("webhook_signing_secret", "", "HMAC secret that signs the outbound webhooks (see docs/service.md)."),
        Setting(
            "database_url",
            "",
            "Database (SQLAlchemy URL) of the service and workers; default: lintas.sqlite in the data directory",
        ),
        Setting("rate_limit", "600/minute", "Requests per API key (a key's own rate overrides it; 'off': none)."),
        Setting("public_rate_limit", "1200/minute", "Requests per client IP without an API key ('off': none)."),
        Setting(
            "rate_limit_storage",
            "memory://",
            "Where rate-limit counters live: memory:// (per process) or a 'limits' storage URL such as redis://host",
        ),
        Setting("cors_origins", "", "Origins (comma-separated) browsers may call the API from; empty: no CORS."),
        Setting("webhook_secret", "", "HMAC secret of POST /v1/webhooks/cms (empty: the webhook is off)."),
        Setting(
            "webhook_tolerance",
            "300",
            "Seconds (1 to 86400) a CMS webhook's timestamp may be off from the server's clock.",
        ),
        Setting("session_hours", "12", "Hours a desk sign-in lasts after its last use (and at most 7 days in all)."),
        Setting("login_rate_limit", "10/minute", "Failed desk sign-ins per username, from any address ('off': none)."),
        Setting(
            "login_ip_rate_limit", "30/minute", "Failed desk sign-ins per client IP, for any username ('off': none)."
        ),
        Setting(
            "trusted_proxies",
            "",
            "Addresses (comma-separated) of reverse proxies whose X-Forwarded-For lintas serve believes; empty: none.",
        ),
        Setting(
            "cookie_secure",
            "",
            "1: desk cookies are Secure over plain HTTP too (behind a TLS proxy); default: on https.",
        ),
    )
}


def get(name: str) -> str:
    setting = SETTINGS[name]
    return os.environ.get(setting.env, setting.default)


def data_dir() -> Path:
    configured = get("data_dir")
    if configured:
        return Path(configured).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "lintas"
