"""Inline markup as runs of text with marks, and the tagged form the engines see.

A paragraph such as ``Kata <a href="https://x.id">tautan</a> <b>tebal</b>`` becomes runs
``[("Kata ", ()), ("tautan", (("a", "https://x.id"),)), (" ", ()), ("tebal", (("b", None),))]``.
Sentence segmentation works on the plain text of the runs; each sentence is then sent to the
engine in a *tagged* form where links are numbered (``<a href="#1">tautan</a>``) so that the
real URL never passes through the model and can be restored, or its loss detected.
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Callable
from dataclasses import dataclass

from bs4 import BeautifulSoup
from bs4.element import NavigableString, Tag

__all__ = [
    "Run",
    "attr_text",
    "parse_inline",
    "render_inline",
    "plain_text",
    "slice_runs",
    "to_tagged",
    "from_tagged",
    "TaggedResult",
]

Mark = tuple[str, str | None]  # ("a", href) | ("b", None) | ("i", None)


@dataclass(frozen=True)
class Run:
    text: str
    marks: tuple[Mark, ...] = ()


_BOLD = {"b", "strong"}
_ITALIC = {"i", "em"}
_DROP = {"script", "style", "template", "iframe", "object", "embed", "noscript"}
_SAFE_SCHEMES = ("http://", "https://", "mailto:", "/", "#", "tel:")


def _safe_href(href: str | None) -> str | None:
    if href is None:
        return None
    href = href.strip()
    if href.lower().startswith(_SAFE_SCHEMES) or ("://" not in href and ":" not in href.split("/")[0]):
        return href
    return None  # javascript:, data:, vbscript: ... are dropped


def attr_text(tag: Tag, name: str) -> str | None:
    """An attribute's value as text (bs4 gives a list for multi-valued attributes such as ``class``)."""
    value = tag.get(name)
    if value is None or isinstance(value, str):
        return value
    return " ".join(value)


def _walk(node: Tag, marks: tuple[Mark, ...], out: list[Run], href_of: Callable[[str | None], str | None]) -> None:
    """Collect runs under ``node``; ``href_of`` maps an ``<a href>`` to the link kept (or None)."""
    for child in node.children:
        if isinstance(child, NavigableString):
            if type(child) is NavigableString and str(child):  # skip comments, CDATA, doctype
                out.append(Run(re.sub(r"[\r\n\t]", " ", str(child)), marks))
            continue
        if not isinstance(child, Tag):
            continue
        name = child.name.lower()
        if name in _DROP:
            continue
        if name == "br":
            out.append(Run("\n", marks))
            continue
        new = marks
        if name == "a":
            href = href_of(attr_text(child, "href"))
            if href:
                new = (*marks, ("a", href))
        elif name in _BOLD and ("b", None) not in marks:
            new = (*marks, ("b", None))
        elif name in _ITALIC and ("i", None) not in marks:
            new = (*marks, ("i", None))
        _walk(child, new, out, href_of)


def _merge(runs: list[Run]) -> list[Run]:
    merged: list[Run] = []
    for run in runs:
        if merged and merged[-1].marks == run.marks and run.text != "\n" and merged[-1].text != "\n":
            merged[-1] = Run(merged[-1].text + run.text, run.marks)
        elif run.text:
            merged.append(run)
    return merged


def _collapse_spaces(runs: list[Run]) -> list[Run]:
    """Collapse runs of whitespace across run borders and trim both ends."""
    out: list[Run] = []
    prev_space = True
    for run in runs:
        if run.text == "\n":
            out.append(run)
            prev_space = True
            continue
        chars: list[str] = []
        for ch in run.text:
            if ch.isspace():
                if not prev_space:
                    chars.append(" ")
                prev_space = True
            else:
                chars.append(ch)
                prev_space = False
        if chars:
            out.append(Run("".join(chars), run.marks))
    if out and out[-1].text.endswith(" "):
        out[-1] = Run(out[-1].text.rstrip(" "), out[-1].marks)
    return [r for r in out if r.text]


