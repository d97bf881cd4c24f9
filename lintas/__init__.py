"""Lintas: Indonesian news into English, Chinese, Japanese, Arabic and French editions.

The public API, imported on first use (PEP 562), so that ``import lintas`` stays cheap and the modules below
import ``lintas.settings`` and ``lintas.version`` without pulling in the pipeline::

    import lintas

    article = lintas.read_article("article.md")
    reports = lintas.translate_article(article, ["en", "fr"], lintas.get_engine("fake"))
    reports[0].edition  # an Edition

* :func:`read_article` (:mod:`lintas.ingest`): an :class:`Article` from HTML, Markdown or JSON
* :func:`translate_article` (:mod:`lintas.pipeline.translate`): one :class:`EditionReport` per language, each
  with its :class:`Edition`; :class:`Options` bring the glossary, the translation memory and the hold policy
* :func:`get_engine` (:mod:`lintas.engines`): a translation engine by name (``llamacpp``, ``fake``, ...)
* :class:`LintasError` and its :class:`InputError` (:mod:`lintas.errors`): what the API raises on bad input
"""

import importlib
from typing import TYPE_CHECKING

from lintas.version import __version__

if TYPE_CHECKING:
    from lintas.engines import get_engine
    from lintas.errors import InputError, LintasError
    from lintas.ingest import read_article
    from lintas.pipeline.translate import EditionReport, Options, translate_article
    from lintas.text.article import Article, Edition

__all__ = [
    "__version__",
    "translate_article",
    "read_article",
    "get_engine",
    "Article",
    "Edition",
    "EditionReport",
    "Options",
    "LintasError",
    "InputError",
]

#: Where each public name is defined; :func:`__getattr__` imports it from there on first use.
_PUBLIC: dict[str, str] = {
    "translate_article": "lintas.pipeline.translate",
    "read_article": "lintas.ingest",
    "get_engine": "lintas.engines",
    "Article": "lintas.text.article",
    "Edition": "lintas.text.article",
    "EditionReport": "lintas.pipeline.translate",
    "Options": "lintas.pipeline.translate",
    "LintasError": "lintas.errors",
    "InputError": "lintas.errors",
}


def __getattr__(name: str) -> object:
    """A public name, imported from its module the first time it is asked for (then kept in the package)."""
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'lintas' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))
