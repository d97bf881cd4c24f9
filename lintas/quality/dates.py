"""Named days and months must survive translation: "Senin (14/3)" = "Monday (14/3)" = "3月14日（月）".

The Indonesian source is scanned for weekday names (Senin ... Minggu/Ahad) and month names
(Januari ... Desember; abbreviations only after a day number or "bulan"). Each must reappear in
the target, by name in the target language or, for months only, as the month of a numeric date
("14/3", "2021-03-14", "3月14日"). A translator who replaces a weekday by the calendar date
("Jumat" -> "le 28 septembre") is accepted: where the source gives no day-and-month date, one in
the target stands for the source's weekdays.

Ambiguous words are counted only where the context makes them a date: lowercase "minggu" is
"week" ("minggu lalu" = last week) and "Mei" may be a Chinese surname in the source; English "may",
"sun", "sat" and "wed" count only when capitalised in the target. Arabic names match inside words,
so attached و ف ب ل ك and run-together text are fine. The check prefers a missed error to a false
flag on a correct translation; it was calibrated on the human references of the NTREX-128 dev split.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["missing_dates", "source_dates", "target_dates"]

# Keys: weekdays are "d1" (Monday) ... "d7" (Sunday), months are "m1" ... "m12".

# --------------------------------------------------------------------------------------------
# Indonesian source
# --------------------------------------------------------------------------------------------

_ID_WEEKDAYS: dict[str, int] = {
    "senin": 1,
    "selasa": 2,
    "rabu": 3,
    "kamis": 4,
    "jumat": 5,
    "jum'at": 5,
    "jumaat": 5,
    "sabtu": 6,
    "ahad": 7,
}
_ID_MONTHS: dict[str, int] = {
    "januari": 1,
    "februari": 2,
    "pebruari": 2,
    "maret": 3,
    "april": 4,
    "juni": 6,
    "juli": 7,
    "agustus": 8,
    "september": 9,
    "oktober": 10,
    "november": 11,
    "nopember": 11,
    "desember": 12,
}
_ID_MONTH_ABBR: dict[str, int] = {
    "jan": 1,
    "feb": 2,
    "peb": 2,
    "mar": 3,
    "apr": 4,
    "mei": 5,
    "jun": 6,
    "jul": 7,
    "agu": 8,
    "agt": 8,
    "ags": 8,
    "agst": 8,
    "sep": 9,
    "sept": 9,
    "okt": 10,
    "nov": 11,
    "nop": 11,
    "des": 12,
}

_APOSTROPHES = "'\u2018\u2019\u02bc`\u00b4"


def _word_re(words: dict[str, int]) -> str:
    alternatives = sorted(words, key=len, reverse=True)
    return "|".join(re.escape(w).replace("'", f"[{_APOSTROPHES}]") for w in alternatives)


_ID_WEEKDAY_RE = re.compile(rf"\b(?:{_word_re(_ID_WEEKDAYS)})\b", re.IGNORECASE)
_ID_MONTH_RE = re.compile(rf"\b(?:{_word_re(_ID_MONTHS)})\b", re.IGNORECASE)
# An abbreviation counts only right after a day number ("14 Okt") or after "bulan" ("bulan Sept.").
_ID_ABBR_RE = re.compile(rf"(?:(?<!\d)\d{{1,2}}\s*|\bbulan\s+)({_word_re(_ID_MONTH_ABBR)})\b\.?", re.IGNORECASE)
# "Mei" counts only next to a number (day or year) or after "bulan": otherwise it may be a name.
_ID_MEI_RE = re.compile(r"(?:(?<!\d)\d{1,2}\s+|\bbulan\s+)(Mei)\b|\b(Mei)\b(?=,?\s+\d)", re.IGNORECASE)
_ID_MINGGU_RE = re.compile(r"\bminggu\b", re.IGNORECASE)
# After "Minggu" these make it "week": "Minggu lalu" (last week), "minggu depan" (next week).
_WEEK_CONTEXT = re.compile(
    r"\s+(?:lalu|depan|ini|itu|kemarin|sebelum|sebelumnya|berikut|berikutnya|ke-\w+|ke\s*\d+|"
    r"ke-?depan|pertama|kedua|ketiga|terakhir|yang|sekali|lagi|setelah|sesudah|kemudian|mendatang)\b",
    re.IGNORECASE,
)
# Before "Minggu" these make it "week": "dua minggu", "beberapa Minggu", "setiap minggu", "akhir minggu".
_WEEK_BEFORE = re.compile(
    r"\b(?:\d+|satu|dua|tiga|empat|lima|enam|tujuh|delapan|sembilan|sepuluh|belas|puluh|beberapa|banyak|per|"
    r"tiap|setiap|akhir|awal|pertengahan|selama|dalam)\s+$",
    re.IGNORECASE,
)
# After "Minggu" these make it a date: "Minggu (14/3)", "Minggu, 14 Maret", "Minggu 14/3".
_DATE_CONTEXT = re.compile(
    rf"\s*(?:\(\s*\d|,?\s*\d{{1,2}}\s*(?:[/.-]\s*\d|(?:{_word_re(_ID_MONTHS)}|{_word_re(_ID_MONTH_ABBR)})\b))",
    re.IGNORECASE,
)
_SENTENCE_START = re.compile(r"(?:^|[.!?:;]\s+|\n)[\"'\u201c\u2018(\[\-\u2013\u2014\s]*$")

_TAG = re.compile(r"<[^>]*>")
_ARABIC_INDIC = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFKC", _TAG.sub(" ", text))
    return text.translate(_ARABIC_INDIC).replace("&nbsp;", " ").replace("&amp;", "&")


def _is_sunday(text: str, match: re.Match[str]) -> bool:
    """Whether this "minggu" is the day Sunday rather than the noun "week"."""
    before = text[: match.start()]
    after = text[match.end() :]
    if _DATE_CONTEXT.match(after):
        return True
    capitalised = match.group(0)[0].isupper()
    if re.search(r"\bhari\s+$", before, re.IGNORECASE):  # "hari Minggu", "hari Minggu depan"
        # ... but "hari minggu ini" in lowercase is the writer's "this week".
        return capitalised or not _WEEK_CONTEXT.match(after)
    if not capitalised or _WEEK_CONTEXT.match(after) or _WEEK_BEFORE.search(before):
        return False
    # A capital at the start of a sentence says nothing, except for "Minggu, polisi ..." where a
    # following comma makes "On Sunday," the only reading.
    if _SENTENCE_START.search(before):
        return after.startswith(",")
    # A headline in Title Case capitalises every word: "Rencana Tiga Minggu Pertama".
    words = re.findall(r"[A-Za-z]+", text)
    long_words = [w for w in words if len(w) > 3]
    return not (len(long_words) >= 4 and sum(w[0].isupper() for w in long_words) > 0.8 * len(long_words))


def _source_mentions(text: str) -> list[tuple[int, int, str, str]]:
    found: list[tuple[int, int, str, str]] = []
    for m in _ID_WEEKDAY_RE.finditer(text):
        word = re.sub(f"[{_APOSTROPHES}]", "'", m.group(0).lower())
        found.append((m.start(), m.end(), m.group(0), f"d{_ID_WEEKDAYS[word]}"))
    for m in _ID_MINGGU_RE.finditer(text):
        if _is_sunday(text, m):
            found.append((m.start(), m.end(), m.group(0), "d7"))
    for m in _ID_MONTH_RE.finditer(text):
        found.append((m.start(), m.end(), m.group(0), f"m{_ID_MONTHS[m.group(0).lower()]}"))
    for m in _ID_ABBR_RE.finditer(text):
        found.append((m.start(1), m.end(1), m.group(1), f"m{_ID_MONTH_ABBR[m.group(1).lower()]}"))
    for m in _ID_MEI_RE.finditer(text):
        group = 1 if m.group(1) else 2
        found.append((m.start(group), m.end(group), m.group(group), "m5"))
    return sorted(set(found))


def source_dates(source: str) -> list[tuple[str, str]]:
    """Day and month names of the Indonesian ``source`` as (surface word, key) pairs, in order.

    Keys are ``d1`` (Monday) ... ``d7`` (Sunday) and ``m1`` ... ``m12``."""
    return [(word, key) for _, _, word, key in _source_mentions(_clean(source))]


# --------------------------------------------------------------------------------------------
# Targets
# --------------------------------------------------------------------------------------------

_EN_NAMES: dict[str, str] = {
    "monday": "d1",
    "tuesday": "d2",
    "wednesday": "d3",
    "thursday": "d4",
    "friday": "d5",
    "saturday": "d6",
    "sunday": "d7",
    "january": "m1",
    "february": "m2",
    "march": "m3",
    "april": "m4",
    "june": "m6",
    "july": "m7",
    "august": "m8",
    "september": "m9",
    "october": "m10",
    "november": "m11",
    "december": "m12",
}
# Short forms that are also ordinary words ("may", "sun", "sat", "mar", "wed") need a capital.
_EN_CAPITALISED: dict[str, str] = {
    "Mon": "d1",
    "Tue": "d2",
    "Tues": "d2",
    "Wed": "d3",
    "Thu": "d4",
    "Thur": "d4",
    "Thurs": "d4",
    "Fri": "d5",
    "Sat": "d6",
    "Sun": "d7",
    "Jan": "m1",
    "Feb": "m2",
    "Mar": "m3",
    "Apr": "m4",
    "May": "m5",
    "Jun": "m6",
    "Jul": "m7",
    "Aug": "m8",
    "Sep": "m9",
    "Sept": "m9",
    "Oct": "m10",
    "Nov": "m11",
    "Dec": "m12",
}
_FR_NAMES: dict[str, str] = {
    "lundi": "d1",
    "mardi": "d2",
    "mercredi": "d3",
    "jeudi": "d4",
    "vendredi": "d5",
    "samedi": "d6",
    "dimanche": "d7",
    "janvier": "m1",
    "janv": "m1",
    "février": "m2",
    "fevrier": "m2",
    "févr": "m2",
    "fevr": "m2",
    "mars": "m3",
    "avril": "m4",
    "avr": "m4",
    "mai": "m5",
    "juin": "m6",
    "juillet": "m7",
    "juil": "m7",
    "août": "m8",
    "aout": "m8",
    "septembre": "m9",
    "sept": "m9",
    "octobre": "m10",
    "oct": "m10",
    "novembre": "m11",
    "nov": "m11",
    "décembre": "m12",
    "decembre": "m12",
    "déc": "m12",
    "dec": "m12",
}

_CJK_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_CJK_WEEKDAY = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "日": 7, "天": 7}
_JA_WEEKDAY = {"月": 1, "火": 2, "水": 3, "木": 4, "金": 5, "土": 6, "日": 7}
_CJK_MONTH_RE = re.compile(
    r"(?<![\d一二三四五六七八九十〇零])(1[0-2]|0?[1-9]|十[一二]?|[一二三四五六七八九])\s*月(?!曜)"
)
_ZH_WEEKDAY_RE = re.compile(r"(?:星期|周|週|礼拜|禮拜)([一二三四五六日天])")
_JA_WEEKDAY_RE = re.compile(r"([月火水木金土日])曜|[(（]\s*([月火水木金土日])\s*(?:曜日?)?\s*[)）]")

# Arabic, compared after _ar_normalise (no diacritics or tatweel, one alef, final teh marbuta as heh).
_AR_WEEKDAYS: dict[str, str] = {
    "اثنين": "d1",
    "ثلاثاء": "d2",
    "ثلاثا": "d2",
    "اربعاء": "d3",
    "اربعا": "d3",
    "خميس": "d4",
    "جمعه": "d5",
    "سبت": "d6",
    "احد": "d7",
}
_AR_MONTHS: dict[str, str] = {
    "يناير": "m1",
    "جانفي": "m1",
    "كانون الثاني": "m1",
    "فبراير": "m2",
    "فيفري": "m2",
    "شباط": "m2",
    "مارس": "m3",
    "اذار": "m3",
    "ابريل": "m4",
    "افريل": "m4",
    "نيسان": "m4",
    "مايو": "m5",
    "ايار": "m5",
    "يونيو": "m6",
    "يونيه": "m6",
    "جوان": "m6",
    "حزيران": "m6",
    "يوليو": "m7",
    "يوليه": "m7",
    "يوليوز": "m7",
    "جويليه": "m7",
    "تموز": "m7",
    "اغسطس": "m8",
    "غشت": "m8",
    "اوت": "m8",
    "اب": "m8",
    "سبتمبر": "m9",
    "شتنبر": "m9",
    "ايلول": "m9",
    "اكتوبر": "m10",
    "تشرين الاول": "m10",
    "نوفمبر": "m11",
    "نونبر": "m11",
    "تشرين الثاني": "m11",
    "ديسمبر": "m12",
    "دجنبر": "m12",
    "كانون الاول": "m12",
}
_AR_LETTER = "\u0621-\u064a\u0671-\u06d3"
# Short names that are also parts of common words ("الأحداث" events, "جوانب" aspects, "أب" father)
# must end the word; they may carry attached و ف ب ل ك. Longer names match as substrings, so
# "وفي يوليو" and run-together text ("فييوليو/ تموزمشيرًا") still count.
_AR_BOUNDED = {"احد", "اب", "اوت", "غشت", "جوان"}


def _ar_alternative(name: str, article: str) -> str:
    body = re.escape(name).replace(r"\ ", r"\s*").replace(" ", r"\s*")
    if name in _AR_BOUNDED:
        return rf"(?<![{_AR_LETTER}])[وفبلك]{{0,2}}{article}{body}(?![{_AR_LETTER}])"
    return f"{article}{body}"


def _ar_re(names: dict[str, str], article: str) -> re.Pattern[str]:
    ordered = sorted(names, key=len, reverse=True)
    return re.compile("|".join(f"(?P<g{i}>{_ar_alternative(n, article)})" for i, n in enumerate(ordered)))


# Weekday names need the article (or "يوم"): bare "أحد" is "one", bare "اثنين" is "two".
_AR_WEEKDAY_RE = _ar_re(_AR_WEEKDAYS, r"(?:ال|لل|يوم\s*)")
_AR_MONTH_RE = _ar_re(_AR_MONTHS, "")
_AR_WEEKDAY_KEYS = [_AR_WEEKDAYS[n] for n in sorted(_AR_WEEKDAYS, key=len, reverse=True)]
_AR_MONTH_KEYS = [_AR_MONTHS[n] for n in sorted(_AR_MONTHS, key=len, reverse=True)]


def _name_re(names: dict[str, str], flags: int = re.IGNORECASE) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.compile(rf"(?<![^\W\d_])(?:{alternatives})(?![^\W\d_])", flags)


_EN_RE = _name_re(_EN_NAMES)
_EN_CAP_RE = _name_re({**_EN_CAPITALISED, **{k.upper(): v for k, v in _EN_CAPITALISED.items()}}, flags=0)
_FR_RE = _name_re(_FR_NAMES)

# Numeric dates: day/month (either order) with "/" "-" or two "."s, optionally a year; ISO y-m(-d).
_NUM_DM = re.compile(r"(?<![\d/.-])(\d{1,2})\s*([/.-])\s*(\d{1,2})(?:\s*\2\s*\d{2,4})?(?![\d/-])")
_NUM_YMD = re.compile(r"(?<!\d)(?:1[89]|20)\d\d\s*([/.\-年])\s*(\d{1,2})(?:\s*[/.\-月]\s*(\d{1,2}))?(?!\d)")
# A day number right before or after a month name: "14 March", "March 14th", "le 1er mars", "14 من مارس".
_DAY_BEFORE = re.compile(r"(?<!\d)(\d{1,2})(?:st|nd|rd|th|er|e)?\.?\s*(?:of\s+|de\s+|من\s+)?$", re.IGNORECASE)
_DAY_AFTER = re.compile(r"\.?\s*(\d{1,2})(?:st|nd|rd|th)?(?![\d:])", re.IGNORECASE)
_CJK_DAY_AFTER = re.compile(r"\s*(\d{1,2}|[一二三四五六七八九十]{1,3})\s*[日号號]")

_VALID_KEYS = {f"d{i}" for i in range(1, 8)} | {f"m{i}" for i in range(1, 13)}

Mention = tuple[int, int, str]  # start, end, key


def _ar_normalise(text: str) -> str:
    text = re.sub("[\u064b-\u065f\u0670\u0640]", "", text)  # harakat, dagger alef, tatweel
    text = re.sub("[أإآٱ]", "ا", text)
    return text.replace("ة", "ه").replace("ى", "ي")


def _cjk_number(token: str) -> int:
    if token.isdigit():
        return int(token)
    total, current = 0, 0
    for char in token:
        if char == "十":
            total += (current or 1) * 10
            current = 0
        else:
            current = _CJK_DIGITS.get(char, 0)
    return total + current


def _numeric(text: str) -> tuple[set[str], set[tuple[int, int]]]:
    """Month keys and (day, month) dates of the numeric dates in ``text``."""
    months: set[str] = set()
    days: set[tuple[int, int]] = set()
    for m in _NUM_DM.finditer(text):
        if m.group(2) == "." and m.group(0).count(".") < 2:  # "10.30" is a time or a decimal
            continue
        a, b = int(m.group(1)), int(m.group(3))
        for day, month in ((a, b), (b, a)):
            if 1 <= month <= 12 and 1 <= day <= 31:
                months.add(f"m{month}")
                days.add((day, month))
    for m in _NUM_YMD.finditer(text):
        month = int(m.group(2))
        if 1 <= month <= 12:
            months.add(f"m{month}")
            if m.group(3) and 1 <= int(m.group(3)) <= 31:
                days.add((int(m.group(3)), month))
    return months, days


def _named_days(text: str, mentions: list[Mention], cjk: bool) -> set[tuple[int, int]]:
    """(day, month) dates written with a month name and a day number next to it."""
    days: set[tuple[int, int]] = set()
    for start, end, key in mentions:
        if not key.startswith("m"):
            continue
        if cjk:
            after = _CJK_DAY_AFTER.match(text, end)
            numbers = [_cjk_number(after.group(1))] if after else []
        else:
            before = _DAY_BEFORE.search(text[max(0, start - 12) : start])
            after = _DAY_AFTER.match(text, end)
            numbers = [int(x.group(1)) for x in (before, after) if x]
        days |= {(n, int(key[1:])) for n in numbers if 1 <= n <= 31}
    return days


def _target_mentions(text: str, lang: str) -> list[Mention]:
    found: list[Mention] = []
    if lang == "en":
        found += [(m.start(), m.end(), _EN_NAMES[m.group(0).lower()]) for m in _EN_RE.finditer(text)]
        found += [(m.start(), m.end(), _EN_CAPITALISED[m.group(0).title()]) for m in _EN_CAP_RE.finditer(text)]
    elif lang == "fr":
        found += [(m.start(), m.end(), _FR_NAMES[m.group(0).lower()]) for m in _FR_RE.finditer(text)]
    elif lang in {"zh", "ja"}:
        found += [(m.start(), m.end(), f"m{_cjk_number(m.group(1))}") for m in _CJK_MONTH_RE.finditer(text)]
        found += [(m.start(), m.end(), f"d{_CJK_WEEKDAY[m.group(1)]}") for m in _ZH_WEEKDAY_RE.finditer(text)]
        found += [
            (m.start(), m.end(), f"d{_JA_WEEKDAY[m.group(1) or m.group(2)]}") for m in _JA_WEEKDAY_RE.finditer(text)
        ]
    elif lang == "ar":
        for regex, keys in ((_AR_WEEKDAY_RE, _AR_WEEKDAY_KEYS), (_AR_MONTH_RE, _AR_MONTH_KEYS)):
            for m in regex.finditer(text):
                index = next(i for i, g in enumerate(m.groups()) if g is not None)
                found.append((m.start(), m.end(), keys[index]))
    return [f for f in found if f[2] in _VALID_KEYS]


def _prepare_target(target: str, target_lang: str) -> tuple[str, str]:
    lang = target_lang.lower().replace("_", "-").split("-")[0]
    text = _clean(target)
    return (_ar_normalise(text) if lang == "ar" else text), lang


def target_dates(target: str, target_lang: str) -> set[str]:
    """Keys (``d1`` ... ``d7``, ``m1`` ... ``m12``) of the days and months named in ``target``,
    months of numeric dates included."""
    text, lang = _prepare_target(target, target_lang)
    return {key for _, _, key in _target_mentions(text, lang)} | _numeric(text)[0]


def missing_dates(source: str, target: str, target_lang: str) -> list[str]:
    """Day names and month names of the Indonesian source that the translation lost or changed.

    Returns the source words (e.g. ``["Senin", "Maret"]``) whose equivalent is absent from
    ``target``; a day or month named twice in the source is reported once, in source order.

    A month is present by name or as the month of a numeric date ("14/3", "2021-03-14",
    "3月14日"). A weekday needs its name, except that a translator may replace it by the calendar
    date ("Jumat" -> "le 28 septembre"): where the source gives no day-and-month date, one in the
    target stands for the source's weekdays. An unsupported ``target_lang`` only gets the numeric
    tests."""
    source_text = _clean(source)
    wanted = _source_mentions(source_text)
    if not wanted:
        return []
    text, lang = _prepare_target(target, target_lang)
    mentions = _target_mentions(text, lang)
    numeric_months, numeric_days = _numeric(text)
    present = {key for _, _, key in mentions} | numeric_months
    if any(key.startswith("d") and key not in present for _, _, _, key in wanted):
        source_days = _numeric(source_text)[1]
        source_days |= _named_days(source_text, [(s, e, k) for s, e, _, k in wanted], cjk=False)
        target_days = numeric_days | _named_days(text, mentions, cjk=lang in {"zh", "ja"})
        # Only where the source gives no date: otherwise a different target date is an error.
        if target_days and not source_days:
            present |= {f"d{i}" for i in range(1, 8)}
    missing: list[str] = []
    seen: set[str] = set()
    for _, _, word, key in wanted:
        if key in seen:
            continue
        seen.add(key)
        if key not in present:
            missing.append(word)
    return missing
