"""The ``ctranslate2`` engine: seq2seq MT models (OPUS-MT/Marian, NLLB-200, M2M-100, MADLAD-400) on CTranslate2.

Models come from the local registry (:mod:`lintas.engines.ct2_models`, ``lintas models add``); each is loaded once
per process, whichever engine instance asks for it (the worker's and the desk's share it). Text is split with the
model's own sentencepiece model, languages are told the way the model's family expects, and a pair no model covers
goes through English when two registered models make the way (``id-en`` then ``en-fr``).

Sentence MT needs no document context, so :meth:`CTranslate2Engine.translate_requests` takes many requests (several
articles, several target languages) and sends each model **one** ``translate_batch`` call for all of them: this is
what :class:`lintas.pipeline.batching.Batcher` uses to keep the engine busy. CTranslate2 then sorts the examples by length
and splits them into batches of ``max_batch_size``.

Inline markup does not survive MT models, so segments go in as plain text (links are put back by the pipeline's
repairs, see :func:`lintas.pipeline.translate.translate_article`); glossary terms come as placeholders
(``glossary_mode = "placeholder"``).
"""

from __future__ import annotations

import ctypes
import functools
import html
import os
import sys
import threading
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lintas import settings
from lintas.engines.base import Capabilities
from lintas.engines.ct2_models import CODES, RegisteredModel, load_registry, route
from lintas.errors import EngineError, ModelError
from lintas.text.article import Segment
from lintas.text.inline import from_tagged, plain_text

__all__ = ["CTranslate2Engine", "Request", "loaded_models"]

Request = tuple[Sequence[Segment], str, str, int]  # segments, source language, target language, attempt

_LOCK = threading.Lock()
_TRANSLATORS: dict[tuple[str, str, str, int, int], Any] = {}
_TOKENIZERS: dict[str, Any] = {}


def loaded_models() -> list[str]:
    """Model directories loaded in this process (each once)."""
    return sorted({key[0] for key in _TRANSLATORS})


@functools.cache  # once per process
def _tune_allocator() -> None:
    """Keep large buffers in glibc's heap instead of fresh ``mmap`` pages.

    CTranslate2 allocates and frees its decoding buffers at every step; above glibc's mmap threshold each one is a
    new mapping the kernel must zero. Measured here (random OPUS-MT-size model, 48 sentences, beam 4, 256 tokens,
    32 sentences a batch): 97.9 s, 104 s of it in the kernel, against 44.6 s with the threshold raised. Linux with
    glibc only; ``LINTAS_CT2_TUNE_MALLOC=0`` leaves the allocator alone. Freed memory then stays with the process
    for reuse (its peak resident memory is what it keeps)."""
    if not settings.current().ct2_tune_malloc or not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 1 << 30)  # M_MMAP_THRESHOLD: 1 GiB
        libc.mallopt(-1, 1 << 31)  # M_TRIM_THRESHOLD: 2 GiB
    except (OSError, AttributeError):  # not glibc (musl, ...): nothing to tune
        pass


def _translator(path: str, device: str, compute_type: str, inter: int, intra: int) -> Any:
    key = (path, device, compute_type, inter, intra)
    with _LOCK:
        if key not in _TRANSLATORS:
            _tune_allocator()
            try:
                import ctranslate2
            except ImportError:
                raise ModelError("the ctranslate2 engine needs: pip install 'lintas[ctranslate2]'") from None
            try:
                _TRANSLATORS[key] = ctranslate2.Translator(
                    path, device=device, compute_type=compute_type, inter_threads=inter, intra_threads=intra
                )
            except (RuntimeError, ValueError) as exc:
                raise ModelError(f"cannot load the CTranslate2 model in {path}: {exc}") from None
        return _TRANSLATORS[key]


def _tokenizer(path: Path) -> Any:
    with _LOCK:
        if str(path) not in _TOKENIZERS:
            import sentencepiece as spm

            try:
                _TOKENIZERS[str(path)] = spm.SentencePieceProcessor(model_file=str(path))
            except (OSError, RuntimeError) as exc:
                raise ModelError(f"cannot load the sentencepiece model {path}: {exc}") from None
        return _TOKENIZERS[str(path)]


@dataclass
class _Item:
    request: int
    index: int
    text: str
    hops: list[Any]
    step: int = 0


def _plain(tagged: str) -> str:
    """The segment without its inline tags (MT models garble them)."""
    return " ".join(plain_text(from_tagged(tagged, []).runs).split())


