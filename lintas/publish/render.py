"""Publishing: an :class:`~lintas.text.article.Edition` (or its Indonesian source) as a standalone page.

Every piece of text reaches the page through the Jinja2 template with autoescaping on; the only
markup let through is the inline HTML of the blocks, and only after it has been parsed into runs
and serialized again by :mod:`lintas.text.inline` (links, bold, italic and line breaks, nothing else).
Image sources and link targets built here are restricted to ``http(s)`` or relative URLs.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from lintas.text.article import Article, Block, Edition
from lintas.text.inline import parse_inline, render_inline
from lintas.text.languages import LANGUAGES, Language, get_language

__all__ = [
    "SiteLinks",
    "edition_to_json",
    "render_edition_html",
    "render_source_html",
    "safe_basename",
    "safe_url",
    "source_filename",
    "write_edition",
    "write_source",
]

_CJK = {"zh", "ja", "ko"}
_CONTROL_OR_SPACE = re.compile(r"[\x00-\x20\x7f-\x9f]")
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")
_FONT_UNSAFE = re.compile(r"[^\w\s,'\"-]", re.UNICODE)
_SAFE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*(?:\.[a-z0-9_-]+)*")
_HREFLANG = re.compile(r"x-default|[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*")
_DASH_END = ("-", "\u2013", "\u2014", ":", "\uff1a", "\u2015")


@lru_cache(maxsize=1)
def _env() -> Environment:
    return Environment(
        loader=PackageLoader("lintas.publish", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def safe_url(url: str | None) -> str | None:
    """``url`` if it is an ``http(s)`` URL (absolute or protocol-relative) or a relative one.

    ``javascript:``, ``data:``, ``vbscript:`` and every other scheme give ``None``; control
    characters and whitespace are ignored when looking for the scheme, as browsers do.
    """
    if url is None:
        return None
    url = url.strip()
    if not url:
        return None
    probe = _CONTROL_OR_SPACE.sub("", url)
    match = _SCHEME.match(probe)
    if match:
        return url if match.group(1).lower() in ("http", "https") else None
    if probe.startswith("\\") or ":" in probe.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]:
        return None
    return url


@dataclass(frozen=True)
class SiteLinks:
    """A public page's links: its canonical URL, ``(hreflang, URL)`` of every version (``x-default`` included),
    and its language's feed."""

    canonical: str | None = None
    alternates: tuple[tuple[str, str], ...] = ()
    feed: str | None = None


def _versions(site: SiteLinks, current: str) -> list[dict[str, Any]]:
    """The language switcher: every version but ``x-default``, by its own name."""
    out = []
    for hreflang, href in site.alternates:
        language = LANGUAGES.get(hreflang)
        if language is None or not safe_url(href):
            continue
        out.append(
            {
                "hreflang": hreflang,
                "href": href,
                "label": language.native,
                "dir": "rtl" if language.direction == "rtl" else "ltr",
                "current": hreflang == current,
            }
        )
    return out


def _inline(fragment: str) -> Markup:
    """Inline HTML re-sanitized through runs: the only place markup is marked safe."""
    return Markup(render_inline(parse_inline(fragment)))


def _css_fonts(fonts: str) -> Markup:
    """The font stack, stripped of anything that could leave the CSS declaration (goes raw in <style>)."""
    cleaned = _FONT_UNSAFE.sub("", fonts).strip()
    return Markup(cleaned or "serif")


def _display_time(moment: datetime) -> str:
    text = moment.strftime("%Y-%m-%d %H:%M")
    offset = moment.strftime("%z")
    if offset:
        text += " UTC" if offset == "+0000" else f" {offset[:3]}:{offset[3:]}"
    return text


@dataclass
class _BlockView:
    type: str
    html: Markup = field(default_factory=Markup)
    items: list[Markup] = field(default_factory=list)
    ordered: bool = False
    cite: str = ""
    src: str | None = None
    alt: str = ""
    credit: str = ""
    dateline: str = ""
    dateline_sep: str = ""


def _block_view(block: Block) -> _BlockView | None:
    kind = block.type
    if kind == "list":
        items = [_inline(item) for item in block.items]
        items = [item for item in items if item]
        return _BlockView(kind, items=items, ordered=block.ordered) if items else None
    html = _inline(block.html)
    if kind == "quote":
        cite = (block.cite or "").strip()
        return _BlockView(kind, html=html, cite=cite) if html or cite else None
    if kind == "figure":
        src = safe_url(block.src)
        credit = (block.credit or "").strip()
        if not (src or html or credit):
            return None
        return _BlockView(kind, html=html, src=src, alt=(block.alt or "").strip(), credit=credit)
    return _BlockView(kind, html=html) if html else None


def _blocks(body: list[Block], dateline: str | None) -> list[_BlockView]:
    views = [view for view in (_block_view(block) for block in body) if view is not None]
    dateline = (dateline or "").strip()
    if dateline:
        sep = "" if dateline.endswith(_DASH_END) else " \u2013"
        first = next((view for view in views if view.type == "paragraph"), None)
        if first is None:
            views.insert(0, _BlockView("paragraph", dateline=dateline))
        else:
            first.dateline = dateline
            first.dateline_sep = sep + " "
    return views


