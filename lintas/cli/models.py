"""``lintas models add|list|remove``: the local CTranslate2 models of the ``ctranslate2`` engine."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["models"]


@click.group()
def models() -> None:
    """Local CTranslate2 models (converted OPUS-MT, NLLB, M2M-100, MADLAD directories); see docs/engines.md."""


@models.command("add")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--name", default=None, help="Name to register it under (default: the directory's name).")
@click.option("--family", default=None, help="opus-mt, nllb, m2m100 or madlad (default: guessed from its files).")
@click.option("--pairs", default=None, help="Language pairs it covers, e.g. id-en,en-fr (multilingual: all).")
def models_add(directory: Path, name: str | None, family: str | None, pairs: str | None) -> None:
    """Register a converted model DIRECTORY (it is checked, not copied)."""
    from lintas.engines.ct2_models import add_model

    model = add_model(directory, name=name, family=family, pairs=pairs)
    click.echo(f"registered {model.name} ({model.family}, {', '.join(model.pairs)}): {model.path}")


@models.command("list")
def models_list() -> None:
    """The registered models, with their pairs and whether their files are still there."""
    from lintas.engines.ct2_models import load_registry, registry_path

    registered = load_registry()
    if not registered:
        click.echo(f"no models registered ({registry_path()}); add one with: lintas models add DIR")
        return
    for model in registered:
        state = "ok" if (model.directory / "model.bin").is_file() else "MISSING"
        random = " (random weights: for tests and benchmarks)" if model.notes.get("random_weights") else ""
        click.echo(f"{model.name}\t{model.family}\t{','.join(model.pairs)}\t{state}\t{model.path}{random}")


@models.command("remove")
@click.argument("name")
def models_remove(name: str) -> None:
    """Unregister NAME (its files are left where they are)."""
    from lintas.engines.ct2_models import remove_model

    model = remove_model(name)
    click.echo(f"removed {model.name} from the registry (its files in {model.path} are untouched)")