def parse_inline(fragment: str) -> list[Run]:
    """Parse inline HTML (a sanitized subset is kept) into runs."""
    soup = BeautifulSoup(fragment or "", "html.parser")
    runs: list[Run] = []
    _walk(soup, (), runs, _safe_href)
    return _merge(_collapse_spaces(runs))


def _serialize(runs: list[Run], href_of: Callable[[str], str]) -> str:
    """Serialize runs with properly nested tags (marks are ordered outer to inner)."""
    parts: list[str] = []
    stack: list[Mark] = []

    def close_to(depth: int) -> None:
        while len(stack) > depth:
            tag, _ = stack.pop()
            parts.append(f"</{tag}>")

    for run in runs:
        marks = list(run.marks)
        common = 0
        while common < min(len(stack), len(marks)) and stack[common] == marks[common]:
            common += 1
        close_to(common)
        for tag, value in marks[common:]:
            if tag == "a":
                parts.append(f'<a href="{html_lib.escape(href_of(value or ""), quote=True)}">')
            else:
                parts.append(f"<{tag}>")
            stack.append((tag, value))
        parts.append("<br>" if run.text == "\n" else html_lib.escape(run.text, quote=False))
    close_to(0)
    return "".join(parts)


def render_inline(runs: list[Run]) -> str:
    """Runs back to (escaped, safe) inline HTML."""
    return _serialize(runs, lambda href: href)


def plain_text(runs: list[Run]) -> str:
    return "".join(r.text for r in runs)


def slice_runs(runs: list[Run], start: int, end: int) -> list[Run]:
    """The runs covering plain-text offsets ``[start, end)``."""
    out: list[Run] = []
    pos = 0
    for run in runs:
        r_start, r_end = pos, pos + len(run.text)
        pos = r_end
        lo, hi = max(start, r_start), min(end, r_end)
        if lo < hi:
            out.append(Run(run.text[lo - r_start : hi - r_start], run.marks))
    return out


def to_tagged(runs: list[Run], links: list[str] | None = None) -> tuple[str, list[str]]:
    """Runs to the tagged text an engine sees, and the list of link targets (1-based ids).

    Pass ``links`` to keep an existing numbering (new targets are appended)."""
    links = list(links or [])
    for run in runs:
        for tag, value in run.marks:
            if tag == "a" and value not in links:
                links.append(value or "")
    return _serialize(runs, lambda href: f"#{links.index(href) + 1}"), links


@dataclass
class TaggedResult:
    runs: list[Run]
    missing_links: list[str]
    unknown_links: int
    lost_marks: set[str]


def from_tagged(text: str, links: list[str], expected_marks: set[str] | None = None) -> TaggedResult:
    """Parse an engine's tagged output back to runs, restoring link targets by id.

    Reports links that did not come back, link ids the source never had, and mark kinds
    (``b``/``i``/``br``) present in the source but absent from the output.
    """
    soup = BeautifulSoup(text or "", "html.parser")
    raw: list[Run] = []
    _walk(soup, (), raw, lambda href: _link_id(href, links))
    runs = _merge(_collapse_spaces(raw))
    seen = {value for run in runs for tag, value in run.marks if tag == "a"}
    unknown = sum(1 for a in soup.find_all("a") if _link_id(attr_text(a, "href"), links) is None)
    present = {tag for run in runs for tag, _ in run.marks} | ({"br"} if any(r.text == "\n" for r in runs) else set())
    lost = (expected_marks or set()) - present - {"a"}
    return TaggedResult(runs, [u for u in links if u not in seen], unknown, lost)


def _link_id(href: str | None, links: list[str]) -> str | None:
    if not href:
        return None
    key = href.strip().lstrip("#")
    if key.isdigit() and 1 <= int(key) <= len(links):
        return links[int(key) - 1]
    return href if href in links else None