def _render(
    article: Article,
    lang: Language,
    *,
    original_href: str | None,
    original_label: str,
    notice: str,
    generator: str,
    engine: str = "",
    model: str = "",
    signature: str = "",
    created_at: datetime | None = None,
    status: str = "",
    confidence: float | None = None,
    site: SiteLinks | None = None,
) -> str:
    site = site or SiteLinks()
    context: dict[str, Any] = {
        "canonical": safe_url(site.canonical) or "",
        "alternates": [
            {"hreflang": hreflang, "href": href}
            for hreflang, href in site.alternates
            if _HREFLANG.fullmatch(hreflang) and safe_url(href)
        ],
        "versions": _versions(site, lang.code),
        "versions_label": lang.versions_label or "Languages",
        "feed_href": safe_url(site.feed) or "",
        "status": status,
        "confidence": f"{confidence:.2f}" if confidence is not None else "",
        "lang": lang.code,
        "direction": "rtl" if lang.direction == "rtl" else "ltr",
        "cjk": lang.code.split("-")[0].lower() in _CJK,
        "fonts": _css_fonts(lang.fonts),
        "source_lang": article.source_lang,
        "headline": article.headline.strip(),
        "kicker": (article.kicker or "").strip(),
        "subheadline": (article.subheadline or "").strip(),
        "author": (article.author or "").strip(),
        "published_iso": article.published_at.isoformat() if article.published_at else "",
        "published_display": _display_time(article.published_at) if article.published_at else "",
        "updated_iso": article.updated_at.isoformat() if article.updated_at else "",
        "blocks": _blocks(article.body, article.dateline),
        "tags": [tag.strip() for tag in article.tags if tag.strip()],
        "notice": notice,
        "original_href": safe_url(original_href),
        "original_label": original_label,
        "generator": generator,
        "engine": engine,
        "model": model,
        "signature": signature,
        "created_iso": created_at.isoformat() if created_at else "",
    }
    return _env().get_template("edition.html").render(**context)


def render_edition_html(edition: Edition, *, original_href: str | None = None, site: SiteLinks | None = None) -> str:
    """A standalone HTML5 page for ``edition``, with the machine-translation notice at the end.

    The notice links to the original at ``original_href``, or else ``edition.canonical_url``;
    without either (or when neither is an ``http(s)``/relative URL) the link is left out. ``site`` adds the
    public site's links: canonical URL, hreflang alternates with a language switcher, the language's feed.
    """
    lang = get_language(edition.target_lang)
    engine_model = f"{edition.engine}/{edition.model}" if edition.model else edition.engine
    generator = f"Lintas ({engine_model})"
    if edition.signature:
        generator += f"; signature {edition.signature}"
    return _render(
        edition,
        lang,
        original_href=original_href or edition.canonical_url,
        original_label=lang.original_label,
        notice=lang.notice or get_language("en").notice,
        generator=generator,
        engine=edition.engine,
        model=edition.model,
        signature=edition.signature,
        created_at=edition.created_at,
        status=edition.status,
        confidence=edition.confidence,
        site=site,
    )


def render_source_html(article: Article, *, site: SiteLinks | None = None) -> str:
    """The original article as a page in its own language (no notice), the editions' link target.

    When the article has a ``canonical_url`` the page ends with a link to it. ``site``: as for
    :func:`render_edition_html`.
    """
    lang = get_language(article.source_lang)
    return _render(
        article,
        lang,
        original_href=article.canonical_url,
        original_label=lang.original_label,
        notice="",
        generator="Lintas",
        site=site,
    )


def edition_to_json(edition: Edition) -> str:
    """``edition`` as pretty JSON (UTF-8 text, not ASCII-escaped), ending with a newline."""
    return json.dumps(edition.model_dump(mode="json"), ensure_ascii=False, indent=2) + "\n"


def safe_basename(value: str) -> str:
    """A file-name-safe form of an article id or language code.

    Ids that are already lower-case ASCII ``[a-z0-9._-]`` (no leading dot, no ``..``, at most
    120 characters) are kept as they are; any other id is slugified and given a short hash of
    the original so that distinct ids never share a file name.
    """
    if len(value) <= 120 and _SAFE_NAME.fullmatch(value):
        return value
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")[:80].strip("-")
    digest = hashlib.sha256(value.encode("utf-8")).hexdigest()[:10]
    return f"{slug}-{digest}" if slug else digest


def source_filename(article_id: str, source_lang: str = "id") -> str:
    """File name of the original's page, ``{id}.{source_lang}.html``; relative link for editions."""
    return f"{safe_basename(article_id)}.{safe_basename(source_lang)}.html"


def _write_text(path: Path, text: str) -> None:
    """Write atomically: a temporary file in the same folder, then a rename."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_edition(edition: Edition, out_dir: Path, *, original_href: str | None = None) -> list[Path]:
    """Write ``{id}.{lang}.json`` and ``{id}.{lang}.html`` into ``out_dir``; return both paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{safe_basename(edition.id)}.{safe_basename(edition.target_lang)}"
    json_path = out_dir / f"{stem}.json"
    html_path = out_dir / f"{stem}.html"
    _write_text(json_path, edition_to_json(edition))
    _write_text(html_path, render_edition_html(edition, original_href=original_href))
    return [json_path, html_path]


def write_source(article: Article, out_dir: Path) -> Path:
    """Write the original's page as ``{id}.{source_lang}.html`` (see :func:`source_filename`)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / source_filename(article.id, article.source_lang)
    _write_text(path, render_source_html(article))
    return path
