"""The pipeline: article -> units -> engine -> checks, retries, repairs -> one edition per language.

This is the one entry point the CLI (and later the service and the worker) call.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from lintas import settings
from lintas.engines.base import Engine, Scored, capabilities
from lintas.engines.prompts import PROMPT_VERSION, clean_output
from lintas.pipeline.names import find_names, name_glossary, resolve_names
from lintas.quality import check_segment, is_critical
from lintas.quality.backtranslate import DEFAULT_MIN_CHRF, backtranslation_flags, parse_mode, select
from lintas.quality.estimate import edition_confidence, estimate
from lintas.quality.policy import HoldPolicy, parse_thresholds
from lintas.text.article import Article, Edition, Flag, NameRendering, Segment, SegmentAlignment, Suggestion
from lintas.text.assemble import Translated, Unit, assemble_edition, split_article
from lintas.text.glossary import NAME_CATEGORY, Glossary, TermHit, protect_terms, restore_terms
from lintas.text.inline import Run, from_tagged, to_tagged
from lintas.text.languages import get_language
from lintas.text.protect import missing_spans, repair_spans

__all__ = ["translate_article", "translate_unit", "EditionReport", "ProgressFn", "Memory", "Options"]

ProgressFn = Callable[[str, int], object]  # (target language, segments done since last call); its result is ignored


class _Match(Protocol):  # read-only members: the memory's matches are frozen
    @property
    def source(self) -> str: ...
    @property
    def target(self) -> str: ...
    @property
    def score(self) -> float: ...
    @property
    def origin(self) -> str: ...


class Memory(Protocol):
    """What the pipeline needs of a translation memory (:class:`lintas.store.memory.TranslationMemory`)."""

    def exact(
        self, source: str, target_lang: str, *, source_lang: str = "id", kind: str = "sentence", context: str = ""
    ) -> _Match | None: ...

    def fuzzy(
        self, source: str, target_lang: str, *, source_lang: str = "id", limit: int = 3, min_score: float = 75.0
    ) -> Sequence[_Match]: ...


@dataclass
class Options:
    """The quality side of a run: glossary, name table, memory, hold policy, back-translation."""

    glossary: Glossary | None = None
    memory: Memory | None = None
    hold: HoldPolicy = field(default_factory=HoldPolicy)
    backtranslate: str | float = "off"
    backtranslate_min_chrf: float = DEFAULT_MIN_CHRF
    names: bool = False  # the article's name table (lintas.pipeline.names); on by default in from_settings
    # language ("*": any) -> estimate under which a segment made through the pivot is translated again straight
    second_route: dict[str, float] = field(default_factory=dict)
    names_latin: tuple[str, ...] = ()  # languages whose names the glossary and CLDR do not know stay in Latin letters
    examples: int = 0  # translations from the memory shown to the engine before each segment (first pass)

    @classmethod
    def from_settings(cls, glossary: Glossary | None = None, memory: Memory | None = None) -> Options:
        configured = settings.current()
        return cls(
            glossary=glossary,
            memory=memory,
            hold=HoldPolicy.from_settings(configured.hold, configured.hold_below),
            backtranslate=parse_mode(configured.backtranslate),
            backtranslate_min_chrf=configured.backtranslate_min_chrf,
            names=configured.names,
            second_route=parse_thresholds(configured.second_route, "second route"),
            names_latin=tuple(lang for lang in configured.names_latin if lang != "none"),
            examples=configured.memory_examples,
        )


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
    signals: dict[str, float] = field(default_factory=dict)  # the engine's token log-probabilities, when it gives them

    @property
    def score(self) -> tuple[int, int]:
        return (sum(f.severity == "critical" and not f.repaired for f in self.flags), len(self.flags))


def _evaluate(
    unit: Unit, raw: str, target: str, glossary: Glossary | None = None, placeholders: dict[str, str] | None = None
) -> _Attempt:
    """Clean, parse and check one raw engine output; repair what can be repaired safely."""
    flags: list[Flag] = []
    text, chatter = clean_output(raw, unit.segment.text)
    if placeholders:
        text, _lost = restore_terms(text, placeholders)  # a lost one shows as glossary_missing
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
        glossary=glossary,
    )
    return _Attempt(text, parsed.runs, flags, parsed.missing_links, [s.text for s in spans], _signals(raw))


def _signals(raw: str) -> dict[str, float]:
    if not isinstance(raw, Scored) or not raw.tokens:
        return {}
    return {
        "logprob_mean": round(raw.logprob_mean, 4),
        "logprob_min": round(raw.logprob_min, 4),
        "entropy_mean": round(raw.entropy_mean, 4),
    }


def anchor_texts(unit: Unit) -> dict[str, str]:
    """Link target -> its anchor text in the source segment."""
    anchors: dict[str, str] = {}
    for run in from_tagged(unit.segment.text, unit.links).runs:
        for tag, value in run.marks:
            if tag == "a" and value:
                anchors[value] = anchors.get(value, "") + run.text
    return anchors


def wrap_link(runs: list[Run], needle: str, href: str) -> list[Run] | None:
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
    anchors = anchor_texts(unit)
    for href in best.lost_links:
        anchor = anchors.get(href, "")
        wrapped = wrap_link(runs, anchor, href)
        if wrapped is None and anchor.strip():
            alone = engine.translate_batch(
                [Segment(unit.segment.id + ".anchor", anchor.strip(), "heading")], source_lang, target, attempt=1
            )[0]
            wrapped = wrap_link(runs, clean_output(alone, anchor)[0], href)
        runs = wrapped or [Run(r.text, (("a", href), *r.marks) if r.text != "\n" else r.marks) for r in runs]
    if best.lost_spans:
        runs.append(Run(" (" + ", ".join(best.lost_spans) + ")"))
    flags = [
        f.model_copy(update={"repaired": True}) if f.code in ("missing_link", "missing_span") else f for f in best.flags
    ]
    return _Attempt(best.text, runs, flags, signals=best.signals)


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


def prepare_segment(
    segment: Segment, unit: Unit, engine: Engine, target: str, glossary: Glossary | None, direct: bool
) -> tuple[Segment, dict[str, str] | None]:
    """The segment as the engine gets it: with glossary constraints (prompt engines) or with
    placeholders for the terms (``Capabilities.glossary_mode`` "placeholder", only from the source)."""
    if glossary is None:
        return segment, None
    hits = glossary.find(unit.segment.text)
    if not hits:
        return segment, None
    if capabilities(engine).glossary_mode == "placeholder":
        if not direct:
            return segment, None
        text, mapping = protect_terms(segment.text, hits, target)
        return dataclasses.replace(segment, text=text), mapping
    terms = glossary.constraints(unit.segment.text, target)
    return dataclasses.replace(segment, text=_names_inline(segment.text, hits, target), terms=tuple(terms)), None


def _names_inline(text: str, hits: Sequence[TermHit], target: str) -> str:
    """The article's names (name-table terms) already written as the edition writes them in the text the engine
    translates ("Rapper 坎耶·韦斯特 mengubah namanya"): a small model copies a name far more reliably than it
    follows an instruction about it.  Also when the text is the pivot's, where the name is spelled as in the source."""
    for hit in hits:
        form = hit.term.preferred(target)
        if hit.term.category == NAME_CATEGORY and form and form != hit.text:
            text = re.sub(r"(?<![\w-])" + re.escape(hit.text) + r"(?![\w-])", _literal(form), text)
    return text