class CTranslate2Engine:
    """Translate with registered CTranslate2 models (see the module docs).

    ``models``: registered names (default ``LINTAS_CT2_MODELS``, else every registered model), or
    ``registered``: :class:`RegisteredModel` objects (tests, ``lintas bench``). Decoding: ``beam_size``,
    ``max_batch_size`` (examples per batch), ``max_decoding_length``; ``min_decoding_length`` is for benchmarks
    that need a fixed output length.
    """

    name = "ctranslate2"
    capabilities = Capabilities(
        batching="merged", uses_context=False, glossary_mode="placeholder", routes_languages=True, prompt_version="mt1"
    )

    def __init__(
        self,
        models: str | Sequence[str] | None = None,
        *,
        registered: Sequence[RegisteredModel] | None = None,
        device: str | None = None,
        compute_type: str | None = None,
        inter_threads: int | None = None,
        intra_threads: int | None = None,
        beam_size: int | None = None,
        max_batch_size: int | None = None,
        max_decoding_length: int | None = None,
        min_decoding_length: int = 0,
    ) -> None:
        if registered is None:
            available = load_registry()
            wanted = models if models is not None else settings.current().ct2_models
            names = [n.strip() for n in (wanted.split(",") if isinstance(wanted, str) else wanted) if n.strip()]
            if names:
                unknown = sorted(set(names) - {m.name for m in available})
                if unknown:
                    raise ModelError(
                        f"no CTranslate2 model registered as {', '.join(unknown)} (see: lintas models list)"
                    )
                registered = [m for m in available if m.name in names]
            else:
                registered = available
        if not registered:
            raise ModelError(
                "no CTranslate2 model is registered: convert one and run lintas models add DIR (docs/engines.md)"
            )
        self.models = list(registered)
        self.model = "+".join(m.name for m in self.models)
        configured = settings.current()
        self.device = device or configured.ct2_device
        self.compute_type = compute_type or configured.ct2_compute_type
        self.inter_threads = inter_threads or configured.ct2_inter_threads
        intra = intra_threads if intra_threads is not None else configured.ct2_intra_threads
        self.intra_threads = intra or max(1, (os.cpu_count() or 1) // self.inter_threads)
        self.beam_size = beam_size or configured.ct2_beam_size
        self.max_batch_size = max_batch_size or configured.ct2_max_batch_size
        self.max_decoding_length = max_decoding_length or configured.ct2_max_decoding_length
        self.min_decoding_length = min_decoding_length
        self.generated_tokens = 0  # for lintas bench

    def load(self, source: str = "id", targets: Sequence[str] = ("en",)) -> None:
        """Load every model the pairs need now (else on first use)."""
        for target in targets:
            for hop in route(self.models, source, target):
                self._translator(hop.model)

    def _translator(self, model: RegisteredModel) -> Any:
        return _translator(model.path, self.device, self.compute_type, self.inter_threads, self.intra_threads)

    def translate_batch(
        self,
        segments: Sequence[Segment],
        source_lang: str,
        target_lang: str,
        *,
        context: Sequence[tuple[Segment, str]] = (),
        attempt: int = 0,
    ) -> list[str]:
        return self.translate_requests([(segments, source_lang, target_lang, attempt)])[0]

    def translate_requests(self, requests: Sequence[Request]) -> list[list[str]]:
        """Many requests (any languages, any attempts) at once: one ``translate_batch`` per model and hop."""
        outputs: list[list[str]] = [[""] * len(segments) for segments, _s, _t, _a in requests]
        items: list[_Item] = []
        for r, (segments, source, target, _attempt) in enumerate(requests):
            hops = route(self.models, source, target)
            items += [_Item(r, i, _plain(seg.text), hops) for i, seg in enumerate(segments)]
        while items:
            groups: dict[tuple[str, bool], list[_Item]] = defaultdict(list)
            for item in items:
                groups[(item.hops[item.step].model.name, requests[item.request][3] > 0)].append(item)
            for (_name, retry), group in groups.items():
                texts = self._run(group, retry)
                for item, text in zip(group, texts, strict=True):
                    item.text = text
                    item.step += 1
            for item in items:
                if item.step == len(item.hops):
                    outputs[item.request][item.index] = html.escape(item.text, quote=False)
            items = [item for item in items if item.step < len(item.hops)]
        return outputs

    def _run(self, items: list[_Item], retry: bool) -> list[str]:
        model = items[0].hops[items[0].step].model
        source_sp, target_sp = (_tokenizer(p) for p in model.tokenizer_paths())
        codes = CODES[model.family]
        several_targets = model.family == "opus-mt" and len(model.targets()) > 1
        sources: list[list[str]] = []
        prefixes: list[list[str]] | None = [] if model.family in ("nllb", "m2m100") else None
        for item in items:
            hop = item.hops[item.step]
            pieces = [*source_sp.encode(item.text, out_type=str), "</s>"]
            if model.family in ("nllb", "m2m100"):
                pieces = [codes[hop.source], *pieces]
                prefixes.append([codes[hop.target]])  # type: ignore[union-attr]
            elif model.family == "madlad" or several_targets:
                pieces = [codes[hop.target], *pieces]
            sources.append(pieces)
        options: dict[str, Any] = {
            "beam_size": max(self.beam_size, 4) if retry else self.beam_size,
            "max_batch_size": self.max_batch_size,
            "max_decoding_length": self.max_decoding_length,
            "min_decoding_length": self.min_decoding_length,
            "max_input_length": 512,
        }
        if retry:
            options.update(repetition_penalty=1.2, no_repeat_ngram_size=3)
        try:
            results = self._translator(model).translate_batch(sources, target_prefix=prefixes, **options)
        except (RuntimeError, ValueError) as exc:
            raise EngineError(f"CTranslate2 model {model.name} failed: {exc}") from None
        texts = []
        skip = 1 if prefixes is not None else 0
        for result in results:
            tokens = result.hypotheses[0][skip:]
            self.generated_tokens += len(tokens)
            texts.append(target_sp.decode([t for t in tokens if t not in ("</s>", "<pad>", "<s>")]))
        return texts
