"""JSON reader: an object matching :class:`lintas.text.article.Article`, validated with pydantic.

The JSON Schema shipped as ``schema/article.schema.json`` is :func:`article_json_schema`; regenerate
it after changing the model with ``python -c "from lintas.ingest.jsonfile import write_article_schema;
write_article_schema()"`` (a test fails while the file and the model disagree).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lintas.errors import InputError
from lintas.ingest.common import build_article
from lintas.text.article import Article

__all__ = ["SCHEMA_ID", "SCHEMA_PATH", "article_json_schema", "parse_json", "write_article_schema"]

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schema" / "article.schema.json"
SCHEMA_ID = "urn:lintas:schema:article"
_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def article_json_schema() -> dict[str, Any]:
    """The JSON Schema of the article input format, generated from the Article model."""
    generated = Article.model_json_schema()
    generated.pop("title", None)
    generated.pop("description", None)
    return {
        "$schema": _DIALECT,
        "$id": SCHEMA_ID,
        "title": "Lintas article",
        "description": (
            "A news article in its source language (Indonesian) as read by Lintas. Inline fields "
            "(block html, list items, figure captions) hold a small HTML subset: <a href>, <b>/<strong>, "
            "<i>/<em> and <br>; anything else is removed when the article is read."
        ),
        **generated,
    }


def schema_text() -> str:
    """The schema file's exact text (2-space indent, UTF-8, trailing newline)."""
    return json.dumps(article_json_schema(), indent=2, ensure_ascii=False) + "\n"


def write_article_schema(path: Path | None = None) -> Path:
    """Write the schema to ``path`` (default: ``schema/article.schema.json``) and return the path."""
    target = path or SCHEMA_PATH
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(schema_text(), encoding="utf-8")
    return target


def parse_json(text: str, *, article_id: str | None = None) -> Article:
    """Read an article from JSON text; malformed JSON and invalid fields raise a one-line InputError."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(f"malformed JSON at line {err.lineno}, column {err.colno}: {err.msg}") from None
    except RecursionError:
        raise InputError("malformed JSON: nested too deeply") from None
    if not isinstance(data, dict):
        raise InputError(f"the JSON article must be an object {{...}}, not {type(data).__name__}")
    if article_id:
        data["id"] = article_id
    return build_article(data, "article JSON")