def _literal(text: str) -> Callable[[re.Match[str]], str]:
    """A ``re.sub`` replacement that is ``text`` as written (no backslash or group references)."""
    return lambda _match: text


def translate_unit(unit: Unit, engine: Engine, source_lang: str, target: str, glossary: Glossary | None) -> str:
    """One unit translated on its own, prepared as :func:`translate_article` prepares it (glossary constraints or
    placeholders) and cleaned of chatter, placeholders restored; checking it is the caller's (an editor's
    re-translation goes through :func:`lintas.pipeline.correct.correct`)."""
    segment, placeholders = prepare_segment(unit.segment, unit, engine, target, glossary, direct=True)
    (raw,) = engine.translate_batch([segment], source_lang, target)
    text, _chatter = clean_output(raw, unit.segment.text)
    if placeholders:
        text, _lost = restore_terms(text, placeholders)
    return text


def _from_memory(unit: Unit, memory: Memory | None, source_lang: str, target: str) -> _Attempt | None:
    if memory is None:
        return None
    seg = unit.segment
    match = memory.exact(seg.text, target, source_lang=source_lang, kind=seg.kind, context=seg.context)
    if match is None:
        return None
    parsed = from_tagged(match.target, unit.links, unit.marks)
    note = Flag(
        code="memory",
        severity="info",
        message=f"reused the {match.origin} translation from the translation memory",
    )
    return _Attempt(match.target, parsed.runs, [note])


