"""The quality estimate on real output: translate one half of the dev split with a real engine, score each line
against the human reference, and measure how well the estimate (and each of its signals alone) predicts it.

``translate_half`` writes one edition JSON per (document, language) into a directory and skips the ones already
there, so a long run can be stopped and resumed.  Each document becomes an article with one paragraph per line (the
first line is the headline), so every line of the reference lines up with the segments of one paragraph.
``line_records`` turns those editions into one record per line: the hypothesis, the reference, sentence chrF, the
segment features of :mod:`lintas.quality.estimate`, and the edition's status.  ``fit`` (in
``scripts/fit_quality.py``) learns the estimate from the tune half; ``report`` measures it on the test half.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

from lintas.measure.evaluate import Document, article_id, chrf_metric, plain_text
from lintas.text.article import Edition, SegmentAlignment

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from lintas.quality.estimate import QualityModel

__all__ = [
    "LineRecord",
    "line_records",
    "sentence_chrf",
    "EditionScore",
    "LanguageReport",
    "oracle_gap",
    "logistic_newton",
]


def sentence_chrf(hypothesis: str, reference: str, lang: str) -> float:
    """Sentence-level chrF (zh, ja) or chrF++ (the others), as the evaluation scores documents."""
    return chrf_metric(lang).sentence_score(hypothesis, [reference]).score


@dataclass
class LineRecord:
    doc: str
    lang: str
    line: int  # 0: the headline
    source: str
    hypothesis: str
    reference: str
    chrf: float
    # the line's SegmentAlignment dumps (pydantic's model_dump, JSON-like values)
    segments: list[dict[str, Any]] = field(default_factory=list)
    status: str = "published"  # the edition's
    confidence: float = 1.0  # the edition's
    names: list[dict[str, str]] = field(default_factory=list)  # the edition's name table
    _parsed: list[tuple[SegmentAlignment, list[float]]] | None = field(default=None, repr=False, compare=False)

    def parsed(self) -> list[tuple[SegmentAlignment, list[float]]]:
        """The line's segments with their features (computed once: fitting scores every line many times)."""
        if self._parsed is None:
            from lintas.quality.estimate import features

            segments = [SegmentAlignment.model_validate(dump) for dump in self.segments]
            self._parsed = [(s, features(s, self.lang)) for s in segments]
        return self._parsed

    def estimate(self, model: QualityModel) -> float:
        """The line's estimate: the length-weighted mean of its segments' (1 for an editor's or the memory's)."""
        from lintas.quality.estimate import trusted

        total = weighted = 0.0
        for segment, values in self.parsed():
            weight = max(1, len(segment.source))
            quality = 1.0 if trusted(segment) else model.language(self.lang).probability(values)
            segment.quality = quality
            total += weight
            weighted += weight * quality
        return weighted / total if total else 1.0


def _pivot_signals(edition: Edition, pivot_path: Path) -> None:
    """Editions made before the pipeline recorded ``pivot_logprob_mean`` get it from their English edition (first
    attempts only: retries go straight from the source), so older tune runs stay usable."""
    if edition.target_lang == "en" or not pivot_path.is_file():
        return
    if any("pivot_logprob_mean" in s.signals for s in edition.segments):
        return
    pivot = {s.id: s.signals for s in Edition.model_validate_json(pivot_path.read_text(encoding="utf-8")).segments}
    for segment in edition.segments:
        value = pivot.get(segment.id, {}).get("logprob_mean")
        if segment.attempts == 1 and segment.origin == "engine" and value is not None:
            segment.signals["pivot_logprob_mean"] = value


