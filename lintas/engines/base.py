"""The engine protocol: a batch of segments (with document context) in, translations out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

from lintas.text.article import Segment

__all__ = [
    "Batching",
    "Capabilities",
    "DEFAULT_CAPABILITIES",
    "Engine",
    "EngineWrapper",
    "GlossaryMode",
    "Scored",
    "capabilities",
]

Batching = Literal["sequential", "concurrent", "merged"]
GlossaryMode = Literal["prompt", "placeholder"]


@dataclass(frozen=True)
class Capabilities:
    """What an engine declares about itself (its ``capabilities`` attribute), read by the pipeline, the batcher,
    the segment cache and the benchmarks instead of probing the engine's attributes.

    * ``batching``: how threads sharing the engine reach it (:class:`lintas.pipeline.batching.Batcher`):
      ``"sequential"`` (one call at a time, under a lock), ``"concurrent"`` (called from every thread at once: the
      engine bounds its own requests) or ``"merged"`` (the waiting threads' segments in one
      ``translate_requests(requests)`` call, which the engine must then have).
    * ``uses_context``: False for sentence MT, which ignores the document history: the pipeline sends each
      language's first pass in one request.
    * ``gives_logprobs``: ``translate_batch`` returns :class:`Scored` strings.
    * ``glossary_mode``: ``"prompt"`` (terms as constraints in the prompt) or ``"placeholder"`` (terms replaced
      by ``⟦1⟧`` placeholders, put back after translation).
    * ``routes_languages``: the engine picks its own route between languages (the pivot setting's default is not
      applied).
    * ``prompt_version``: part of the translation's signature (and the segment cache's key); None: the
      pipeline's current prompt version in the signature, nothing in the cache key.
    """

    batching: Batching = "sequential"
    uses_context: bool = True
    gives_logprobs: bool = False
    glossary_mode: GlossaryMode = "prompt"
    routes_languages: bool = False
    prompt_version: str | None = None


DEFAULT_CAPABILITIES = Capabilities()


class Scored(str):
    """A translation with the engine's own view of it: token log-probabilities of the decoded output.

    Engines that can (``Capabilities.gives_logprobs``: llama.cpp in process) return these instead of plain
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

    ``capabilities`` (a :class:`Capabilities`, optional: :func:`capabilities` gives the defaults to an engine
    that declares none) says how it batches, whether it uses context or gives log-probabilities, how it takes
    glossary terms, whether it routes languages itself and its prompt version.
    """

    @property
    def name(self) -> str: ...  # read-only: a wrapper's are its inner engine's
    @property
    def model(self) -> str: ...

    def translate_batch(
        self,
        segments: Sequence[Segment],
        source_lang: str,
        target_lang: str,
        *,
        context: Sequence[tuple[Segment, str]] = (),
        attempt: int = 0,
    ) -> list[str]: ...


def capabilities(engine: object) -> Capabilities:
    """The capabilities ``engine`` declares, or :data:`DEFAULT_CAPABILITIES` when it declares none (an engine of a
    plugin written before they existed)."""
    declared = getattr(engine, "capabilities", None)
    return declared if isinstance(declared, Capabilities) else DEFAULT_CAPABILITIES


class EngineWrapper:
    """Base of an engine that wraps another (``inner``): its ``name``, ``model``, ``capabilities`` and every attribute
    the wrapper does not have itself are the inner engine's. Subclasses set ``self.inner`` and implement
    ``translate_batch``."""

    inner: Engine

    @property
    def capabilities(self) -> Capabilities:
        return capabilities(self.inner)

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
