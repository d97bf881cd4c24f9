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
    "m": 1e6,
    "mn": 1e6,
    "bn": 1e9,
    "k": 1e3,
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
        if mult and mult.group(1).isascii() and text[mult.end() : mult.end() + 1].isalpha():
            mult = None  # "20 meters", "5 km": a unit, not "m"/"k"; (CJK units may run on: 20万人)
        if mult:
            factor = _MULTIPLIERS[mult.group(1)]
            # "20 juta" is 20 million, never 20 (so 20万 = 200,000 does not match); "£20m" is too
            values = {round(v * factor, 6) for v in values}
        out.append((token, values))
    return out


# Numbers a translation may spell out (news style writes "ten", "dix", "十", "عشرة").
_WORDS = {
    # English
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100, "dozen": 12,
    # French
    "dix": 10, "onze": 11, "douze": 12, "treize": 13, "quatorze": 14, "quinze": 15, "seize": 16,
    "vingt": 20, "trente": 30, "quarante": 40, "cinquante": 50, "soixante": 60, "cent": 100, "douzaine": 12,
    # Arabic (with and without the article and case endings, matched inside words)
    "عشرة": 10, "عشر": 10, "عشرين": 20, "عشرون": 20, "ثلاثين": 30, "ثلاثون": 30, "أربعين": 40, "خمسين": 50,
    "مائة": 100, "مئة": 100,
    # decades: "1930-an" may become "the thirties", "ثلاثينيات"
    "twenties": 20, "thirties": 30, "forties": 40, "fifties": 50, "sixties": 60, "seventies": 70,
    "eighties": 80, "nineties": 90, "عشرينيات": 20, "ثلاثينيات": 30, "أربعينيات": 40, "خمسينيات": 50,
    "ستينيات": 60, "سبعينيات": 70, "ثمانينيات": 80, "تسعينيات": 90,
}  # fmt: skip
_WORD_RE = re.compile("|".join(sorted(map(re.escape, _WORDS), key=len, reverse=True)), re.IGNORECASE)
_CJK_DIGIT = {
    "〇": 0,
    "零": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CJK_NUM = re.compile(r"[〇零一二两三四五六七八九十百千]+")


def _small_value(token: str) -> float | None:
    """A number below 10,000 in digits, CJK numerals or a mix: "2千" = 2000, "三百" = 300, "1.5" = 1.5."""
    if not token:
        return None
    if re.fullmatch(r"\d+(?:\.\d+)?", token):
        return float(token)
    total, current = 0.0, 0.0
    for part in re.findall(r"\d+(?:\.\d+)?|.", token):
        if part[0].isdigit():
            current = float(part)
        elif part in _CJK_DIGIT:
            current = float(_CJK_DIGIT[part])
        elif part in "十百千":
            total += (current or 1) * {"十": 10, "百": 100, "千": 1000}[part]
            current = 0
        else:
            return None
    return total + current


def _composite_values(text: str) -> set[float]:
    """Numbers written with 億/亿 and 万 units, in digits or CJK numerals: "1億2千万" = 120,000,000."""
    values: set[float] = set()
    for match in re.finditer(
        r"[\d.〇零一二两三四五六七八九十百千]*[億亿万萬][\d.〇零一二两三四五六七八九十百千億亿万萬]*", text
    ):
        token = match.group(0)
        total = 0.0
        rest = token
        ok = True
        for unit, factor in (("億", 1e8), ("亿", 1e8), ("万", 1e4), ("萬", 1e4)):
            if unit in rest:
                head, _, rest = rest.partition(unit)
                value = _small_value(head) if head else 1.0
                if value is None:
                    ok = False
                    break
                total += value * factor
        tail = _small_value(rest) if rest else 0.0
        if ok and tail is not None and total:
            values.add(round(total + tail, 6))
    return values


def _spelled_values(text: str) -> set[float]:
    values = {float(_WORDS[m.group(0).lower()]) for m in _WORD_RE.finditer(text) if m.group(0).lower() in _WORDS}
    for match in _CJK_NUM.finditer(text):  # 十 = 10, 三十 = 30, 二十五 = 25
        value = _small_value(match.group(0))
        if value:
            values.add(value)
    return values | _composite_values(text)


def missing_numbers(source: str, target: str) -> list[str]:
    """Numerals of the source not found in the target under any reading (small integers < 10
    are skipped: news style often spells them out)."""
    targets = extract_values(target)
    pool: list[float] = [v for _, values in targets for v in values] + sorted(_spelled_values(_normalize(target)))
    ints = [int(p) for token, _ in targets for p in re.findall(r"\d+", token)]
    missing: list[str] = []
    source_plain = _normalize(source)
    for token, values in extract_values(source):
        if all(v < 10 and float(v).is_integer() for v in values) and "." not in token and "," not in token:
            continue
        if any(any(abs(v - p) <= 1e-6 * max(1.0, abs(v)) for p in pool) for v in values):
            continue
        decade = re.fullmatch(r"1[89](\d0)", token)
        after = source_plain[source_plain.find(token) + len(token) :]
        if decade and re.match(r"-?an\b", after) and float(decade.group(1)) in pool:  # 1930-an -> 30 年代
            continue
        parts = [int(p) for p in re.findall(r"\d+", token)]
        if len(parts) > 1 and all(p in ints for p in parts):  # 10.30 WIB -> 10:30
            continue
        missing.append(token)
    return missing
