"""Per-segment checks: each finding is a :class:`~lintas.text.article.Flag` with a code and a severity.

Critical findings make the pipeline retry the segment; what is still wrong after the last
attempt is repaired where possible, always recorded in the edition, and decides with the
hold policy (:mod:`lintas.quality.policy`) whether the edition waits for an editor.
The codes, what they mean and how they were calibrated are listed in ``docs/quality.md``.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import TYPE_CHECKING

from lintas.ingest.language import rank_languages
from lintas.quality.dates import missing_dates
from lintas.quality.names import name_problems
from lintas.quality.numbers import missing_numbers
from lintas.text.article import Flag
from lintas.text.protect import find_spans
from lintas.text.segment import split_sentences

if TYPE_CHECKING:
    from lintas.text.glossary import Glossary

__all__ = [
    "check_segment",
    "script_share",
    "is_critical",
    "CRITICAL",
    "count_sentences",
    "length_ratio",
    "mixed_script_words",
    "foreign_words",
]
_TAG = re.compile(r"<[^>]*>")
CRITICAL = {
    "empty",
    "omission",
    "addition",
    "date_mismatch",
    "name_misspelled",
    "glossary_avoid",
    "too_short",
    "too_long",
    "untranslated",
    "wrong_script",
    "wrong_language",
    "missing_link",
    "missing_span",
    "number_mismatch",
    "repetition",
    "mixed_script",
    "foreign_words",
    "name_inconsistent",
}

_SCRIPT_OF = {"en": "Latin", "fr": "Latin", "id": "Latin", "zh": "Han", "ja": "Japanese", "ar": "Arabic"}


@functools.lru_cache(maxsize=8192)  # called for every character of every output
def _script(ch: str) -> str | None:
    if not ch.isalpha():
        return None
    code = ord(ch)
    if 0x3040 <= code <= 0x30FF or 0x31F0 <= code <= 0x31FF or 0xFF66 <= code <= 0xFF9D:
        return "Kana"
    if 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0xF900 <= code <= 0xFAFF or 0x3005 <= code <= 0x3007:
        return "Han"
    if 0x0600 <= code <= 0x06FF or 0x0750 <= code <= 0x077F or 0xFB50 <= code <= 0xFEFF:
        return "Arabic"
    name = unicodedata.name(ch, "")
    if "LATIN" in name:
        return "Latin"
    if "CYRILLIC" in name:
        return "Cyrillic"
    if "HANGUL" in name:
        return "Hangul"
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


# Scripts a translation into each language may use within one word.  Latin glued to Chinese or Japanese is how
# those languages write foreign names and brands ("iPhoneを"); in Arabic, English and French it is a garbled word.
_WORD_SCRIPTS = {
    "zh": {"Han", "Latin"},
    "ja": {"Han", "Kana", "Latin"},
    "ar": {"Arabic"},
    "en": {"Latin"},
    "fr": {"Latin"},
}
# Kana inside a Chinese word is Japanese text: the language check's finding (wrong_language), not a garbled word.
_MIXED_OK = {**_WORD_SCRIPTS, "zh": {"Han", "Kana", "Latin"}}
_LETTERS = re.compile(r"[^\W\d_]+")
_SCRIPT_CLASS = {
    "Han": "[\u4e00-\u9fff\u3400-\u4dbf\uf900-\ufaff\u3005-\u3007]",
    "Kana": "[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9d]",
    "Arabic": "[\u0600-\u06ff\u0750-\u077f\ufb50-\ufeff]",
}


def _plain_words(text: str) -> list[str]:
    plain = _TAG.sub(" ", text)
    for span in find_spans(plain):
        plain = plain.replace(span.text, " ")
    return _LETTERS.findall(plain)


def mixed_script_words(target: str, lang: str) -> list[str]:
    """Words of the translation that mix scripts where ``lang`` never does: Latin, Cyrillic or Han letters inside an
    Arabic word ("كينيwest"), Cyrillic inside a Chinese word...  URLs, handles and tags are left out."""
    allowed = _MIXED_OK.get(lang, {"Latin"})
    found = []
    for word in _plain_words(target):
        scripts = {s for s in map(_script, word) if s}
        if len(scripts) > 1 and not scripts <= allowed:
            found.append(word)
    return found


def foreign_words(source: str, target: str, lang: str) -> list[str]:
    """Words of a Chinese, Japanese or Arabic translation in a script it should not use and that the source does not
    have: English leaking through the pivot ("Persistentに", "rapper"), Cyrillic or Korean letters.  Names and
    acronyms the source has ("Kanye West", "NASA") and single letters are allowed."""
    if lang not in ("zh", "ja", "ar"):
        return []
    native = _WORD_SCRIPTS[lang] - {"Latin"}
    have = {w.casefold() for w in _plain_words(source)}
    found = []
    for word in _plain_words(target):
        for foreign in re.split("|".join(f"(?:{_SCRIPT_CLASS[s]})+" for s in native), word):
            acronym = foreign.isupper() and len(foreign) <= 5  # EU, AI, CEO: how the zh/ja/ar press writes many
            if len(foreign) >= 2 and not acronym and foreign.casefold() not in have and foreign not in found:
                found.append(foreign)
    return found


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
        han_only = share.get("Kana", 0) == 0 and sum(1 for c in text if _script(c) == "Han") >= 8
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


_LANG_NAMES = {"en": "English", "fr": "French", "zh": "Chinese", "ja": "Japanese", "ar": "Arabic", "id": "Indonesian"}
_LATIN_OTHERS = {"es", "de", "it", "pt", "nl", "ca", "ro", "en", "fr"}


def _language_flag(source: str, target: str, target_lang: str) -> Flag | None:
    """Copied source, text still in Indonesian, or text in another language than ``target_lang``."""
    plain_source, plain_target = _plain(source), _plain(target)
    src_words, tgt_words = _words(source), _words(target)
    if len(src_words) >= 4 and plain_source.lower() == plain_target.lower():
        return Flag(code="untranslated", severity="critical", message="output is a copy of the source")
    share = script_share(target)
    script_ok = _names_only(source) or _script_ok(target, target_lang)
    ranked = rank_languages(plain_target) if (len(tgt_words) >= 5 or len(plain_target) >= 12) else []
    top, prob = ranked[0] if ranked else ("und", 0.0)
    if not script_ok:
        if top in ("id", "ms") and share.get("Latin", 0) > 0.5:
            return Flag(code="untranslated", severity="critical", message="output is still Indonesian")
        if target_lang == "ja" and share.get("Han", 0) > 0.5 and share.get("Kana", 0) == 0:
            return Flag(code="wrong_language", severity="critical", message="output looks like Chinese, not Japanese")
        if target_lang == "zh" and share.get("Kana", 0) >= 0.05:
            return Flag(code="wrong_language", severity="critical", message="output looks like Japanese, not Chinese")
        if share.get("Latin", 0) > 0.5 and top in _LATIN_OTHERS:
            return Flag(
                code="wrong_language",
                severity="critical",
                message=f"output looks like {_LANG_NAMES.get(top, top)}, not {_LANG_NAMES[target_lang]}",
            )
        return Flag(
            code="wrong_script",
            severity="critical",
            message=f"output is not in the {_SCRIPT_OF.get(target_lang, target_lang)} script",
        )
    if target_lang in ("en", "fr") and len(tgt_words) >= 6:
        if top in ("id", "ms") and sum(p for code, p in ranked if code in ("id", "ms", "jv")) >= 0.6:
            return Flag(code="untranslated", severity="critical", message="output is still Indonesian")
        if top in _LATIN_OTHERS and top != target_lang and prob >= 0.9:
            return Flag(
                code="wrong_language",
                severity="critical",
                message=f"output looks like {_LANG_NAMES.get(top, top)}, not {_LANG_NAMES[target_lang]}",
            )
    return None


# An LLM answering instead of translating: "I'm sorry, but I can't...", "عذراً، ولكن لا أستطيع".
_REFUSAL = re.compile(
    r"\b(?:I'?m sorry|I apologi[sz]e|I cannot|I can't|as an AI)\b|je suis désolé|je ne peux pas"
    r"|عذر[اًا]،? ولكن|أعتذر،? ولكن|لا أستطيع (?:تقديم|ترجمة)|抱歉，我无法|我无法(?:提供|翻译)|申し訳ありませんが、?(?:翻訳|その)",
    re.IGNORECASE,
)
_QUOTES = re.compile(r'["“”«»„「」『』]')


def _quote_flag(source: str, target: str) -> Flag | None:
    """Quotation marks opened and not closed (or the reverse) where the source's balance differs.

    A sentence of a multi-sentence quote legitimately has only an opening or a closing mark, so
    only the parity is compared with the source's."""
    src, tgt = len(_QUOTES.findall(source)), len(_QUOTES.findall(target))
    if tgt % 2 == 0 or src % 2 == 1:  # dropping all quotes or closing an open one is style, not loss
        return None
    # info: typography, shown to editors, but human translations get it wrong too often (Arabic
    # references in NTREX: 5%) for it to hold an edition or count as an error
    return Flag(code="unbalanced_quotes", severity="info", message="quotation marks do not match the source's")


