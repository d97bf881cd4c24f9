"""lintas.pipeline.batching: many articles and languages through few engine calls, and the same editions as one by one."""

from __future__ import annotations

import html
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from lintas.engines.base import Capabilities, capabilities
from lintas.engines.fake import FakeEngine
from lintas.measure.evaluate import load_documents
from lintas.pipeline.batching import Batcher, translate_many
from lintas.pipeline.translate import translate_article
from lintas.text.article import Article, Block, Segment

MINI = Path(__file__).parent / "fixtures" / "ntrex-mini"
TARGETS = ["en", "fr", "zh"]


class MergingFake(FakeEngine):
    """The fake engine with translate_requests (as the ctranslate2 engine): records each merged call."""

    capabilities = Capabilities(batching="merged", uses_context=False, glossary_mode="placeholder")

    def __init__(self, refuse: str = "", **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.merged: list[list[tuple[str, int]]] = []  # per call: (target, segments) of each request
        self.refuse = refuse
        self.lock = threading.Lock()

    def translate_requests(self, requests: Sequence[tuple[Sequence[Segment], str, str, int]]) -> list[list[str]]:
        with self.lock:
            self.merged.append([(target, len(segments)) for segments, _s, target, _a in requests])
        if any(target == self.refuse for _seg, _s, target, _a in requests):
            raise RuntimeError(f"no model for {self.refuse}")
        time.sleep(0.01)  # an engine call takes time: the other threads queue behind it
        return [self.translate_batch(segments, s, t, attempt=a) for segments, s, t, a in requests]


def _articles(n: int = 6) -> list[Article]:
    """``n`` small articles (a headline and two sentences each) cut from the dev fixture's sentences."""
    lines = [line for doc in load_documents(MINI, ["en"]) for line in doc.source]
    assert len(lines) >= 3 * n
    return [
        Article(
            id=f"a{i}",
            headline=lines[3 * i],
            body=[Block(type="paragraph", html=html.escape(" ".join(lines[3 * i + 1 : 3 * i + 3])))],
        )
        for i in range(n)
    ]


def _texts(reports: list) -> list[list[str]]:
    return [[s.target for s in r.edition.segments] for r in reports]


def test_many_articles_and_languages_share_engine_calls() -> None:
    articles = _articles()
    assert len(articles) >= 4
    engine = MergingFake()
    results = list(translate_many(articles, TARGETS, engine, threads=len(articles), pivot=""))
    assert [r.error for r in results] == [None] * len(articles)
    requests = sum(len(call) for call in engine.merged)
    assert requests >= len(articles) * len(TARGETS)  # every article, every language, first passes at least
    assert len(engine.merged) <= requests / 3  # ...in far fewer engine calls
    assert len(engine.merged[0]) == len(articles)  # the first call waited for every thread's first article
    mixed = MergingFake()
    half = {a.id: (["en"] if i % 2 else ["fr"]) for i, a in enumerate(articles)}
    list(translate_many(articles, lambda a: half[a.id], mixed, threads=len(articles), pivot=""))
    assert sorted(t for t, _n in mixed.merged[0]) == ["en", "en", "en", "fr", "fr", "fr"]  # one call, two languages
    # the same editions as translating each article on its own
    one_by_one = FakeEngine()
    by_id = {r.article.id: r for r in results}
    for article in articles:
        alone = translate_article(article, TARGETS, one_by_one, pivot="")
        assert _texts(by_id[article.id].reports) == _texts(alone)


def test_one_bad_request_fails_only_its_article() -> None:
    articles = _articles(4)
    engine = MergingFake(refuse="fr")
    good = list(translate_many(articles[:3], ["en"], engine, threads=4, pivot=""))
    assert all(r.error is None and r.reports for r in good)
    mixed = list(translate_many(articles[:2], ["en"], engine, threads=4, pivot="")) + list(
        translate_many(articles[2:3], ["fr"], engine, threads=4, pivot="")
    )
    assert [r.error is None for r in mixed] == [True, True, False]
    assert "no model for fr" in str(mixed[2].error)


def test_merge_failure_is_isolated_inside_one_batch() -> None:
    engine = MergingFake(refuse="fr")
    batcher = Batcher(engine)
    out: dict[str, object] = {}
    barrier = threading.Barrier(2)

    def send(target: str) -> None:
        with batcher.task():
            barrier.wait()
            try:
                out[target] = batcher.translate_batch([Segment("s", "Harga naik.")], "id", target)
            except RuntimeError as exc:
                out[target] = exc

    threads = [threading.Thread(target=send, args=(t,)) for t in ("en", "fr")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sorted(engine.merged[0]) == [("en", 1), ("fr", 1)]  # merged, failed, then sent one by one
    assert isinstance(out["fr"], RuntimeError)
    assert isinstance(out["en"], list) and len(out["en"]) == 1


class SlowEngine(FakeEngine):
    def __init__(self, concurrent: bool) -> None:
        super().__init__()
        self.capabilities = Capabilities(
            batching="concurrent" if concurrent else "sequential", glossary_mode="placeholder"
        )
        self.inside = 0
        self.peak = 0
        self.guard = threading.Lock()

    def translate_batch(self, segments, source_lang, target_lang, *, context=(), attempt=0):  # type: ignore[no-untyped-def]
        with self.guard:
            self.inside += 1
            self.peak = max(self.peak, self.inside)
        time.sleep(0.02)
        try:
            return super().translate_batch(segments, source_lang, target_lang, context=context, attempt=attempt)
        finally:
            with self.guard:
                self.inside -= 1


@pytest.mark.parametrize("concurrent", [False, True])
def test_http_engines_run_concurrently_and_local_ones_one_at_a_time(concurrent: bool) -> None:
    engine = SlowEngine(concurrent)
    results = list(translate_many(_articles(4), ["en"], engine, threads=4, pivot=""))
    assert all(r.error is None for r in results)
    if concurrent:
        assert engine.peak > 1
    else:
        assert engine.peak == 1


def test_calls_outside_a_task_go_straight_through() -> None:
    engine = MergingFake()
    batcher = Batcher(engine)
    assert batcher.translate_batch([Segment("s", "Harga naik.")], "id", "en") == engine.translate_batch(
        [Segment("s", "Harga naik.")], "id", "en"
    )
    assert batcher.calls == 1 and batcher.segments == 1
    assert batcher.name == "fake" and capabilities(batcher).glossary_mode == "placeholder"


def test_a_round_larger_than_max_segments_leaves_in_several_calls_at_once() -> None:
    engine = MergingFake()
    batcher = Batcher(engine, max_segments=3)
    barrier = threading.Barrier(3)
    done: list[int] = []

    def send(i: int) -> None:
        with batcher.task():
            barrier.wait()
            out = batcher.translate_batch([Segment(f"{i}a", "Harga naik."), Segment(f"{i}b", "Ya.")], "id", "en")
            done.append(len(out))

    threads = [threading.Thread(target=send, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert done == [2, 2, 2]
    assert [len(call) for call in engine.merged] == [1, 1, 1]  # 2 + 2 > 3: one request a call, all in one round
    assert batcher.calls == 3 and batcher.segments == 6
