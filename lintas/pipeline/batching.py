"""Keeping the engine busy: many articles and languages in flight, few engine calls.

:func:`translate_many` runs :func:`lintas.pipeline.translate.translate_article` for many articles at once, each in its own
thread, through one :class:`Batcher` wrapped around the engine. What the batcher does depends on the engine:

* an engine that declares ``Capabilities(batching="merged")`` and has ``translate_requests`` (sentence MT such as :class:`lintas.engines.ct2.CTranslate2Engine`, which
  needs no document context) gets the segments of every waiting thread -- paragraphs of several articles, several
  target languages, first passes and retries -- in one call of at most ``max_segments`` segments (more calls
  when more are queued), as soon as every busy thread is waiting for the engine;
* an engine with ``batching="concurrent"`` (an HTTP server such as the ``openai`` engine, which bounds its own
  requests in flight) is called from all threads at once;
* any other engine (llama.cpp in this process) is called by one thread at a time.

Threads that use the batcher must say so with ``with batcher.task():`` so it knows how many may still send work;
:func:`translate_many` and ``lintas worker --threads`` do. A call outside a task is sent at once.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field

from lintas import settings
from lintas.engines.base import Engine, EngineWrapper, capabilities
from lintas.pipeline.translate import EditionReport, Options, ProgressFn, translate_article
from lintas.text.article import Article, Segment

__all__ = ["Batcher", "ArticleResult", "translate_many"]


@dataclass
class _Call:
    segments: Sequence[Segment]
    source_lang: str
    target_lang: str
    attempt: int
    done: bool = False
    outputs: list[str] = field(default_factory=list)
    error: BaseException | None = None


_MODES = {"merged": "merge", "concurrent": "concurrent", "sequential": "serial"}


class Batcher(EngineWrapper):
    """``engine`` (``inner``) shared by many threads (see the module docs); an :class:`~lintas.engines.base.Engine` itself.

    ``calls`` and ``segments`` count the engine calls made and the segments they carried.
    """

    def __init__(self, engine: Engine, max_segments: int | None = None) -> None:
        self.inner = engine
        self.max_segments = max_segments or settings.current().batch_segments
        self.mode = _MODES[capabilities(engine).batching]
        self.calls = 0
        self.segments = 0
        self._cond = threading.Condition()
        self._serial = threading.Lock()
        self._active = 0  # threads inside task()
        self._expected = 0  # tasks submitted (expect()) that have not started yet
        self._waiting = 0  # calls not answered yet (queued or in flight)
        self._pending: list[_Call] = []
        self._busy = False  # a merged call is running

    def expect(self) -> None:
        """A task was handed to a thread that has not started it: the first batch waits for it too."""
        with self._cond:
            self._expected += 1

    @contextmanager
    def task(self, expected: bool = False) -> Iterator[None]:
        """Mark the calling thread as one that may send work until the block ends (``expected``: the task was
        announced with :meth:`expect`)."""
        with self._cond:
            self._active += 1
            if expected:
                self._expected -= 1
        try:
            yield
        finally:
            with self._cond:
                self._active -= 1
                self._cond.notify_all()  # the others may be all that is left: their batch is complete

    def translate_batch(
        self,
        segments: Sequence[Segment],
        source_lang: str,
        target_lang: str,
        *,
        context: Sequence[tuple[Segment, str]] = (),
        attempt: int = 0,
    ) -> list[str]:
        if not segments:
            return []
        if self.mode != "merge":
            with self._serial if self.mode == "serial" else nullcontext():
                self._count(len(segments))
                return self.inner.translate_batch(segments, source_lang, target_lang, context=context, attempt=attempt)
        call = _Call(segments, source_lang, target_lang, attempt)
        with self._cond:
            self._pending.append(call)
            self._waiting += 1
            while not call.done:
                if not self._busy and self._pending and self._ready():
                    self._dispatch()
                else:
                    self._cond.wait()
        if call.error is not None:
            raise call.error
        return call.outputs

    def _count(self, segments: int) -> None:
        self.calls += 1
        self.segments += segments

    def _ready(self) -> bool:
        # every busy thread waits for the engine: the batch is as large as it gets, and the engine never competes
        # with the checks for the CPU (larger batches leave in several calls of at most max_segments)
        return self._waiting >= self._active + self._expected

    def _dispatch(self) -> None:
        """Send every queued call, in engine calls of at most ``max_segments`` segments; the lock is released
        meanwhile (calls queued in the meantime wait for the next round)."""
        batch, self._pending = self._pending, []
        self._busy = True
        self._cond.release()
        try:
            chunk: list[_Call] = []
            for call in batch:
                if chunk and sum(len(c.segments) for c in chunk) + len(call.segments) > self.max_segments:
                    self._run(chunk)
                    chunk = []
                chunk.append(call)
            self._run(chunk)
        finally:
            self._cond.acquire()
            self._busy = False
            for call in batch:
                call.done = True
            self._waiting -= len(batch)
            self._cond.notify_all()

    def _run(self, batch: list[_Call]) -> None:
        run: Callable[[Sequence[tuple[Sequence[Segment], str, str, int]]], list[list[str]]]
        run = self.inner.translate_requests  # type: ignore[attr-defined]
        self._count(sum(len(c.segments) for c in batch))
        try:
            outputs = run([(c.segments, c.source_lang, c.target_lang, c.attempt) for c in batch])
        except Exception as exc:
            if len(batch) == 1:
                batch[0].error = exc
                return
            # one bad request (an unroutable language, say) must not fail the others: each on its own
            for call in batch:
                try:
                    (call.outputs,) = run([(call.segments, call.source_lang, call.target_lang, call.attempt)])
                except Exception as exc:
                    call.error = exc
            return
        for call, out in zip(batch, outputs, strict=True):
            call.outputs = out


@dataclass
class ArticleResult:
    article: Article
    reports: list[EditionReport]
    error: BaseException | None = None


def translate_many(
    articles: Iterable[Article],
    targets: Sequence[str] | Callable[[Article], Sequence[str]],
    engine: Engine,
    *,
    threads: int = 16,
    options: Options | None = None,
    pivot: str | None = None,
    max_attempts: int | None = None,
    progress: ProgressFn | None = None,
) -> Iterator[ArticleResult]:
    """Translate ``articles`` into ``targets``, ``threads`` articles at a time through one :class:`Batcher`;
    results come as each article is done (not in input order). An article that fails yields its error and the
    others go on. ``articles`` is read lazily, so a large archive need not fit in memory. ``targets`` may be a
    function giving each article its own languages."""
    batcher = engine if isinstance(engine, Batcher) else Batcher(engine)

    def one(article: Article) -> ArticleResult:
        try:
            reports = translate_article(
                article,
                targets(article) if callable(targets) else targets,
                batcher,
                pivot=pivot,
                options=options,
                max_attempts=max_attempts,
                progress=progress,
            )
        except Exception as exc:
            return ArticleResult(article, [], exc)
        return ArticleResult(article, reports)

    if batcher.mode == "serial":  # one prompt at a time anyway: no threads
        for article in articles:
            yield one(article)
        return

    # ``threads`` long-lived workers each take the next article until there is none. Each stays inside one
    # batcher task the whole time, so a batch never leaves early because a worker is between two articles; and
    # all are announced (expect) before any starts, so the first batch waits for every worker's first article.
    source = iter(articles)
    lock = threading.Lock()
    results: queue.Queue[ArticleResult | BaseException | None] = queue.Queue()

    def work() -> None:
        try:
            with batcher.task(expected=True):
                while True:
                    with lock:
                        article = next(source, None)
                    if article is None:
                        break
                    results.put(one(article))
        except BaseException as exc:  # the article source failed: the caller gets it
            results.put(exc)
        finally:
            results.put(None)

    count = max(1, threads)
    for _ in range(count):
        batcher.expect()
    workers = [threading.Thread(target=work, name=f"lintas-article-{i}", daemon=True) for i in range(count)]
    for worker in workers:
        worker.start()
    finished = 0
    while finished < count:
        item = results.get()
        if item is None:
            finished += 1
        elif isinstance(item, BaseException):
            raise item
        else:
            yield item
