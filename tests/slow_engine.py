"""A slow fake engine for the worker's kill -9 test (``lintas worker --engine slow_engine:SlowFakeEngine``,
with tests/ on PYTHONPATH): the fake engine's output after a short random sleep per batch, so jobs are in flight
when a worker is killed."""

from __future__ import annotations

import random
import time
from collections.abc import Sequence

from lintas.engines.base import Segment
from lintas.engines.fake import FakeEngine


class SlowFakeEngine(FakeEngine):
    """:class:`FakeEngine` sleeping 0.05–0.15 s per batch (same name, model and output)."""

    def translate_batch(
        self,
        segments: Sequence[Segment],
        source_lang: str,
        target_lang: str,
        *,
        context: Sequence[tuple[Segment, str]] = (),
        attempt: int = 0,
    ) -> list[str]:
        time.sleep(random.uniform(0.05, 0.15))
        return super().translate_batch(segments, source_lang, target_lang, context=context, attempt=attempt)


class StuckFakeEngine(FakeEngine):
    """:class:`FakeEngine` that takes a minute per batch: a job that is still in hand when its worker is told to
    stop (``tests/test_hardening.py``)."""

    def translate_batch(
        self,
        segments: Sequence[Segment],
        source_lang: str,
        target_lang: str,
        *,
        context: Sequence[tuple[Segment, str]] = (),
        attempt: int = 0,
    ) -> list[str]:
        time.sleep(60)
        return super().translate_batch(segments, source_lang, target_lang, context=context, attempt=attempt)
