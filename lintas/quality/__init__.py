"""Per-segment checks: each finding is a :class:`~lintas.article.Flag` with a code and a severity.

Critical findings make the pipeline retry the segment; what is still wrong after the last
attempt is repaired where possible and always recorded in the edition.
"""

from __future__ import annotations

import re
import unicodedata

from ..article import Flag
from ..ingest.language import detect_language
from ..protect import find_spans
from .numbers import missing_numbers

__all__ = ["check_segment", "script_share", "is_critical", "CRITICAL"]

_TAG = re.compile(r"<[^>]*>")
CRITICAL = {
    "empty",
    "untranslated",
    "wrong_script",
    "wrong_language",
    "missing_link",
    "missing_span",
    "number_mismatch",
    "repetition",
}

_SCRIPT_OF = {"en": "Latin", "fr": "Latin", "id": "Latin", "zh": "Han", "ja": "Japanese", "ar": "Arabic"}


def _script(ch: str) -> str | None:
    if not ch.isalpha():
        return None
    code = ord(ch)
    if 0x3040 <= code <= 0x30FF or 0x31F0 <= code <= 0x31FF or 0xFF66 <= code <= 0xFF9D:
        return "Kana"
    if 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0xF900 <= code <= 0xFAFF:
        return "Han"
    if 0x0600 <= code <= 0x06FF or 0x0750 <= code <= 0x077F or 0xFB50 <= code <= 0xFEFF:
        return "Arabic"
    if "LATIN" in unicodedata.name(ch, ""):
        return "Latin"
    return "Other"


def script_share(text: str) -> dict[str, float]:
    """Share of each script, ignoring tags and protected spans (URLs, handles...).

    Units are comparable across scripts: a Han or kana character counts as one, a Latin or
    Arabic word as one; so "Rapper Kanye West将自己改名为Ye" is mostly Chinese, as it should be.
    """
    plain = _TAG.sub(" ", text)
    for span in find_spans(plain):
        plain = plain.replace(span.text, " ")
    counts: dict[str, int] = {}
    previous: str | None = None
    for ch in plain:
        script = _script(ch)
        if script and (script in ("Han", "Kana") or script != previous):
            counts[script] = counts.get(script, 0) + 1
        previous = script
    total = sum(counts.values()) or 1
    return {k: v / total for k, v in counts.items()}


def _names_only(source: str) -> bool:
    """A short segment of capitalised words only ("Kanye West"): may stay in Latin letters."""
    words = _plain(source).split()
    return 0 < len(words) <= 4 and all(w[:1].isupper() or not w[:1].isalpha() for w in words)


def _script_ok(text: str, target: str) -> bool:
    share = script_share(text)
    if not share:
        return True
    if target == "zh":
        return share.get("Han", 0) >= 0.5 and share.get("Kana", 0) < 0.05
    if target == "ja":
        cjk = share.get("Han", 0) + share.get("Kana", 0)
        han_only = share.get("Kana", 0) == 0 and sum(1 for c in text if _script(c) == "Han") > 15
        return cjk >= 0.5 and not han_only
    if target == "ar":
        return share.get("Arabic", 0) >= 0.5
    return share.get("Latin", 0) >= 0.75


def _plain(text: str) -> str:
    return " ".join(_TAG.sub(" ", text).split())


def _words(text: str) -> list[str]:
    return re.findall(r"[^\W\d_]+", _plain(text).lower())


def _repetition(text: str) -> bool:
    """A phrase of 1-6 words repeated 4+ times in a row, or a character loop."""
    words = _words(text)
    for size in range(1, 7):
        for start in range(0, max(0, len(words) - 4 * size + 1)):
            chunk = words[start : start + size]
            if all(words[start + k * size : start + (k + 1) * size] == chunk for k in range(1, 4)):
                return True
    return re.search(r"(.{2,12}?)\1{5,}", _plain(text)) is not None


def check_segment(
    source: str,
    target: str,
    target_lang: str,
    *,
    lost_links: int = 0,
    lost_marks: set[str] | None = None,
    missing: list[str] | None = None,
) -> list[Flag]:
    """Check one translated segment (both in tagged form). Link and span losses are computed by
    the caller, which knows the markup; everything else is checked here."""
    flags: list[Flag] = []
    plain_target = _plain(target)
    if not plain_target:
        return [Flag(code="empty", severity="critical", message="the engine returned nothing")]
    if lost_links:
        flags.append(Flag(code="missing_link", severity="critical", message=f"{lost_links} link(s) lost"))
    if missing:
        flags.append(Flag(code="missing_span", severity="critical", message="lost: " + ", ".join(missing)))
    if lost_marks:
        flags.append(
            Flag(code="lost_markup", severity="warning", message="lost markup: " + ", ".join(sorted(lost_marks)))
        )
    src_words, tgt_words = _words(source), _words(target)
    if not _names_only(source) and not _script_ok(target, target_lang):
        flags.append(
            Flag(
                code="wrong_script",
                severity="critical",
                message=f"output is not in the {_SCRIPT_OF.get(target_lang, target_lang)} script",
            )
        )
    elif len(src_words) >= 4 and _plain(source).lower() == plain_target.lower():
        flags.append(Flag(code="untranslated", severity="critical", message="output is a copy of the source"))
    elif target_lang in ("en", "fr") and len(tgt_words) >= 6:
        detected = detect_language(plain_target)[0]
        if detected in ("id", "ms"):
            flags.append(Flag(code="untranslated", severity="critical", message="output is still Indonesian"))
        elif detected in ("en", "fr") and detected != target_lang:
            flags.append(
                Flag(
                    code="wrong_language",
                    severity="critical",
                    message=f"output looks like {detected}, not {target_lang}",
                )
            )
    ratio_flag = _length_ratio(source, target, target_lang)
    if ratio_flag:
        flags.append(ratio_flag)
    numbers = missing_numbers(source, target)
    if numbers:
        flags.append(
            Flag(code="number_mismatch", severity="critical", message="numbers lost or changed: " + ", ".join(numbers))
        )
    if _repetition(target) and not _repetition(source):
        flags.append(Flag(code="repetition", severity="critical", message="the output repeats itself"))
    return flags


# Characters of translation per character of Indonesian, measured on the NTREX dev references
# (median per language), and the band outside which a segment is suspicious.
LENGTH_RATIO = {"en": 0.87, "fr": 1.03, "zh": 0.29, "ja": 0.39, "ar": 0.80, "id": 1.0}
_RATIO_LOW, _RATIO_HIGH = 0.3, 3.0  # 0.5% of dev references fall outside 0.4-2.5


def _length_ratio(source: str, target: str, target_lang: str) -> Flag | None:
    src, tgt = _plain(source), _plain(target)
    if len(src) < 25:
        return None
    ratio = len(tgt) / len(src) / LENGTH_RATIO.get(target_lang, 1.0)
    if ratio < _RATIO_LOW:
        return Flag(code="too_short", severity="critical", message=f"output is {ratio:.0%} of the expected length")
    if ratio > _RATIO_HIGH:
        return Flag(code="too_long", severity="critical", message=f"output is {ratio:.0%} of the expected length")
    return None


def is_critical(flags: list[Flag]) -> bool:
    return any(f.severity == "critical" and not f.repaired for f in flags)
