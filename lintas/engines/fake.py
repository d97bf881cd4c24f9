"""A deterministic fake engine for tests: no model, predictable output in the target script.

Words are rewritten letter by letter into the target language's script (reversed for the Latin
languages, so output never equals the source); tags, URLs, e-mails, @handles, #hashtags and
numbers are kept.  ``faults`` injects the failures real models make, on the first attempt only
(or on every attempt with ``persistent=True``), to exercise checks and repairs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .base import Segment

__all__ = ["FakeEngine"]

_KEEP = re.compile(r"(<[^>]+>|https?://\S+|[\w.+-]+@[\w-]+\.[\w.]+|[@#]\w+|\d[\d.,]*|&\w+;)")
_SCRIPTS = {"zh": 0x4E00, "ja": 0x3042, "ar": 0x0627}


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
            pieces = _KEEP.split(seg.text)
            text = "".join(
                p if i % 2 else re.sub(r"[^\W\d_]+", lambda m: _word(m.group(0), target_lang), p)
                for i, p in enumerate(pieces)
            )
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
        if "copy_source" in self.faults:
            text = seg.text
        return text
