"""Translation engines: the protocol and declared capabilities (:mod:`lintas.engines.base`), the one resolver of
engine names (:mod:`lintas.engines.registry`: built-in names, the ``lintas.engines`` entry point group and
``module:Class``) and the lazy holder of an engine (:mod:`lintas.engines.lazy`)."""

from __future__ import annotations

from lintas.engines.base import DEFAULT_CAPABILITIES, Capabilities, Engine, EngineWrapper, capabilities
from lintas.engines.lazy import LazyEngine, close_engine
from lintas.engines.registry import ENGINES, engine_class, engine_names, get_engine

__all__ = [
    "Capabilities",
    "DEFAULT_CAPABILITIES",
    "ENGINES",
    "Engine",
    "EngineWrapper",
    "LazyEngine",
    "capabilities",
    "close_engine",
    "engine_class",
    "engine_names",
    "get_engine",
]
