"""The article's name table: its proper names found once, resolved once per language, and given to every segment.

A small model left alone renders "Kanye West" five ways in one Chinese edition.  So before a language's first pass
the pipeline finds the article's names (:func:`find_names`: runs of capitalised words that are names by
:func:`lintas.quality.names.source_names`, plus country and territory names CLDR knows in Indonesian) and resolves
each one for the language, in this order:

1. the newsroom's glossary (where an editor's confirmation of a name goes too);
2. CLDR (Babel) for countries and territories ("Selandia Baru" -> 新西兰, Nouvelle-Zélande);
3. for Chinese, Japanese and Arabic, which transliterate names, the engine is asked for the name alone, once; its
   answer is kept if it is in the language's script, else the name stays in Latin letters (as the zh/ja press
   often writes foreign names).  English and French keep a name as the source writes it, which the name check
   (:mod:`lintas.quality.names`) already holds them to.

The table becomes glossary terms of category ``name`` for this article (:func:`name_glossary`): LLM engines get the
rendering as a constraint in every segment where the name occurs, MT engines a placeholder, and the check flags a
segment without it as ``name_inconsistent`` (critical: retried, and held if it stays), so an edition has one
rendering per name.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from lintas.engines.base import Engine
from lintas.engines.prompts import clean_output
from lintas.quality import script_share
from lintas.quality.names import source_names
from lintas.text.article import Segment
from lintas.text.glossary import NAME_CATEGORY, Glossary, Term

__all__ = ["NAME_CATEGORY", "Rendering", "find_names", "resolve_names", "name_glossary", "territory_form"]

_TAG = re.compile(r"<[^>]*>")
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
_TRANSLITERATED = {"zh": ("Han",), "ja": ("Kana", "Han"), "ar": ("Arabic",)}
_ACRONYM = re.compile(r"[A-Z]{2,6}s?")


@dataclass(frozen=True)
class Rendering:
    source: str  # the name as the source writes it
    form: str  # how the edition writes it
    origin: str  # glossary | cldr | engine | latin


@functools.cache
def _territories() -> tuple[re.Pattern[str] | None, dict[str, str]]:
    """A pattern of CLDR's Indonesian country and territory names, longest first, and name -> region code."""
    try:
        from babel import Locale
    except ImportError:  # babel is a dependency; without it names still resolve through the glossary and engine
        return None, {}
    codes = {name: code for code, name in Locale("id").territories.items() if code.isalpha() and len(name) >= 4}
    names = sorted(codes, key=len, reverse=True)
    return re.compile(r"(?<![\w-])(?:" + "|".join(re.escape(n) for n in names) + r")(?![\w-])"), codes


def territory_form(name: str, lang: str) -> str | None:
    """CLDR's name in ``lang`` of the country or territory Indonesian calls ``name``."""
    _, codes = _territories()
    code = codes.get(name)
    if code is None:
        return None
    from babel import Locale

    return str(Locale.parse(lang).territories.get(code) or "") or None


def find_names(texts: Sequence[str]) -> list[str]:
    """The article's names, in order of appearance: each maximal run of adjacent name words ("Kanye West"), where a
    name word is one :func:`source_names` finds somewhere in the article (so a sentence-initial "Kanye" counts once
    "Kanye" appears mid-sentence), and CLDR's country and territory names.  Linear in the text."""
    plain = [_TAG.sub(lambda m: " " * len(m.group(0)), t) for t in texts]
    words = {w for t in texts for w in source_names(t)}
    pattern, _ = _territories()
    found: dict[str, None] = {}
    for text in plain:
        taken: list[tuple[int, int]] = []
        if pattern is not None:
            for known in pattern.finditer(text):
                found.setdefault(known.group(0))
                taken.append(known.span())
        run: list[re.Match[str]] = []
        for match in [*_WORD.finditer(text), None]:
            inside = match is not None and any(a <= match.start() < b for a, b in taken)
            if match is not None and match.group(0) in words and not inside:
                if run and text[run[-1].end() : match.start()] != " ":
                    found.setdefault(" ".join(m.group(0) for m in run))
                    run = []
                run.append(match)
                continue
            if run:
                found.setdefault(" ".join(m.group(0) for m in run))
            run = []
    return list(found)


def _native(form: str, lang: str) -> bool:
    share = script_share(form)
    return sum(share.get(s, 0.0) for s in _TRANSLITERATED[lang]) >= 0.8


def resolve_names(
    names: Sequence[str],
    lang: str,
    engine: Engine,
    glossary: Glossary | None,
    source_lang: str = "id",
    *,
    latin: bool = False,
) -> list[Rendering]:
    """One rendering per name for ``lang`` (names the glossary has are left to it and not returned); with ``latin``,
    a name neither the glossary nor CLDR knows keeps its Latin letters instead of being asked of the engine."""
    out: list[Rendering] = []
    parts: dict[str, str] = {}  # a word of a longer name -> its rendering ("West" of "Kanye West")
    for name in sorted(names, key=lambda n: -len(n.split())):
        if glossary is not None and any(h.text == name for h in glossary.find(name)):
            continue
        cldr = territory_form(name, lang)
        if cldr:
            out.append(Rendering(name, cldr, "cldr"))
            continue
        if lang not in _TRANSLITERATED:
            continue
        if latin or (lang in ("zh", "ja") and _ACRONYM.fullmatch(name)):
            out.append(Rendering(name, name, "latin"))  # the zh/ja references keep 68% / 78% of acronyms in Latin
            continue
        if name in parts:
            out.append(Rendering(name, parts[name], "engine"))
            continue
        (raw,) = engine.translate_batch([Segment("name", name, "heading")], source_lang, lang, attempt=1)
        form = clean_output(raw, name)[0].strip().strip("。.،")
        rendering = (
            Rendering(name, form, "engine")
            if form and _native(form, lang) and len(form) <= 4 * len(name)
            else Rendering(name, name, "latin")
        )
        out.append(rendering)
        pieces = re.split(r"[·・\s]+", rendering.form)
        words = name.split()
        if rendering.origin == "engine" and len(words) > 1 and len(pieces) == len(words):
            for word, piece in zip(words, pieces, strict=True):
                parts.setdefault(word, piece)
    return out


def name_glossary(renderings: Sequence[Rendering], lang: str) -> Glossary:
    """The renderings as glossary terms of category ``name`` (case-sensitive, enforced).  An Arabic country name
    also matches without its final alif or ta marbuta (أستراليا, أسترالي: the adjective)."""
    return Glossary(
        Term(
            source=r.source,
            forms={
                lang: tuple(
                    dict.fromkeys([r.form, r.form.rstrip("اة") if lang == "ar" and r.origin == "cldr" else r.form])
                )
            },
            case_sensitive=True,
            category=NAME_CATEGORY,
            notes=r.origin,
        )
        for r in renderings
    )
