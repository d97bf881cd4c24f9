"""Numbers must survive translation, allowing for locale: "1,5 juta" = 1.5 million = 150万."""

from __future__ import annotations

import contextlib
import re
import unicodedata

__all__ = ["extract_values", "missing_numbers"]

_NUM = re.compile(r"\d+(?:[.,\u00a0\u202f ]\d+)*")
_MULTIPLIERS: dict[str, float] = {
    # Indonesian
    "ribu": 1e3,
    "juta": 1e6,
    "miliar": 1e9,
    "milyar": 1e9,
    "triliun": 1e12,
    # English / French
    "thousand": 1e3,
    "million": 1e6,
    "millions": 1e6,
    "billion": 1e9,
    "billions": 1e9,
    "trillion": 1e12,
    "mille": 1e3,
    "milliard": 1e9,
    "milliards": 1e9,
    "billion(s)": 1e12,
    # Chinese / Japanese
    "千": 1e3,
    "万": 1e4,
    "萬": 1e4,
    "亿": 1e8,
    "億": 1e8,
    "兆": 1e12,
    # Arabic
    "ألف": 1e3,
    "آلاف": 1e3,
    "مليون": 1e6,
    "ملايين": 1e6,
    "مليار": 1e9,
    "مليارات": 1e9,
    "تريليون": 1e12,
}
_MULT_RE = re.compile(r"\s*(" + "|".join(sorted(map(re.escape, _MULTIPLIERS), key=len, reverse=True)) + ")")


def _normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    arabic_indic = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹٫٬", "01234567890123456789.,")
    return re.sub(r"<[^>]*>", " ", text.translate(arabic_indic))


def _readings(token: str) -> set[float]:
    """Every plausible value of a numeral: a decimal comma or point, and digit grouping by
    ``.``, ``,`` or a space only where every group after the first has three digits."""
    token = token.replace("\u00a0", " ").replace("\u202f", " ")
    if " " in token and re.fullmatch(r"\d{1,3}( \d{3})+", token) is None:
        return {float(p) for p in re.findall(r"\d+", token)}  # separate numbers, e.g. "14 2019"
    compact = token.replace(" ", "")
    values: set[float] = set()
    for decimal, group in ((",", "."), (".", ",")):
        head, _, tail = compact.partition(decimal)
        if decimal in tail:
            continue
        groups = head.split(group)
        if len(groups) > 1 and not all(len(g) == 3 for g in groups[1:]):
            continue
        with contextlib.suppress(ValueError):
            values.add(float("".join(groups) + ("." + tail if tail else "")))
    return values or {float(p) for p in re.findall(r"\d+", token)}


def extract_values(text: str) -> list[tuple[str, set[float]]]:
    """Numerals in ``text`` with their plausible values (multiplier words applied)."""
    text = _normalize(text)
    out: list[tuple[str, set[float]]] = []
    for match in _NUM.finditer(text):
        token = match.group(0).strip()
        values = _readings(token)
        mult = _MULT_RE.match(text, match.end())
        if mult:
            factor = _MULTIPLIERS[mult.group(1)]
            values |= {round(v * factor, 6) for v in values}
        out.append((token, values))
    return out


def missing_numbers(source: str, target: str) -> list[str]:
    """Numerals of the source not found in the target under any reading (small integers < 10
    are skipped: news style often spells them out)."""
    targets = extract_values(target)
    pool: list[float] = [v for _, values in targets for v in values]
    ints = [int(p) for token, _ in targets for p in re.findall(r"\d+", token)]
    missing: list[str] = []
    for token, values in extract_values(source):
        if all(v < 10 and float(v).is_integer() for v in values) and "." not in token and "," not in token:
            continue
        if any(any(abs(v - p) <= 1e-6 * max(1.0, abs(v)) for p in pool) for v in values):
            continue
        parts = [int(p) for p in re.findall(r"\d+", token)]
        if len(parts) > 1 and all(p in ints for p in parts):  # 10.30 WIB -> 10:30
            continue
        missing.append(token)
    return missing