def _examples(
    unit: Unit, options: Options, source_lang: str, first_lang: str, target: str
) -> tuple[tuple[str, str], ...]:
    """The memory's translations of the sources most like the unit's (``options.examples`` of them), as worked
    examples for the engine.  When the engine translates from the pivot, an example's source is the memory's
    pivot translation of the same stored source; a stored source without one is left out."""
    assert options.memory is not None
    matches = options.memory.fuzzy(
        unit.segment.text, target, source_lang=source_lang, limit=options.examples, min_score=0.0
    )
    if first_lang == source_lang:
        return tuple((m.source, m.target) for m in matches)
    out = []
    for m in matches:
        # the stored source may be a headline or a body segment, whatever the unit is
        for kind in dict.fromkeys((unit.segment.kind, "sentence", "headline")):
            pivot = options.memory.exact(m.source, first_lang, source_lang=source_lang, kind=kind)
            if pivot is not None:
                out.append((pivot.target, m.target))
                break
    return tuple(out)


def _translate_language(
    article: Article,
    units: list[Unit],
    engine: Engine,
    target: str,
    max_attempts: int,
    progress: ProgressFn | None,
    chunk: int,
    pivot: tuple[str, list[Segment], list[dict[str, float]]] | None = None,
    options: Options | None = None,
) -> tuple[list[Translated], int]:
    """Translation memory first; then a first pass in document order (from the pivot translation
    when given); retries of critical segments straight from the source; last-resort repairs;
    the optional back-translation check."""
    options = options or Options()
    glossary = options.glossary
    best: list[_Attempt | None] = [_from_memory(u, options.memory, article.source_lang, target) for u in units]
    attempts = [0 if b else 1 for b in best]
    history: list[tuple[Segment, str]] = []
    first_lang, first, pivot_signals = pivot if pivot else (article.source_lang, [u.segment for u in units], [])
    for start in range(0, len(units), chunk):
        todo = [i for i in range(start, min(start + chunk, len(units))) if best[i] is None]
        prepared = [prepare_segment(first[i], units[i], engine, target, glossary, pivot is None) for i in todo]
        if options.memory is not None and options.examples:
            prepared = [
                (
                    dataclasses.replace(
                        segment, examples=_examples(units[i], options, article.source_lang, first_lang, target)
                    ),
                    mapping,
                )
                for i, (segment, mapping) in zip(todo, prepared, strict=True)
            ]
        outputs = engine.translate_batch([p[0] for p in prepared], first_lang, target, context=history) if todo else []
        for i, (_, mapping), raw in zip(todo, prepared, outputs, strict=True):
            evaluated = _evaluate(units[i], raw, target, glossary, mapping)
            if pivot_signals and "logprob_mean" in pivot_signals[i]:  # how sure the engine was of the pivot text
                evaluated.signals["pivot_logprob_mean"] = pivot_signals[i]["logprob_mean"]
            best[i] = evaluated
        for i in range(start, min(start + chunk, len(units))):
            kept = best[i]
            assert kept is not None  # from the memory, or translated just above
            history.append((first[i], kept.text))
        if progress:
            progress(target, min(start + chunk, len(units)) - start)
    results: list[_Attempt] = [b for b in best if b is not None]
    _flag_duplicates(units, results)
    retried = 0
    for attempt in range(1, max_attempts):
        todo = [i for i, r in enumerate(results) if attempts[i] and is_critical(r.flags)]
        if not todo:
            break
        retried += len(todo) if attempt == 1 else 0
        prepared = [prepare_segment(units[i].segment, units[i], engine, target, glossary, True) for i in todo]
        outputs = engine.translate_batch([p[0] for p in prepared], article.source_lang, target, attempt=attempt)
        for i, (_, mapping), raw in zip(todo, prepared, outputs, strict=True):
            attempts[i] += 1
            candidate = _evaluate(units[i], raw, target, glossary, mapping)
            _flag_duplicates(units, [*results[:i], candidate, *results[i + 1 :]], only=[i])
            if candidate.score < results[i].score:
                results[i] = candidate
    for i, unit in enumerate(units):
        if attempts[i] and is_critical(results[i].flags):
            results[i] = _last_resort(unit, results[i], engine, article.source_lang, target)
    threshold = options.second_route.get(target, options.second_route.get("*"))
    if pivot is not None and threshold is not None:
        _second_route(units, results, attempts, engine, article.source_lang, target, glossary, threshold)
    _backtranslate(units, results, attempts, engine, article.source_lang, target, options)
    done = []
    for i, unit in enumerate(units):
        alignment = _alignment(unit, results[i], attempts[i])
        if attempts[i]:
            alignment.suggestions = _suggestions(unit, options.memory, article.source_lang, target)
        done.append(Translated(results[i].runs, alignment))
    return done, retried


