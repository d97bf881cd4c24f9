"""The characters Lintas keeps in text: those both XML 1.0 and HTML can carry.

Removed: the C0 control characters other than tab, line feed and carriage return (U+0000-U+0008, U+000B,
U+000C, U+000E-U+001F), DEL (U+007F), the C1 controls (U+0080-U+009F), lone surrogates (U+D800-U+DFFF) and
the noncharacters (U+FDD0-U+FDEF and the last two code points of every plane, U+FFFE, U+FFFF, ...). XML 1.0
cannot carry the C0 controls, surrogates, U+FFFE and U+FFFF at all (lxml refuses them, so one of them in a
headline would break every feed); HTML parses the rest as errors. Those that separate words (vertical tab, form
feed, the information separators U+001C-U+001F and NEL, U+0085) become a space; the others are dropped. Articles are cleaned when they are read
(:func:`lintas.ingest.common.build_article`), desk corrections when they are saved, and feed text again when it
is rendered (for what was stored before the rule).
"""

from __future__ import annotations

import re
from typing import TypeVar, overload

__all__ = ["UNSAFE_CHARS", "clean_chars", "clean_strings", "has_unsafe_chars"]

_NONCHARACTERS = "".join(chr(plane * 0x10000 + 0xFFFE) + chr(plane * 0x10000 + 0xFFFF) for plane in range(17))
UNSAFE_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef" + _NONCHARACTERS + "]")


_SPACES = frozenset("\x0b\x0c\x1c\x1d\x1e\x1f\x85")  # the ones Python counts as whitespace: a space each


def _replace(match: re.Match[str]) -> str:
    return " " if match.group() in _SPACES else ""


def clean_chars(text: str) -> str:
    """``text`` without the characters XML or HTML cannot carry (see the module's docstring)."""
    return UNSAFE_CHARS.sub(_replace, text)


def has_unsafe_chars(text: str) -> bool:
    return UNSAFE_CHARS.search(text) is not None


_T = TypeVar("_T")


@overload
def clean_strings(value: str) -> str: ...
@overload
def clean_strings(value: dict[str, _T]) -> dict[str, _T]: ...
@overload
def clean_strings(value: list[_T]) -> list[_T]: ...
@overload
def clean_strings(value: _T) -> _T: ...  # numbers, booleans, None: as they are
def clean_strings(value: object) -> object:
    """``value`` (JSON-like: dicts, lists, strings) with every string cleaned by :func:`clean_chars`: of the same
    shape and types."""
    if isinstance(value, str):
        return clean_chars(value)
    if isinstance(value, dict):
        return {key: clean_strings(item) for key, item in value.items()}
    if isinstance(value, list):
        return [clean_strings(item) for item in value]
    return value
