"""The article model: what readers produce, what the pipeline translates, what editions contain.

Inline content of a block (a paragraph, a heading, a caption...) is kept as a small, sanitized
subset of HTML: ``<a href>``, ``<b>``/``<strong>``, ``<i>``/``<em>`` and ``<br>``.  The
:mod:`lintas.text.inline` module converts it to and from runs of text with marks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

BlockType = Literal["paragraph", "heading", "quote", "list", "figure"]
Severity = Literal["info", "warning", "critical"]
EditionStatus = Literal["published", "held"]  # held: waits for an editor (hold policy)

__all__ = [
    "Article",
    "Block",
    "BlockType",
    "Edition",
    "EditionStatus",
    "Flag",
    "Segment",
    "SegmentAlignment",
    "SegmentKind",
    "Severity",
]


class Block(BaseModel):
    """One body block.

    * ``paragraph`` / ``heading`` / ``quote``: ``html`` holds the inline content; a quote may
      carry ``cite`` (who said it, plain text).
    * ``list``: ``items`` holds one inline-HTML string per item; ``ordered`` says ``<ol>``.
    * ``figure``: ``src`` and ``alt`` of the image, ``html`` holds the caption (inline HTML),
      ``credit`` the credit line such as ``(Twitter/@zlj517)`` (plain text, never translated).
    """

    model_config = ConfigDict(extra="forbid")

    type: BlockType
    html: str = ""
    items: list[str] = Field(default_factory=list)
    ordered: bool = False
    cite: str | None = None
    src: str | None = None
    alt: str | None = None
    credit: str | None = None


class Article(BaseModel):
    """A news article in its source language (Indonesian for Lintas)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=200)
    source_lang: str = "id"
    headline: str = Field(min_length=1)
    kicker: str | None = None
    subheadline: str | None = None
    dateline: str | None = None
    body: list[Block] = Field(default_factory=list)
    author: str | None = None
    tags: list[str] = Field(default_factory=list)
    section: str | None = Field(default=None, max_length=100)  # e.g. "nasional": the public URL's section part
    canonical_url: str | None = None
    published_at: datetime | None = None
    updated_at: datetime | None = None
    revision: int = 1


class Flag(BaseModel):
    """A problem found in one translated segment."""

    code: str
    severity: Severity
    message: str
    repaired: bool = False


class Suggestion(BaseModel):
    """A similar segment an editor translated before (fuzzy translation-memory match)."""

    source: str
    target: str
    score: float  # 0-100
    origin: str


class SegmentAlignment(BaseModel):
    """Source segment -> target segment, with where it sits in the article."""

    id: str  # e.g. "headline", "b3.s1" (block 3, sentence 1), "b5.i2.s0" (list item 2)
    kind: str = "sentence"  # headline, kicker, subheadline, heading, sentence, quote, caption, list_item
    source: str
    target: str
    attempts: int = 1
    origin: Literal["engine", "memory", "editor"] = "engine"  # memory: reused from the TM; editor: corrected
    flags: list[Flag] = Field(default_factory=list)
    suggestions: list[Suggestion] = Field(default_factory=list)
    # the quality estimate: probability (0-1) that this segment is good (lintas.quality.estimate); None: not estimated
    quality: float | None = None
    # what the engine said of its own output: token log-probabilities ("logprob_mean", "logprob_min", "entropy_mean")
    signals: dict[str, float] = Field(default_factory=dict)


class NameRendering(BaseModel):
    """How an edition writes one of the article's names (lintas.pipeline.names): from the glossary, CLDR, the engine asked
    for the name alone, or kept in Latin letters.  Engine renderings are the desk's "names to confirm"."""

    source: str
    form: str
    origin: str  # glossary | cldr | engine | latin


class Edition(Article):
    """An article translated into ``target_lang``; the source fields keep their meaning."""

    target_lang: str
    engine: str
    model: str
    created_at: datetime
    segments: list[SegmentAlignment] = Field(default_factory=list)
    signature: str = ""
    status: EditionStatus = "published"  # held: waits for an editor (hold policy)
    hold_reasons: list[str] = Field(default_factory=list)
    confidence: float = 1.0  # 0..1: the segments' quality estimates, aggregated (lintas.quality.estimate)
    names: list[NameRendering] = Field(default_factory=list)  # the article's name table in this language


SegmentKind = Literal["headline", "kicker", "subheadline", "heading", "sentence", "quote", "caption", "list_item"]


@dataclass(frozen=True)
class Segment:
    """One unit to translate.

    ``text`` is the tagged source (inline ``<a href="#1">``, ``<b>``, ``<i>``, ``<br>``);
    ``context`` is the surrounding paragraph in the source language, plain text (empty when
    the segment is the whole paragraph).
    ``terms`` are glossary constraints, (term as written in ``text``, required translation),
    for engines whose capabilities say ``glossary_mode="prompt"``; engines with ``glossary_mode=
    "placeholder"`` instead receive numbered placeholders ``⟦1⟧`` to copy, which the pipeline
    replaces by the required form (see :mod:`lintas.text.glossary`).
    ``examples`` are (source, translation) pairs from the translation memory that an LLM engine shows before the
    segment as worked examples (``LINTAS_MEMORY_EXAMPLES``); other engines ignore them.
    """

    id: str
    text: str
    kind: SegmentKind = "sentence"
    context: str = ""
    terms: tuple[tuple[str, str], ...] = ()
    examples: tuple[tuple[str, str], ...] = ()
