"""Body extraction from parsed HTML (shared by the HTML and Markdown readers).

Walks a container in document order and turns ``<p>``, ``<h2>``-``<h6>``, ``<blockquote>``,
``<ul>``/``<ol>`` and ``<figure>`` into :class:`~lintas.text.article.Block` objects with sanitized inline
HTML.  Navigation, asides, footers, scripts, styles and forms are skipped.
"""

from __future__ import annotations

import html as html_lib
import re

from bs4.element import NavigableString, Tag

from lintas.ingest.common import clean_text, inline_text, sanitize_block
from lintas.text.article import Block
from lintas.text.inline import parse_inline, plain_text, render_inline, slice_runs

__all__ = ["SKIP_TAGS", "extract_body", "has_class", "is_skipped", "split_credit", "split_dateline"]

SKIP_TAGS = frozenset(
    {
        "nav",
        "aside",
        "footer",
        "script",
        "style",
        "form",
        "noscript",
        "template",
        "iframe",
        "button",
        "input",
        "select",
        "textarea",
        "svg",
        "canvas",
        "video",
        "audio",
        "object",
        "embed",
        "table",
        "head",
        "link",
        "meta",
        "title",
        "dialog",
        "menu",
    }
)
_INLINE_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "span",
        "br",
        "u",
        "small",
        "sup",
        "sub",
        "mark",
        "abbr",
        "cite",
        "q",
        "code",
        "time",
        "s",
        "font",
        "bdi",
        "bdo",
        "kbd",
        "var",
        "dfn",
        "ins",
        "del",
        "wbr",
    }
)
_NOISE_CLASSES = ("advert", "iklan", "baca-juga", "bacajuga", "read-also", "related", "share", "newsletter")
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_SEPARATOR = r"(?:-{1,2}|–|—)"
_PLACE = r"[A-Z](?:[A-Z.'’ ]|-(?=[A-Z]))*[A-Z.]"
_DATELINE_RE = re.compile(
    rf"^\s*(?P<dl>{_PLACE}(?:\s*\([A-Za-z. ]{{1,30}}\))?(?:,\s*[^\s,–—-]+(?:\s[^\s,–—-]+){{0,2}})?)"
    rf"\s*{_SEPARATOR}\s+"
)
_LEADING_SEPARATOR_RE = re.compile(rf"^\s*{_SEPARATOR}\s+")
_TRAILING_PARENS_RE = re.compile(r"\s*(\(([^()]{1,100})\))\s*$")
_CREDIT_WORDS_RE = re.compile(
    r"(?i)^\s*(foto|photo|dok|dokumentasi|sumber|source|ilustrasi|getty|reuters|afp|ap|antara|"
    r"istimewa|kompas|tempo|detik|twitter|instagram|facebook|youtube|tiktok|x|shutterstock|via|"
    r"courtesy|credit|kredit)\b"
)
_ATTRIBUTION_RE = re.compile(r"^\s*(?:—|―|--|–|~)\s*(\S.{0,150})$")
_READ_ALSO_RE = re.compile(r"(?i)^\s*(baca juga|read also|lihat juga)\s*:")


def _classes(el: Tag) -> list[str]:
    value = el.get("class")
    if isinstance(value, str):
        return value.lower().split()
    return [str(c).lower() for c in value or []]


def has_class(el: Tag, *needles: str) -> bool:
    """Whether any class token of ``el`` contains one of ``needles``."""
    return any(needle in cls for cls in _classes(el) for needle in needles)


def _skip_self(el: Tag) -> bool:
    return el.name.lower() in SKIP_TAGS or el.has_attr("hidden") or has_class(el, *_NOISE_CLASSES)


def is_skipped(el: Tag) -> bool:
    """Whether ``el`` or an ancestor is navigation, an aside, a footer, a script... or hidden noise."""
    node: Tag | None = el
    while node is not None and node.name not in ("[document]", "html", "body"):
        if _skip_self(node) and not (node.name == "footer" and node.find_parent("blockquote")):
            return True
        node = node.parent
    return False


def _text(el: Tag) -> str:
    return clean_text(el.get_text(" "))


