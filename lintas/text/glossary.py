"""The newsroom's term base: how names, institutions and titles are written in each language.

A :class:`Glossary` is loaded from YAML or CSV (``docs/glossary.md``) and used three ways:

* :meth:`Glossary.find` locates terms in a source segment (longest match first, whole words,
  never inside a tag);
* the pipeline passes the hits to the engine: LLM engines get them as constraints in the prompt,
  MT engines get placeholders (:func:`protect_terms`) that are replaced by the required form
  afterwards (:func:`restore_terms`);
* :meth:`Glossary.check` flags a translation that lacks every accepted form of a term, or that
  uses a form the term lists under ``avoid`` ("peran" rendered as "war").

A starter glossary of Indonesian state bodies, titles and exonyms ships with Lintas
(``lintas/data/glossary/starter.yaml``); a newsroom adds its own files with ``LINTAS_GLOSSARY``.
"""

from __future__ import annotations

import csv
import io
import os
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yaml

from lintas import settings
from lintas.errors import InputError
from lintas.text.article import Flag, Severity
from lintas.text.languages import TARGETS

__all__ = [
    "Term",
    "TermHit",
    "NAME_CATEGORY",
    "Glossary",
    "load_glossary",
    "configured_glossary",
    "starter_glossary",
    "protect_terms",
    "restore_terms",
    "CSV_COLUMNS",
    "terms_to_csv",
    "terms_from_csv",
    "term_to_mapping",
    "term_from_mapping",
]

# Terms of this category are an article's name table (lintas.pipeline.names): a segment without the form is critical.
NAME_CATEGORY = "name"
CSV_COLUMNS = ["source", "aliases", *TARGETS, "case", "category", "enforce", "notes"]
_ALT_SEP = "|"
_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True)
class Term:
    """One entry: the Indonesian term, its aliases, and per language the accepted forms
    (preferred first)."""

    source: str
    forms: dict[str, tuple[str, ...]]
    aliases: tuple[str, ...] = ()
    case_sensitive: bool = False
    category: str = ""
    notes: str = ""
    avoid: dict[str, tuple[str, ...]] = field(default_factory=dict)
    enforce: bool = True

    def preferred(self, lang: str) -> str | None:
        forms = self.forms.get(lang)
        return forms[0] if forms else None

    @property
    def variants(self) -> tuple[str, ...]:
        return (self.source, *self.aliases)


@dataclass(frozen=True)
class TermHit:
    term: Term
    text: str  # as written in the source
    start: int
    end: int


