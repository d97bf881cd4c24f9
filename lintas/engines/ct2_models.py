"""Local CTranslate2 models: the registry behind ``lintas models add|list|remove`` and language routing.

A registered model is a directory converted with CTranslate2's converters (``model.bin``, ``config.json``, the
vocabulary) plus its sentencepiece model(s). Nothing is downloaded: you convert a Hugging Face checkout you already
have (docs/engines.md) and register the output. The registry is a JSON file in the data directory
(``ct2-models.json``); it stores the directory, the family and the language pairs.

Families and how they are told the languages:

=========  ======================================  =============================================
family     tokenizer files                         languages
=========  ======================================  =============================================
opus-mt    ``source.spm``, ``target.spm``          one pair per model (``id-en``); a model with
                                                   several targets gets ``>>fra<<`` first
nllb       ``sentencepiece.bpe.model``             ``ind_Latn`` first, ``fra_Latn`` target prefix
m2m100     ``sentencepiece.bpe.model``             ``__id__`` first, ``__fr__`` target prefix
madlad     ``spiece.model``                        ``<2fr>`` first
=========  ======================================  =============================================

:func:`route` picks, for a language pair, a direct model or a pivot through English (``id-en`` then ``en-fr``).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from lintas import settings
from lintas.errors import InputError, ModelError

__all__ = [
    "FAMILIES",
    "LANGUAGES",
    "RegisteredModel",
    "Hop",
    "registry_path",
    "load_registry",
    "add_model",
    "remove_model",
    "route",
    "inspect_model",
]

LANGUAGES = ("id", "en", "zh", "ja", "ar", "fr")

# Language codes each family uses for our six languages.
CODES: dict[str, dict[str, str]] = {
    "nllb": {
        "id": "ind_Latn",
        "en": "eng_Latn",
        "zh": "zho_Hans",
        "ja": "jpn_Jpan",
        "ar": "arb_Arab",
        "fr": "fra_Latn",
    },
    "m2m100": {code: f"__{code}__" for code in LANGUAGES},
    "madlad": {code: f"<2{code}>" for code in LANGUAGES},
    "opus-mt": {
        "id": ">>ind<<",
        "en": ">>eng<<",
        "zh": ">>cmn_Hans<<",
        "ja": ">>jpn<<",
        "ar": ">>ara<<",
        "fr": ">>fra<<",
    },
}
FAMILIES = tuple(CODES)
MULTILINGUAL = ("nllb", "m2m100", "madlad")
TOKENIZERS = {
    "opus-mt": ("source.spm", "target.spm"),
    "nllb": ("sentencepiece.bpe.model", "sentencepiece.bpe.model"),
    "m2m100": ("sentencepiece.bpe.model", "sentencepiece.bpe.model"),
    "madlad": ("spiece.model", "spiece.model"),
}
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class RegisteredModel:
    name: str
    path: str
    family: str
    pairs: tuple[str, ...] = ()  # "id-en"; every pair among LANGUAGES for multilingual families
    notes: dict[str, object] = field(default_factory=dict)

    @property
    def directory(self) -> Path:
        return Path(self.path)

    def covers(self, source: str, target: str) -> bool:
        return f"{source}-{target}" in self.pairs

    def targets(self) -> set[str]:
        return {pair.split("-")[1] for pair in self.pairs}

    def tokenizer_paths(self) -> tuple[Path, Path]:
        source, target = TOKENIZERS[self.family]
        return self.directory / source, self.directory / target


@dataclass(frozen=True)
class Hop:
    model: RegisteredModel
    source: str
    target: str


def registry_path() -> Path:
    return settings.data_dir() / "ct2-models.json"


def load_registry(path: Path | None = None) -> list[RegisteredModel]:
    path = path or registry_path()
    if not path.is_file():
        return []
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
        return [RegisteredModel(**{**row, "pairs": tuple(row.get("pairs", ()))}) for row in rows]
    except (ValueError, TypeError) as exc:
        raise ModelError(f"the model registry {path} is unreadable ({exc}); fix or delete it") from None


def _save(models: list[RegisteredModel], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(
        json.dumps([{**asdict(m), "pairs": list(m.pairs)} for m in models], indent=2, ensure_ascii=False),
        encoding="utf-8",
    )
    os.replace(temporary, path)  # never a half-written registry


def _parse_pairs(pairs: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    if pairs is None:
        return ()
    items = pairs.split(",") if isinstance(pairs, str) else list(pairs)
    out = []
    for item in (i.strip() for i in items):
        if not item:
            continue
        source, sep, target = item.partition("-")
        if not sep or source not in LANGUAGES or target not in LANGUAGES or source == target:
            raise InputError(f"bad language pair {item!r}: write e.g. id-en (languages: {', '.join(LANGUAGES)})")
        out.append(f"{source}-{target}")
    return tuple(dict.fromkeys(out))


def inspect_model(directory: Path) -> dict[str, object]:
    """What the directory says about itself: its ``lintas.json`` hints (written by
    :func:`lintas.engines.ct2_random.build_random_model`) and the family its tokenizer files suggest."""
    hints: dict[str, object] = {}
    meta = directory / "lintas.json"
    if meta.is_file():
        try:
            hints = dict(json.loads(meta.read_text(encoding="utf-8")))
        except ValueError as exc:
            raise InputError(f"{meta} is not valid JSON: {exc}") from None
    if "family" not in hints:
        if (directory / "source.spm").is_file():
            hints["family"] = "opus-mt"
        elif (directory / "spiece.model").is_file():
            hints["family"] = "madlad"
    return hints


def add_model(
    directory: Path,
    *,
    name: str | None = None,
    family: str | None = None,
    pairs: str | list[str] | None = None,
    registry: Path | None = None,
) -> RegisteredModel:
    """Register a converted model directory (checked: model.bin, config.json, tokenizer files, pairs)."""
    directory = Path(directory).expanduser().resolve()
    if not directory.is_dir():
        raise InputError(f"{directory} is not a directory")
    for required in ("model.bin", "config.json"):
        if not (directory / required).is_file():
            raise InputError(
                f"{directory} has no {required}: it is not a CTranslate2 model (convert it first, see docs/engines.md)"
            )
    hints = inspect_model(directory)
    family = family or str(hints.get("family") or "")
    if family not in FAMILIES:
        raise InputError(f"say which family the model is: --family {'|'.join(FAMILIES)}")
    parsed = _parse_pairs(pairs if pairs is not None else hints.get("pairs"))  # type: ignore[arg-type]
    if family in MULTILINGUAL and not parsed:
        parsed = tuple(f"{s}-{t}" for s in LANGUAGES for t in LANGUAGES if s != t)
    if not parsed:
        raise InputError("say which language pairs the model covers: --pairs id-en[,en-fr...]")
    model = RegisteredModel(
        name=name or directory.name.lower(),
        path=str(directory),
        family=family,
        pairs=parsed,
        notes={k: v for k, v in hints.items() if k not in ("family", "pairs")},
    )
    if not _NAME.match(model.name):
        raise InputError(f"bad model name {model.name!r}: lower-case letters, digits, '.', '_' and '-'")
    for tokenizer in model.tokenizer_paths():
        if not tokenizer.is_file():
            raise InputError(f"{directory} has no {tokenizer.name}, which a {family} model needs")
    path = registry or registry_path()
    models = load_registry(path)
    if any(m.name == model.name for m in models):
        raise InputError(f"a model named {model.name!r} is registered already (remove it first, or pick --name)")
    _save([*models, model], path)
    return model


def remove_model(name: str, registry: Path | None = None) -> RegisteredModel:
    """Unregister ``name`` (its files stay where they are)."""
    path = registry or registry_path()
    models = load_registry(path)
    found = [m for m in models if m.name == name]
    if not found:
        raise InputError(f"no model named {name!r} is registered (see: lintas models list)")
    _save([m for m in models if m.name != name], path)
    return found[0]


def route(models: list[RegisteredModel], source: str, target: str, pivot: str = "en") -> list[Hop]:
    """The models that take ``source`` to ``target``: one direct hop (an OPUS-MT pair model before a
    multilingual one), else two through ``pivot``. :class:`ModelError` when no registered model can."""
    direct = [m for m in models if m.covers(source, target)]
    if direct:
        direct.sort(key=lambda m: m.family in MULTILINGUAL)
        return [Hop(direct[0], source, target)]
    if source != pivot and target != pivot:
        first = route_or_none(models, source, pivot)
        second = route_or_none(models, pivot, target)
        if first and second:
            return [first, second]
    have = ", ".join(sorted({p for m in models for p in m.pairs})) or "none"
    raise ModelError(f"no registered CTranslate2 model translates {source}->{target} (pairs registered: {have})")


def route_or_none(models: list[RegisteredModel], source: str, target: str) -> Hop | None:
    direct = sorted((m for m in models if m.covers(source, target)), key=lambda m: m.family in MULTILINGUAL)
    return Hop(direct[0], source, target) if direct else None