def _meaningful(el: Tag) -> list[Tag | NavigableString]:
    """Children that are tags other than <br>, or non-blank text."""
    out: list[Tag | NavigableString] = []
    for child in el.children:
        if isinstance(child, Tag):
            if child.name != "br":
                out.append(child)
        elif type(child) is NavigableString and child.strip():
            out.append(child)
    return out


def _as_image(node: Tag | NavigableString) -> Tag | None:
    """``node`` if it is an <img>, or the lone <img> wrapped in an <a>/<picture>."""
    if not isinstance(node, Tag):
        return None
    if node.name == "img":
        return node
    if node.name in ("a", "picture", "span") and not clean_text(node.get_text()):
        imgs = node.find_all("img")
        return imgs[0] if len(imgs) == 1 else None
    return None


def _attr(el: Tag, *names: str) -> str | None:
    for name in names:
        value = el.get(name)
        if isinstance(value, list):
            value = " ".join(value)
        if value and value.strip():
            return value.strip()
    return None


def _looks_like_credit(inner: str) -> bool:
    return "/" in inner or "@" in inner or bool(_CREDIT_WORDS_RE.match(inner))


def split_credit(caption_html: str) -> tuple[str, str | None]:
    """Move a trailing credit such as ``(Twitter/@zlj517)`` out of a caption: ``(caption, credit)``."""
    runs = parse_inline(caption_html)
    text = plain_text(runs)
    match = _TRAILING_PARENS_RE.search(text)
    if not match or not _looks_like_credit(match.group(2)):
        return render_inline(runs), None
    return render_inline(slice_runs(runs, 0, match.start())), match.group(1)


def _figure_block(img: Tag | None, caption_html: str, credit: str | None = None) -> Block:
    src = _attr(img, "src", "data-src", "data-original", "data-lazy-src") if img else None
    alt = _attr(img, "alt") if img else None
    caption, trailing = split_credit(caption_html)
    return Block(type="figure", src=src, alt=alt, html=caption, credit=credit or trailing)


def split_dateline(blocks: list[Block], known: str | None = None) -> tuple[str | None, list[Block]]:
    """Split a ``JAKARTA -`` / ``JAKARTA, KOMPAS.com -`` prefix off the first paragraph.

    With ``known`` (a dateline found elsewhere), only a leading separator or a repetition of the
    same dateline is removed from the paragraph.
    """
    index = next((i for i, b in enumerate(blocks) if b.type == "paragraph"), None)
    if index is None or index > 1:
        return known, blocks
    runs = parse_inline(blocks[index].html)
    text = plain_text(runs)
    match = _DATELINE_RE.match(text)
    dateline = known
    if match and (known is None or clean_text(match.group("dl")).upper() == clean_text(known).upper()):
        dateline = dateline or clean_text(match.group("dl"))
    elif known is not None:
        match = _LEADING_SEPARATOR_RE.match(text)
    else:
        match = None
    if match is None:
        return dateline, blocks
    rest = render_inline(slice_runs(runs, match.end(), len(text)))
    out = list(blocks)
    if rest:
        out[index] = blocks[index].model_copy(update={"html": rest})
    else:
        del out[index]
    return dateline, out


