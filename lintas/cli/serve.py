"""``lintas serve``: the HTTP API, the editors' desk and the public site."""

from __future__ import annotations

import os

import click

from lintas.cli.db import database
from lintas.cli.options import db_option, engine_option
from lintas.engines import engine_class
from lintas.errors import InputError, LintasError

__all__ = ["serve"]

# lintas.service takes a second and a half to import: imported when the command runs


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@db_option("Database (SQLAlchemy URL) shared with the workers.")
@engine_option()
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=lambda: os.cpu_count() or 1,
    show_default="the number of CPUs",
    help="Server processes (each has its own Python interpreter: reads scale with them).",
)
def serve(host: str, port: int, db_url: str, engine_name: str, workers: int) -> None:
    """Run the HTTP API and the public site (OpenAPI docs at /docs); `lintas worker` processes translate the
    queued jobs (--engine translates only the small synchronous POST /v1/translate)."""
    import uvicorn  # heavy and optional: only to serve

    from lintas.service import create_app
    from lintas.service.app import PUBLIC_URL_WARNING, proxy_options, serve_processes
    from lintas.service.headers import public_url_unset

    engine_class(engine_name)  # an unknown engine fails now, not on the first POST /v1/translate
    try:
        app = create_app(db_url or None, engine_name=engine_name)  # settings and the URL checked here, once
    except LintasError:  # a bad setting (rate limits, webhook): its own message
        raise
    except Exception as exc:
        raise InputError(f"cannot open the database {db_url or '(default)'}: {type(exc).__name__}: {exc}") from None
    if public_url_unset():
        click.echo(PUBLIC_URL_WARNING, err=True)
    proxies = proxy_options()
    if workers == 1:
        uvicorn.run(app, host=host, port=port, log_level="info", access_log=False, **proxies)
        return
    # Several processes: each builds its app from the factory's arguments (the URL, the engine, this process's id:
    # each stops when this one dies, even by kill -9), after this one has migrated the database (processes
    # migrating at once could race on PostgreSQL).
    with database(db_url):
        pass
    serve_processes(
        db_url, engine_name, workers=workers, host=host, port=port, log_level="info", access_log=False, **proxies
    )
