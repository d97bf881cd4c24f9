"""Names must come through: "Widodo" may not become "Widado", nor disappear.

For targets in Latin script (en, fr) each capitalised source word that is a name must appear
in the translation, spelled the same (accents and case aside).  A name that is absent but close
to a word of the translation is *misspelled*; one with nothing close is *missing* (dropped or
swapped for another).  Capitalised Indonesian words that are not names (titles, days, months,
exonyms: "Presiden", "Jepang") are skipped, as are words inside glossary terms, which the glossary
check covers.  For zh, ja and ar, names are transliterated, so only Latin-script tokens that the
source keeps as they are (acronyms like "NASA", handles) could be checked; those are covered by
the protected-span and glossary checks, and :func:`inconsistent_names` compares a name's rendering
across the segments of one document.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from rapidfuzz import fuzz
from rapidfuzz.distance import DamerauLevenshtein
from wordfreq import zipf_frequency

__all__ = ["source_names", "name_problems", "NOT_NAMES"]

_TAG = re.compile(r"<[^>]*>")
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
_SENTENCE_START = re.compile(r"(?:^\s*|[.!?…:;]\s*|[\"“”«(\[]\s*)$")

# Capitalised Indonesian words that are not names: titles and forms of address, days, months,
# generic parts of institution and place names, and exonyms (the translation uses its own form).
# fmt: off
NOT_NAMES = frozenset(
    ["presiden", "wakil", "menteri", "gubernur", "bupati", "walikota", "wali", "kota", "camat", "lurah", "ketua", "kepala", "direktur", "jenderal", "jaksa", "agung", "hakim", "kapolri", "kapolda", "kapolres", "panglima", "duta", "besar", "dubes", "anggota", "juru", "bicara", "jubir", "sekretaris", "pak", "bapak", "bu", "ibu", "mas", "mbak", "saudara", "tuan", "nyonya", "nona", "dokter", "profesor", "haji", "hajah", "raja", "ratu", "pangeran", "putri", "paus", "sri", "baginda", "perdana", "senator", "komisaris", "inspektur", "brigadir", "kolonel", "mayor", "kapten", "letnan", "sersan", "kopral", "prajurit", "senin", "selasa", "rabu", "kamis", "jumat", "sabtu", "minggu", "ahad", "januari", "februari", "maret", "april", "mei", "juni", "juli", "agustus", "september", "oktober", "november", "desember", "kementerian", "kemenkeu", "kemlu", "badan", "dinas", "komisi", "dewan", "majelis", "mahkamah", "pengadilan", "kejaksaan", "kepolisian", "polisi", "polda", "polres", "polsek", "partai", "universitas", "institut", "sekolah", "rumah", "sakit", "bank", "pemerintah", "pemprov", "pemkot", "pemkab", "provinsi", "kabupaten", "kota", "kecamatan", "desa", "kelurahan", "pulau", "sungai", "gunung", "danau", "laut", "selat", "teluk", "jalan", "jl", "bandara", "pelabuhan", "stasiun", "istana", "masjid", "gereja", "pura", "candi", "museum", "taman", "pasar", "negara", "republik", "kerajaan", "persatuan", "perserikatan", "bangsa", "bangsa", "serikat", "selatan", "utara", "timur", "barat", "tengah", "tenggara", "baru", "raya", "besar", "agung", "nasional", "internasional", "daerah", "pusat", "umum", "rakyat", "tinggi", "amerika", "eropa", "afrika", "asia", "australia", "inggris", "britania", "prancis", "perancis", "jerman", "belanda", "spanyol", "italia", "portugal", "rusia", "tiongkok", "cina", "jepang", "korea", "arab", "saudi", "mesir", "irak", "iran", "suriah", "turki", "yunani", "swiss", "swedia", "norwegia", "denmark", "finlandia", "polandia", "ukraina", "india", "pakistan", "filipina", "vietnam", "thailand", "malaysia", "singapura", "kamboja", "selandia", "meksiko", "brasil", "kanada", "argentina", "kolombia", "peru", "cile", "skotlandia", "irlandia", "belgia", "austria", "hongaria", "ceko", "rumania", "israel", "palestina", "yordania", "libanon", "afganistan", "amerika", "serikat", "kristen", "islam", "katolik", "protestan", "yahudi", "muslim", "hindu", "buddha", "tuhan", "allah", "nabi", "natal", "lebaran", "idulfitri", "ramadan", "tahun", "baru", "imlek", "covid", "virus", "corona", "pandemi", "olimpiade", "piala", "liga", "uni", "pbb", "as", "anda", "beliau", "tim", "grup", "klub", "perang", "komite", "kongres", "parlemen", "departemen", "distrik", "twitter", "facebook", "instagram", "youtube", "tiktok", "yang", "dan", "atau", "di", "ke", "dari", "dengan", "untuk", "pada", "dalam", "oleh", "itu", "ini", "ia", "dia", "mereka", "kami", "kita", "saya", "namun", "tetapi", "tapi", "karena", "jika", "saat", "ketika", "setelah", "sebelum", "sejak", "selama", "menurut", "meski", "walau", "berita", "laporan", "sumber", "foto", "video"]
)
# fmt: on


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in text if not unicodedata.combining(c)).replace("’", "'")


_ELISION = re.compile(r"^(?:l|d|qu|j|n|s|c|m|t|jusqu|lorsqu|puisqu)'")


def _target_words(target: str) -> dict[str, str]:
    """Folded word -> the word as written (lowercase, accents kept, elision removed)."""
    words: dict[str, str] = {}
    for word in _WORD.findall(_TAG.sub(" ", target)):
        lower = _ELISION.sub("", word.casefold().replace("’", "'"))
        words.setdefault(_fold(lower), lower)
    return words


def _common_word(folded: str, target_lang: str) -> bool:
    """An everyday Indonesian word (capitalised in a name such as "Komite Kehakiman") that the
    translation translates: frequent in Indonesian, rare in the target language."""
    indonesian = zipf_frequency(folded, "id")
    return indonesian >= 3.0 and indonesian - zipf_frequency(folded, target_lang) >= 2.0


def _real_word(folded: str, target_lang: str) -> bool:
    """A word or name the target language uses ("Bolivie", "democrats"): not a misspelling."""
    return zipf_frequency(folded, target_lang) >= 2.5


def _title_case(words: list[str]) -> bool:
    """A headline in Title Case: most words capitalised, so capitals say nothing."""
    long = [w for w in words if len(w) >= 4]
    return len(long) >= 4 and sum(w[0].isupper() for w in long) / len(long) >= 0.8


def source_names(source: str, skip: Iterable[tuple[int, int]] = ()) -> list[str]:
    """Capitalised words of an Indonesian segment that are names: not sentence-initial, not in
    :data:`NOT_NAMES`, not inside a ``skip`` span (glossary hits), at least 3 letters; plus
    acronyms of 2-6 capitals (``NASA``)."""
    plain = _TAG.sub(lambda m: " " * len(m.group(0)), source)
    spans = sorted(skip)
    matches = list(_WORD.finditer(plain))
    if _title_case([m.group(0) for m in matches]):
        return []
    names: list[str] = []
    seen: set[str] = set()
    # Linear in the segment's length: the spans are swept in order with the words, and whether a word starts a
    # sentence is read from what lies between it and the previous word (from that word's last letter, so that
    # ``^`` still means the segment's start), not from the whole text before it.
    span_index, span_end, previous_end = 0, 0, 0
    for match in matches:
        word, start = match.group(0), match.start()
        between = plain[max(previous_end - 1, 0) : start]
        previous_end = match.end()
        while span_index < len(spans) and spans[span_index][0] <= start:
            span_end = max(span_end, spans[span_index][1])
            span_index += 1
        if start < span_end:
            continue
        acronym = 2 <= len(word) <= 6 and word.isupper()
        if not acronym and (len(word) < 3 or not word[0].isupper() or word[1:].isupper()):
            continue
        if _fold(word) in NOT_NAMES or _fold(word.split("-")[0]) in NOT_NAMES:
            continue
        if not acronym and _SENTENCE_START.search(between):
            continue
        if word not in seen:
            seen.add(word)
            names.append(word)
    return names


def name_problems(
    source: str, target: str, target_lang: str, skip: Iterable[tuple[int, int]] = ()
) -> tuple[list[str], list[tuple[str, str]]]:
    """(missing names, [(name, misspelled form)]) for a Latin-script target; ``([], [])`` for
    other targets."""
    if target_lang not in ("en", "fr"):
        return [], []
    written = _target_words(target)
    words = list(written)
    present = set(words) | {part for w in words for part in re.split(r"[-']", w)}  # Baton-Rouge
    joined = " " + " ".join(words) + " "
    missing: list[str] = []
    misspelled: list[tuple[str, str]] = []
    for name in source_names(source, skip):
        folded = _fold(name)
        if folded in present or f" {folded} " in joined or any(w.startswith(folded) for w in words):
            continue
        parts = [p for p in re.split(r"['’-]", folded) if len(p) >= 3]
        if len(parts) > 1 and all(p in present for p in parts):
            continue
        close = max(words, key=lambda w: fuzz.ratio(folded, w), default="")
        if close and len(folded) >= 4 and _close(folded, close):
            if not _real_word(written[close], target_lang):
                misspelled.append((name, close))
        elif not _common_word(folded, target_lang) and not (target_lang == "fr" and name.isupper()):
            missing.append(name)  # French localises acronyms (AI -> IA, ICJ -> CIJ): not checked there
    if missing and not _new_names(source, target, target_lang):
        missing = []  # likely translated ("TV" -> "cable networks"); a swap brings another name
    return missing, misspelled


def _close(name: str, word: str) -> bool:
    """A spelling variant: similar overall, or one or two edits (a swap counts as one)."""
    edits = DamerauLevenshtein.distance(name, word)
    return fuzz.ratio(name, word) >= 75 or edits <= (2 if len(name) >= 8 else 1)


# A word this frequent in the target language is not counted as a name the translation brought in.
# French localises many names and acronyms ("Londres", "VIH"), so it needs a lower bar.
_NEW_NAME_MAX_ZIPF = {"en": 5.0, "fr": 3.5}


def _new_names(source: str, target: str, target_lang: str) -> list[str]:
    """Capitalised, not sentence-initial words of the target that are not in the source and not
    common words of the target language: a name the translation brought in."""
    src = {_fold(w) for w in _WORD.findall(_TAG.sub(" ", source))}
    plain = _TAG.sub(lambda m: " " * len(m.group(0)), target)
    found = []
    for match in _WORD.finditer(plain):
        word = match.group(0)
        folded = _ELISION.sub("", _fold(word))
        if not word[:1].isupper() or len(folded) < 3 or folded in src:
            continue
        frequency = zipf_frequency(word.casefold(), target_lang)
        limit = _NEW_NAME_MAX_ZIPF.get(target_lang, 5.0)
        initial = _SENTENCE_START.search(plain[: match.start()]) is not None
        if frequency >= (min(3.5, limit) if initial else limit):
            continue  # a common word, or a capitalised sentence opener
        found.append(word)
    return found
