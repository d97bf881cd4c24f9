"""What happens to an edition after the checks: published, or held for an editor; and how much
to trust it (an article-level confidence score).

The hold policy names, per language, the lowest severity of an *unrepaired* flag that holds the
edition.  It is written ``"critical"`` (every language), or with per-language overrides:
``"critical; ar=warning; ja=warning"``, or ``"never"`` to publish everything.  The default comes
from ``LINTAS_HOLD``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ..article import Flag, SegmentAlignment
from ..errors import InputError

__all__ = ["HoldPolicy", "confidence", "SEVERITY_WEIGHT"]

_LEVELS = {"info": 0, "warning": 1, "critical": 2, "never": 3}

# How much one flag costs the confidence of its segment (a repaired critical problem still
# costs: the text was patched, not translated).
SEVERITY_WEIGHT = {"critical": 1.0, "warning": 0.35, "info": 0.0}
_REPAIRED_WEIGHT = 0.5


@dataclass(frozen=True)
class HoldPolicy:
    default: str = "critical"
    per_language: dict[str, str] = field(default_factory=dict)

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

    def reasons(self, segments: Iterable[SegmentAlignment], lang: str) -> list[str]:
        """Why the edition must wait for an editor (empty: publish)."""
        threshold = _LEVELS[self.level(lang)]
        out: list[str] = []
        for segment in segments:
            for flag in segment.flags:
                if not flag.repaired and _LEVELS[flag.severity] >= threshold:
                    out.append(f"{segment.id}: {flag.code} ({flag.message})")
        return out


def _segment_score(flags: list[Flag]) -> float:
    cost = 0.0
    for flag in flags:
        weight = SEVERITY_WEIGHT[flag.severity]
        cost += weight * (_REPAIRED_WEIGHT if flag.repaired else 1.0)
    return max(0.0, 1.0 - cost)


def confidence(segments: list[SegmentAlignment]) -> float:
    """0..1: the length-weighted mean of per-segment scores (1 = no finding; a critical finding
    makes its segment 0, a repaired one 0.5, a warning 0.65).  The headline counts triple: it is
    what every reader sees."""
    total = weighted = 0.0
    for segment in segments:
        weight = max(1, len(segment.source)) * (3 if segment.id == "headline" else 1)
        total += weight
        weighted += weight * _segment_score(segment.flags)
    return round(weighted / total, 3) if total else 1.0