def fold(text: str) -> str:
    """Case- and accent-insensitive form for comparing translations (Latin scripts)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    return " ".join(text.replace("’", "'").split())


def _contains(target: str, form: str) -> bool:
    folded, needle = fold(target), fold(form)
    if not needle:
        return False
    if needle[0].isascii() and needle[0].isalnum():  # Latin: whole words, allowing endings (-s, -n, -ne, -ese);
        # only Latin letters and digits bound a word, so "NASA发表" (Chinese writes no spaces) has NASA
        return re.search(r"(?<![0-9a-z])" + re.escape(needle) + r"[0-9a-z]{0,3}(?![0-9a-z])", folded) is not None
    return needle in folded  # CJK and Arabic: no word spaces, prefixes attach (وال...)


class Glossary:
    """An ordered collection of terms; later files override earlier ones for the same source."""

    def __init__(self, terms: Iterable[Term] = ()) -> None:
        by_key: dict[str, Term] = {}
        for term in terms:
            by_key[fold(term.source)] = term
        self.terms: list[Term] = list(by_key.values())
        self._pattern = self._compile()

    def __len__(self) -> int:
        return len(self.terms)

    def __iter__(self) -> Iterator[Term]:
        return iter(self.terms)

    def merged(self, other: Glossary) -> Glossary:
        return Glossary([*self.terms, *other.terms])

    def _compile(self) -> list[tuple[str, re.Pattern[str], Term]]:
        patterns: list[tuple[int, str, re.Pattern[str], Term]] = []
        for term in self.terms:
            for variant in term.variants:
                words = r"\s+".join(re.escape(w) for w in variant.split())
                flags = 0 if term.case_sensitive else re.IGNORECASE
                pattern = re.compile(r"(?<![\w-])" + words + r"(?![\w-])", flags)
                patterns.append((len(variant), variant.split()[0].lower(), pattern, term))
        patterns.sort(key=lambda p: -p[0])
        return [(needle, p, t) for _, needle, p, t in patterns]

    def find(self, text: str) -> list[TermHit]:
        """Terms in ``text`` (tagged or plain), longest first, not overlapping, not inside tags."""
        blocked = [(m.start(), m.end()) for m in _TAG.finditer(text)]
        hits: list[TermHit] = []
        lowered = text.lower()
        for needle, pattern, term in self._pattern:
            if needle not in lowered:  # a cheap test first: most terms are in no given segment
                continue
            for match in pattern.finditer(text):
                span = (match.start(), match.end())
                if any(a < span[1] and span[0] < b for a, b in blocked):
                    continue
                hits.append(TermHit(term, match.group(0), *span))
                blocked.append(span)
        return sorted(hits, key=lambda h: h.start)

    def constraints(self, text: str, lang: str) -> list[tuple[str, str]]:
        """(source as written, required form) for each distinct term of ``text`` that has a form in ``lang``."""
        seen: set[str] = set()
        out: list[tuple[str, str]] = []
        for hit in self.find(text):
            form = hit.term.preferred(lang)
            if form and hit.term.source not in seen:
                seen.add(hit.term.source)
                out.append((hit.text, form))
        return out

    def check(self, source: str, target: str, lang: str, hits: Sequence[TermHit] | None = None) -> list[Flag]:
        """Flags for terms of ``source`` that ``target`` renders off-glossary (``hits``: ``find(source)``
        when the caller already has it)."""
        flags: list[Flag] = []
        plain = _TAG.sub(" ", target)
        missing: list[str] = []
        names: list[str] = []
        avoided: list[str] = []
        for hit in self.find(source) if hits is None else hits:
            term = hit.term
            forms = term.forms.get(lang, ())
            if term.enforce and forms and not any(_contains(plain, f) for f in forms):
                (names if term.category == NAME_CATEGORY else missing).append(f"{hit.text} → {forms[0]}")
            bad = [f for f in term.avoid.get(lang, ()) if _contains(plain, f)]
            if bad and not any(_contains(plain, f) for f in forms):
                avoided.append(f"{hit.text} → {bad[0]} (use {forms[0] if forms else 'another word'})")
        found: tuple[tuple[str, Severity, str, list[str]], ...] = (
            ("glossary_missing", "warning", "glossary form not used: ", missing),
            ("name_inconsistent", "critical", "name not written as in the rest of the edition: ", names),
            ("glossary_avoid", "critical", "mistranslated: ", avoided),
        )
        for code, severity, label, items in found:
            if items:
                flags.append(Flag(code=code, severity=severity, message=label + "; ".join(dict.fromkeys(items))))
        return flags

    # -- files ----------------------------------------------------------------------------
    def to_csv(self, path: str | Path) -> int:
        with open(path, "w", newline="", encoding="utf-8") as handle:
            handle.write(terms_to_csv(self.terms))
        return len(self.terms)


def terms_to_csv(terms: Iterable[Term]) -> str:
    """``terms`` in the glossary's CSV format (:data:`CSV_COLUMNS`; ``avoid`` forms are not part of it)."""
    handle = io.StringIO(newline="")
    writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    for term in terms:
        row = {
            "source": term.source,
            "aliases": _ALT_SEP.join(term.aliases),
            "case": "sensitive" if term.case_sensitive else "insensitive",
            "category": term.category,
            "enforce": "yes" if term.enforce else "no",
            "notes": term.notes,
        }
        row.update({lang: _ALT_SEP.join(term.forms.get(lang, ())) for lang in TARGETS})
        writer.writerow(row)
    return handle.getvalue()


def term_to_mapping(term: Term) -> dict[str, object]:
    """``term`` as a plain mapping in the YAML entry format (what :func:`term_from_mapping` reads)."""
    return {
        "source": term.source,
        "aliases": list(term.aliases),
        "forms": {lang: list(forms) for lang, forms in term.forms.items()},
        "avoid": {lang: list(forms) for lang, forms in term.avoid.items() if forms},
        "case": "sensitive" if term.case_sensitive else "insensitive",
        "category": term.category,
        "notes": term.notes,
        "enforce": term.enforce,
    }


def term_from_mapping(entry: object, where: str = "term") -> Term:
    """A :class:`Term` from a mapping in the YAML entry format; InputError (naming ``where``) when it is not one."""
    return _term(entry, where)