def line_records(docs: Sequence[Document], targets: Sequence[str], directory: Path) -> list[LineRecord]:
    """One record per reference line of every edition found in ``directory`` (documents not translated are skipped)."""
    records: list[LineRecord] = []
    for doc in docs:
        for lang in targets:
            path = directory / f"{article_id(doc)}.{lang}.json"
            if not path.is_file():
                continue
            edition = Edition.model_validate_json(path.read_text(encoding="utf-8"))
            _pivot_signals(edition, directory / f"{article_id(doc)}.en.json")
            by_line: dict[int, list[SegmentAlignment]] = {}
            for seg in edition.segments:
                n = 0 if seg.id == "headline" else int(seg.id.split(".")[0][1:]) + 1
                by_line.setdefault(n, []).append(seg)
            sep = "" if lang in ("zh", "ja") else " "
            for n, segs in sorted(by_line.items()):
                hypothesis = sep.join(plain_text(s.target) for s in segs)
                reference = doc.refs[lang][n]
                records.append(
                    LineRecord(
                        doc.id,
                        lang,
                        n,
                        doc.source[n],
                        hypothesis,
                        reference,
                        sentence_chrf(hypothesis, reference, lang),
                        [s.model_dump() for s in segs],
                        edition.status,
                        edition.confidence,
                        [n.model_dump() for n in edition.names],
                    )
                )
    return records


# -- fitting (tune half) ------------------------------------------------------------------------------------------
def _segment_features(record: LineRecord) -> list[float]:
    """A line's features: the length-weighted mean of its segments' (most lines are one segment)."""
    from lintas.quality.estimate import FEATURES

    rows = [values for _, values in record.parsed()]
    weights = [max(1, len(segment.source)) for segment, _ in record.parsed()]
    total = sum(weights)
    return [
        sum(w * r[k] for r, w in zip(rows, weights, strict=True)) / total for k in range(len(FEATURES))
    ]  # NaN stays


def line_estimate(record: LineRecord, model: QualityModel | None = None) -> float:
    """The estimate for a whole line: the length-weighted mean of its segments' estimates."""
    from lintas.quality.estimate import load_model

    return record.estimate(model or load_model())


def _quantile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _standardise(rows: list[list[float]]) -> tuple[list[float], list[float]]:
    """Per-feature mean and scale over ``rows``, NaN (a missing signal) left out; (0, 1) for a column without values."""
    import numpy as np

    data = np.asarray(rows, dtype=float)
    with warnings.catch_warnings():  # a column with no values at all (an engine without log-probabilities)
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nan_to_num(np.nanmean(data, axis=0))
        scale = np.nan_to_num(np.nanstd(data, axis=0))
    scale[scale < 1e-9] = 1.0
    return mean.tolist(), scale.tolist()


def logistic_newton(
    z: NDArray[np.float64], labels: NDArray[np.float64], penalty: NDArray[np.float64]
) -> NDArray[np.float64]:
    """L2-regularised logistic regression by Newton's method: the weights of the columns of ``z``."""
    import numpy as np

    w = np.zeros(z.shape[1])
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-np.clip(z @ w, -30, 30)))
        gradient = z.T @ (p - labels) + penalty * w
        hessian = (z * (p * (1 - p))[:, None]).T @ z + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if float(np.abs(step).max()) < 1e-8:
            break
    return w


# Signals that may only lower the estimate: a fit that gives one of them a positive weight (a few lines of tune data
# where flagged segments happened to score well) is refitted without it.
NEGATIVE_ONLY = ("critical", "warning", "mixed_script", "foreign_words", "copied")


def _pooled_fit(
    rows: dict[str, list[list[float]]], labels: dict[str, list[int]], l2: float
) -> tuple[dict[str, tuple[list[float], list[float]]], list[float], dict[str, float]]:
    """One set of weights shared by every language over features standardised per language, and one intercept per
    language: five times the data of separate fits, which the tune half needs.  Returns the standardisation per
    language, the weights and the intercepts."""
    import numpy as np

    from lintas.quality.estimate import FEATURES

    langs = list(rows)
    scaling = {lang: _standardise(rows[lang]) for lang in langs}
    blocks, ys = [], []
    for k, lang in enumerate(langs):
        mean, scale = (np.asarray(v) for v in scaling[lang])
        z = np.nan_to_num((np.asarray(rows[lang], dtype=float) - mean) / scale)  # missing -> the mean
        onehot = np.zeros((len(z), len(langs)))
        onehot[:, k] = 1.0
        blocks.append(np.hstack([z, onehot]))
        ys += labels[lang]
    z_all, y_all = np.vstack(blocks), np.asarray(ys, dtype=float)
    n = len(FEATURES)
    keep = list(range(n))
    while True:
        columns = keep + list(range(n, n + len(langs)))
        penalty = np.asarray([l2] * len(keep) + [0.0] * len(langs))
        w = logistic_newton(z_all[:, columns], y_all, penalty)
        weights = [0.0] * n
        for j, column in enumerate(keep):
            weights[column] = float(w[j])
        wrong = [FEATURES.index(f) for f in NEGATIVE_ONLY if weights[FEATURES.index(f)] > 0]
        if not wrong:
            break
        keep = [c for c in keep if c not in wrong]
    biases = {lang: float(w[len(keep) + k]) for k, lang in enumerate(langs)}
    return scaling, weights, biases


