"""A deterministic fake engine for tests: no model, predictable output in the target script.

Words are rewritten letter by letter into the target language's script (reversed for the Latin
languages, so output never equals the source); tags, URLs, e-mails, @handles, #hashtags and
numbers are kept.  ``faults`` injects the failures real models make, on the first attempt only
(or on every attempt with ``persistent=True``), to exercise checks and repairs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from lintas.engines.base import Capabilities
from lintas.text.article import Segment

__all__ = ["FakeEngine"]

_KEEP = re.compile(r"(\x00\w+\x00|⟦\d+⟧|<[^>]+>|https?://\S+|[\w.+-]+@[\w-]+\.[\w.]+|[@#]\w+|\d[\d.,]*|&\w+;)")
_SCRIPTS = {"zh": 0x4E00, "ja": 0x3042, "ar": 0x0627}
# Days and months are "translated" for real, so the date check passes on fault-free output.
_DAYS = {
    "en": "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split(),
    "fr": "lundi mardi mercredi jeudi vendredi samedi dimanche".split(),
    "zh": "星期一 星期二 星期三 星期四 星期五 星期六 星期日".split(),
    "ja": "月曜日 火曜日 水曜日 木曜日 金曜日 土曜日 日曜日".split(),
    "ar": "الاثنين الثلاثاء الأربعاء الخميس الجمعة السبت الأحد".split(),
}
_MONTHS = {
    "en": "January February March April May June July August September October November December".split(),
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre".split(),
    "zh": [f"{m}月" for m in range(1, 13)],
    "ja": [f"{m}月" for m in range(1, 13)],
    "ar": "يناير فبراير مارس أبريل مايو يونيو يوليو أغسطس سبتمبر أكتوبر نوفمبر ديسمبر".split(),
}
_ID_DAYS = ["senin", "selasa", "rabu", "kamis", "jumat", "sabtu", "minggu"]
_ID_MONTHS = ["januari", "februari", "maret", "april", "mei", "juni", "juli", "agustus", "september", "oktober"]
_ID_MONTHS += ["november", "desember"]
_WORDS = {"id": _ID_DAYS + _ID_MONTHS} | {lang: _DAYS[lang] + _MONTHS[lang] for lang in ("en", "fr")}
_DATE_WORD = {lang: re.compile(r"\b(" + "|".join(words) + r")\b", re.IGNORECASE) for lang, words in _WORDS.items()}


def _date_tokens(text: str, source_lang: str) -> str:
    """Day and month names -> "\\x00<index>\\x00" tokens, kept through the scrambling."""
    pattern = _DATE_WORD.get(source_lang)
    if pattern is None:
        return text
    words = [w.lower() for w in _WORDS[source_lang]]
    return pattern.sub(lambda m: f"\x00d{words.index(m.group(1).lower())}\x00", text)


def _date_word(token: str, lang: str) -> str:
    index = int(token.strip("\x00")[1:])
    table = _DAYS.get(lang, _DAYS["en"]) + _MONTHS.get(lang, _MONTHS["en"])
    return table[index]


def _word(word: str, lang: str) -> str:
    base = _SCRIPTS.get(lang)
    if base is None:
        word = word[::-1].lower()
        if lang == "fr":  # not the same rewrite as English, so a pivot through it never undoes it
            word = "".join(chr(97 + (ord(c) - 96) % 26) if "a" <= c <= "z" else c for c in word)
        return word
    if lang in ("zh", "ja"):  # CJK text is about a third as long as Indonesian
        word = word[::3]
    return "".join(chr(base + (ord(c.lower()) - 97) % 26) if c.isalpha() else c for c in word)


class FakeEngine:
    name = "fake"
    model = "fake-1"
    capabilities = Capabilities(glossary_mode="placeholder")

    def __init__(self, faults: Sequence[str] = (), persistent: bool = False) -> None:
        self.faults = set(faults)
        self.persistent = persistent
        self.calls: list[tuple[int, str, str, int]] = []  # (batch size, source, target, attempt)

    def translate_batch(
        self,
        segments: Sequence[Segment],
        source_lang: str,
        target_lang: str,
        *,
        context: Sequence[tuple[Segment, str]] = (),
        attempt: int = 0,
    ) -> list[str]:
        self.calls.append((len(segments), source_lang, target_lang, attempt))
        out = []
        for seg in segments:
            pieces = _KEEP.split(_date_tokens(seg.text, source_lang))
            text = "".join(
                (_date_word(p, target_lang) if p.startswith("\x00") else p)
                if i % 2
                else re.sub(r"[^\W\d_]+", lambda m: _word(m.group(0), target_lang), p)
                for i, p in enumerate(pieces)
            )
            if target_lang in ("zh", "ja"):  # no spaces between CJK words, as in real text
                text = re.sub(r"(?<=[\u3040-\u9fff])\s+(?=[\u3040-\u9fff])", "", text)
            if self.faults and (attempt == 0 or self.persistent):
                text = self._inject(text, seg)
            out.append(text)
        return out

    def _inject(self, text: str, seg: Segment) -> str:
        if "drop_links" in self.faults:
            text = re.sub(r"</?a[^>]*>", "", text)
        if "drop_handles" in self.faults:
            text = re.sub(r"@\w+", "", text)
        if "change_numbers" in self.faults:
            text = re.sub(r"\d+", lambda m: str(int(m.group(0)) + 1), text)
        if "chatter" in self.faults:
            text = f"Here is the translation:\n{text}"
        if "drop_placeholders" in self.faults:
            text = re.sub(r"⟦\d+⟧", "", text)
        if "copy_source" in self.faults:
            text = seg.text
        return text
