"""How much one article may ask of a worker: checked when an article is queued for translation.

A worker's time grows with the article's translatable text, and parts of the checks grow faster than that with
the number of segments, so an article that is queued must stay within:

* :data:`MAX_SEGMENT_CHARS` (5,000) characters in one segment (the headline, one sentence, a caption...);
* :data:`MAX_SEGMENTS` (2,000) segments;
* :data:`MAX_TEXT_CHARS` (200,000) characters of translatable text in all.

A long news article has about 100 segments and 30,000 characters. Within these limits an article takes a few
seconds of worker time with the ``fake`` engine (docs/formats.md); beyond them it is refused with one line
saying which limit and what to do. ``lintas translate`` (a local file, the user's own time) is not limited.
"""

from __future__ import annotations

from lintas.errors import InputError
from lintas.text.article import Article

__all__ = ["MAX_SEGMENTS", "MAX_SEGMENT_CHARS", "MAX_TEXT_CHARS", "check_translatable"]

MAX_SEGMENT_CHARS = 5_000
MAX_SEGMENTS = 2_000
MAX_TEXT_CHARS = 200_000


def check_translatable(article: Article) -> None:
    """InputError when ``article`` is beyond one of the limits above (a one-line message naming it)."""
    from lintas.text.assemble import split_article  # the segmentation the workers use

    units = split_article(article)
    if len(units) > MAX_SEGMENTS:
        raise InputError(
            f"the article has {len(units):,} segments to translate (limit {MAX_SEGMENTS:,}): "
            "split it into several articles"
        )
    total = 0
    for unit in units:
        size = len(unit.segment.text)
        if size > MAX_SEGMENT_CHARS:
            raise InputError(
                f"segment {unit.segment.id!r} ({unit.field}) is {size:,} characters long (limit {MAX_SEGMENT_CHARS:,}): "
                "break it into sentences"
            )
        total += size
    if total > MAX_TEXT_CHARS:
        raise InputError(
            f"the article has {total:,} characters to translate (limit {MAX_TEXT_CHARS:,}): "
            "split it into several articles"
        )
