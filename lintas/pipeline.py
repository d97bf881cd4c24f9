"""The pipeline: article -> units -> engine -> checks, retries, repairs -> one edition per language.

This is the one entry point the CLI (and later the service and the worker) call.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from . import settings
from .article import Article, Edition, Flag, SegmentAlignment
from .assemble import Translated, Unit, assemble_edition, split_article
from .engines.base import Engine, Segment
from .engines.prompts import PROMPT_VERSION, clean_output
from .inline import Run, from_tagged, to_tagged
from .languages import get_language
from .protect import missing_spans, repair_spans
from .quality import check_segment, is_critical

__all__ = ["translate_article", "EditionReport", "ProgressFn"]

ProgressFn = Callable[[str, int], None]  # (target language, segments done since last call)


@dataclass
class EditionReport:
    edition: Edition
    seconds: float
    segments: int
    retried: int
    flagged: int


@dataclass
class _Attempt:
    text: str
    runs: list[Run]
    flags: list[Flag]
    lost_links: list[str] = field(default_factory=list)  # link targets the output dropped
    lost_spans: list[str] = field(default_factory=list)  # spans still missing after repair

    @property
    def score(self) -> tuple[int, int]:
        return (sum(f.severity == "critical" and not f.repaired for f in self.flags), len(self.flags))


def _evaluate(unit: Unit, raw: str, target: str) -> _Attempt:
    """Clean, parse and check one raw engine output; repair what can be repaired safely."""
    flags: list[Flag] = []
    text, chatter = clean_output(raw, unit.segment.text)
    if chatter:
        flags.append(
            Flag(code="chatter", severity="info", message="removed text around the translation", repaired=True)
        )
    spans = missing_spans(unit.segment.text, text)
    if spans:
        text, still = repair_spans(text, spans)
        if len(still) < len(spans):
            fixed = [s.text for s in spans if s not in still]
            flags.append(
                Flag(code="span_repaired", severity="info", message="restored " + ", ".join(fixed), repaired=True)
            )
        spans = still
    parsed = from_tagged(text, unit.links, unit.marks)
    if parsed.unknown_links:
        flags.append(
            Flag(
                code="invented_link", severity="info", message="removed a link the source does not have", repaired=True
            )
        )
    flags += check_segment(
        unit.segment.text,
        text,
        target,
        lost_links=len(parsed.missing_links),
        lost_marks=parsed.lost_marks,
        missing=[s.text for s in spans],
    )
    return _Attempt(text, parsed.runs, flags, parsed.missing_links, [s.text for s in spans])


def _anchor_texts(unit: Unit) -> dict[str, str]:
    """Link target -> its anchor text in the source segment."""
    anchors: dict[str, str] = {}
    for run in from_tagged(unit.segment.text, unit.links).runs:
        for tag, value in run.marks:
            if tag == "a" and value:
                anchors[value] = anchors.get(value, "") + run.text
    return anchors


def _wrap(runs: list[Run], needle: str, href: str) -> list[Run] | None:
    """Put the link on the first occurrence of ``needle`` (any case) in the runs, if any."""
    needle = needle.strip()
    text = "".join(r.text for r in runs)
    at = text.lower().find(needle.lower()) if needle else -1
    if at < 0:
        return None
    out: list[Run] = []
    pos = 0
    for run in runs:
        start, end = pos, pos + len(run.text)
        pos = end
        cuts = sorted({start, end, min(max(at, start), end), min(max(at + len(needle), start), end)})
        for lo, hi in itertools.pairwise(cuts):
            piece = run.text[lo - start : hi - start]
            inside = at <= lo and hi <= at + len(needle) and run.text != "\n"
            out.append(Run(piece, (("a", href), *run.marks) if inside else run.marks))
    return [r for r in out if r.text]


def _last_resort(unit: Unit, best: _Attempt, engine: Engine, source_lang: str, target: str) -> _Attempt:
    """After the last attempt: put lost links and spans back so no link or handle is ever lost.

    A lost link goes back on its anchor: the source anchor text if the translation kept it
    (names often stay), else the engine's translation of the anchor alone, else the whole
    segment.  The flags stay (marked repaired) so an editor sees what happened.
    """
    runs = list(best.runs)
    anchors = _anchor_texts(unit)
    for href in best.lost_links:
        anchor = anchors.get(href, "")
        wrapped = _wrap(runs, anchor, href)
        if wrapped is None and anchor.strip():
            alone = engine.translate_batch(
                [Segment(unit.segment.id + ".anchor", anchor.strip(), "heading")], source_lang, target, attempt=1
            )[0]
            wrapped = _wrap(runs, clean_output(alone, anchor)[0], href)
        runs = wrapped or [Run(r.text, (("a", href), *r.marks) if r.text != "\n" else r.marks) for r in runs]
    if best.lost_spans:
        runs.append(Run(" (" + ", ".join(best.lost_spans) + ")"))
    flags = [
        f.model_copy(update={"repaired": True}) if f.code in ("missing_link", "missing_span") else f for f in best.flags
    ]
    return _Attempt(best.text, runs, flags)


def _flag_duplicates(units: list[Unit], results: list[_Attempt], only: list[int] | None = None) -> None:
    """A translation identical to another segment's, for a different source, is a model loop."""
    seen: dict[str, str] = {}
    for i, result in enumerate(results):
        key = " ".join(result.text.split()).lower()
        source = " ".join(units[i].segment.text.split()).lower()
        fresh = not any(f.code == "duplicate" for f in result.flags)
        if key and key in seen and seen[key] != source and (only is None or i in only) and fresh:
            result.flags.append(
                Flag(
                    code="duplicate",
                    severity="critical",
                    message="same translation as an earlier, different segment",
                )
            )
        seen.setdefault(key, source)


