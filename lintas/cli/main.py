"""The ``lintas`` command line: the root group, its version and error handling. Each command group lives in its own
module of :mod:`lintas.cli` (translate, serve, worker, watch, measure, glossary, accounts, models, scale); the options
they share are declared once in :mod:`lintas.cli.options`."""

from __future__ import annotations

import sys

import click

from lintas import settings
from lintas.cli.accounts import keys, users
from lintas.cli.glossary import glossary, tm
from lintas.cli.measure import bench, eval_cmd, loadtest, qe_bench, segbench
from lintas.cli.models import model, models
from lintas.cli.scale import backfill
from lintas.cli.serve import serve
from lintas.cli.translate import translate
from lintas.cli.watch import watch_cmd
from lintas.cli.worker import worker
from lintas.errors import LintasError
from lintas.version import __version__

__all__ = ["main", "cli"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lintas")
def cli() -> None:
    """Translate Indonesian news articles into English, Chinese, Japanese, Arabic and French."""


for _command in (
    translate,
    eval_cmd,
    segbench,
    qe_bench,
    serve,
    worker,
    watch_cmd,
    loadtest,
    glossary,
    tm,
    model,
    keys,
    users,
    models,
    bench,
    backfill,
):
    cli.add_command(_command)


def _debug() -> bool:
    """LINTAS_DEBUG (off when the settings do not parse)."""
    try:
        return settings.current().debug
    except LintasError:
        return False


def main(argv: list[str] | None = None) -> None:
    """Entry point: errors become one line on stderr and an exit code, never a traceback."""
    try:
        cli.main(args=argv, prog_name="lintas", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except LintasError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # the last line of defence: say what failed, not a traceback
        if _debug():
            raise
        click.echo(f"internal error: {type(exc).__name__}: {exc} (set LINTAS_DEBUG=1 for a traceback)", err=True)
        sys.exit(70)
