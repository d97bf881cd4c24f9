"""Engines by name, loaded lazily; third-party engines register under the ``lintas.engines`` entry point."""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import Any

from lintas.engines.base import Engine
from lintas.errors import InputError

__all__ = ["Engine", "ENGINES", "get_engine", "engine_names"]

ENGINES: dict[str, str] = {
    "llamacpp": "lintas.engines.llamacpp:LlamaCppEngine",
    "fake": "lintas.engines.fake:FakeEngine",
    "openai": "lintas.engines.openai:OpenAIEngine",
    "ctranslate2": "lintas.engines.ct2:CTranslate2Engine",
}


def engine_names() -> list[str]:
    names = set(ENGINES)
    names.update(ep.name for ep in entry_points(group="lintas.engines"))
    return sorted(names)


def get_engine(name: str, **options: Any) -> Engine:
    """Instantiate the engine registered as ``name`` (``module:Class``)."""
    target = ENGINES.get(name)
    if target is None:
        found = [ep for ep in entry_points(group="lintas.engines") if ep.name == name]
        if not found:
            raise InputError(f"unknown engine {name!r}: choose from {', '.join(engine_names())}")
        target = found[0].value
    module_name, _, class_name = target.partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    engine: Engine = cls(**options)
    return engine