def _alignment(unit: Unit, result: _Attempt, attempts: int) -> SegmentAlignment:
    return SegmentAlignment(
        id=unit.segment.id,
        kind=unit.segment.kind,
        source=unit.segment.text,
        target=result.text,
        attempts=attempts,
        origin="engine" if attempts else "memory",
        flags=result.flags,
        signals=result.signals,
    )


def _second_route(
    units: list[Unit],
    results: list[_Attempt],
    attempts: list[int],
    engine: Engine,
    source_lang: str,
    target: str,
    glossary: Glossary | None,
    threshold: float,
) -> None:
    """A first pass made through the pivot, second candidates where it is doubted: each segment of one attempt whose
    quality estimate is under ``threshold`` is translated again straight from the source, and the candidate with
    fewer unrepaired critical findings, then the higher estimate, is kept (an info flag says so).  Retried segments
    already went straight from the source."""
    doubted = []
    for i, result in enumerate(results):
        if attempts[i] == 1:
            quality = estimate(_alignment(units[i], result, 1), target)
            if quality < threshold:
                doubted.append((i, quality))
    if not doubted:
        return
    prepared = [prepare_segment(units[i].segment, units[i], engine, target, glossary, True) for i, _ in doubted]
    outputs = engine.translate_batch([p[0] for p in prepared], source_lang, target)
    for (i, quality), (_, mapping), raw in zip(doubted, prepared, outputs, strict=True):
        candidate = _evaluate(units[i], raw, target, glossary, mapping)
        straight = estimate(_alignment(units[i], candidate, 1), target)
        better = (candidate.score, -straight) < (results[i].score, -quality)
        kept = candidate if better else results[i]
        kept.flags.append(
            Flag(
                code="second_route",
                severity="info",
                message=f"also translated straight from the source (estimate {straight:.2f}, through the pivot "
                f"{quality:.2f}): kept the {'straight' if better else 'pivot'} one",
            )
        )
        results[i] = kept


def _backtranslate(
    units: list[Unit],
    results: list[_Attempt],
    attempts: list[int],
    engine: Engine,
    source_lang: str,
    target: str,
    options: Options,
) -> None:
    if options.backtranslate == "off":
        return
    chosen = [
        i
        for i, r in enumerate(results)
        if attempts[i]
        and select(options.backtranslate, units[i].segment.id, any(f.severity != "info" for f in r.flags), target)
    ]
    pairs = [(units[i].segment, results[i].text) for i in chosen]
    for i, (score, flag) in zip(
        chosen,
        backtranslation_flags(pairs, engine, source_lang, target, min_chrf=options.backtranslate_min_chrf),
        strict=True,
    ):
        results[i].flags.append(
            flag or Flag(code="backtranslation_ok", severity="info", message=f"back-translation chrF {score:.0f}")
        )


