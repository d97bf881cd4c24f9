"""Errors that reach users as one clear line (CLI exit code, HTTP 4xx), never a traceback."""

from __future__ import annotations

__all__ = ["LintasError", "InputError", "ModelError", "EngineError"]


class LintasError(Exception):
    """Base class; ``exit_code`` is what the CLI exits with."""

    exit_code = 1


class InputError(LintasError):
    """The article or an argument is unusable (empty, not Indonesian, too big, malformed...)."""

    exit_code = 2


class ModelError(LintasError):
    """The model file is missing, corrupt or cannot be loaded."""

    exit_code = 3


class EngineError(LintasError):
    """The translation engine failed."""

    exit_code = 4
