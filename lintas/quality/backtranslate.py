"""The deeper, optional check: translate the output back into Indonesian and compare with the
source (chrF).  A translation that lost or changed meaning comes back far from the source.

It costs one more engine call per checked segment, so it is off by default.  ``LINTAS_BACKTRANSLATE``
chooses the segments: ``off``, ``flagged`` (segments with a warning or a critical flag),
``all``, or a sampling rate such as ``0.2`` (a deterministic sample: the same segments every run).
No registry package ships a multilingual sentence-embedding model that installs offline, so
there is no cross-lingual similarity check (docs/quality.md).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from sacrebleu.metrics.chrf import CHRF

from lintas.engines.base import Engine
from lintas.engines.prompts import clean_output
from lintas.errors import InputError
from lintas.text.article import Flag, Segment

__all__ = ["parse_mode", "select", "backtranslation_flags", "DEFAULT_MIN_CHRF"]

DEFAULT_MIN_CHRF = 35.0
_CHRF = CHRF()


def parse_mode(text: str | None) -> str | float:
    value = (text or "off").strip().lower()
    if value in ("off", "flagged", "all"):
        return value
    try:
        rate = float(value)
    except ValueError:
        raise InputError(f"LINTAS_BACKTRANSLATE={text!r}: use off, flagged, all or a rate between 0 and 1") from None
    if not 0.0 <= rate <= 1.0:
        raise InputError(f"LINTAS_BACKTRANSLATE={text!r}: a rate must be between 0 and 1")
    return rate


def select(mode: str | float, segment_id: str, flagged: bool, salt: str = "") -> bool:
    if mode == "off":
        return False
    if mode == "all":
        return True
    if mode == "flagged":
        return flagged
    digest = hashlib.sha256(f"{salt}:{segment_id}".encode()).digest()
    return flagged or int.from_bytes(digest[:4], "big") / 2**32 < float(mode)


def backtranslation_flags(
    pairs: Sequence[tuple[Segment, str]],
    engine: Engine,
    source_lang: str,
    target_lang: str,
    *,
    min_chrf: float = DEFAULT_MIN_CHRF,
) -> list[tuple[float, Flag | None]]:
    """For each (source segment, translation): the chrF of the back-translation against the
    source, and a warning flag when it is below ``min_chrf``."""
    if not pairs:
        return []
    back = engine.translate_batch(
        [Segment(seg.id + ".back", text, seg.kind) for seg, text in pairs], target_lang, source_lang
    )
    out: list[tuple[float, Flag | None]] = []
    for (seg, _), raw in zip(pairs, back, strict=True):
        text, _ = clean_output(raw, seg.text)
        score = _CHRF.sentence_score(text, [seg.text]).score
        flag = None
        if score < min_chrf:
            flag = Flag(
                code="backtranslation",
                severity="warning",
                message=f"back-translation differs from the source (chrF {score:.0f} < {min_chrf:.0f}): {text[:200]}",
            )
        out.append((score, flag))
    return out
