"""``lintas glossary`` and ``lintas tm``: the glossary and the translation memory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError

from lintas.cli.options import targets_option
from lintas.errors import InputError
from lintas.text.article import Edition
from lintas.text.glossary import configured_glossary
from lintas.text.languages import parse_targets

__all__ = ["glossary", "tm"]


@click.group()
def glossary() -> None:
    """The glossary: the starter terms plus the files in LINTAS_GLOSSARY."""


@glossary.command("lookup")
@click.argument("text")
@targets_option()
def glossary_lookup(text: str, targets: str) -> None:
    """Show the glossary terms found in TEXT and their required forms."""
    gloss = configured_glossary()
    hits = gloss.find(text) if gloss else []
    if not hits:
        click.echo("no glossary term found")
    for hit in hits:
        forms = "; ".join(f"{lang}: {hit.term.preferred(lang) or '-'}" for lang in parse_targets(targets))
        click.echo(f"{hit.text} [{hit.term.source}] -> {forms}")


@glossary.command("export")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def glossary_export(path: Path) -> None:
    """Write the whole glossary (starter + files) to a CSV file."""
    gloss = configured_glossary()
    if gloss is None:
        raise InputError("no glossary: LINTAS_GLOSSARY is 'none'")
    click.echo(f"{gloss.to_csv(path)} terms -> {path}")


@click.group()
def tm() -> None:
    """The translation memory (LINTAS_MEMORY): editors' approved and corrected segments."""


def _open_memory() -> Any:
    from lintas.store.memory import configured_memory  # the store takes a second to import

    memory = configured_memory()
    if memory is None:
        raise InputError("the translation memory is off (LINTAS_MEMORY=off)")
    return memory


@tm.command("add")
@click.argument("source")
@click.argument("target")
@click.option("--to", "lang", required=True, help="Language of TARGET.")
@click.option("--kind", default="sentence", show_default=True)
@click.option("--origin", type=click.Choice(["approved", "corrected"]), default="corrected", show_default=True)
@click.option("--author", default=None)
def tm_add(source: str, target: str, lang: str, kind: str, origin: str, author: str | None) -> None:
    """Remember that SOURCE (Indonesian) is translated as TARGET."""
    with _open_memory() as memory:
        try:
            memory.add(source, target, lang, kind=kind, origin=origin, author=author)
        except ValueError as exc:
            raise InputError(str(exc)) from None
        click.echo(f"stored; {len(memory)} segments in the memory")


@tm.command("approve")
@click.argument("edition", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--author", default=None)
def tm_approve(edition: Path, author: str | None) -> None:
    """Store every segment of a reviewed edition (its JSON file) as approved."""
    try:
        ed = Edition.model_validate_json(edition.read_text(encoding="utf-8"))
    except (ValidationError, UnicodeDecodeError) as exc:
        raise InputError(f"{edition} is not an edition JSON file ({type(exc).__name__})") from None
    with _open_memory() as memory:
        stored = 0
        for seg in ed.segments:
            if seg.origin == "engine" and seg.target.strip():
                memory.add(
                    seg.source, seg.target, ed.target_lang, source_lang=ed.source_lang, kind=seg.kind, author=author
                )
                stored += 1
        click.echo(f"{stored} segments approved into the memory ({len(memory)} in all)")


@tm.command("search")
@click.argument("text")
@click.option("--to", "lang", required=True)
@click.option("--limit", type=click.IntRange(min=1), default=5, show_default=True)
def tm_search(text: str, lang: str, limit: int) -> None:
    """Exact and fuzzy matches for TEXT."""
    with _open_memory() as memory:
        exact = memory.exact(text, lang)
        if exact:
            click.echo(f"exact ({exact.origin}): {exact.target}")
        for match in memory.fuzzy(text, lang, limit=limit):
            click.echo(f"{match.score:5.1f} ({match.origin}): {match.source} -> {match.target}")
        if not exact and not memory.fuzzy(text, lang, limit=1):
            click.echo("no match")


@tm.command("import")
@click.argument("path", type=click.Path(dir_okay=False, exists=True, path_type=Path))
def tm_import(path: Path) -> None:
    """Import a CSV file (columns: source_lang,target_lang,kind,source,target,...)."""
    with _open_memory() as memory:
        try:
            count = memory.import_csv(path)
        except ValueError as exc:
            raise InputError(str(exc)) from None
        click.echo(f"{count} segments imported ({len(memory)} in all)")


@tm.command("export")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def tm_export(path: Path) -> None:
    """Write the whole memory to a CSV file."""
    with _open_memory() as memory:
        click.echo(f"{memory.export_csv(path)} segments -> {path}")