class EditionScore(TypedDict):
    """An edition's (document, language) document chrF, confidence, and whether its flags alone hold it."""

    doc: str
    lang: str
    chrf: float
    confidence: float
    flagged: bool


def edition_scores(records: Sequence[LineRecord], model: QualityModel | None = None) -> list[EditionScore]:
    """Per edition (document, language): its document chrF, its confidence under ``model`` and whether the flags
    alone hold it (any unrepaired critical finding)."""
    from lintas.measure.evaluate import score
    from lintas.quality.estimate import edition_confidence, load_model

    model = model or load_model()
    groups: dict[tuple[str, str], list[LineRecord]] = {}
    for record in records:
        groups.setdefault((record.doc, record.lang), []).append(record)
    out: list[EditionScore] = []
    for (doc, lang), lines in groups.items():
        segments = []
        for record in lines:
            record.estimate(model)  # sets each segment's quality
            segments += [segment for segment, _ in record.parsed()]
        sep = "" if lang in ("zh", "ja") else " "
        chrf = score([sep.join(r.hypothesis for r in lines)], [sep.join(r.reference for r in lines)], lang)["chrf"]
        flagged = any(f.severity == "critical" and not f.repaired for s in segments for f in s.flags)
        out.append(
            {"doc": doc, "lang": lang, "chrf": chrf, "confidence": edition_confidence(segments), "flagged": flagged}
        )
    return out


def _choose_hold(editions: Sequence[EditionScore]) -> float:
    """The confidence threshold that best separates published from held editions on the tune half: the largest
    gap in mean document chrF (published minus held, the flags' holds included), holding at most half of them."""
    best, best_gap = 0.0, float("-inf")
    candidates = sorted({round(e["confidence"], 3) for e in editions})
    for t in [0.0, *candidates]:
        held = [e for e in editions if e["flagged"] or e["confidence"] < t]
        published = [e for e in editions if e not in held]
        if not published or len(held) > len(editions) / 2:
            continue
        gap = sum(e["chrf"] for e in published) / len(published) - (
            sum(e["chrf"] for e in held) / len(held) if held else 0.0
        )
        if held and gap > best_gap:
            best, best_gap = t, gap
    return best


def fit_model(
    records: Sequence[LineRecord], targets: Sequence[str], *, l2: float = 1.0, bad_quantile: float = 0.25
) -> QualityModel:
    """The estimate's weights, fitted on ``records`` (the tune half): a line is bad when its chrF is in the lowest
    ``bad_quantile`` of its language (:func:`_pooled_fit`); then the hold threshold per language
    (:func:`_choose_hold`)."""
    from lintas.quality.estimate import FEATURES, LanguageModel, QualityModel

    rows: dict[str, list[list[float]]] = {}
    labels: dict[str, list[int]] = {}
    bad_below: dict[str, float] = {}
    for lang in targets:
        lines = [r for r in records if r.lang == lang]
        bad_below[lang] = round(_quantile([r.chrf for r in lines], bad_quantile), 1)
        rows[lang] = [_segment_features(r) for r in lines]
        labels[lang] = [int(r.chrf >= bad_below[lang]) for r in lines]
    scaling, weights, biases = _pooled_fit(rows, labels, l2)
    languages = {
        lang: LanguageModel(
            tuple(round(v, 5) for v in scaling[lang][0]),
            tuple(round(v, 5) for v in scaling[lang][1]),
            tuple(round(v, 5) for v in weights),
            round(biases[lang], 5),
            bad_below[lang],
            0.0,
        )
        for lang in targets
    }
    model = QualityModel(FEATURES, languages)
    for lang in targets:
        editions = edition_scores([r for r in records if r.lang == lang], model)
        m = languages[lang]
        languages[lang] = LanguageModel(m.mean, m.scale, m.weights, m.bias, m.bad_below, _choose_hold(editions))
    return QualityModel(FEATURES, languages)


