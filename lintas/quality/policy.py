"""What happens to an edition after the checks: published, or held for an editor.

The hold policy has two parts.  ``level`` names, per language, the lowest severity of an *unrepaired* flag that
holds the edition: ``"critical"`` (every language), with per-language overrides ``"critical; ar=warning"``, or
``"never"`` (``LINTAS_HOLD``).  ``below`` holds an edition whose confidence (the aggregate quality estimate,
:mod:`lintas.quality.estimate`) is under a per-language threshold: ``"auto"`` takes the thresholds chosen on the
tune half and stored with the estimate's weights, ``"0.6"`` or ``"auto; ar=0.7"`` set them, ``"off"`` holds on
flags alone (``LINTAS_HOLD_BELOW``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field

from lintas.errors import InputError
from lintas.text.article import SegmentAlignment

__all__ = ["HoldPolicy", "parse_below", "parse_thresholds"]

_LEVELS = {"info": 0, "warning": 1, "critical": 2, "never": 3}


def _per_language(text: str, what: str, auto: bool) -> dict[str, float | None]:
    """``"0.5; ar=0.6"`` -> ``{"*": 0.5, "ar": 0.6}``; ``off`` (alone or for one language) drops; with ``auto``,
    ``"auto"`` -> None (the tuned value)."""
    out: dict[str, float | None] = {}
    for part in [p.strip() for p in text.replace(",", ";").split(";") if p.strip()]:
        lang, sep, value = part.partition("=")
        key, value = (lang.strip(), value.strip()) if sep else ("*", part)
        if value.lower() == "off":
            out.pop(key, None) if key != "*" else out.clear()
            continue
        if auto and value.lower() == "auto":
            out[key] = None
            continue
        try:
            number = float(value)
        except ValueError:
            number = -1.0
        if not 0.0 <= number <= 1.0:
            allowed = "'auto', 'off'" if auto else "'off'"
            raise InputError(f"{what} {text!r}: {value!r} is not {allowed} or a number from 0 to 1")
        out[key] = number
    return out


def parse_thresholds(text: str, what: str) -> dict[str, float]:
    """Per-language thresholds from 0 to 1: ``"0.5; ar=0.6"`` -> ``{"*": 0.5, "ar": 0.6}``; ``"off"`` (alone or for
    one language) -> none.  ``what`` names the setting in the error."""
    return {key: value for key, value in _per_language(text, what, auto=False).items() if value is not None}


def parse_below(text: str | None) -> dict[str, float | None]:
    """``"auto"`` -> ``{"*": None}`` (None: the tuned threshold), ``"0.6; ar=0.7"`` -> ``{"*": 0.6, "ar": 0.7}``,
    ``"off"`` -> ``{}``."""
    return _per_language(text or "auto", "hold threshold", auto=True)


@dataclass(frozen=True)
class HoldPolicy:
    default: str = "critical"
    per_language: dict[str, str] = field(default_factory=dict)
    below: dict[str, float | None] = field(default_factory=dict)  # parse_below(); {} holds on flags alone

    @classmethod
    def from_settings(cls, level: str | None, below: str | None) -> HoldPolicy:
        return dataclasses.replace(cls.parse(level), below=parse_below(below))

    def threshold(self, lang: str) -> float | None:
        """The confidence under which an edition in ``lang`` is held (None: no threshold)."""
        if lang in self.below or "*" in self.below:
            value = self.below.get(lang, self.below.get("*"))
            if value is None:
                from lintas.quality.estimate import load_model

                return load_model().language(lang).hold_below
            return value
        return None

    @classmethod
    def parse(cls, text: str | None) -> HoldPolicy:
        parts = [p.strip() for p in (text or "critical").replace(",", ";").split(";") if p.strip()]
        default, per_language = "critical", {}
        for part in parts:
            lang, sep, level = part.partition("=")
            level = (level if sep else lang).strip().lower()
            if level not in _LEVELS:
                raise InputError(f"hold policy {text!r}: {level!r} is not one of info, warning, critical, never")
            if sep:
                per_language[lang.strip()] = level
            else:
                default = level
        return cls(default, per_language)

    def level(self, lang: str) -> str:
        return self.per_language.get(lang, self.default)

    def reasons(self, segments: Iterable[SegmentAlignment], lang: str, confidence: float | None = None) -> list[str]:
        """Why the edition must wait for an editor (empty: publish)."""
        threshold = _LEVELS[self.level(lang)]
        out: list[str] = []
        floor = self.threshold(lang) if confidence is not None else None
        if floor is not None and confidence is not None and confidence < floor:
            out.append(f"confidence {confidence:.2f} is below {floor:.2f}")
        for segment in segments:
            for flag in segment.flags:
                if not flag.repaired and _LEVELS[flag.severity] >= threshold:
                    out.append(f"{segment.id}: {flag.code} ({flag.message})")
        return out
