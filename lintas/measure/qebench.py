"""The quality-estimation benchmark: do the checks catch real errors, and leave good text alone?

A corruption suite is built from the human references of NTREX-style data (``load_documents``):
each error type is injected into correct translations, and every segment, clean or corrupted,
goes through the same checks as the pipeline's output (:func:`check_pair`).  Reported per
language and error type: the detection rate (share of corrupted segments with a warning or a
critical flag) and the false-flag rate on the clean references (single lines and two-line
segments).  Deterministic: the same data and seed give the same suite.

Error types:

``number``        a numeral that the source also has is changed (one digit);
``name``          a name the translation keeps from the source is misspelled or swapped for a
                  name from another article (en, fr: names are transliterated in zh, ja, ar);
``glossary``      a glossary term's form is replaced by another term's form (all languages);
``omission``      one sentence of a two-sentence segment is dropped;
``addition``      a sentence from another article is appended;
``untranslated``  the Indonesian source is left in place;
``wrong_language``the reference of another language is put in place (en<-fr, fr<-en, zh<-ja,
                  ja<-zh, ar<-en);
``repetition``    the end of the sentence loops ("... the the the the");
``placeholder``   a link placeholder (``<a href="#1">``) present in the source is lost.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from lintas.measure.evaluate import Document
from lintas.quality import check_segment
from lintas.quality.names import source_names
from lintas.quality.numbers import extract_values
from lintas.text.article import Flag, SegmentAlignment
from lintas.text.glossary import Glossary
from lintas.text.inline import from_tagged
from lintas.text.protect import missing_spans

if TYPE_CHECKING:
    from lintas.engines.base import Engine
    from lintas.pipeline.translate import Options

__all__ = ["ERROR_TYPES", "check_pair", "build_suite", "run_bench", "BenchResult", "format_result"]

ERROR_TYPES = (
    "number",
    "name",
    "glossary",
    "omission",
    "addition",
    "untranslated",
    "wrong_language",
    "repetition",
    "placeholder",
)
# Error types a check finds by construction (the corruption is what the check looks for): reported apart.
SANITY_TYPES = ("untranslated", "wrong_language", "placeholder")
_WRONG_LANGUAGE = {"en": "fr", "fr": "en", "zh": "ja", "ja": "zh", "ar": "en"}
_LINK = "https://example.org/qe"


def check_pair(source: str, target: str, lang: str, glossary: Glossary | None = None) -> list[Flag]:
    """Every check the pipeline runs on one segment (tagged source and target)."""
    links = [_LINK] * len(set(re.findall(r'<a href="#(\d+)">', source)))
    parsed = from_tagged(target, links)
    spans = missing_spans(source, target)
    return check_segment(
        source,
        target,
        lang,
        lost_links=len(parsed.missing_links),
        lost_marks=parsed.lost_marks,
        missing=[s.text for s in spans],
        glossary=glossary,
    )


def _flagged(flags: list[Flag]) -> bool:
    return any(f.severity != "info" for f in flags)


@dataclass
class Case:
    kind: str  # an error type, or "clean" / "clean_pair"
    source: str
    target: str


def _join(a: str, b: str, lang: str) -> str:
    return a + ("" if lang in ("zh", "ja") else " ") + b


def _corrupt_number(source: str, target: str, rng: random.Random) -> str | None:
    source_values = {v for _, values in extract_values(source) for v in values}
    candidates = []
    for match in re.finditer(r"\d+(?:[.,]\d+)*", target):
        values = next((vals for tok, vals in extract_values(match.group(0))), set())
        if values & source_values and any(v >= 10 or not float(v).is_integer() for v in values):
            candidates.append(match)
    if not candidates:
        return None
    match = rng.choice(candidates)
    token = match.group(0)
    digits = [i for i, c in enumerate(token) if c.isdigit()]
    pos = rng.choice(digits)
    new_digit = str((int(token[pos]) + rng.randint(1, 8)) % 10)
    if pos == 0 and new_digit == "0":
        new_digit = "9"
    changed = token[:pos] + new_digit + token[pos + 1 :]
    return target[: match.start()] + changed + target[match.end() :]


def _misspell(name: str, rng: random.Random) -> str:
    if len(name) >= 4 and rng.random() < 0.5:  # swap two inner letters
        i = rng.randrange(1, len(name) - 2)
        if name[i] != name[i + 1]:
            return name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    i = rng.randrange(1, len(name))  # replace one letter
    letters = "aeiou" if name[i].lower() in "aeiou" else "bcdfghklmnprstvz"
    choice = rng.choice([c for c in letters if c != name[i].lower()])
    return name[:i] + choice + name[i + 1 :]


def _corrupt_name(source: str, target: str, lang: str, other_names: Sequence[str], rng: random.Random) -> str | None:
    if lang not in ("en", "fr"):
        return None
    kept = [n for n in source_names(source) if len(n) >= 4 and re.search(rf"(?<!\w){re.escape(n)}(?!\w)", target)]
    if not kept:
        return None
    name = rng.choice(kept)
    if rng.random() < 0.5:
        new = _misspell(name, rng)
    else:
        pool = [o for o in other_names if o.lower() != name.lower() and o not in source]
        new = rng.choice(pool) if pool else _misspell(name, rng)
    return re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", new, target)


def _corrupt_glossary(source: str, target: str, lang: str, glossary: Glossary, rng: random.Random) -> str | None:
    for hit in glossary.find(source):
        forms = [f for f in hit.term.forms.get(lang, ()) if f.lower() in target.lower()]
        if not forms or not hit.term.enforce:
            continue
        others = [
            t.preferred(lang)
            for t in glossary.terms
            if t is not hit.term and t.preferred(lang) and t.category == hit.term.category
        ]
        if not others:
            continue
        replacement = rng.choice([o for o in others if o])
        out = target
        for form in sorted(hit.term.forms[lang], key=len, reverse=True):
            out = re.sub(re.escape(form), replacement or "", out, flags=re.IGNORECASE)
        return out if out != target else None
    return None


def _repeat(target: str, lang: str, rng: random.Random) -> str:
    if lang in ("zh", "ja"):
        tail = target.rstrip("。！？.!?」”")[-rng.randint(2, 4) :]
        return target + tail * rng.randint(5, 8)
    words = target.rstrip('.!?»"”').split()
    size = rng.randint(1, 3)
    chunk = " ".join(words[-size:])
    return target + " " + " ".join([chunk] * rng.randint(4, 6))


def _add_link(text: str) -> str | None:
    match = re.search(r"[^\W\d_]{3,}", text)
    if not match:
        return None
    return text[: match.start()] + f'<a href="#1">{match.group(0)}</a>' + text[match.end() :]


def build_suite(docs: Sequence[Document], lang: str, glossary: Glossary, *, seed: int = 13) -> dict[str, list[Case]]:
    """Cases per error type (and the clean references) for one target language."""
    rng = random.Random(f"{seed}:{lang}")
    suite: dict[str, list[Case]] = {k: [] for k in ("clean", "clean_pair", *ERROR_TYPES)}
    names = sorted({n for d in docs for s in d.source for n in source_names(s) if len(n) >= 4 and n[1:].islower()})
    for d_index, doc in enumerate(docs):
        refs = doc.refs[lang]
        others = [line for j, d in enumerate(docs) if j != d_index for line in d.refs[lang]]
        for i, (src, ref) in enumerate(zip(doc.source, refs, strict=True)):
            if not src or not ref:
                continue
            suite["clean"].append(Case("clean", src, ref))
            number = _corrupt_number(src, ref, rng)
            if number:
                suite["number"].append(Case("number", src, number))
            name = _corrupt_name(src, ref, lang, names, rng)
            if name:
                suite["name"].append(Case("name", src, name))
            term = _corrupt_glossary(src, ref, lang, glossary, rng)
            if term:
                suite["glossary"].append(Case("glossary", src, term))
            suite["addition"].append(Case("addition", src, _join(ref, rng.choice(others), lang)))
            suite["untranslated"].append(Case("untranslated", src, src))
            wrong = doc.refs.get(_WRONG_LANGUAGE[lang], [None] * len(refs))[i] if lang in _WRONG_LANGUAGE else None
            if wrong:
                suite["wrong_language"].append(Case("wrong_language", src, wrong))
            suite["repetition"].append(Case("repetition", src, _repeat(ref, lang, rng)))
            linked_src, linked_ref = _add_link(src), _add_link(ref)
            if linked_src and linked_ref:
                suite["clean"].append(Case("clean", linked_src, linked_ref))
                suite["placeholder"].append(Case("placeholder", linked_src, ref))
            if i + 1 < len(refs) and doc.source[i + 1] and refs[i + 1]:
                pair_src = doc.source[i] + " " + doc.source[i + 1]
                suite["clean_pair"].append(Case("clean_pair", pair_src, _join(ref, refs[i + 1], lang)))
                kept = ref if rng.random() < 0.5 else refs[i + 1]
                suite["omission"].append(Case("omission", pair_src, kept))
    return suite


@dataclass
class Row:
    lang: str
    kind: str
    n: int
    flagged: int
    codes: Counter[str] = field(default_factory=Counter)
    examples: list[tuple[str, str, list[Flag]]] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.flagged / self.n if self.n else float("nan")


@dataclass
class BenchResult:
    rows: list[Row]

    def get(self, lang: str, kind: str) -> Row | None:
        return next((r for r in self.rows if r.lang == lang and r.kind == kind), None)


def run_bench(
    docs: Sequence[Document],
    targets: Sequence[str],
    glossary: Glossary,
    *,
    seed: int = 13,
    progress: Callable[[int], object] | None = None,
) -> BenchResult:
    rows: list[Row] = []
    for lang in targets:
        suite = build_suite(docs, lang, glossary, seed=seed)
        for kind, cases in suite.items():
            row = Row(lang, kind, len(cases), 0)
            for case in cases:
                flags = [f for f in check_pair(case.source, case.target, lang, glossary) if f.severity != "info"]
                if flags:
                    row.flagged += 1
                    row.codes.update({f.code for f in flags})
                    if len(row.examples) < 3:
                        row.examples.append((case.source, case.target, flags))
            rows.append(row)
            if progress:
                progress(len(cases))
    return BenchResult(rows)


TARGETS_DETECTION = {
    "number": 0.9,
    "name": 0.9,
    "untranslated": 0.9,
    "wrong_language": 0.9,
    "omission": 0.9,
    "addition": 0.7,
}


def _pct(row: Row | None) -> str:
    if row is None or not row.n:
        return "n/a"
    return f"{row.rate:.1%} ({row.n})"


def format_result(result: BenchResult, targets: Sequence[str]) -> str:
    """A Markdown table: error types down, languages across; then the false-flag rows."""
    head = "| error type | target | " + " | ".join(targets) + " |"
    lines = [head, "|" + " --- |" * (len(targets) + 2)]
    for kind in [k for k in ERROR_TYPES if k not in SANITY_TYPES]:
        goal = TARGETS_DETECTION.get(kind)
        cells = [_pct(result.get(lang, kind)) for lang in targets]
        lines.append(f"| {kind} (detected) | {f'≥ {goal:.0%}' if goal else '-'} | " + " | ".join(cells) + " |")
    for kind, label in (("clean", "clean sentences (false flags)"), ("clean_pair", "clean 2-sentence (false flags)")):
        cells = [_pct(result.get(lang, kind)) for lang in targets]
        lines.append(f"| {label} | ≤ 5% | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Sanity checks (true by construction: a copied source, another language's reference, a lost tag):",
        "",
    ]
    lines += [head, "|" + " --- |" * (len(targets) + 2)]
    for kind in SANITY_TYPES:
        goal = TARGETS_DETECTION.get(kind)
        cells = [_pct(result.get(lang, kind)) for lang in targets]
        lines.append(f"| {kind} (detected) | {f'≥ {goal:.0%}' if goal else '-'} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("False flags on clean references, by check:")
    for lang in targets:
        codes = Counter[str]()
        for kind in ("clean", "clean_pair"):
            row = result.get(lang, kind)
            if row:
                codes.update(row.codes)
        lines.append(f"- {lang}: " + (", ".join(f"{c} {n}" for c, n in codes.most_common()) or "none"))
    return "\n".join(lines)


# -- the checks on real engine output -------------------------------------------------------------
@dataclass
class RealRow:
    lang: str
    segments: int = 0
    retried: int = 0  # segments with a critical flag on the first attempt
    flagged: int = 0  # segments with a warning or critical flag in the final edition
    held: int = 0
    editions: int = 0
    confidence_sum: float = 0.0
    codes: Counter[str] = field(default_factory=Counter)
    examples: list[tuple[str, str, str]] = field(default_factory=list)  # (source, target, flags)

    @property
    def confidence(self) -> float:
        """Mean confidence of the editions."""
        return self.confidence_sum / self.editions if self.editions else float("nan")

    def add_edition(
        self, segments: Sequence[SegmentAlignment], *, held: bool, confidence: float, counted: Callable[[Flag], bool]
    ) -> None:
        """Count one edition; ``counted`` says which of a segment's flags make it flagged."""
        self.editions += 1
        self.held += held
        self.confidence_sum += confidence
        for seg in segments:
            self.segments += 1
            self.retried += seg.attempts > 1
            flags = [f for f in seg.flags if counted(f)]
            if flags:
                self.flagged += 1
                self.codes.update({f.code for f in flags})
                self.examples.append((seg.source, seg.target, "; ".join(f"{f.code}: {f.message}" for f in flags)))


