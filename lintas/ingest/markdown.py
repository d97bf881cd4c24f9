"""Markdown reader: YAML front matter for the metadata, markdown-it for the body.

Front matter keys map to Article fields (``id``, ``headline`` or ``title``, ``kicker``,
``subheadline``, ``dateline``, ``author``, ``tags``, ``canonical_url``, ``published_at``,
``updated_at``, ``revision``); other keys are ignored.  Without a headline in the front matter,
the first ``# `` heading is the headline.  The body is rendered to HTML and read like an HTML body:
an image alone in a paragraph becomes a figure (alt from the image, caption from a following
italic line or the image title, a trailing ``(Twitter/@handle)`` becoming the credit).
"""

from __future__ import annotations

from typing import Any

import yaml
from bs4 import Tag
from frontmatter.default_handlers import YAMLHandler
from markdown_it import MarkdownIt

from lintas.errors import InputError
from lintas.ingest._body import extract_body, split_dateline
from lintas.ingest.common import build_article, clean_text, make_soup, parse_datetime, slugify
from lintas.text.article import Article

__all__ = ["FRONT_MATTER_KEYS", "parse_markdown"]

# front matter key -> Article field
FRONT_MATTER_KEYS: dict[str, str] = {
    "id": "id",
    "headline": "headline",
    "title": "headline",
    "kicker": "kicker",
    "subheadline": "subheadline",
    "subtitle": "subheadline",
    "dateline": "dateline",
    "author": "author",
    "tags": "tags",
    "keywords": "tags",
    "canonical_url": "canonical_url",
    "canonical": "canonical_url",
    "published_at": "published_at",
    "date": "published_at",
    "updated_at": "updated_at",
    "revision": "revision",
}
_TEXT_FIELDS = {"id", "headline", "kicker", "subheadline", "dateline", "author", "canonical_url"}
_DATE_FIELDS = {"published_at", "updated_at"}


def _load(text: str) -> tuple[dict[str, Any], str]:  # Any: YAML's values, checked by the Article model
    handler = YAMLHandler()
    if not handler.detect(text):
        return {}, text
    try:
        raw, content = handler.split(text)
        meta = handler.load(raw)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" (line {mark.line + 2}, column {mark.column + 1})" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise InputError(f"the Markdown front matter is not valid YAML: {problem}{where}") from None
    except ValueError as err:
        raise InputError(f"the Markdown front matter is unreadable: {err}") from None
    if meta is None:
        return {}, content
    if not isinstance(meta, dict):
        raise InputError(
            "the Markdown front matter must be a mapping of keys to values (key: value lines), "
            f"not a {type(meta).__name__}"
        )
    return dict(meta), content


def _front_matter_fields(meta: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for key, value in meta.items():
        field = FRONT_MATTER_KEYS.get(str(key).strip().lower())
        if field is None or value is None or field in fields:
            continue
        if field in _TEXT_FIELDS and isinstance(value, (str, int, float)) and not isinstance(value, bool):
            value = clean_text(str(value)) or None
        elif field == "tags":
            if isinstance(value, str):
                value = [t for t in (clean_text(v) for v in value.split(",")) if t]
            elif isinstance(value, list):
                value = [clean_text(str(v)) for v in value if v is not None and clean_text(str(v))]
        elif field in _DATE_FIELDS:
            value = parse_datetime(value) or value  # leave bad values for validation to name
        if value is not None:
            fields[field] = value
    return fields


def parse_markdown(text: str, *, article_id: str | None = None) -> Article:
    """Read an article from Markdown (front matter optional); raises InputError on unusable input."""
    meta, content = _load(text)
    fields = _front_matter_fields(meta)
    rendered = MarkdownIt("commonmark").render(content)
    soup = make_soup(f"<html><body>{rendered}</body></html>")
    root = soup.body if isinstance(soup.body, Tag) else soup
    first_h1 = root.find("h1")
    if isinstance(first_h1, Tag):
        h1_text = clean_text(first_h1.get_text(" "))
        if "headline" not in fields:
            fields["headline"] = h1_text
            first_h1.decompose()
        elif h1_text == clean_text(str(fields["headline"])):
            first_h1.decompose()  # the headline repeated as the first heading
    if not fields.get("headline"):
        raise InputError(
            "no headline found in the Markdown (no 'headline'/'title' in the front matter and no '# ' heading)"
        )
    dateline, body = split_dateline(extract_body(root), fields.get("dateline"))
    if not body:
        raise InputError("no article body found in the Markdown (only a headline and front matter)")
    fields["dateline"] = dateline
    fields["body"] = [b.model_dump() for b in body]
    if article_id:
        fields["id"] = article_id
    fields.setdefault("id", slugify(str(fields["headline"])))
    return build_article(fields, "Markdown front matter")
