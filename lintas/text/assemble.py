"""Split an article into translation units, and assemble an edition from their translations.

The two directions live together because each is the inverse of the other: a unit remembers
where it came from (``field``, block, list item) and what separated it from the previous
sentence, so the edition keeps the original's structure exactly.
"""

from __future__ import annotations

import html as html_lib
from dataclasses import dataclass
from datetime import UTC, datetime

from lintas.text.article import Article, Block, BlockType, Edition, Segment, SegmentAlignment, SegmentKind
from lintas.text.inline import Run, parse_inline, plain_text, render_inline, slice_runs, to_tagged
from lintas.text.languages import get_language, localize_dateline
from lintas.text.segment import split_sentences
from lintas.version import __version__

__all__ = ["Unit", "split_article", "assemble_edition", "Translated"]


@dataclass
class Unit:
    """One segment plus what is needed to put its translation back."""

    segment: Segment
    links: list[str]
    marks: set[str]
    field: str  # headline | kicker | subheadline | block | item | cite | alt
    block: int = -1
    item: int = -1
    line_break_before: bool = False


@dataclass
class Translated:
    """A unit's final translation (runs) and its record for the edition."""

    runs: list[Run]
    alignment: SegmentAlignment


def marks_of(runs: list[Run]) -> set[str]:
    found = {tag for run in runs for tag, _ in run.marks}
    if any(run.text == "\n" for run in runs):
        found.add("br")
    return found


def _unit(
    seg_id: str,
    runs: list[Run],
    kind: SegmentKind,
    fld: str,
    *,
    block: int = -1,
    item: int = -1,
    context: str = "",
    line_break: bool = False,
) -> Unit:
    tagged, links = to_tagged(runs)
    return Unit(Segment(seg_id, tagged, kind, context), links, marks_of(runs), fld, block, item, line_break)


_BLOCK_KIND: dict[BlockType, SegmentKind] = {"heading": "heading", "quote": "quote", "figure": "caption"}


def _sentence_units(prefix: str, fragment: str, kind: SegmentKind, fld: str, block: int, item: int = -1) -> list[Unit]:
    runs = parse_inline(fragment)
    text = plain_text(runs)
    spans = split_sentences(text) if kind != "heading" else [(0, len(text))]
    context = text if len(spans) > 1 else ""
    units = []
    prev_end = 0
    for n, (start, end) in enumerate(spans):
        piece = slice_runs(runs, start, end)
        if not plain_text(piece).strip():
            continue
        gap = text[prev_end:start]
        units.append(
            _unit(f"{prefix}.s{n}", piece, kind, fld, block=block, item=item, context=context, line_break="\n" in gap)
        )
        prev_end = end
    return units


def _plain_unit(seg_id: str, text: str | None, kind: SegmentKind, fld: str, block: int = -1) -> list[Unit]:
    if not text or not text.strip():
        return []
    return [_unit(seg_id, [Run(" ".join(text.split()))], kind, fld, block=block)]


def split_article(article: Article) -> list[Unit]:
    """All translatable units of ``article`` in reading order."""
    # The headline first: it is the best context for everything after it, the kicker included.
    units = _plain_unit("headline", article.headline, "headline", "headline")
    units += _plain_unit("kicker", article.kicker, "kicker", "kicker")
    units += _plain_unit("subheadline", article.subheadline, "subheadline", "subheadline")
    for b, block in enumerate(article.body):
        prefix = f"b{b}"
        if block.type == "list":
            for i, item in enumerate(block.items):
                units += _sentence_units(f"{prefix}.i{i}", item, "list_item", "item", b, i)
            continue
        kind = _BLOCK_KIND.get(block.type, "sentence")
        units += _sentence_units(prefix, block.html, kind, "block", b)
        if block.type == "quote":
            units += _plain_unit(f"{prefix}.cite", block.cite, "sentence", "cite", b)
        if block.type == "figure" and block.alt and block.alt.strip() != plain_text(parse_inline(block.html)).strip():
            units += _plain_unit(f"{prefix}.alt", block.alt, "caption", "alt", b)
    return units


def join_pieces(pieces: list[tuple[Unit, Translated]], spaced: bool) -> str:
    out = ""
    for n, (unit, done) in enumerate(pieces):
        fragment = render_inline(done.runs)
        if n:
            out += "<br>" if unit.line_break_before else (" " if spaced else "")
        out += fragment
    return out


def assemble_edition(
    article: Article, units: list[Unit], done: list[Translated], target: str, *, engine: str, model: str, signature: str
) -> Edition:
    """Put translations back into the article's structure."""
    lang = get_language(target)
    pairs = list(zip(units, done, strict=True))
    plain = {u.field: plain_text(d.runs) for u, d in pairs if u.field in ("headline", "kicker", "subheadline")}
    blocks: list[Block] = []
    for b, block in enumerate(article.body):
        mine = [(u, d) for u, d in pairs if u.block == b]
        new = block.model_copy(deep=True)
        if block.type == "list":
            new.items = [
                join_pieces(
                    [(u, d) for u, d in mine if u.item == i and u.field == "item"], lang.space_between_sentences
                )
                or item
                for i, item in enumerate(block.items)
            ]
        else:
            body = [(u, d) for u, d in mine if u.field == "block"]
            new.html = join_pieces(body, lang.space_between_sentences) if body else block.html
        for u, d in mine:
            if u.field == "cite":
                new.cite = plain_text(d.runs)
            elif u.field == "alt":
                new.alt = plain_text(d.runs)
        if block.type == "figure" and not any(u.field == "alt" for u, _ in mine) and block.alt:
            new.alt = html_lib.unescape(plain_text(parse_inline(new.html))) or block.alt
        blocks.append(new)
    data = article.model_dump()
    data.update(
        headline=plain.get("headline", article.headline),
        kicker=plain.get("kicker", article.kicker),
        subheadline=plain.get("subheadline", article.subheadline),
        dateline=localize_dateline(article.dateline, target),
        body=blocks,
        target_lang=target,
        engine=engine,
        model=model,
        created_at=datetime.now(UTC),
        segments=[d.alignment for d in done],
        signature=f"{signature}|lintas:{__version__}",
    )
    return Edition.model_validate(data)
