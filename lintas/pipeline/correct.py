"""Editors' corrections of an edition (pure: no database, no HTTP).

:func:`correct` replaces one segment's translation, re-checks it against the source and re-assembles the part of
the edition it sits in (headline, a block, a list item...) exactly as :func:`lintas.text.assemble.assemble_edition`
does, so inline links and markup survive. Pass the source ``article`` for an exact re-assembly; without it the
link targets are read back from the edition itself (line breaks between sentences are then not restored).
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Iterable

from lintas.pipeline.translate import anchor_texts, wrap_link
from lintas.quality import check_segment
from lintas.quality.estimate import edition_confidence, estimate
from lintas.text.article import Article, Edition, Flag, Segment, SegmentAlignment, SegmentKind
from lintas.text.assemble import Translated, Unit, join_pieces, marks_of, split_article
from lintas.text.inline import Run, from_tagged, parse_inline, plain_text
from lintas.text.languages import get_language

__all__ = ["correct", "PLAIN_FIELDS"]

PLAIN_FIELDS = ("headline", "kicker", "subheadline")
_ID = re.compile(r"^b(?P<block>\d+)(?:\.i(?P<item>\d+))?\.(?:s\d+|(?P<extra>cite|alt))$")
_LINK_ID = re.compile(r"""href=["']#(\d+)["']""")


def correct(
    edition: Edition, segment_id: str, text: str, *, lang_checks: bool = True, article: Article | None = None
) -> Edition:
    """A new edition with ``segment_id``'s target replaced by ``text`` (origin ``editor``, flags re-computed,
    its headline/block re-assembled, confidence recomputed; status unchanged).

    ``lang_checks=False`` keeps only the markup findings (links, marks) instead of running every check.
    Raises ValueError for an empty ``text``, KeyError for an unknown segment id.
    """
    text = text.strip()
    if not text:
        raise ValueError("the correction is empty")
    index = next((i for i, s in enumerate(edition.segments) if s.id == segment_id), None)
    if index is None:
        raise KeyError(segment_id)
    units = _units(edition, article)
    unit = units[segment_id]
    old = edition.segments[index]
    runs, flags = _checked(unit, old.source, text, edition.target_lang, lang_checks)
    segment = old.model_copy(update={"target": text, "origin": "editor", "flags": flags, "suggestions": []})
    segment.quality = estimate(segment, edition.target_lang)
    segments = [*edition.segments[:index], segment, *edition.segments[index + 1 :]]
    new = edition.model_copy(deep=True, update={"segments": segments, "confidence": edition_confidence(segments)})
    _reassemble(new, unit, units, {segment_id: runs})
    return new


# --- checks --------------------------------------------------------------------------------------------------


def _checked(unit: Unit, source: str, text: str, lang: str, full: bool) -> tuple[list[Run], list[Flag]]:
    """The corrected segment's runs and flags; a lost link goes back on its anchor text when the text has it."""
    parsed = from_tagged(text, unit.links, unit.marks)
    runs, lost = _relink(unit, parsed.runs, parsed.missing_links)
    flags: list[Flag] = []
    if parsed.unknown_links:
        flags.append(Flag(code="invented_link", severity="info", message="removed a link the source does not have"))
    if full:
        flags += check_segment(source, text, lang, lost_links=len(lost), lost_marks=parsed.lost_marks)
    else:
        if lost:
            flags.append(Flag(code="missing_link", severity="critical", message=f"{len(lost)} link(s) lost"))
        if parsed.lost_marks:
            message = "lost markup: " + ", ".join(sorted(parsed.lost_marks))
            flags.append(Flag(code="lost_markup", severity="warning", message=message))
    if len(lost) < len(parsed.missing_links):
        flags.append(Flag(code="missing_link", severity="critical", message="link put back on its text", repaired=True))
    return runs, flags


def _relink(unit: Unit, runs: list[Run], missing: Iterable[str]) -> tuple[list[Run], list[str]]:
    """Put each missing link on its source anchor text where the runs have it; returns the links still lost."""
    anchors = anchor_texts(unit)
    lost: list[str] = []
    for href in missing:
        wrapped = wrap_link(runs, anchors.get(href, ""), href)
        if wrapped is None:
            lost.append(href)
        else:
            runs = wrapped
    return runs, lost


def _runs_of(unit: Unit, segment: SegmentAlignment) -> list[Run]:
    """An untouched segment's runs, with the pipeline's last-resort repairs (links, lost spans) redone."""
    parsed = from_tagged(segment.target, unit.links, unit.marks)
    runs, lost = _relink(unit, parsed.runs, parsed.missing_links)
    for href in lost:  # the pipeline linked the whole segment
        runs = [Run(r.text, (("a", href), *r.marks) if r.text != "\n" else r.marks) for r in runs]
    for flag in segment.flags:
        if flag.code == "missing_span" and flag.repaired and flag.message.startswith("lost: "):
            runs = [*runs, Run(" (" + flag.message.removeprefix("lost: ") + ")")]
    return runs


# --- units: where each segment goes --------------------------------------------------------------------------


def _units(edition: Edition, article: Article | None) -> dict[str, Unit]:
    if article is not None:
        units = {u.segment.id: u for u in split_article(article)}
        if [s.id for s in edition.segments] == list(units) and all(
            units[s.id].segment.text == s.source for s in edition.segments
        ):
            return units
    return _derived_units(edition)


def _place(segment_id: str) -> tuple[str, int, int]:
    """(field, block, item) of a segment id."""
    if segment_id in PLAIN_FIELDS:
        return segment_id, -1, -1
    m = _ID.match(segment_id)
    if m is None:
        raise KeyError(segment_id)
    item = int(m["item"]) if m["item"] is not None else -1
    fld = m["extra"] or ("item" if item >= 0 else "block")
    return fld, int(m["block"]), item


def _container(edition: Edition, fld: str, block: int, item: int) -> str:
    if fld == "item":
        return edition.body[block].items[item]
    return edition.body[block].html if fld == "block" else ""


def _derived_units(edition: Edition) -> dict[str, Unit]:
    """Units rebuilt from the edition alone: link targets read back from its rendered blocks, in order."""
    units: dict[str, Unit] = {}
    hrefs: dict[tuple[int, int], list[str]] = {}
    for seg in edition.segments:
        fld, block, item = _place(seg.id)
        links: list[str] = []
        if fld in ("block", "item"):
            pool = hrefs.setdefault((block, item), _hrefs(_container(edition, fld, block, item)))
            wanted = max((int(k) for k in _LINK_ID.findall(seg.source)), default=0)
            links = [""] * wanted
            for k in dict.fromkeys(int(k) for k in _LINK_ID.findall(seg.target)):
                if 1 <= k <= wanted and pool:
                    links[k - 1] = pool.pop(0)
            links = [link or (pool.pop(0) if pool else f"#{n + 1}") for n, link in enumerate(links)]
        source_runs = from_tagged(seg.source, links).runs
        # SegmentAlignment.kind is a plain str in the edition's public JSON; the pipeline writes only SegmentKinds
        kind: SegmentKind = seg.kind  # type: ignore[assignment]
        units[seg.id] = Unit(Segment(seg.id, seg.source, kind), links, marks_of(source_runs), fld, block, item)
    return units


def _hrefs(fragment: str) -> list[str]:
    """Link targets of an inline fragment, in order of first appearance."""
    found = [value or "" for run in parse_inline(fragment) for tag, value in run.marks if tag == "a"]
    return list(dict.fromkeys(found))


# --- re-assembly ---------------------------------------------------------------------------------------------


def _reassemble(edition: Edition, unit: Unit, units: dict[str, Unit], override: dict[str, list[Run]]) -> None:
    """Rebuild, in place, the field or block ``unit`` belongs to."""
    segments = {s.id: s for s in edition.segments}

    def runs(u: Unit) -> list[Run]:
        return override.get(u.segment.id) or _runs_of(u, segments[u.segment.id])

    if unit.field in PLAIN_FIELDS:
        setattr(edition, unit.field, plain_text(runs(unit)))
        return
    block = edition.body[unit.block]
    if unit.field in ("cite", "alt"):
        setattr(block, unit.field, plain_text(runs(unit)))
        return
    spaced = get_language(edition.target_lang).space_between_sentences
    mine = [u for u in units.values() if u.block == unit.block and u.field == unit.field and u.item == unit.item]
    pairs = [(u, Translated(runs(u), segments[u.segment.id])) for u in mine]
    if unit.field == "item":
        block.items[unit.item] = join_pieces(pairs, spaced)
        return
    block.html = join_pieces(pairs, spaced)
    if (
        block.type == "figure"
        and block.alt
        and not any(u.block == unit.block and u.field == "alt" for u in units.values())
    ):
        block.alt = html_lib.unescape(plain_text(parse_inline(block.html))) or block.alt
