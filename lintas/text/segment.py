"""Rule-based sentence segmentation for Indonesian (news) text.

``split_sentences`` returns ``(start, end)`` character offsets; the spans never contain the
whitespace between sentences, so ``text[start:end]`` is the sentence and the text between two
spans is whitespace only.  The rules, in short:

* a newline (or any other line break) always ends a sentence;
* a candidate boundary is a run of ``.``, ``?``, ``!`` or ``…``, optionally followed by closing
  quotes/brackets (which stay with the sentence they close), and then whitespace;
* the next sentence must start with an uppercase letter, a digit, an opening quote/bracket or a
  camel-cased word (``iPhone``); so ``“Kenapa?” tanya dia.`` and ``tahu ... mereka`` stay whole;
* after a single period, the word before it is looked at: titles and other abbreviations that
  precede a name or number (``Dr.``, ``Jl.``, ``No.``, ``Rp.``, ``Brigjen.``, ``a.n.``) never end a
  sentence; list enders (``dll.``, ``dsb.``, ``tsb.``) may; ambiguous ones (``Tbk.``, ``Jr.``,
  ``S.H.``, ``A.S.``, single-letter initials such as ``B. J. Habibie``) end a sentence only when the
  next word is a common sentence opener (``Dia``, ``Namun``, ``The``...);
* a short number followed by a period is a list marker (``Syarat: 1. KTP 2. KK``) when it opens
  the sentence, follows ``:``/``;``, or continues the previous marker's numbering;
* URLs, e-mail addresses, domain names (``Kompas.com``), decimals (``1,5``, ``3.000.000``) and
  times (``10.30 WIB``) contain no whitespace after their inner periods, so they are never split.
"""

from __future__ import annotations

import re

__all__ = ["sentences", "split_sentences"]

# fmt: off
# Abbreviations that stand before a name, a place or a number: never sentence-final.
_PREFIX = {
    # Indonesian titles and forms of address
    "dr", "drg", "drh", "drs", "dra", "prof", "ir", "hj", "bpk", "bp", "sdr", "sdri", "tn", "ny", "nn",
    "yth", "a.n", "u.p", "d.a", "c.q", "s.d", "a.l", "k.h", "kh", "pdt", "rm",
    # places, addresses and references
    "jl", "jln", "gg", "no", "kec", "kab", "kel", "ds", "prov", "kp", "komp", "perum", "st", "tgl",
    "hlm", "pt", "rp", "nmr", "kep",
    # police and military ranks
    "jend", "jen", "letjen", "mayjen", "brigjen", "laksda", "laksma", "marsda", "marsma", "kol",
    "letkol", "mayor", "kapt", "lettu", "letda", "serma", "serka", "sertu", "serda", "kopda",
    "pratu", "prada", "lt", "irjen", "komjen", "kombes", "akbp", "kompol", "akp", "iptu", "ipda",
    "aiptu", "aipda", "bripka", "brigpol", "briptu", "bripda",
    # English
    "mr", "mrs", "ms", "messrs", "mt", "sgt", "capt", "cpt", "col", "gov", "rep", "rev",
    "hon", "pres", "gen", "vs", "v", "e.g", "i.e", "cf", "approx", "dept", "fig",
}

# Prefix abbreviations that are also ordinary lowercase words: only their capitalised form counts.
_PREFIX_CASED = {
    "Kol", "Sen", "Gen", "Mayor", "Rev", "Rep", "Col", "Hon", "Pres", "Ds",
    # police/military corps after a rank: "Brigjen. Pol. Sutrisno", "Kol. Inf. Bambang"
    "Pol", "Inf", "Kav", "Arh", "Arm", "Czi", "Cpm", "Cpl", "Chk", "Caj", "Cku", "Ckm", "Pnb", "Mar",
    "Psk", "Pom", "Adm", "Kes", "Lek", "Tek",
}
_PREFIX_ANYCASE = _PREFIX - {t.lower() for t in _PREFIX_CASED}

# Abbreviations before a number (months, page, phone, neighbourhood...): not final when a
# digit follows.  The months only in their capitalised form.
_BEFORE_NUMBER = {
    "Jan", "Feb", "Mar", "Apr", "Jun", "Jul", "Aug", "Agu", "Agt", "Sep", "Sept", "Okt", "Oct",
    "Nov", "Des", "Dec",
}
_BEFORE_NUMBER_ANYCASE = {
    "hal", "art", "ps", "psl", "pasal", "vol", "ed", "telp", "tlp", "rt", "rw", "kav", "nos",
}

# Abbreviations that close an enumeration and regularly end a sentence.
_LIST_END = {"dll", "dsb", "dst", "dkk", "tsb", "ybs", "sda", "etc", "al"}

# Abbreviations that may stand inside or at the end of a sentence (suffixes, company forms,
# country initials): final only before a typical sentence opener.
_AMBIGUOUS = {
    "tbk", "inc", "ltd", "corp", "co", "plc", "llc", "jr", "sr", "bros", "s.h", "m.h", "m.si", "s.e",
    "s.sos", "s.pd", "s.kom", "s.t", "s.si", "s.ag", "s.ip", "m.m", "m.pd", "m.kes", "m.sc", "m.a",
    "b.a", "ph.d", "s.ked", "u.s", "u.k", "a.s", "u.n", "a.m", "p.m", "a.i",
}
# fmt: on

# Words that typically open a sentence (Indonesian and English); used only to resolve the
# ambiguous abbreviations and initials above.


def _words(blob: str) -> frozenset[str]:
    return frozenset(blob.split())