_CJK_END = re.compile(r"[。！？!?…]+[」』”’\"）)]*(?![」』”’\"）)とって、，])")
_AR_END = re.compile(r"[.!?؟…]+[\"”»)]*(?=\s|$)")


def count_sentences(text: str, lang: str) -> int:
    plain = _plain(text)
    if not plain:
        return 0
    if lang in ("zh", "ja"):
        pieces = [p for p in _CJK_END.split(plain) if p.strip(' 」』”’"）)')]
        return max(1, len(pieces))
    if lang == "ar":
        return max(1, len([p for p in _AR_END.split(plain) if p.strip()]))
    return max(1, len(split_sentences(plain)))


# Characters of translation per character of Indonesian, measured on the NTREX dev references
# (exp of the mean log ratio, segments of 25+ characters), and the bands outside which a segment
# is suspicious.  ``lintas qe-bench --calibrate`` prints these figures again.
LENGTH_RATIO = {"en": 0.862, "fr": 1.022, "zh": 0.296, "ja": 0.392, "ar": 0.803, "id": 1.0}
_RATIO_LOW, _RATIO_HIGH = 0.45, 2.2  # 0.2% of dev references fall outside
# With fewer / more sentences than the source, a translation this short / long lost / gained one.
_OMISSION_RATIO: dict[str, float] = {}  # per language; 0.9 elsewhere (1.0 for zh/ja: +1 point, 3x false flags)
_ADDITION_RATIO = 1.45


