"""The engine registry (one resolver for every caller), the lazy engine holder and declared capabilities."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from importlib.metadata import EntryPoint

import pytest

from lintas.engines import (
    DEFAULT_CAPABILITIES,
    Capabilities,
    EngineWrapper,
    LazyEngine,
    capabilities,
    engine_class,
    engine_names,
    get_engine,
    registry,
)
from lintas.engines.fake import FakeEngine
from lintas.errors import InputError
from lintas.pipeline.batching import Batcher
from lintas.pipeline.translate import translate_article
from lintas.text.article import Article, Block, Segment


class Plain:
    """A third-party engine written before capabilities existed: it declares none."""

    name = "plain"
    model = "plain-1"

    def translate_batch(
        self,
        segments: Sequence[Segment],
        source_lang: str,
        target_lang: str,
        *,
        context: Sequence[tuple[Segment, str]] = (),
        attempt: int = 0,
    ) -> list[str]:
        return [f"[{target_lang}] {segment.text}" for segment in segments]


class Wrapped(EngineWrapper):
    def __init__(self, inner: object) -> None:
        self.inner = inner  # type: ignore[assignment]


# --- the registry ---------------------------------------------------------------------------------------------


def test_built_in_names_resolve_to_their_classes() -> None:
    assert {"llamacpp", "fake", "openai", "ctranslate2"} <= set(engine_names())
    assert engine_class("fake") is FakeEngine
    engine = get_engine("fake", faults=["chatter"])
    assert isinstance(engine, FakeEngine) and engine.faults == {"chatter"}


def test_module_class_resolves_any_importable_engine() -> None:
    assert engine_class("lintas.engines.fake:FakeEngine") is FakeEngine
    assert isinstance(get_engine(f"{__name__}:Plain"), Plain)


def test_plugin_entry_points_resolve(monkeypatch: pytest.MonkeyPatch) -> None:
    plugin = EntryPoint(name="plain-plugin", value=f"{__name__}:Plain", group=registry.ENTRY_POINT_GROUP)

    def entry_points(group: str) -> list[EntryPoint]:
        return [plugin] if group == registry.ENTRY_POINT_GROUP else []

    monkeypatch.setattr(registry, "entry_points", entry_points)
    assert "plain-plugin" in engine_names()
    assert isinstance(get_engine("plain-plugin"), Plain)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("nope", "unknown engine 'nope': choose from "),
        ("no_such_module_here:Engine", "cannot load engine 'no_such_module_here:Engine'"),
        ("lintas.engines.fake:NoSuchEngine", "cannot load engine"),
        ("lintas.engines.fake:__doc__", "is not a class"),
    ],
)
def test_unknown_or_unloadable_engines_are_input_errors(spec: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        engine_class(spec)
    with pytest.raises(InputError, match=message):
        get_engine(spec)


# --- the lazy holder ------------------------------------------------------------------------------------------


def test_lazy_engine_is_made_once_by_concurrent_callers_and_closed() -> None:
    made: list[int] = []
    closed: list[bool] = []

    class Closing(FakeEngine):
        def close(self) -> None:
            closed.append(True)

    def factory() -> tuple[Closing, str]:
        made.append(1)
        time.sleep(0.05)  # a model loading: the other threads wait for it
        return Closing(), "options"

    lazy: LazyEngine[Closing, str] = LazyEngine(factory)
    assert lazy.engine is None  # nothing made before the first use
    results: list[tuple[Closing, str]] = []
    threads = [threading.Thread(target=lambda: results.append(lazy.get())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(made) == 1 and len({id(engine) for engine, _ in results}) == 1
    assert results[0][1] == "options" and lazy.engine is results[0][0]
    lazy.close()
    assert closed == [True] and lazy.engine is None
    lazy.close()  # closing twice closes nothing twice
    assert closed == [True]
    assert lazy.get()[0] is not results[0][0] and len(made) == 2  # made again after close


def test_lazy_engine_keeps_nothing_when_the_factory_fails() -> None:
    attempts: list[int] = []

    def factory() -> tuple[FakeEngine, None]:
        attempts.append(1)
        if len(attempts) == 1:
            raise InputError("no model yet")
        return FakeEngine(), None

    lazy: LazyEngine[FakeEngine, None] = LazyEngine(factory)
    with pytest.raises(InputError, match="no model yet"):
        lazy.get()
    assert lazy.engine is None
    assert isinstance(lazy.get()[0], FakeEngine) and len(attempts) == 2
    lazy.close()  # an engine without close() is fine


# --- capabilities ---------------------------------------------------------------------------------------------


def test_every_engine_declares_its_capabilities() -> None:
    from lintas.engines.ct2 import CTranslate2Engine
    from lintas.engines.openai import OpenAIEngine

    assert FakeEngine.capabilities == Capabilities(glossary_mode="placeholder")
    assert OpenAIEngine.capabilities.batching == "concurrent"
    assert OpenAIEngine.capabilities.glossary_mode == "prompt"
    ct2 = CTranslate2Engine.capabilities
    assert (ct2.batching, ct2.uses_context, ct2.routes_languages) == ("merged", False, True)
    assert (ct2.glossary_mode, ct2.prompt_version) == ("placeholder", "mt1")


def test_an_engine_that_declares_none_gets_the_defaults() -> None:
    declared = capabilities(Plain())
    assert declared is DEFAULT_CAPABILITIES
    assert (declared.batching, declared.glossary_mode, declared.uses_context) == ("sequential", "prompt", True)
    assert (declared.gives_logprobs, declared.routes_languages, declared.prompt_version) == (False, False, None)
    assert Batcher(Plain()).mode == "serial"  # type: ignore[arg-type]
    article = Article(id="a", headline="Harga beras naik.", body=[Block(type="paragraph", html="Harga beras naik.")])
    assert translate_article(article, ["en"], Plain())[0].edition.engine == "plain"


def test_wrappers_pass_the_inner_engines_capabilities_through() -> None:
    merged = Capabilities(batching="merged", uses_context=False)
    inner = FakeEngine()
    inner.capabilities = merged  # type: ignore[misc]
    assert capabilities(Wrapped(inner)) is merged
    assert capabilities(Wrapped(Wrapped(inner))) is merged
    assert capabilities(Wrapped(Plain())) is DEFAULT_CAPABILITIES
    with pytest.raises(AttributeError):  # frozen: a capability is declared, not changed on the way
        merged.batching = "sequential"  # type: ignore[misc]


@pytest.mark.parametrize("lang", ["en", "zh", "ja", "ar", "fr"])
def test_llm_prompts_translate_back_into_indonesian(lang: str) -> None:
    """The back-translation check (LINTAS_BACKTRANSLATE) asks the LLM engines for Indonesian from each target."""
    from lintas.engines.prompts import few_shot, system_prompt

    prompt = system_prompt("id", source=lang)
    assert "into Indonesian" in prompt and "standard Indonesian" in prompt
    turns = few_shot("id", source=lang)
    assert turns[1] == {"role": "assistant", "content": "Pemerintah Naikkan Harga BBM Bersubsidi Mulai Sabtu"}
    assert turns[0]["content"].startswith("[Headline] ") and "Pemerintah" not in turns[0]["content"]