def cross_validate(
    records: Sequence[LineRecord],
    targets: Sequence[str],
    folds: int = 4,
    *,
    l2: float = 1.0,
    bad_quantile: float = 0.25,
) -> dict[str, float]:
    """The estimate's AUC per language when each tune document is scored by a model fitted without it (documents in
    ``folds`` groups): how the fit does on unseen documents, measured on the tune half only."""
    docs = sorted({r.doc for r in records})
    scores: dict[str, list[tuple[float, bool]]] = {lang: [] for lang in targets}
    for k in range(folds):
        held_out = set(docs[k::folds])
        model = fit_model([r for r in records if r.doc not in held_out], targets, l2=l2, bad_quantile=bad_quantile)
        for r in records:
            if r.doc in held_out:
                params = model.language(r.lang)
                scores[r.lang].append((1.0 - line_estimate(r, model), r.chrf < params.bad_below))
    return {lang: auc([s for s, _ in v], [b for _, b in v]) for lang, v in scores.items() if v}


# -- measuring (test half) ----------------------------------------------------------------------------------------
def auc(scores: Sequence[float], positives: Sequence[bool]) -> float:
    """ROC AUC: the probability that a random positive scores above a random negative (ties count half)."""
    ranked = sorted(zip(scores, positives, strict=True))
    pos = sum(positives)
    neg = len(positives) - pos
    if not pos or not neg:
        return float("nan")
    rank_sum, i = 0.0, 0
    while i < len(ranked):
        j = i
        while j < len(ranked) and ranked[j][0] == ranked[i][0]:
            j += 1
        mid = (i + j + 1) / 2  # mean 1-based rank of the tie group
        rank_sum += mid * sum(1 for k in range(i, j) if ranked[k][1])
        i = j
    return (rank_sum - pos * (pos + 1) / 2) / (pos * neg)


def kendall_tau(a: Sequence[float], b: Sequence[float]) -> float:
    """Kendall's tau-b (quadratic; a few thousand lines at most)."""
    concordant = discordant = ties_a = ties_b = 0
    n = len(a)
    for i in range(n):
        for j in range(i + 1, n):
            da, db = a[i] - a[j], b[i] - b[j]
            if da == 0 and db == 0:
                continue
            if da == 0:
                ties_a += 1
            elif db == 0:
                ties_b += 1
            elif (da > 0) == (db > 0):
                concordant += 1
            else:
                discordant += 1
    denominator = ((concordant + discordant + ties_a) * (concordant + discordant + ties_b)) ** 0.5
    return (concordant - discordant) / denominator if denominator else float("nan")


def _bootstrap_auc(scores: Sequence[float], positives: Sequence[bool], rounds: int = 1000) -> tuple[float, float]:
    """The 95% interval of the AUC, resampling lines (seeded: the same data give the same interval)."""
    import random

    rng = random.Random(7)
    values = []
    n = len(scores)
    for _ in range(rounds):
        picks = [rng.randrange(n) for _ in range(n)]
        value = auc([scores[i] for i in picks], [positives[i] for i in picks])
        if value == value:  # not NaN
            values.append(value)
    values.sort()
    return (values[int(0.025 * len(values))], values[int(0.975 * len(values)) - 1]) if values else (0.0, 0.0)


def _rules_score(record: LineRecord) -> float:
    """What the confidence was before the estimate: the checks' findings alone (critical 1, warning 0.35, repaired
    half), so higher means worse."""
    cost = 0.0
    for dump in record.segments:
        for flag in dump["flags"]:
            weight = {"critical": 1.0, "warning": 0.35}.get(flag["severity"], 0.0)
            cost += weight * (0.5 if flag["repaired"] else 1.0)
    return cost