_OPENERS = _words(
    """
    Ada Adapun Agar Akan Akibatnya Aku Anda Apa Apabila Apakah Atas Atau Bagaimana Bagi Bahkan
    Baik Banyak Begitu Beberapa Belum Berbagai Berdasarkan Bersama Beliau Bila Bukan Dalam Dari
    Demikian Dengan Di Dia Dulu Hal Hampir Hanya Harus Hingga Ia Ini Itu Jadi Jika Juga Kalau
    Kami Kamu Karena Kata Ke Kedua Kemudian Kendati Kenapa Ketika Kini Kita Lalu Maka Masih
    Menurut Mereka Meski Meskipun Mengapa Namun Oleh Pada Padahal Para Pertama Perlu Saat Saya
    Sebab Sebagai Sebelum Sebelumnya Sebuah Sedangkan Sejak Sejumlah Selain Selama Selanjutnya
    Semua Sementara Sebanyak Seorang Sesudah Setelah Setiap Sehingga Siapa Sudah Tak Tapi
    Tentu Tetapi Tidak Untuk Walaupun Yang
    A After All Also An And As At But By For From He Her His However If In It Its Meanwhile Mr
    Mrs Ms My No Not On One Our She So Some That The Their Then There These They This Those To
    We What When Where While Who Why With Yet You
    """
)

_TLD_TAIL = re.compile(r"\.(?:com|net|org|id|co|io|ly|go|ac|or|sch|tv|info|biz|gov|edu)$")
_DOTTED = re.compile(r"^(?:[A-Z][A-Za-z]{0,3}\.)+[A-Za-z]{1,4}$")
_LINE = re.compile(r"[^\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]+")
_CANDIDATE = re.compile(r"[.?!…]+([\"'”’»›)\]}]*)(?=\s|$)")
_OPENING = "\"'“‘«‹([{„‚"
_CLOSING = "\"'”’»›)]}"
_CAMEL = re.compile(r"^[a-z]+[A-Z]")
_MARKER = re.compile(r"[0-9]{1,2}")


def _abbreviation_kind(token: str) -> str | None:
    """Classify the word before a period: 'prefix', 'number', 'list', 'ambiguous' or None."""
    if not token:
        return None
    low = token.lower()
    if token in _PREFIX_CASED or low in _PREFIX_ANYCASE:
        return "prefix"
    if token in _BEFORE_NUMBER or low in _BEFORE_NUMBER_ANYCASE:
        return "number"
    if low in _LIST_END:
        return "list"
    if low in _AMBIGUOUS:
        return "ambiguous"
    if len(token) == 1 and token.isalpha():
        return "ambiguous"  # an initial: "B. J. Habibie", "Susilo B. Yudhoyono"
    if _DOTTED.match(token) and not _TLD_TAIL.search(token):
        return "ambiguous"  # "S.Pd", "K.H", "A.S", "Ph.D"
    return None


def _can_start(word: str) -> bool:
    """Whether ``word`` may open a sentence that follows a period, '?', '!' or an ellipsis."""
    if not word:
        return False
    first = word[0]
    if first.isupper() or first.isdigit() or first in _OPENING:
        return True
    return bool(_CAMEL.match(word))


def _bare(word: str) -> str:
    return word.strip(_OPENING + _CLOSING + ",;:.?!…")


def _is_list_marker(line: str, token: str, tok_start: int, sent_start: int, last_marker: int) -> bool:
    if not _MARKER.fullmatch(token):
        return False
    before = line[sent_start:tok_start].rstrip()
    if not before or before[-1] in ":;":
        return True
    return int(token) == last_marker + 1


def _split_line(line: str, offset: int, out: list[tuple[int, int]]) -> None:
    sent_start = 0
    last_marker = -10
    for m in _CANDIDATE.finditer(line):
        term_start = m.start()
        term = line[term_start : m.start(1)]
        end = m.end()
        nxt_start = end
        while nxt_start < len(line) and line[nxt_start].isspace():
            nxt_start += 1
        if nxt_start >= len(line):
            break  # the line's end closes the sentence anyway
        nxt_end = nxt_start
        while nxt_end < len(line) and not line[nxt_end].isspace():
            nxt_end += 1
        nxt = line[nxt_start:nxt_end]

        tok_start = term_start
        while tok_start > 0 and not line[tok_start - 1].isspace():
            tok_start -= 1
        raw = line[tok_start:term_start]
        token = raw.lstrip(_OPENING)
        tok_start += len(raw) - len(token)

        plain_period = term == "." and not m.group(1)
        if plain_period and _is_list_marker(line, token, tok_start, sent_start, last_marker):
            last_marker = int(token)
            continue
        if not _can_start(nxt):
            continue
        if plain_period:
            kind = _abbreviation_kind(token)
            if kind == "prefix":
                continue
            if kind == "number" and nxt[0].isdigit():
                continue
            if kind == "ambiguous" and _bare(nxt) not in _OPENERS:
                continue
        _emit(line, sent_start, end, offset, out)
        sent_start = nxt_start
    _emit(line, sent_start, len(line), offset, out)


def _emit(line: str, start: int, end: int, offset: int, out: list[tuple[int, int]]) -> None:
    while start < end and line[start].isspace():
        start += 1
    while end > start and line[end - 1].isspace():
        end -= 1
    if end > start:
        out.append((offset + start, offset + end))


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Return the ``(start, end)`` offsets of the sentences of ``text``, in order.

    Spans exclude surrounding whitespace; everything between two spans (and before the first or
    after the last) is whitespace.
    """
    spans: list[tuple[int, int]] = []
    for line in _LINE.finditer(text):
        _split_line(line.group(), line.start(), spans)
    return spans


def sentences(text: str) -> list[str]:
    """Return the sentences of ``text`` as strings (see :func:`split_sentences`)."""
    return [text[a:b] for a, b in split_sentences(text)]