def length_ratio(source: str, target: str, target_lang: str) -> float | None:
    """Length of the translation relative to the expected length (1.0 = typical)."""
    src, tgt = _plain(source), _plain(target)
    if len(src) < 25:
        return None
    return len(tgt) / len(src) / LENGTH_RATIO.get(target_lang, 1.0)


def _length_flags(source: str, target: str, target_lang: str) -> list[Flag]:
    ratio = length_ratio(source, target, target_lang)
    if ratio is None:
        return []
    if ratio < _RATIO_LOW:
        return [Flag(code="too_short", severity="critical", message=f"output is {ratio:.0%} of the expected length")]
    if ratio > _RATIO_HIGH:
        return [Flag(code="too_long", severity="critical", message=f"output is {ratio:.0%} of the expected length")]
    src_n, tgt_n = count_sentences(source, "id"), count_sentences(target, target_lang)
    if tgt_n < src_n and ratio < _OMISSION_RATIO.get(target_lang, 0.9):
        return [
            Flag(
                code="omission",
                severity="critical",
                message=f"{src_n} sentences in the source, {tgt_n} in the output ({ratio:.0%} of the expected length)",
            )
        ]
    if tgt_n > src_n and ratio > _ADDITION_RATIO:
        return [
            Flag(
                code="addition",
                severity="critical",
                message=f"{src_n} sentence(s) in the source, {tgt_n} in the output ({ratio:.0%} of the expected length)",
            )
        ]
    return []


def check_segment(
    source: str,
    target: str,
    target_lang: str,
    *,
    lost_links: int = 0,
    lost_marks: set[str] | None = None,
    missing: list[str] | None = None,
    glossary: Glossary | None = None,
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
    language = _language_flag(source, target, target_lang)
    if language:
        flags.append(language)
    flags += _length_flags(source, target, target_lang)
    numbers = missing_numbers(source, target)
    if numbers:
        flags.append(
            Flag(code="number_mismatch", severity="critical", message="numbers lost or changed: " + ", ".join(numbers))
        )
    dates = missing_dates(source, target, target_lang)
    if dates:
        flags.append(
            Flag(
                code="date_mismatch", severity="critical", message="days or months lost or changed: " + ", ".join(dates)
            )
        )
    # numbers the translation has and the source does not (not for zh/ja: 1億2千万 reads as 1 and 2)
    added = missing_numbers(target, source) if target_lang not in ("zh", "ja") else []
    if added and not numbers:
        flags.append(
            # info: human translators add numbers too (dates spelled out as 3月14日, conversions)
            Flag(code="number_added", severity="info", message="numbers not in the source: " + ", ".join(added))
        )
    if _REFUSAL.search(plain_target) and not _REFUSAL.search(_plain(source)):
        flags.append(Flag(code="refusal", severity="critical", message="the engine refused or apologised"))
    if _repetition(target) and not _repetition(source):
        flags.append(Flag(code="repetition", severity="critical", message="the output repeats itself"))
    mixed = mixed_script_words(target, target_lang)
    if mixed:
        flags.append(
            Flag(code="mixed_script", severity="critical", message="words mixing scripts: " + ", ".join(mixed))
        )
    leaked = foreign_words(source, target, target_lang)
    if leaked and not language:
        flags.append(
            Flag(code="foreign_words", severity="critical", message="words not in the source: " + ", ".join(leaked))
        )
    quotes = _quote_flag(source, target)
    if quotes:
        flags.append(quotes)
    hits = glossary.find(source) if glossary else []
    if glossary:
        flags += glossary.check(source, target, target_lang, hits)
    if not language:
        lost, misspelled = name_problems(source, target, target_lang, [(h.start, h.end) for h in hits])
        if misspelled:
            flags.append(
                Flag(
                    code="name_misspelled",
                    severity="critical",
                    message="name spelled differently: " + ", ".join(f"{a} → {b}" for a, b in misspelled),
                )
            )
        if lost:
            flags.append(Flag(code="name_missing", severity="warning", message="name not found: " + ", ".join(lost)))
    return flags


def is_critical(flags: list[Flag]) -> bool:
    return any(f.severity == "critical" and not f.repaired for f in flags)
