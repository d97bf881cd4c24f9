"""Article readers: HTML, Markdown (with YAML front matter) and JSON, with input checks.

``read_article(source)`` takes a path, the text itself or raw bytes, picks the format from the file
extension (``.html``/``.htm``/``.md``/``.markdown``/``.json``) or sniffs it from the content, checks
the input (exists, not empty, at most :data:`MAX_ARTICLE_BYTES`, UTF-8 text) and returns an
:class:`~lintas.text.article.Article`.  Every problem is an :class:`~lintas.errors.InputError` with a one-line
message.  ``ensure_indonesian(article)`` checks the source language separately.
"""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path

from lintas.errors import InputError
from lintas.ingest.html import parse_html
from lintas.ingest.jsonfile import article_json_schema, parse_json
from lintas.ingest.language import detect_language, ensure_indonesian
from lintas.ingest.markdown import parse_markdown
from lintas.text.article import Article

__all__ = [
    "FORMATS",
    "MAX_ARTICLE_BYTES",
    "article_json_schema",
    "detect_format",
    "detect_language",
    "ensure_indonesian",
    "parse_html",
    "parse_json",
    "parse_markdown",
    "read_article",
    "read_text",
]

MAX_ARTICLE_BYTES = 2 * 1024 * 1024  # 2 MiB: far above any news article, small enough to refuse junk
FORMATS: dict[str, str] = {"html": "html", "htm": "html", "md": "markdown", "markdown": "markdown", "json": "json"}
_MAX_JUNK_RATIO = 0.02  # control / private-use / unassigned characters tolerated in text
_PATH_MAX = 1024
_HTML_HINTS = ("<article", "<p>", "<p ", "<h1", "<html", "<div", "<body")


def _human(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB" if size >= 1024 * 1024 else f"{size / 1024:.0f} KiB"


def _too_big(size: int, what: str) -> InputError:
    return InputError(f"{what} is too large: {_human(size)} (limit {_human(MAX_ARTICLE_BYTES)})")


def _looks_like_path(text: str) -> bool:
    if not text or len(text) > _PATH_MAX or "\n" in text or "\r" in text or "\0" in text:
        return False
    if text.lstrip().startswith(("<", "{", "[", "---", "#")):
        return False
    if Path(text).suffix.lower().lstrip(".") in FORMATS or Path(text).exists():
        return True
    return os.sep in text and not any(ch.isspace() for ch in text.strip())


def _read_file(path: Path) -> bytes:
    label = f"'{path}'"
    try:
        if not path.exists():
            raise InputError(f"file not found: {label}")
        if path.is_dir():
            raise InputError(f"{label} is a directory, not an article file")
        size = path.stat().st_size
        if size > MAX_ARTICLE_BYTES:
            raise _too_big(size, f"the file {label}")
        with path.open("rb") as handle:
            data = handle.read(MAX_ARTICLE_BYTES + 1)
    except OSError as err:
        raise InputError(f"cannot read {label}: {err.strerror or err}") from None
    if len(data) > MAX_ARTICLE_BYTES:
        raise _too_big(len(data), f"the file {label}")
    return data


def _decode(data: bytes, what: str) -> str:
    if len(data) > MAX_ARTICLE_BYTES:
        raise _too_big(len(data), what)
    if b"\0" in data and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(f"{what} looks like a binary file (it contains NUL bytes), not a text article")
    try:
        text = data.decode("utf-16" if data.startswith((b"\xff\xfe", b"\xfe\xff")) else "utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError(f"{what} is not valid UTF-8 text (bad byte at offset {err.start}); save it as UTF-8") from None
    return text


def _check_text(text: str, what: str) -> str:
    if not text.strip():
        raise InputError(f"{what} is empty (nothing but whitespace)")
    sample = text[:65536]
    junk = sum(
        1
        for ch in sample
        if (ch not in "\t\n\r\f" and unicodedata.category(ch) in ("Cc", "Co", "Cs", "Cn")) or ch == "\ufffd"
    )
    if junk > max(3, _MAX_JUNK_RATIO * len(sample)):
        raise InputError(f"{what} does not look like text ({junk} control or invalid characters); is it a binary file?")
    return text


def detect_format(text: str, path: Path | None = None) -> str:
    """``"html"``, ``"markdown"`` or ``"json"``: from the extension when known, else from the content."""
    if path is not None:
        fmt = FORMATS.get(path.suffix.lower().lstrip("."))
        if fmt:
            return fmt
    head = text.lstrip("\ufeff \t\r\n")[:2048]
    lower = head.lower()
    if head.startswith(("{", "[")):
        return "json"
    if head.startswith("---"):
        return "markdown"
    if head.startswith("<") or any(tag in lower for tag in _HTML_HINTS):
        return "html"
    return "markdown"


def read_text(source: str | Path | bytes) -> tuple[str, Path | None]:
    """The checked text of ``source`` (a path, the text itself, or bytes) and its path if it is a file."""
    if isinstance(source, Path) or (isinstance(source, str) and _looks_like_path(source)):
        path = Path(source)
        return _check_text(_decode(_read_file(path), f"the file '{path}'"), f"the file '{path}'"), path
    if isinstance(source, (bytes, bytearray, memoryview)):
        return _check_text(_decode(bytes(source), "the article"), "the article"), None
    if isinstance(source, str):
        size = len(source.encode("utf-8", "surrogatepass"))
        if size > MAX_ARTICLE_BYTES:
            raise _too_big(size, "the article")
        return _check_text(source.removeprefix("\ufeff"), "the article"), None
    raise InputError(f"cannot read an article from a {type(source).__name__}")


def read_article(source: str | Path | bytes, fmt: str | None = None, *, article_id: str | None = None) -> Article:
    """Read an article from a file path, its text, or bytes.

    ``fmt`` is ``"html"``/``"htm"``, ``"md"``/``"markdown"`` or ``"json"``; None picks it from the
    file extension, else from the content.  ``article_id`` overrides the id found in the input.
    Raises :class:`~lintas.errors.InputError` on any unusable input.
    """
    if fmt is not None:
        key = fmt.strip().lower().lstrip(".")
        if key not in FORMATS:
            raise InputError(f"unknown article format '{fmt}' (use html, markdown or json)")
        fmt = FORMATS[key]
    text, path = read_text(source)
    fmt = fmt or detect_format(text, path)
    if article_id is not None and not article_id.strip():
        raise InputError("the article id must not be empty")
    if fmt == "json":
        return parse_json(text, article_id=article_id)
    if fmt == "markdown":
        return parse_markdown(text, article_id=article_id)
    return parse_html(text, article_id=article_id)
