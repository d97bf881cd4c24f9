"""Protected spans: URLs, e-mail addresses, @handles and #hashtags must come out unchanged.

Links inside the markup are protected by numbering (see :mod:`lintas.text.inline`); the spans here
live in running text, are copied by the engine, and are checked and repaired afterwards.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Span", "find_spans", "missing_spans", "repair_spans"]

_PATTERNS: tuple[tuple[str, str], ...] = (
    ("url", r"\b(?:https?://|www\.)[^\s<>\"'“”«»]+[^\s<>\"'“”«».,;:!?)\]]"),
    ("email", r"\b[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b"),
    ("handle", r"(?<![\w@/])@[A-Za-z0-9_]{1,30}(?:\.[A-Za-z0-9_]+)*\b"),
    ("hashtag", r"(?<![\w#&])#[^\W\d_][\w]*"),
)
_SPAN_RE = re.compile("|".join(f"(?P<{kind}>{pattern})" for kind, pattern in _PATTERNS))
_TAG_RE = re.compile(r"<[^>]*>")


@dataclass(frozen=True)
class Span:
    kind: str  # url | email | handle | hashtag
    text: str


def find_spans(text: str) -> list[Span]:
    """Protected spans in ``text`` (tags are ignored, so link ids like ``#1`` never count)."""
    plain = _TAG_RE.sub(" ", text)
    spans: list[Span] = []
    for match in _SPAN_RE.finditer(plain):
        kind = match.lastgroup or "url"
        spans.append(Span(kind, match.group(0)))
    return spans


def missing_spans(source: str, target: str) -> list[Span]:
    """Spans of the source that do not appear verbatim in the target (with multiplicity)."""
    remaining = _TAG_RE.sub(" ", target)
    missing = []
    for span in find_spans(source):
        if span.text in remaining:
            remaining = remaining.replace(span.text, "", 1)
        else:
            missing.append(span)
    return missing


def _loose(span: str) -> re.Pattern[str]:
    """The span with optional spaces between characters, any case: what models make of it."""
    return re.compile(r"\s*".join(re.escape(ch) for ch in span), re.IGNORECASE)


def repair_spans(target: str, missing: list[Span]) -> tuple[str, list[Span]]:
    """Restore spans the engine altered (case, inserted spaces); returns (text, still missing)."""
    still: list[Span] = []
    for span in missing:
        fixed, count = _loose(span.text).subn(span.text.replace("\\", "\\\\"), target, count=1)
        if count:
            target = fixed
        else:
            still.append(span)
    return target, still