def name_consistency(records: Sequence[LineRecord]) -> tuple[int, int]:
    """(names written with their one rendering in every segment that has them, names) over the editions of
    ``records``.  English and French names without a table entry are held to their source spelling."""
    from lintas.quality.names import source_names

    groups: dict[tuple[str, str], list[LineRecord]] = {}
    for record in records:
        groups.setdefault((record.doc, record.lang), []).append(record)
    consistent = total = 0
    for (_doc, lang), lines in groups.items():
        table = {n["source"]: n["form"] for n in lines[0].names}
        if lang in ("en", "fr"):
            for record in lines:
                for name in source_names(record.source):
                    table.setdefault(name, name)
        for name, form in table.items():
            having = [r for r in lines if re.search(r"(?<![\w-])" + re.escape(name) + r"(?![\w-])", r.source)]
            if not having:
                continue
            total += 1
            folded = form.casefold()
            consistent += all(folded in r.hypothesis.casefold() for r in having)
    return consistent, total


Example = tuple[str, str, str, float, float]  # a line's source, hypothesis, reference, chrF and estimate


class LanguageReport(TypedDict):
    """:func:`report`'s findings for one language."""

    lines: int
    bad: int
    bad_below: float
    auc: float
    auc_interval: tuple[float, float]
    kendall_tau: float
    signals: dict[str, float]
    editions: int
    held: int
    held_by_confidence: int
    hold_below: float
    chrf_published: float | None
    chrf_held: float | None
    oracle_gap_same: float | None
    oracle_gap_best: float | None
    names_all: tuple[int, int]
    names_published: tuple[int, int]
    mixed_published: int
    caught: list[Example]
    wrongly_held: list[Example]


def oracle_gap(chrfs: Sequence[float], held: int) -> float | None:
    """The published-minus-held gap in mean document chrF of a policy that knew the true chrF and held the ``held``
    worst editions: the most any estimate can reach with that many holds (None when nothing or everything is held).
    """
    ordered = sorted(chrfs)
    if not 0 < held < len(ordered):
        return None
    worst, rest = ordered[:held], ordered[held:]
    return sum(rest) / len(rest) - sum(worst) / len(worst)


