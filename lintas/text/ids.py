"""The one grammar of article ids, checked wherever an id comes in (API, CMS webhook, watched feeds, readers, CLI).

An article id is 1 to 200 characters from RFC 3986's *unreserved* set, ``A-Z a-z 0-9 - . _ ~``, and starts with
a letter or a digit. Such an id is the same in a URL path without percent-encoding, is never ``.`` or ``..``,
and carries no slash, space, control character, line break or bidirectional override into URLs, file names or
log lines. Examples: ``kanye-west-ye``, ``2024-05-01.banjir``, ``feed-3f2a9c0d1e4b5a6c``.
"""

from __future__ import annotations

import re

from lintas.errors import InputError

__all__ = ["ARTICLE_ID_MAX", "ARTICLE_ID_RULE", "check_article_id", "is_article_id"]

ARTICLE_ID_MAX = 200
ARTICLE_ID_RULE = f"1-{ARTICLE_ID_MAX} characters from A-Z a-z 0-9 - . _ ~, starting with a letter or a digit"
_ARTICLE_ID = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._~-]{{0,{ARTICLE_ID_MAX - 1}}}")


def is_article_id(value: object) -> bool:
    """Whether ``value`` is a string that follows the article id grammar."""
    return isinstance(value, str) and _ARTICLE_ID.fullmatch(value) is not None


def check_article_id(value: str) -> str:
    """``value`` if it is a valid article id, else an InputError naming the rule (the id shown escaped)."""
    if not is_article_id(value):
        shown = ascii(value[:60]) + ("..." if len(value) > 60 else "")
        raise InputError(f"invalid article id {shown}: an id is {ARTICLE_ID_RULE}")
    return value
