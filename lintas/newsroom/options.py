"""The pipeline options of the newsroom, built in one place for every command and process that translates articles
(``lintas translate``, the worker, backfill, the service's ``/v1/translate`` and the desk's re-translation)."""

from __future__ import annotations

from lintas.pipeline.translate import Memory, Options
from lintas.store.db import Bind
from lintas.store.glossary_terms import with_database_terms
from lintas.text.glossary import configured_glossary

__all__ = ["configured_options"]


def configured_options(bind: Bind | None = None, memory: Memory | None = None) -> Options:
    """:meth:`Options.from_settings` with the glossary of the settings (starter + ``LINTAS_GLOSSARY``), the terms
    editors keep in the database ``bind`` on top (re-read as they change; none without a database), and ``memory``
    (the caller opens and closes it)."""
    return Options.from_settings(with_database_terms(configured_glossary(), bind), memory)
