"""The quality estimate: the probability that a translated segment is good, and an edition's confidence.

A segment is *bad* when its sentence chrF against the human reference falls below a fixed per-language threshold
(``bad_below`` in the model file: the lowest quarter of the pipeline's lines on the tune half of the dev split,
fixed once).  The estimate is a logistic regression per language over signals that cost nothing extra at
translation time (:data:`FEATURES`): the engine's own token log-probabilities when it gives them
(:class:`lintas.engines.base.Scored`), the checks' findings, words mixing scripts, Latin words that are not in the
source, and how far the length is from the expected one.  Its weights are plain data
(``lintas/data/quality/estimate.json``), fitted on the tune half by ``scripts/fit_quality.py``; ``lintas qe-bench
--real test`` measures it on the test half.

A segment that comes from the translation memory or from an editor is trusted (quality 1).  An edition's
confidence is the length-weighted mean of its segments' estimates, the headline counting triple.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from lintas.ingest.language import rank_languages
from lintas.quality import foreign_words, length_ratio, mixed_script_words, script_share
from lintas.quality.names import source_names
from lintas.text.article import SegmentAlignment

__all__ = [
    "FEATURES",
    "MODEL_FILE",
    "QualityModel",
    "LanguageModel",
    "features",
    "load_model",
    "estimate",
    "explain",
    "trusted",
    "edition_confidence",
]

MODEL_FILE = Path(__file__).resolve().parent.parent / "data" / "quality" / "estimate.json"

FEATURES = (
    "logprob_mean",  # mean log-probability of the chosen tokens (missing when the engine gives none)
    "logprob_min",  # the least likely token
    "entropy_mean",  # mean entropy of the next-token distributions
    "pivot_logprob",  # for a first pass through the pivot (English): how sure the engine was of the pivot text
    "critical",  # unrepaired critical findings
    "warning",  # unrepaired warnings
    "repaired",  # findings the pipeline repaired (a patched text)
    "retried",  # attempts beyond the first
    "mixed_script",  # words mixing scripts
    "foreign_words",  # Latin words in a zh/ja/ar translation that the source does not have
    "length_dev",  # |log(length / expected length)|
    "length_log",  # log(length / expected length): too short and too long are not alike
    "copied",  # share of the translation's words that are lowercase words of the source: Indonesian left in place
    "source_length",  # log of the source's length in characters
    "native_script",  # share of the translation's letters in the language's own script (Latin for en/fr)
    "language_prob",  # the language identifier's probability that the translation is in the target language
    "names",  # names in the source (log): what a small model most often garbles
    "headline",  # the segment is the headline
)
_TAG = re.compile(r"<[^>]*>")


def features(segment: SegmentAlignment, lang: str) -> list[float]:
    """The signals of one segment, in the order of :data:`FEATURES`; NaN where the engine gave no log-probabilities
    (the model then takes the tune half's mean: an engine without them is judged on the other signals)."""
    signals = segment.signals
    flags = [f for f in segment.flags if f.severity != "info"]
    ratio = length_ratio(segment.source, segment.target, lang)
    return [
        signals.get("logprob_mean", math.nan),
        signals.get("logprob_min", math.nan),
        signals.get("entropy_mean", math.nan),
        signals.get("pivot_logprob_mean", math.nan),
        float(sum(f.severity == "critical" and not f.repaired for f in flags)),
        float(sum(f.severity == "warning" and not f.repaired for f in flags)),
        float(sum(f.repaired for f in flags)),
        float(max(0, segment.attempts - 1)),
        float(len(mixed_script_words(segment.target, lang))),
        float(len(foreign_words(segment.source, segment.target, lang))),
        abs(math.log(ratio)) if ratio else 0.0,
        math.log(ratio) if ratio else 0.0,
        _copied(segment.source, segment.target),
        math.log(1 + len(_TAG.sub("", segment.source))),
        _native_share(segment.target, lang),
        _language_prob(segment.target, lang),
        math.log(1 + len(source_names(segment.source))),
        1.0 if segment.kind == "headline" else 0.0,
    ]


_NATIVE = {"zh": ("Han",), "ja": ("Han", "Kana"), "ar": ("Arabic",)}


def _native_share(target: str, lang: str) -> float:
    share = script_share(target)
    return sum(share.get(s, 0.0) for s in _NATIVE.get(lang, ("Latin",))) if share else 1.0


def _language_prob(target: str, lang: str) -> float:
    ranked = rank_languages(_TAG.sub(" ", target))
    return next((p for code, p in ranked if code == lang), 0.0)


_WORDS = re.compile(r"[^\W\d_]{3,}")


def _copied(source: str, target: str) -> float:
    """Share of the translation's words (3+ letters) that the source has in lower case: common Indonesian words the
    engine left untranslated ("gila", "kotoran"); names, capitalised in the source, do not count."""
    words = _WORDS.findall(_TAG.sub(" ", target))
    if not words:
        return 0.0
    lower = {w for w in _WORDS.findall(_TAG.sub(" ", source)) if w.islower()}
    return sum(w.lower() in lower for w in words) / len(words)


@dataclass(frozen=True)
class LanguageModel:
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    bad_below: float  # sentence chrF under which a line counts as bad (the definition the model was fitted to)
    hold_below: float  # the default confidence under which an edition is held (chosen on the tune half)

    def contributions(self, values: Sequence[float]) -> list[float]:
        """Each feature's share of the log-odds (0 for a missing one)."""
        return [
            0.0 if math.isnan(v) else w * (v - m) / s
            for w, v, m, s in zip(self.weights, values, self.mean, self.scale, strict=True)
        ]

    def probability(self, values: Sequence[float]) -> float:
        z = self.bias + sum(
            w * (v - m) / s
            for w, v, m, s in zip(self.weights, values, self.mean, self.scale, strict=True)
            if not math.isnan(v)  # missing: the mean, which contributes nothing
        )
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


@dataclass(frozen=True)
class QualityModel:
    features: tuple[str, ...]
    languages: dict[str, LanguageModel]
    fallback: str = "en"  # the model used for a language the file has none for

    def language(self, lang: str) -> LanguageModel:
        return self.languages.get(lang) or self.languages[self.fallback]

    @classmethod
    def from_json(cls, data: object) -> QualityModel:
        """The model from its JSON form (:meth:`to_json`); ValueError when ``data`` is not one."""
        if not isinstance(data, dict):
            raise ValueError("a quality model must be a JSON object")
        names = tuple(str(n) for n in _json_list(data["features"], "features"))
        if names != FEATURES:
            raise ValueError(f"quality model features {names} do not match this version's {FEATURES}")
        languages = data["languages"]
        if not isinstance(languages, dict):
            raise ValueError("quality model languages must be a JSON object")
        langs = {
            str(lang): LanguageModel(
                _floats(m, "mean"),
                _floats(m, "scale"),
                _floats(m, "weights"),
                _number(m["bias"], "bias"),
                _number(m["bad_below"], "bad_below"),
                _number(m["hold_below"], "hold_below"),
            )
            for lang, m in languages.items()
        }
        return cls(names, langs)

    def to_json(self) -> dict[str, object]:
        return {
            "features": list(self.features),
            "languages": {
                lang: {
                    "mean": list(m.mean),
                    "scale": list(m.scale),
                    "weights": list(m.weights),
                    "bias": m.bias,
                    "bad_below": m.bad_below,
                    "hold_below": m.hold_below,
                }
                for lang, m in self.languages.items()
            },
        }


def _json_list(value: object, what: str) -> list[object]:
    if not isinstance(value, list):
        raise ValueError(f"quality model {what} must be a JSON list")
    return value


def _floats(language: object, key: str) -> tuple[float, ...]:
    if not isinstance(language, dict):
        raise ValueError("a quality model language must be a JSON object")
    return tuple(_number(v, key) for v in _json_list(language[key], key))


def _number(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"quality model {what} must hold numbers")
    return float(value)


@functools.cache
def load_model(path: Path = MODEL_FILE) -> QualityModel:
    data = json.loads(path.read_text(encoding="utf-8"))
    return QualityModel.from_json(data.get("model", data))


def trusted(segment: SegmentAlignment) -> bool:
    """A segment an editor or the translation memory gave, that no check flags: its quality is 1."""
    return segment.origin != "engine" and not any(f.severity != "info" and not f.repaired for f in segment.flags)


def estimate(segment: SegmentAlignment, lang: str, model: QualityModel | None = None) -> float:
    """Probability (0-1) that the segment is good; 1 for a segment an editor or the translation memory gave, unless a
    check still finds something in it."""
    if trusted(segment):
        return 1.0
    model = model or load_model()
    return round(model.language(lang).probability(features(segment, lang)), 4)


# What an editor reads for a feature that lowers a segment's estimate.
_REASONS = {
    "logprob_mean": "the model was unsure of its words",
    "logprob_min": "the model was unsure of at least one word",
    "entropy_mean": "the model hesitated between many words",
    "pivot_logprob": "the English it was translated from was uncertain",
    "length_log": "its length is unusual for a translation of this sentence",
    "copied": "words of the Indonesian were left untranslated",
    "source_length": "long sentences are harder",
    "native_script": "part of it is not in the language's script",
    "language_prob": "it does not read clearly as the target language",
    "names": "it has names, which are often garbled",
    "critical": "a check found a critical problem",
    "warning": "a check found something to look at",
    "repaired": "the text was repaired automatically",
    "retried": "it took more than one attempt",
    "mixed_script": "words mix scripts",
    "foreign_words": "it has words the source does not have",
    "length_dev": "its length is unusual for a translation of this sentence",
    "headline": "headlines are often translated too literally",
}


def explain(segment: SegmentAlignment, lang: str, model: QualityModel | None = None, limit: int = 3) -> list[str]:
    """In plain words, what lowers the segment's estimate most (at most ``limit`` reasons)."""
    if trusted(segment):
        return []
    model = model or load_model()
    parts = model.language(lang).contributions(features(segment, lang))
    lowering = sorted((c, name) for c, name in zip(parts, FEATURES, strict=True) if c < -0.25)
    return [_REASONS[name] for _, name in lowering[:limit]]


def edition_confidence(segments: Sequence[SegmentAlignment]) -> float:
    """The length-weighted mean of the segments' ``quality`` (the headline counts triple: every reader sees it)."""
    total = weighted = 0.0
    for segment in segments:
        weight = max(1, len(_TAG.sub("", segment.source))) * (3 if segment.id == "headline" else 1)
        total += weight
        weighted += weight * (segment.quality if segment.quality is not None else 1.0)
    return round(weighted / total, 3) if total else 1.0
