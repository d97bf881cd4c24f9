"""An engine wrapper that remembers first-attempt outputs in the store's segment cache.

:class:`CachedEngine` looks every segment of a first-attempt batch (``attempt == 0``) up in the segment cache
(:func:`lintas.store.repo.cache_get`), sends only the misses to the inner engine (in order, with the document
``context`` passed through) and stores their raw outputs. Retries (``attempt > 0``) always go to the inner engine
and are never cached, so a stricter prompt still gets its chance.

The key (:func:`lintas.store.repo.cache_key`) covers the segment text (with its glossary placeholders, if any),
its paragraph context, glossary constraints and examples from the translation memory, the source and target
language, the engine's name and model, and its prompt version. The preceding (segment, translation) pairs are *not* in the key: that is what makes a
changed article cheap (only the changed segments are translated again), at the price that an LLM engine shown
history turns (``LINTAS_HISTORY_TURNS``) may get a cached output produced after different history.

The cache holds raw engine outputs: the pipeline cleans, checks and repairs them again each time, so flags are
always computed by the current checks.
"""

from __future__ import annotations

from collections.abc import Sequence

from lintas.engines.base import Engine, EngineWrapper, capabilities
from lintas.store import repo
from lintas.store.db import Bind, transaction
from lintas.text.article import Segment

__all__ = ["CachedEngine"]


class CachedEngine(EngineWrapper):
    """``inner`` behind the segment cache in ``bind`` (an engine, connection or session of the store).

    ``hits`` and ``misses`` count first-attempt segments served from the cache and sent to the engine.
    """

    def __init__(self, inner: Engine, bind: Bind) -> None:
        self.inner = inner
        self.bind = bind
        self.hits = 0
        self.misses = 0

    def key(self, segment: Segment, source_lang: str, target_lang: str) -> str:
        """The segment's cache key for this engine and language pair."""
        terms = "|".join(f"{term}={required}" for term, required in segment.terms)
        context = f"{source_lang}>{target_lang}|{segment.kind}|{segment.context}|{terms}"
        if segment.examples:  # a key without examples stays as it was
            context += "|examples:" + "|".join(f"{source}={target}" for source, target in segment.examples)
        return repo.cache_key(
            source=segment.text,
            context=context,
            engine_name=self.inner.name,
            model=self.inner.model,
            signature=capabilities(self.inner).prompt_version or "",
            target_lang=target_lang,
        )

    def translate_batch(
        self,
        segments: Sequence[Segment],
        source_lang: str,
        target_lang: str,
        *,
        context: Sequence[tuple[Segment, str]] = (),
        attempt: int = 0,
    ) -> list[str]:
        if attempt > 0 or not segments:
            return self.inner.translate_batch(segments, source_lang, target_lang, context=context, attempt=attempt)
        keys = [self.key(segment, source_lang, target_lang) for segment in segments]
        outputs: list[str | None] = []
        with transaction(self.bind, write=False) as conn:
            for key in keys:
                found = repo.cache_get(conn, key)
                outputs.append(None if found is None else found[0])
        missing = [i for i, output in enumerate(outputs) if output is None]
        self.hits += len(segments) - len(missing)
        self.misses += len(missing)
        if missing:
            fresh = self.inner.translate_batch(
                [segments[i] for i in missing], source_lang, target_lang, context=context, attempt=0
            )
            if len(fresh) != len(missing):
                raise ValueError(
                    f"engine {self.inner.name!r} returned {len(fresh)} outputs for {len(missing)} segments"
                )
            with transaction(self.bind) as conn:
                for i, output in zip(missing, fresh, strict=True):
                    repo.cache_put(conn, keys[i], output)
                    outputs[i] = output
        return [output for output in outputs if output is not None]
