"""An engine for any OpenAI-compatible chat endpoint: vLLM, llama.cpp's server, Ollama, hosted APIs.

The prompts are the llamacpp engine's (:mod:`lintas.engines.prompts`: news-translator system prompt, few-shot
turns, glossary constraints), sent as ``POST {base_url}/chat/completions`` with httpx. Segments of a batch are
independent (no document history, as the llamacpp engine's default), so they go out concurrently, at most
``concurrency`` at a time; a server that batches (vLLM) keeps its GPU busy. Timeouts, connection errors, 429 and
5xx answers are retried with exponential backoff (``Retry-After`` honoured); other 4xx answers fail at once.

Settings: ``LINTAS_OPENAI_BASE_URL`` (default ``http://127.0.0.1:8080/v1``), ``LINTAS_OPENAI_MODEL`` (default: the
first model the server lists), ``LINTAS_OPENAI_API_KEY`` (else ``OPENAI_API_KEY``; sent as a bearer token),
``LINTAS_OPENAI_CONCURRENCY`` (4), ``LINTAS_OPENAI_TIMEOUT`` (120 s).
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from lintas import settings
from lintas.engines import prompts
from lintas.engines.base import Capabilities
from lintas.errors import EngineError
from lintas.text.article import Segment
from lintas.version import __version__

__all__ = ["OpenAIEngine"]

_RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
_MAX_BACKOFF = 30.0


class OpenAIEngine:
    """Translate through an OpenAI-compatible ``/chat/completions`` endpoint."""

    name = "openai"
    # lintas.pipeline.batching calls it from many threads; _slots bounds the requests in flight
    capabilities = Capabilities(batching="concurrent", glossary_mode="prompt", prompt_version=prompts.PROMPT_VERSION)

    def __init__(
        self,
        base_url: str | None = None,
        model: str | None = None,
        api_key: str | None = None,
        *,
        concurrency: int | None = None,
        timeout: float | None = None,
        max_retries: int = 4,
        backoff: float = 0.5,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = (base_url or settings.current().openai_base_url).rstrip("/")
        if not self.base_url.startswith(("http://", "https://")):
            raise EngineError(f"the OpenAI-compatible endpoint must be an http(s) URL, not {self.base_url!r}")
        configured = settings.current()
        key = (
            api_key
            if api_key is not None
            else configured.openai_api_key.get_secret_value() or os.environ.get("OPENAI_API_KEY")
        )
        self.concurrency = max(1, concurrency or configured.openai_concurrency)
        self.max_retries, self.backoff = max(0, max_retries), backoff
        headers = {"User-Agent": f"Lintas/{__version__}"} | ({"Authorization": f"Bearer {key}"} if key else {})
        seconds = timeout or configured.openai_timeout
        self.client = httpx.Client(
            base_url=self.base_url,
            headers=headers,
            timeout=httpx.Timeout(seconds, connect=min(10.0, seconds)),
            limits=httpx.Limits(max_connections=self.concurrency, max_keepalive_connections=self.concurrency),
            transport=transport,
        )
        self.model = model or configured.openai_model or self._first_model()
        self.generated_tokens = 0
        self._slots = threading.BoundedSemaphore(self.concurrency)  # shared by every thread and batch

    # -- protocol -------------------------------------------------------------------------
    def translate_batch(
        self,
        segments: Sequence[Segment],
        source_lang: str,
        target_lang: str,
        *,
        context: Sequence[tuple[Segment, str]] = (),
        attempt: int = 0,
    ) -> list[str]:
        head = [{"role": "system", "content": prompts.system_prompt(target_lang, attempt > 0, source_lang)}]
        head += prompts.few_shot(target_lang, source_lang)
        requests = [
            [*head, *prompts.example_turns(seg), {"role": "user", "content": prompts.user_turn(seg)}]
            for seg in segments
        ]
        if len(requests) <= 1 or self.concurrency == 1:
            return [self._complete(messages, attempt) for messages in requests]
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(requests))) as pool:
            return list(pool.map(lambda messages: self._complete(messages, attempt), requests))

    def close(self) -> None:
        self.client.close()

    # -- internals ------------------------------------------------------------------------
    def _first_model(self) -> str:
        data = self._request("GET", "/models")
        models = [m.get("id") for m in data.get("data", []) if isinstance(m, dict) and m.get("id")]
        if not models:
            raise EngineError(f"{self.base_url}/models lists no model: set LINTAS_OPENAI_MODEL")
        return str(models[0])

    def _complete(self, messages: list[dict[str, str]], attempt: int) -> str:
        """Greedy decoding; from the second retry on, seeded sampling (as the llamacpp engine)."""
        body: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "temperature": 0.4 if attempt >= 2 else 0.0,
            "top_p": 0.9 if attempt >= 2 else 1.0,
            "seed": attempt,
            "max_tokens": 1024,
        }
        with self._slots:
            data = self._request("POST", "/chat/completions", body)
        try:
            content = data["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise EngineError(f"{self.base_url}: an answer without choices[0].message.content") from None
        self.generated_tokens += int((data.get("usage") or {}).get("completion_tokens") or 0)
        return str(content or "").strip()

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """One call, retried on timeouts, connection errors, 429 and 5xx; the JSON answer."""
        for retry in range(self.max_retries + 1):
            wait = self.backoff * 2**retry * (1 + random.random() / 4)
            try:
                response = self.client.request(method, path, json=body)
            except httpx.TransportError as exc:
                error = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code < 300:
                    try:
                        data = response.json()
                    except ValueError:
                        raise EngineError(f"{self.base_url}{path}: the answer is not JSON") from None
                    if not isinstance(data, dict):
                        raise EngineError(f"{self.base_url}{path}: the answer is not a JSON object")
                    return data
                error = f"HTTP {response.status_code}: {response.text[:300]}"
                if response.status_code not in _RETRY_STATUS:
                    raise EngineError(f"{self.base_url}{path} refused the request ({error})")
                wait = max(wait, _retry_after(response))
            if retry < self.max_retries:
                time.sleep(min(_MAX_BACKOFF, wait))
        raise EngineError(f"{self.base_url}{path} failed after {self.max_retries + 1} attempts ({error})")


def _retry_after(response: httpx.Response) -> float:
    try:
        return max(0.0, float(response.headers.get("Retry-After", "0")))
    except ValueError:
        return 0.0