def report(
    records: Sequence[LineRecord], targets: Sequence[str], model: QualityModel | None = None
) -> dict[str, LanguageReport]:
    """Everything the closing note and docs/quality.md report, per language, for ``records`` (the test half)."""
    from lintas.quality import mixed_script_words
    from lintas.quality.estimate import FEATURES, load_model

    model = model or load_model()
    out: dict[str, LanguageReport] = {}
    for lang in targets:
        rows = [r for r in records if r.lang == lang]
        if not rows:
            continue
        params = model.language(lang)
        bad = [r.chrf < params.bad_below for r in rows]
        estimates = [line_estimate(r, model) for r in rows]
        risk = [1.0 - e for e in estimates]
        signals: dict[str, float] = {}
        columns = list(zip(*[_segment_features(r) for r in rows], strict=True))
        for name, column, weight in zip(FEATURES, columns, params.weights, strict=True):
            values = [v if v == v else 0.0 for v in column]  # NaN (no log-probabilities) ranks with 0
            if len(set(values)) > 1:  # a signal that never varies here says nothing
                signals[name] = auc([-v if weight > 0 else v for v in values], bad)
        signals["rules only (before)"] = auc([_rules_score(r) for r in rows], bad)
        editions = edition_scores(rows, model)
        chrfs = [e["chrf"] for e in editions]
        floor = params.hold_below
        is_held = [e["flagged"] or e["confidence"] < floor for e in editions]
        published = [e for e, h in zip(editions, is_held, strict=True) if not h]
        held = [e for e, h in zip(editions, is_held, strict=True) if h]
        published_docs = {e["doc"] for e in published}
        published_rows = [r for r in rows if r.doc in published_docs]
        caught = [
            (r, x) for r, x, b in zip(rows, estimates, bad, strict=True) if b and _rules_score(r) == 0 and x < 0.5
        ]
        wrongly = [(r, x) for r, x, b in zip(rows, estimates, bad, strict=True) if not b and x < 0.5]
        out[lang] = {
            "lines": len(rows),
            "bad": sum(bad),
            "bad_below": params.bad_below,
            "auc": auc(risk, bad),
            "auc_interval": _bootstrap_auc(risk, bad),
            "kendall_tau": kendall_tau(estimates, [r.chrf for r in rows]),
            "signals": signals,
            "editions": len(editions),
            "held": len(held),
            "held_by_confidence": sum(1 for e in held if not e["flagged"]),
            "hold_below": floor,
            "chrf_published": sum(e["chrf"] for e in published) / len(published) if published else None,
            "chrf_held": sum(e["chrf"] for e in held) / len(held) if held else None,
            "oracle_gap_same": oracle_gap(chrfs, len(held)),
            "oracle_gap_best": max(
                (g for k in range(1, len(editions) // 2 + 1) if (g := oracle_gap(chrfs, k)) is not None), default=None
            ),
            "names_all": name_consistency(rows),
            "names_published": name_consistency(published_rows),
            "mixed_published": sum(len(mixed_script_words(r.hypothesis, lang)) for r in published_rows),
            "caught": [(r.source, r.hypothesis, r.reference, round(r.chrf, 1), round(x, 2)) for r, x in caught[:3]],
            "wrongly_held": [
                (r.source, r.hypothesis, r.reference, round(r.chrf, 1), round(x, 2)) for r, x in wrongly[:3]
            ],
        }
    return out


def _signed(value: float | None) -> str:
    return "-" if value is None else f"{value:+.1f}"


def format_report(result: dict[str, LanguageReport]) -> str:
    lines = [
        "| lang | lines | bad (chrF <) | estimate AUC [95%] | Kendall tau | rules-only AUC | editions held (by confidence)"
        " | chrF published | chrF held | gap | oracle gap (same holds; best) | names consistent (published)"
        " | mixed-script words published |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for lang, row in result.items():
        lo, hi = row["auc_interval"]
        pub, held = row["chrf_published"], row["chrf_held"]
        gap = f"{pub - held:+.1f}" if pub is not None and held is not None else "-"
        ok_all, n_all = row["names_all"]
        ok_pub, n_pub = row["names_published"]
        lines.append(
            f"| {lang} | {row['lines']} | {row['bad']} (< {row['bad_below']}) | {row['auc']:.2f} [{lo:.2f}, {hi:.2f}] | "
            f"{row['kendall_tau']:.2f} | {row['signals']['rules only (before)']:.2f} | "
            f"{row['held']}/{row['editions']} ({row['held_by_confidence']}, below {row['hold_below']:.2f}) | "
            f"{'-' if pub is None else f'{pub:.1f}'} | {'-' if held is None else f'{held:.1f}'} | {gap} | "
            f"{_signed(row['oracle_gap_same'])}; {_signed(row['oracle_gap_best'])} | "
            f"{ok_all}/{n_all} ({ok_pub}/{n_pub}) | {row['mixed_published']} |"
        )
    lines += ["", "Each signal alone (ROC AUC for bad lines, oriented by the sign of its tune-half weight):", ""]
    names = list(next(iter(result.values()))["signals"])
    lines.append("| signal | " + " | ".join(result) + " |")
    lines.append("| --- |" + " --- |" * len(result))
    for name in names:
        cells = [f"{r['signals'].get(name, float('nan')):.2f}" for r in result.values()]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    for lang, r in result.items():
        for title, examples in (
            ("caught by the estimate, missed by the rules", r["caught"]),
            ("good, estimated bad", r["wrongly_held"]),
        ):
            lines.append(f"\n{lang}, {title}:")
            for source, hyp, ref, chrf, x in examples:
                lines.append(f"  - id: {source}\n    {lang}: {hyp}\n    ref: {ref}\n    chrF {chrf}, estimate {x}")
    return "\n".join(lines)