def _translate_language(
    article: Article,
    units: list[Unit],
    engine: Engine,
    target: str,
    max_attempts: int,
    progress: ProgressFn | None,
    chunk: int,
    pivot: tuple[str, list[Segment]] | None = None,
) -> tuple[list[Translated], int]:
    """First pass in document order (from the pivot translation when given), then retries of
    critical segments straight from the source, then last-resort repairs."""
    best: list[_Attempt] = []
    attempts = [1] * len(units)
    history: list[tuple[Segment, str]] = []
    first_lang, first = pivot if pivot else (article.source_lang, [u.segment for u in units])
    for start in range(0, len(units), chunk):
        batch = units[start : start + chunk]
        segments = first[start : start + chunk]
        outputs = engine.translate_batch(segments, first_lang, target, context=history)
        for unit, segment, raw in zip(batch, segments, outputs, strict=True):
            result = _evaluate(unit, raw, target)
            best.append(result)
            history.append((segment, result.text))
        if progress:
            progress(target, len(batch))
    _flag_duplicates(units, best)
    retried = 0
    for attempt in range(1, max_attempts):
        todo = [i for i, r in enumerate(best) if is_critical(r.flags)]
        if not todo:
            break
        retried += len(todo) if attempt == 1 else 0
        outputs = engine.translate_batch([units[i].segment for i in todo], article.source_lang, target, attempt=attempt)
        for i, raw in zip(todo, outputs, strict=True):
            attempts[i] += 1
            candidate = _evaluate(units[i], raw, target)
            _flag_duplicates(units, [*best[:i], candidate, *best[i + 1 :]], only=[i])
            if candidate.score < best[i].score:
                best[i] = candidate
    done = []
    for i, unit in enumerate(units):
        final = best[i]
        if is_critical(final.flags):
            final = _last_resort(unit, final, engine, article.source_lang, target)
        alignment = SegmentAlignment(
            id=unit.segment.id, source=unit.segment.text, target=final.text, attempts=attempts[i], flags=final.flags
        )
        done.append(Translated(final.runs, alignment))
    return done, retried


def _pivot_segments(units: list[Unit], done: list[Translated]) -> list[Segment]:
    """The pivot edition's translations as segments, links numbered as in the source."""
    return [
        Segment(u.segment.id, to_tagged(d.runs, u.links)[0], u.segment.kind) for u, d in zip(units, done, strict=True)
    ]


def translate_article(
    article: Article,
    targets: Sequence[str],
    engine: Engine,
    *,
    max_attempts: int | None = None,
    progress: ProgressFn | None = None,
    chunk: int = 4,
    pivot: str | None = None,
) -> list[EditionReport]:
    """Translate ``article`` into each of ``targets``; one report (with its edition) per language.

    With ``pivot`` (a language code, e.g. ``"en"``; default from ``LINTAS_PIVOT``), the other
    editions are translated from the pivot edition on their first pass (the embedded model does
    better from English: docs/evaluation.md), while every check still compares with the
    Indonesian source and retries go straight from it.  The pivot edition is made first; when
    it is not among ``targets`` it is made anyway and not returned.
    """
    for code in targets:
        get_language(code)
    pivot = (pivot if pivot is not None else settings.get("pivot")) or None
    if pivot:
        get_language(pivot)
    attempts = max_attempts or int(settings.get("max_attempts"))
    units = split_article(article)
    prompt_version = getattr(engine, "prompt_version", PROMPT_VERSION)
    signature = f"engine:{engine.name}|model:{engine.model}|prompt:{prompt_version}"
    order = list(targets)
    if pivot and any(t != pivot for t in targets):
        order = [pivot, *[t for t in targets if t != pivot]]
    reports: dict[str, EditionReport] = {}
    pivot_segments: list[Segment] | None = None
    for target in order:
        started = time.perf_counter()
        via = (pivot, pivot_segments) if pivot_segments is not None and target != pivot else None
        done, retried = _translate_language(article, units, engine, target, attempts, progress, chunk, via)
        if target == pivot:
            pivot_segments = _pivot_segments(units, done)
        edition = assemble_edition(
            article,
            units,
            done,
            target,
            engine=engine.name,
            model=engine.model,
            signature=signature + (f"|pivot:{pivot}" if via else ""),
        )
        flagged = sum(1 for d in done if any(f.severity != "info" for f in d.alignment.flags))
        reports[target] = EditionReport(edition, time.perf_counter() - started, len(units), retried, flagged)
    return [reports[t] for t in targets]