def _suggestions(unit: Unit, memory: Memory | None, source_lang: str, target: str) -> list[Suggestion]:
    if memory is None:
        return []
    return [
        Suggestion(source=m.source, target=m.target, score=round(m.score, 1), origin=m.origin)
        for m in memory.fuzzy(unit.segment.text, target, source_lang=source_lang)
    ]


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
    options: Options | None = None,
    straight: Sequence[str] | None = None,
) -> list[EditionReport]:
    """Translate ``article`` into each of ``targets``; one report (with its edition) per language.

    With ``pivot`` (a language code, e.g. ``"en"``; default from ``LINTAS_PIVOT``), the other
    editions are translated from the pivot edition on their first pass (the embedded model does
    better from English: docs/evaluation.md), while every check still compares with the
    Indonesian source and retries go straight from it.  The pivot edition is made first; when
    it is not among ``targets`` it is made anyway and not returned.  The languages in ``straight``
    (default from ``LINTAS_STRAIGHT``) are translated straight from the source all the same; a
    pivot that only they would read is not made.

    ``options`` bring the glossary, the translation memory, the hold policy and the
    back-translation check (:class:`Options`; none of them when omitted).

    An engine that declares (:class:`~lintas.engines.base.Capabilities`) ``uses_context=False`` (sentence MT) gets
    each language's first pass in one request, and one with ``routes_languages=True`` is not given the pivot
    setting's default (it picks its own route).
    """
    declared = capabilities(engine)
    options = options or Options()
    for code in targets:
        get_language(code)
    if pivot is None and declared.routes_languages:
        pivot = ""  # the engine finds its own way (the ctranslate2 engine pivots through English where it must)
    pivot = (pivot if pivot is not None else settings.current().pivot) or None
    if pivot:
        get_language(pivot)
    direct = {code for code in (settings.current().straight if straight is None else straight) if code != "none"}
    for code in direct:
        get_language(code)
    attempts = max_attempts or settings.current().max_attempts
    units = split_article(article)
    if not declared.uses_context:
        chunk = max(chunk, len(units))  # no document history to build: one request per language
    prompt_version = PROMPT_VERSION if declared.prompt_version is None else declared.prompt_version
    signature = f"engine:{engine.name}|model:{engine.model}|prompt:{prompt_version}"
    order = list(targets)
    if pivot and any(t != pivot and t not in direct for t in targets):
        order = [pivot, *[t for t in targets if t != pivot]]
    reports: dict[str, EditionReport] = {}
    pivot_segments: list[Segment] | None = None
    pivot_signals: list[dict[str, float]] = []
    names = find_names([u.segment.text for u in units]) if options.names else []
    for target in order:
        started = time.perf_counter()
        via = (
            (pivot, pivot_segments, pivot_signals)
            if pivot is not None and pivot_segments is not None and target != pivot and target not in direct
            else None
        )
        renderings = (
            resolve_names(
                names, target, engine, options.glossary, article.source_lang, latin=target in options.names_latin
            )
            if names
            else []
        )
        lang_options = options
        if renderings:
            table = name_glossary(renderings, target)
            lang_options = dataclasses.replace(
                options, glossary=options.glossary.merged(table) if options.glossary else table
            )
        done, retried = _translate_language(
            article, units, engine, target, attempts, progress, chunk, via, lang_options
        )
        if target == pivot:
            pivot_segments = _pivot_segments(units, done)
            pivot_signals = [d.alignment.signals for d in done]
        edition = assemble_edition(
            article,
            units,
            done,
            target,
            engine=engine.name,
            model=engine.model,
            signature=signature + (f"|pivot:{pivot}" if via else ""),
        )
        edition.names = [NameRendering(source=r.source, form=r.form, origin=r.origin) for r in renderings]
        for segment in edition.segments:
            segment.quality = estimate(segment, target)
        edition.confidence = edition_confidence(edition.segments)
        reasons = options.hold.reasons(edition.segments, target, edition.confidence)
        edition.status = "held" if reasons else "published"
        edition.hold_reasons = reasons
        flagged = sum(1 for d in done if any(f.severity != "info" for f in d.alignment.flags))
        reports[target] = EditionReport(edition, time.perf_counter() - started, len(units), retried, flagged)
    return [reports[t] for t in targets]
