"""``lintas watch``: poll news feeds and queue their new articles."""

from __future__ import annotations

import signal
import threading
from typing import Any
from urllib.parse import urlparse

import click

from lintas.cli.db import open_database, prepare_database
from lintas.cli.options import db_option, targets_option
from lintas.errors import LintasError
from lintas.text.languages import parse_targets

__all__ = ["watch_cmd"]


def _feed_urls(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple[str, ...]:
    """FEED_URL arguments: http(s) URLs only, duplicates dropped."""
    for value in values:
        parsed = urlparse(value)
        if parsed.scheme.lower() not in ("http", "https") or not parsed.netloc:
            raise click.BadParameter(f"{value!r} is not an http:// or https:// URL", ctx=ctx, param=param)
        if len(value) > 2000:
            raise click.BadParameter(f"{value[:60]!r}... is longer than 2000 characters", ctx=ctx, param=param)
    return tuple(dict.fromkeys(values))


@click.command("watch")
@click.argument("feed_urls", metavar="FEED_URL...", nargs=-1, required=True, callback=_feed_urls)
@db_option("Database (SQLAlchemy URL) where articles are stored and their jobs queued.")
@click.option(
    "--interval",
    type=click.FloatRange(min=1),
    default=300.0,
    show_default=True,
    help="Seconds between polls of a feed.",
)
@click.option("--once", is_flag=True, help="Poll each feed once and exit (non-zero when every feed failed).")
@targets_option(help_text="Languages to queue, comma-separated.")
def watch_cmd(feed_urls: tuple[str, ...], db_url: str, interval: float, once: bool, targets: str) -> None:
    """Poll RSS/Atom feeds and queue their new Indonesian articles for translation (SIGTERM/Ctrl-C: stop)."""
    from lintas.newsroom.watch import PollResult, make_client, safe_poll, watch  # imports the store (a second)

    langs = parse_targets(targets)
    bind, shown = open_database(db_url)
    stop = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        click.echo(f"watch: {signal.Signals(signum).name}, stopping", err=True)
        stop.set()

    def report(result: PollResult) -> None:
        click.echo(result.line(), err=not result.ok)
        for guid, reason in result.failures:
            click.echo(f"  failed {guid}: {reason}", err=True)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        prepare_database(bind, shown)
        if not once:
            watch(bind, feed_urls, interval, langs, stop, report=report)
            return
        read = 0
        with make_client() as client:
            for url in feed_urls:
                result = safe_poll(bind, url, client, langs, stop)
                report(result)
                read += result.ok
        if not read:
            raise LintasError(f"no feed could be read ({len(feed_urls)} tried)")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        bind.dispose()
