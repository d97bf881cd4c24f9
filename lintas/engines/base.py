"""The engine protocol: a batch of segments (with document context) in, translations out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from lintas.text.article import Segment

__all__ = ["Engine", "EngineWrapper", "Scored"]


class Scored(str):
    """A translation with the engine's own view of it: token log-probabilities of the decoded output.

    Engines that can (``gives_logprobs = True``: llama.cpp in process) return these instead of plain
    strings; everything that treats the output as text keeps working, and the quality estimate
    (:mod:`lintas.quality.estimate`) reads the scores.  ``logprob_mean`` is the mean natural-log
    probability of the chosen tokens, ``logprob_min`` the lowest, ``entropy_mean`` the mean entropy
    of the next-token distributions (nats); ``tokens`` how many were scored.
    """

    logprob_mean: float
    logprob_min: float
    entropy_mean: float
    tokens: int

    def __new__(cls, text: str, logprob_mean: float, logprob_min: float, entropy_mean: float, tokens: int) -> Scored:
        obj = super().__new__(cls, text)
        obj.logprob_mean, obj.logprob_min, obj.entropy_mean, obj.tokens = (
            logprob_mean,
            logprob_min,
            entropy_mean,
            tokens,
        )
        return obj


@runtime_checkable
class Engine(Protocol):
    """What every engine implements.

    ``translate_batch`` receives segments of one document in reading order, plus ``context``:
    the (segment, translation) pairs that precede them in the document. An engine may use both
    as context (LLM engines do) or ignore them (sentence MT engines); it returns one
    translation per segment, in order.
    ``attempt`` > 0 asks for a retry of segments whose first translation failed a check: an
    engine should change something (a stricter prompt, less context, other decoding).
    """

    @property
    def name(self) -> str: ...  # read-only: a wrapper's are its inner engine's
    @property
    def model(self) -> str: ...

    # glossary_mode: "prompt" | "placeholder" (optional attribute; "prompt" when absent)
    # gives_logprobs: True when translate_batch returns :class:`Scored` strings (optional; False when absent)

    def translate_batch(
        self,
        segments: Sequence[Segment],
        source_lang: str,
        target_lang: str,
        *,
        context: Sequence[tuple[Segment, str]] = (),
        attempt: int = 0,
    ) -> list[str]: ...


class EngineWrapper:
    """Base of an engine that wraps another (``inner``): its ``name``, ``model`` and every attribute the wrapper does
    not have itself (``glossary_mode``, ``prompt_version``, ``uses_context``...) are the inner engine's. Subclasses set
    ``self.inner`` and implement ``translate_batch``."""

    inner: Engine

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def model(self) -> str:
        return self.inner.model

    def __getattr__(self, attribute: str) -> Any:
        # only called for attributes the wrapper lacks; "inner" itself missing (mid-construction) must not recurse
        if attribute == "inner":
            raise AttributeError(attribute)
        return getattr(self.inner, attribute)