def _strings(value: object, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [v for v in value.split(_ALT_SEP)] if _ALT_SEP in value else [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"{where}: expected a string or a list of strings")
    return tuple(v.strip() for v in value if v.strip())


def _term(entry: object, where: str) -> Term:
    if not isinstance(entry, dict):
        raise InputError(f"{where}: a term must be a mapping with 'source' and 'forms'")
    source = entry.get("source")
    if not isinstance(source, str) or not source.strip():
        raise InputError(f"{where}: 'source' is missing or empty")
    forms_in = entry.get("forms") or {}
    if not isinstance(forms_in, dict):
        raise InputError(f"{where}: 'forms' must map language codes to forms")
    unknown = [k for k in forms_in if k not in TARGETS]
    if unknown:
        raise InputError(f"{where}: unknown language {unknown[0]!r} in forms (use {', '.join(TARGETS)})")
    forms = {lang: _strings(v, f"{where} forms.{lang}") for lang, v in forms_in.items()}
    avoid_in = entry.get("avoid") or {}
    if not isinstance(avoid_in, dict):
        raise InputError(f"{where}: 'avoid' must map language codes to forms")
    case = str(entry.get("case", "insensitive")).lower()
    if case not in ("sensitive", "insensitive"):
        raise InputError(f"{where}: 'case' must be 'sensitive' or 'insensitive'")
    enforce = entry.get("enforce", True)
    if isinstance(enforce, str):
        enforce = enforce.strip().lower() not in ("no", "false", "0")
    if not any(forms.values()) and enforce:
        raise InputError(f"{where}: term {source!r} has no forms")
    return Term(
        source=source.strip(),
        forms={k: v for k, v in forms.items() if v},
        aliases=_strings(entry.get("aliases"), f"{where} aliases"),
        case_sensitive=case == "sensitive",
        category=str(entry.get("category") or ""),
        notes=str(entry.get("notes") or ""),
        avoid={lang: _strings(v, f"{where} avoid.{lang}") for lang, v in avoid_in.items()},
        enforce=bool(enforce),
    )


def _read_yaml(path: Path) -> list[Term]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not valid YAML ({exc.__class__.__name__})") from None
    entries = data.get("terms") if isinstance(data, dict) else data
    if not isinstance(entries, list):
        raise InputError(f"{path}: expected a list of terms (or a mapping with 'terms')")
    return [_term(entry, f"{path} term {i + 1}") for i, entry in enumerate(entries)]


def _read_csv(path: Path) -> list[Term]:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return terms_from_csv(handle.read(), str(path))


def terms_from_csv(text: str, where: str = "CSV") -> list[Term]:
    """The terms of a glossary CSV (:data:`CSV_COLUMNS`, header row first); InputError naming the line."""
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    try:
        if not reader.fieldnames or "source" not in reader.fieldnames:
            raise InputError(f"{where}: the first row must name the columns, including 'source'")
        terms = []
        for row in reader:
            line = reader.line_num
            if None in row:
                raise InputError(f"{where} line {line}: more cells than columns")
            entry = {
                "source": row.get("source"),
                "aliases": row.get("aliases") or None,
                "forms": {lang: row[lang] for lang in TARGETS if row.get(lang)},
                "case": row.get("case") or "insensitive",
                "category": row.get("category"),
                "enforce": row.get("enforce") or "yes",
                "notes": row.get("notes"),
            }
            terms.append(_term(entry, f"{where} line {line}"))
    except csv.Error as exc:
        raise InputError(f"{where} line {reader.line_num}: not valid CSV ({exc})") from None
    return terms


def load_glossary(paths: Sequence[str | Path] = (), *, starter: bool = True) -> Glossary:
    """The starter glossary (unless ``starter=False``) overridden by each file in ``paths``."""
    terms: list[Term] = list(starter_glossary().terms) if starter else []
    for raw in paths:
        path = Path(raw)
        if not path.is_file():
            raise InputError(f"glossary file not found: {path}")
        suffix = path.suffix.lower()
        if suffix in (".yaml", ".yml"):
            terms += _read_yaml(path)
        elif suffix == ".csv":
            terms += _read_csv(path)
        else:
            raise InputError(f"{path}: a glossary must be .yaml, .yml or .csv")
    return Glossary(terms)


_STARTER: Glossary | None = None


def configured_glossary() -> Glossary | None:
    """The glossary of the settings: the starter glossary plus the ``LINTAS_GLOSSARY`` files (separated by the
    platform's path separator); None when ``LINTAS_GLOSSARY`` is ``none`` (no glossary at all)."""
    configured = settings.current().glossary.strip()
    if configured.lower() == "none":
        return None
    return load_glossary([p for p in configured.split(os.pathsep) if p])


def starter_glossary() -> Glossary:
    global _STARTER
    if _STARTER is None:
        ref = resources.files("lintas") / "data" / "glossary" / "starter.yaml"
        with resources.as_file(ref) as path:
            _STARTER = Glossary(_read_yaml(path))
    return _STARTER


# -- placeholders, for engines that cannot take constraints in a prompt ------------------------
_PLACEHOLDER = "⟦{}⟧"
_PLACEHOLDER_RE = re.compile(r"⟦\s*(\d+)\s*⟧")


def protect_terms(text: str, hits: Sequence[TermHit], lang: str) -> tuple[str, dict[str, str]]:
    """Replace each term that has a form in ``lang`` by a numbered placeholder ``⟦1⟧``;
    returns the text and placeholder number -> required form."""
    mapping: dict[str, str] = {}
    out, pos = [], 0
    for hit in sorted(hits, key=lambda h: h.start):
        form = hit.term.preferred(lang)
        if not form or hit.start < pos:
            continue
        key = str(len(mapping) + 1)
        mapping[key] = form
        out += [text[pos : hit.start], _PLACEHOLDER.format(key)]
        pos = hit.end
    out.append(text[pos:])
    return "".join(out), mapping


def restore_terms(text: str, mapping: dict[str, str]) -> tuple[str, list[str]]:
    """Put the required forms back; returns the text and the forms whose placeholder was lost."""
    found: set[str] = set()

    def put(match: re.Match[str]) -> str:
        key = match.group(1)
        if key in mapping:
            found.add(key)
            return mapping[key]
        return ""

    restored = _PLACEHOLDER_RE.sub(put, text)
    return restored, [form for key, form in mapping.items() if key not in found]