class _BodyWalker:
    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.skip: set[int] = set()

    def walk(self, container: Tag) -> None:
        pending: list[str] = []

        def flush() -> None:
            fragment = "".join(pending).strip()
            pending.clear()
            while fragment.endswith("<br/>"):
                fragment = fragment[: -len("<br/>")].rstrip()
            if inline_text(fragment).strip() and not _READ_ALSO_RE.match(inline_text(fragment)):
                self.blocks.append(Block(type="paragraph", html=fragment))

        for child in list(container.children):
            if isinstance(child, NavigableString):
                if type(child) is NavigableString:
                    pending.append(html_lib.escape(str(child), quote=False))
                continue
            if not isinstance(child, Tag) or id(child) in self.skip or _skip_self(child):
                continue
            name = child.name.lower()
            if name == "br":
                while pending and not pending[-1].strip():
                    pending.pop()
                if pending and pending[-1] == "<br/>":
                    flush()  # a blank line (<br><br>) separates loose paragraphs
                else:
                    pending.append("<br/>")
                continue
            if name in _INLINE_TAGS and _as_image(child) is None:
                pending.append(str(child))
                continue
            flush()
            self._block(child, name)
        flush()

    def _block(self, el: Tag, name: str) -> None:
        if name == "p":
            self._paragraph(el)
        elif name in _HEADINGS:
            self.blocks.append(Block(type="heading", html=el.decode_contents()))
        elif name == "blockquote":
            self._quote(el)
        elif name in ("ul", "ol"):
            items = el.find_all("li", recursive=False) or el.find_all("li")
            self.blocks.append(Block(type="list", ordered=name == "ol", items=[li.decode_contents() for li in items]))
        elif name == "figure":
            self._figure(el)
        elif name in ("img", "picture", "a", "span"):
            img = _as_image(el) if name != "picture" else el.find("img")
            if isinstance(img, Tag):
                self.blocks.append(_figure_block(img, html_lib.escape(_attr(img, "title") or "")))
        elif name != "hr":
            self.walk(el)

    def _paragraph(self, el: Tag) -> None:
        if _READ_ALSO_RE.match(_text(el)):
            return
        parts = _meaningful(el)
        img = _as_image(parts[0]) if parts else None
        if img is None or len(parts) > 2:
            self.blocks.append(Block(type="paragraph", html=el.decode_contents()))
            return
        caption = ""
        if len(parts) == 2:
            second = parts[1]
            if not (isinstance(second, Tag) and second.name in ("em", "i")):
                self.blocks.append(Block(type="paragraph", html=el.decode_contents()))
                return
            caption = second.decode_contents()
        else:
            following = el.find_next_sibling()
            if isinstance(following, Tag) and following.name == "p":
                inner = _meaningful(following)
                if len(inner) == 1 and isinstance(inner[0], Tag) and inner[0].name in ("em", "i"):
                    caption = inner[0].decode_contents()
                    self.skip.add(id(following))
        if not caption:
            caption = html_lib.escape(_attr(img, "title") or "")
        self.blocks.append(_figure_block(img, caption))

    def _quote(self, el: Tag) -> None:
        cite: str | None = None
        source = el.find("footer")
        if source is None:
            cites = el.find_all("cite")
            last = cites[-1] if cites else None
            if last is not None and _text(el).endswith(_text(last)):
                source = last
        if isinstance(source, Tag):
            cite = _text(source).lstrip("—–―-~ ").strip() or None
            source.decompose()
        inner = _BodyWalker()
        inner.walk(el)
        closing = inner.blocks[-1] if len(inner.blocks) > 1 else None
        if cite is None and closing is not None and closing.type == "paragraph":
            attribution = _ATTRIBUTION_RE.match(inline_text(closing.html))
            if attribution:  # a last line "— Name" (Markdown has no <footer>)
                cite = clean_text(attribution.group(1))
                inner.blocks.pop()
        parts = [b.html or "<br>".join(b.items) for b in inner.blocks]
        self.blocks.append(Block(type="quote", html=" ".join(parts), cite=cite))

    def _figure(self, el: Tag) -> None:
        credit: str | None = None
        credit_el = next((t for t in el.find_all(True) if has_class(t, "credit", "copyright")), None)
        if credit_el is not None:
            credit = _text(credit_el) or None
            credit_el.decompose()
        img = el.find("img")
        caption_el = el.find("figcaption")
        if caption_el is not None:
            caption = caption_el.decode_contents()
        elif isinstance(img, Tag):
            caption = html_lib.escape(_attr(img, "title") or "")
        else:
            caption = ""
        self.blocks.append(_figure_block(img if isinstance(img, Tag) else None, caption, credit))


def extract_body(container: Tag) -> list[Block]:
    """The body blocks of ``container`` in document order, sanitized, empty ones dropped."""
    walker = _BodyWalker()
    walker.walk(container)
    return [b for b in (sanitize_block(block) for block in walker.blocks) if b is not None]
