"""Engines by name: the one resolver every caller uses (CLI, worker, backfill, service, desk, measurements).

An engine is named by

* a built-in name (:data:`ENGINES`: ``llamacpp``, ``fake``, ``openai``, ``ctranslate2``),
* a name registered by a plugin under the ``lintas.engines`` entry point group, or
* ``module:Class`` (any importable class, e.g. a test engine).

Modules are imported only when an engine is resolved: naming an engine costs nothing until it is used.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

from lintas.engines.base import Engine
from lintas.errors import InputError

__all__ = ["ENGINES", "ENTRY_POINT_GROUP", "engine_names", "engine_class", "get_engine"]

ENTRY_POINT_GROUP = "lintas.engines"

ENGINES: dict[str, str] = {
    "llamacpp": "lintas.engines.llamacpp:LlamaCppEngine",
    "fake": "lintas.engines.fake:FakeEngine",
    "openai": "lintas.engines.openai:OpenAIEngine",
    "ctranslate2": "lintas.engines.ct2:CTranslate2Engine",
}


def engine_names() -> list[str]:
    """The built-in engines' names and those registered by plugins, sorted."""
    names = set(ENGINES)
    names.update(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))
    return sorted(names)


def _target(name: str) -> str | None:
    """``module:Class`` of a registered name, or None."""
    return ENGINES.get(name) or next(
        (ep.value for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == name), None
    )


def engine_class(spec: str) -> Callable[..., Engine]:
    """The class of the engine ``spec`` (a registered name or ``module:Class``), imported but not instantiated: an
    unknown or unloadable engine is an :class:`~lintas.errors.InputError` now rather than on first use."""
    if ":" not in spec:
        target = _target(spec)
        if target is None:
            raise InputError(f"unknown engine {spec!r}: choose from {', '.join(engine_names())} or give module:Class")
        spec = target
    module_name, _, class_name = spec.partition(":")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise InputError(f"cannot load engine {spec!r}: {exc}") from None
    if not callable(cls):
        raise InputError(f"engine {spec!r} is not a class")
    return cls


def get_engine(spec: str, **options: Any) -> Engine:
    """An instance of the engine ``spec`` (a registered name or ``module:Class``); ``options`` go to its class."""
    return engine_class(spec)(**options)
