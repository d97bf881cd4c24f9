"""The openai engine: against a scripted OpenAI-compatible server on loopback (requests, concurrency, retries,
errors), and against llama-cpp-python's real OpenAI-compatible server on the embedded model (marked ``model``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from lintas.engines import get_engine, prompts
from lintas.engines.openai import OpenAIEngine
from lintas.errors import EngineError
from lintas.measure.loadtest import free_port
from lintas.pipeline.translate import translate_article
from lintas.text.article import Article, Block, Segment


class Scripted:
    """An OpenAI-compatible server: answers ``statuses`` in turn (then 200), echoing the user turn reversed."""

    def __init__(self, delay: float = 0.0) -> None:
        self.statuses: list[int] = []
        self.requests: list[dict[str, Any]] = []
        self.in_flight = self.most_in_flight = 0
        self.delay = delay
        lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
                body = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                self._answer(200, {"object": "list", "data": [{"id": "scripted-7b"}]})

            def do_POST(self) -> None:
                request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with lock:
                    outer.requests.append({"body": request, "auth": self.headers.get("Authorization")})
                    status = outer.statuses.pop(0) if outer.statuses else 200
                    outer.in_flight += 1
                    outer.most_in_flight = max(outer.most_in_flight, outer.in_flight)
                time.sleep(outer.delay)
                with lock:
                    outer.in_flight -= 1
                if status != 200:
                    self._answer(status, {"error": {"message": "busy"}}, {"Retry-After": "0"})
                    return
                text = request["messages"][-1]["content"]
                choice = {"index": 0, "message": {"role": "assistant", "content": f" [{text[::-1]}] "}}
                self._answer(200, {"choices": [choice], "usage": {"completion_tokens": 3}})

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def scripted() -> Iterator[Scripted]:
    server = Scripted()
    try:
        yield server
    finally:
        server.close()


def segments(n: int) -> list[Segment]:
    return [Segment(id=f"s{i}", text=f"Kalimat nomor {i}.") for i in range(n)]


def test_requests_carry_the_prompt_the_model_and_the_key(scripted: Scripted) -> None:
    engine = OpenAIEngine(scripted.url, api_key="sk-test", backoff=0)
    assert engine.model == "scripted-7b"  # the first model the server lists
    headline = Segment(id="h", text="Presiden tiba", kind="headline")
    out = engine.translate_batch([headline], "id", "en")
    assert out == [f"[{prompts.user_turn(headline)[::-1]}]"]  # the answer, stripped
    request = scripted.requests[0]
    assert request["auth"] == "Bearer sk-test"
    body = request["body"]
    assert body["model"] == "scripted-7b" and body["temperature"] == 0.0
    assert body["messages"][0]["role"] == "system" and "English" in body["messages"][0]["content"]
    assert (
        body["messages"][-1] == {"role": "user", "content": "Presiden tiba"}
        or "Presiden tiba" in body["messages"][-1]["content"]
    )
    assert engine.generated_tokens == 3
    engine.close()


def test_a_batch_goes_out_concurrently_within_the_limit() -> None:
    server = Scripted(delay=0.2)
    try:
        engine = OpenAIEngine(server.url, model="m", concurrency=3, backoff=0)
        started = time.perf_counter()
        out = engine.translate_batch(segments(9), "id", "fr")
        elapsed = time.perf_counter() - started
        assert [
            o.strip("[]")[::-1] in r["body"]["messages"][-1]["content"]
            for o, r in zip(out, server.requests, strict=True)
        ]
        assert len(out) == 9 and out[4].startswith("[") and "4" in out[4]  # in order
        assert server.most_in_flight == 3
        assert elapsed < 9 * 0.2 * 0.6  # about 3 rounds of 0.2 s, not 9
        engine.close()
    finally:
        server.close()


def test_busy_answers_are_retried_and_client_errors_are_not(scripted: Scripted) -> None:
    engine = OpenAIEngine(scripted.url, model="m", backoff=0, max_retries=3)
    scripted.statuses = [503, 429, 502]
    assert engine.translate_batch(segments(1), "id", "en") == [f"[{prompts.user_turn(segments(1)[0])[::-1]}]"]
    assert len(scripted.requests) == 4
    scripted.statuses = [503] * 4
    with pytest.raises(EngineError, match="failed after 4 attempts"):
        engine.translate_batch(segments(1), "id", "en")
    scripted.statuses = [401]
    before = len(scripted.requests)
    with pytest.raises(EngineError, match=r"refused the request .*HTTP 401"):
        engine.translate_batch(segments(1), "id", "en")
    assert len(scripted.requests) == before + 1  # not retried


def test_an_unreachable_server_is_an_engine_error() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(EngineError, match="ConnectError"):
        OpenAIEngine(url, backoff=0, max_retries=1)  # listing the models fails
    engine = OpenAIEngine(url, model="m", backoff=0, max_retries=0)
    with pytest.raises(EngineError, match="failed after 1 attempts"):
        engine.translate_batch(segments(1), "id", "en")
    with pytest.raises(EngineError, match="http"):
        OpenAIEngine("ftp://example.com/v1", model="m")


def test_get_engine_reads_the_settings(scripted: Scripted, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINTAS_OPENAI_BASE_URL", scripted.url)
    monkeypatch.setenv("LINTAS_OPENAI_API_KEY", "sk-env")
    monkeypatch.setenv("LINTAS_OPENAI_CONCURRENCY", "2")
    engine = get_engine("openai")
    assert isinstance(engine, OpenAIEngine) and engine.concurrency == 2 and engine.model == "scripted-7b"
    engine.translate_batch(segments(1), "id", "en")
    assert scripted.requests[-1]["auth"] == "Bearer sk-env"


# --- the real thing: llama-cpp-python's OpenAI-compatible server on the embedded model -------------------------


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if os.environ.get("LINTAS_SKIP_MODEL_TESTS") == "1":
        pytest.skip("LINTAS_SKIP_MODEL_TESTS=1")
    from lintas.engines.modelstore import resolve_model_path

    port = free_port()
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(resolve_model_path(None))]
    command += ["--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096", "--model_alias", "embedded"]
    log_path = tmp_path_factory.mktemp("llama-server") / "server.log"
    with log_path.open("wb") as log:  # a file, not a pipe: llama.cpp logs enough to fill a pipe and block
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, log_path.read_text(errors="replace")[-2000:]
            assert time.monotonic() < deadline, "llama-cpp-python's server did not start in 120 s"
            try:
                if httpx.get(url + "/models", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.model
def test_the_pipeline_on_llama_cpp_server(llama_server: str) -> None:
    engine = OpenAIEngine(llama_server, concurrency=2)
    assert engine.model == "embedded"
    article = Article(
        id="a1",
        headline="Presiden tiba di Jakarta",
        body=[
            Block(
                type="paragraph",
                html="Presiden <a href='https://example.com'>Joko Widodo</a> tiba di Jakarta pada hari Senin. "
                "Dia bertemu 12 menteri.",
            )
        ],
    )
    (report,) = translate_article(article, ["en"], engine, pivot="")
    edition = report.edition
    text = " ".join([edition.headline, *(b.html for b in edition.body)])
    assert "Jakarta" in text and "Monday" in text and "12" in text
    assert 'href="https://example.com"' in edition.body[0].html  # the link survived the HTTP engine
    assert edition.engine == "openai" and edition.model == "embedded"
    assert engine.generated_tokens > 0
    engine.close()
