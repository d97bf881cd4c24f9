"""The options several commands share, declared once: ``--engine``, ``--to`` and ``--db``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from lintas import settings
from lintas.text.languages import TARGETS

__all__ = ["DEFAULT_TARGETS", "ENGINE_HELP", "TARGETS_HELP", "db_option", "engine_option", "targets_option"]

F = TypeVar("F", bound=Callable[..., Any])

#: Every target language, in the order of :data:`lintas.text.languages.TARGETS`.
DEFAULT_TARGETS = ",".join(TARGETS)

ENGINE_HELP = "Translation engine: llamacpp, fake, openai, ctranslate2, one registered by a plugin, or module:Class."
TARGETS_HELP = "Target languages, comma-separated."


def engine_option() -> Callable[[F], F]:
    """``--engine`` (parameter ``engine_name``), default LINTAS_ENGINE; resolved by :func:`lintas.engines.get_engine`."""
    return click.option(
        "--engine",
        "engine_name",
        default=lambda: settings.current().engine,
        show_default="LINTAS_ENGINE, else llamacpp",
        help=ENGINE_HELP,
    )


def targets_option(default: str = DEFAULT_TARGETS, help_text: str = TARGETS_HELP) -> Callable[[F], F]:
    """``--to`` (parameter ``targets``): target languages, comma-separated (:func:`lintas.text.languages.parse_targets`)."""
    return click.option("--to", "targets", default=default, show_default=True, help=help_text)


def db_option(help_text: str) -> Callable[[F], F]:
    """``--db`` (parameter ``db_url``), shared by every command on the service's database (default:
    LINTAS_DATABASE_URL)."""
    return click.option(
        "--db",
        "db_url",
        default=lambda: settings.current().database_url,
        show_default="LINTAS_DATABASE_URL, or lintas.sqlite in the data directory",
        help=help_text,
    )
