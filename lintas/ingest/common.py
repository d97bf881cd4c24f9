"""Helpers shared by the readers: sanitizing blocks, slugs, dates and one-line validation errors."""

from __future__ import annotations

import re
import unicodedata
import warnings
from datetime import date, datetime, time
from typing import Any

from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning, XMLParsedAsHTMLWarning
from pydantic import ValidationError

from lintas.errors import InputError
from lintas.text.article import Article, Block
from lintas.text.ids import check_article_id
from lintas.text.inline import parse_inline, plain_text, render_inline
from lintas.text.textsafe import clean_strings

__all__ = [
    "build_article",
    "clean_text",
    "field_path",
    "inline_text",
    "make_soup",
    "parse_datetime",
    "sanitize_block",
    "sanitize_inline",
    "slugify",
    "validation_message",
]

_SLUG_MAX = 80


def clean_text(text: str | None) -> str:
    """Collapse all whitespace runs to one space and trim."""
    return " ".join((text or "").split())


def make_soup(text: str) -> BeautifulSoup:
    """Parse a document with lxml, without bs4's warnings about input that looks like a path or XML."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        return BeautifulSoup(text, "lxml")


def sanitize_inline(fragment: str) -> str:
    """Inline HTML reduced to the safe subset (``<a href>``, ``<b>``, ``<i>``, ``<br>``)."""
    return render_inline(parse_inline(fragment))


def inline_text(fragment: str) -> str:
    """The plain text of an inline HTML fragment."""
    return plain_text(parse_inline(fragment))


def sanitize_block(block: Block) -> Block | None:
    """A copy of ``block`` with sanitized inline HTML and trimmed plain-text fields; None if empty."""
    html = sanitize_inline(block.html)
    items = [item for item in (sanitize_inline(i) for i in block.items) if item]
    cite = clean_text(block.cite) or None
    credit = clean_text(block.credit) or None
    alt = clean_text(block.alt) if block.alt is not None else None
    src = (block.src or "").strip() or None
    if block.type == "list" and not items:
        return None
    if block.type in ("paragraph", "heading", "quote") and not html:
        return None
    if block.type == "figure" and not (src or html):
        return None
    return block.model_copy(
        update={"html": html, "items": items, "cite": cite, "credit": credit, "alt": alt, "src": src}
    )


def slugify(text: str, fallback: str = "article") -> str:
    """ASCII slug: ``"Kanye West: Ye!"`` -> ``"kanye-west-ye"``."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(slug) > _SLUG_MAX:
        slug = slug[:_SLUG_MAX].rsplit("-", 1)[0] or slug[:_SLUG_MAX]
    return slug or fallback


def parse_datetime(value: object) -> datetime | None:
    """A datetime from ISO 8601 text, a ``date`` or a ``datetime``; None when unparseable."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, time())
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def field_path(loc: tuple[int | str, ...]) -> str:
    """``("body", 2, "type")`` -> ``"body[2].type"``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def validation_message(err: ValidationError, what: str) -> str:
    """One line naming the first failing field, e.g. ``invalid article JSON: field 'headline': ...``."""
    errors = err.errors()
    first = errors[0]
    path = field_path(tuple(first.get("loc", ())))
    msg = str(first.get("msg", "invalid value"))
    if first.get("type") == "missing":
        msg = "required field is missing"
    elif first.get("type") == "extra_forbidden":
        msg = "unknown field (not part of the article format)"
    more = f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})" if len(errors) > 1 else ""
    return f"invalid {what}: field '{path}': {msg}{more}"


def build_article(data: dict[str, Any], what: str) -> Article:
    """Validate ``data`` into an Article, turning pydantic errors into a one-line InputError; the text fields are
    cleaned of the characters XML and HTML cannot carry (:mod:`lintas.text.textsafe`); the id must follow the id grammar
    (:mod:`lintas.text.ids`: checked, never cleaned)."""
    try:
        article = Article.model_validate(data)
        fields = clean_strings(article.model_dump(exclude={"id"}, exclude_unset=True))
        article = Article.model_validate({**fields, "id": article.id})
    except ValidationError as err:
        raise InputError(validation_message(err, what)) from None
    check_article_id(article.id)
    body = [b for b in (sanitize_block(block) for block in article.body) if b is not None]
    return article.model_copy(update={"body": body})
