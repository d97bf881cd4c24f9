"""An engine made on first use: loading a model takes a while, and a process that never translates never should."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["LazyEngine", "close_engine"]

E = TypeVar("E")
X = TypeVar("X")


def close_engine(engine: object) -> None:
    """Call the engine's ``close()`` when it has one (an HTTP engine's connection pool)."""
    close = getattr(engine, "close", None)
    if callable(close):
        close()


class LazyEngine(Generic[E, X]):
    """An engine and what goes with it (the pipeline options...), made by ``factory`` on the first :meth:`get`,
    under a lock (threads share one engine, loaded once), then kept until :meth:`close`.

    A factory that raises leaves nothing behind: the next :meth:`get` tries again.
    """

    def __init__(self, factory: Callable[[], tuple[E, X]]) -> None:
        self._factory = factory
        self._made: tuple[E, X] | None = None
        self._lock = threading.Lock()

    @property
    def engine(self) -> E | None:
        """The engine when it has been made, else None (nothing is made)."""
        made = self._made
        return None if made is None else made[0]

    def get(self) -> tuple[E, X]:
        with self._lock:
            if self._made is None:
                self._made = self._factory()
            return self._made

    def close(self) -> None:
        """Close the engine (when it was made); a later :meth:`get` makes a new one."""
        with self._lock:
            made, self._made = self._made, None
        if made is not None:
            close_engine(made[0])