def run_real(
    docs: Sequence[Document],
    targets: Sequence[str],
    engine: Engine,
    options: Options,
    *,
    progress: Callable[[int], object] | None = None,
    save: Path | None = None,
) -> dict[str, RealRow]:
    """Translate each document with the pipeline and count what the checks flag (editions as JSON
    in ``save`` when given)."""
    from lintas.measure.evaluate import document_article
    from lintas.pipeline.translate import translate_article

    rows = {lang: RealRow(lang) for lang in targets}
    for doc in docs:
        reports = translate_article(
            document_article(doc),
            list(targets),
            engine,
            options=options,
            progress=(lambda _lang, n: progress(n)) if progress else None,
        )
        for report in reports:
            if save is not None:
                save.mkdir(parents=True, exist_ok=True)
                path = save / f"{report.edition.id}.{report.edition.target_lang}.json"
                path.write_text(report.edition.model_dump_json(indent=1), encoding="utf-8")
            rows[report.edition.target_lang].add_edition(
                report.edition.segments,
                held=report.edition.status == "held",
                confidence=report.edition.confidence,
                counted=lambda f: f.severity != "info",
            )
    return rows


def format_real(rows: dict[str, RealRow], targets: Sequence[str], *, samples: int = 3) -> str:
    lines = [
        "Checks on the engine's real output:",
        "| lang | segments | critical on 1st try (retried) | flagged in final edition | editions held | mean confidence |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for lang in targets:
        r = rows[lang]
        lines.append(
            f"| {lang} | {r.segments} | {r.retried} ({r.retried / max(1, r.segments):.1%}) | "
            f"{r.flagged} ({r.flagged / max(1, r.segments):.1%}) | {r.held}/{r.editions} | {r.confidence:.2f} |"
        )
    lines.append("")
    for lang in targets:
        r = rows[lang]
        lines.append(f"{lang} flags by check: " + (", ".join(f"{c} {n}" for c, n in r.codes.most_common()) or "none"))
        rng = random.Random(lang)
        for source, target, flags in rng.sample(r.examples, min(samples, len(r.examples))):
            lines.append(f"  - [{flags}]\n    id: {source}\n    {lang}: {target}")
    return "\n".join(lines)


# -- the back-translation check on the suite --------------------------------------------------
BACK_TYPES = ("clean", "number", "name", "omission", "addition", "wrong_language")


def run_backtranslation(
    docs: Sequence[Document],
    lang: str,
    glossary: Glossary,
    engine: Engine,
    *,
    per_type: int = 20,
    min_chrf: float | None = None,
    seed: int = 13,
    progress: Callable[[int], object] | None = None,
) -> dict[str, list[float]]:
    """chrF of back-translations (into Indonesian, against the source) for ``per_type`` cases of
    each type in :data:`BACK_TYPES`: how well the optional check separates good from bad."""
    from lintas.quality.backtranslate import backtranslation_flags
    from lintas.text.article import Segment

    suite = build_suite(docs, lang, glossary, seed=seed)
    rng = random.Random(f"back:{seed}:{lang}")
    scores: dict[str, list[float]] = {}
    for kind in BACK_TYPES:
        cases = [c for c in suite.get(kind, []) if "<a" not in c.source]
        chosen = rng.sample(cases, min(per_type, len(cases)))
        pairs = [(Segment(f"{kind}{i}", c.source), c.target) for i, c in enumerate(chosen)]
        if min_chrf is None:
            results = backtranslation_flags(pairs, engine, "id", lang)
        else:
            results = backtranslation_flags(pairs, engine, "id", lang, min_chrf=min_chrf)
        scores[kind] = [score for score, _ in results]
        if progress:
            progress(len(pairs))
    return scores


def format_backtranslation(scores: dict[str, list[float]], lang: str, threshold: float) -> str:
    lines = [
        f"Back-translation check ({lang} -> id, chrF against the source; flagged below {threshold:.0f}):",
        "| case | n | median chrF | flagged |",
        "| --- | --- | --- | --- |",
    ]
    for kind, values in scores.items():
        if not values:
            continue
        ordered = sorted(values)
        median = ordered[len(ordered) // 2]
        flagged = sum(v < threshold for v in values)
        lines.append(f"| {kind} | {len(values)} | {median:.1f} | {flagged} ({flagged / len(values):.0%}) |")
    return "\n".join(lines)


def recheck(directory: Path, glossary: Glossary | None) -> dict[str, RealRow]:
    """Run the current checks again on editions saved by ``--translate --save`` (their final
    text), so a change to the checks can be measured without translating again."""
    from lintas.quality.estimate import edition_confidence, estimate
    from lintas.quality.policy import HoldPolicy
    from lintas.text.article import Edition

    rows: dict[str, RealRow] = {}
    for path in sorted(directory.glob("*.json")):
        edition = Edition.model_validate_json(path.read_text(encoding="utf-8"))
        segments = [
            seg.model_copy(
                update={
                    "flags": [f for f in seg.flags if f.repaired]
                    + check_pair(seg.source, seg.target, edition.target_lang, glossary)
                }
            )
            for seg in edition.segments
        ]
        for seg in segments:
            seg.quality = estimate(seg, edition.target_lang)
        confidence = edition_confidence(segments)
        rows.setdefault(edition.target_lang, RealRow(edition.target_lang)).add_edition(
            segments,
            held=bool(HoldPolicy.from_settings("critical", "auto").reasons(segments, edition.target_lang, confidence)),
            confidence=confidence,
            counted=lambda f: f.severity != "info" and not f.repaired,
        )
    return rows
