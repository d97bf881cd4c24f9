#!/usr/bin/env python3
"""Throughput of LibreTranslate (argos-translate on CTranslate2) serving a local CTranslate2 model, offline.

Standalone: only the standard library in this process; LibreTranslate runs from its own virtualenv (``--venv``),
created and installed here when missing (``libretranslate==1.9.6`` and ``spacy`` from PyPI, no torch, no stanza).

What it does:

1. Turns ``--model`` (a CTranslate2 Transformer dir as written by ``lintas.engines.ct2_random.build_random_model``
   or a converted OPUS-MT model: ``model.bin``, ``config.json``, vocabulary, ``source.spm`` == ``target.spm``) into an
   argos package (``metadata.json``, ``model/``, ``sentencepiece.model``, ``spacy/``), zips it as ``.argosmodel`` and
   installs it with ``argostranslate.package.install_from_path`` into a private ``ARGOS_PACKAGES_DIR``.
2. Starts ``libretranslate`` on 127.0.0.1 (free port) with only that package, fully offline:

   * sentence splitting: argos' default splitter, MiniSBD, downloads ``<lang>.onnx`` from GitHub on the first
     request (``minisbd/models.py:get_model_file``) and fails offline; so ``ARGOS_CHUNK_TYPE=SPACY`` and the package
     carries a blank spaCy pipeline for the source language (argos adds spaCy's rule-based ``sentencizer``);
   * the package index: LibreTranslate refreshes it at boot when fewer than 2 packages are installed
     (``libretranslate/init.py``); ``ARGOS_PACKAGE_INDEX`` points at an empty local ``index.json`` (``file://``);
   * ``--load-only SRC,TGT`` stops the boot before MiniSBD's bulk model download (10 tries, backoff, per language);
   * every process-level proxy variable points at a closed local port, so nothing can leave the machine.
3. Warms the server up (argos creates the ``ctranslate2.Translator`` lazily on the first request), then translates
   ``--articles`` NTREX articles with ``--concurrency`` client threads and reports articles/minute, sentences/s and the
   tokens CTranslate2 generated (read from argos' own INFO log of every ``translate_batch`` result).

Articles: lines of ``ntrex.<src>.txt`` grouped by ``doc_ids.txt``; the first line is the headline, the rest are joined
into paragraphs of ``--paragraph-size`` sentences (as ``lintas.measure.evaluate.document_article`` does).  ``--unit article``
(default) sends one POST per article, headline and paragraphs joined by newlines: what a newsroom CMS does with
LibreTranslate's ``/translate`` (LibreTranslate itself splits on newlines, then into sentences).  ``--unit paragraph``
sends one POST per headline/paragraph instead.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

LIBRETRANSLATE_REQUIREMENTS = ["libretranslate==1.9.6", "spacy>=3.7,<4"]
LANGUAGE_NAMES = {
    "id": "Indonesian",
    "en": "English",
    "fr": "French",
    "ar": "Arabic",
    "ja": "Japanese",
    "zh": "Chinese",
}

# Run inside the LibreTranslate venv with the server's environment: what argos will actually use.
PROBE = r"""
import inspect, json, re, sys
import ctranslate2
from importlib import metadata
from argostranslate import settings, translate

src, lines = inspect.getsourcelines(translate.apply_packaged_translation)
start = next(i for i, line in enumerate(src) if "translate_batch(" in line)
end = next(i for i in range(start, len(src)) if src[i].strip() == ")")
call = "".join(src[start:end + 1])
doc = ctranslate2.Translator.translate_batch.__doc__ or ""
ct2_defaults = dict(re.findall(r"(max_decoding_length|min_decoding_length|max_input_length|patience): \w+ = ([\d.]+)", doc))
params = {"device": settings.device, "inter_threads": settings.inter_threads, "intra_threads": settings.intra_threads}
if settings.compute_type != "auto":
    params["compute_type"] = settings.compute_type
translator = ctranslate2.Translator(sys.argv[1], **params)
versions = {}
for dist in ("libretranslate", "argos-translate-lt", "ctranslate2", "spacy", "minisbd", "waitress"):
    try:
        versions[dist] = metadata.version(dist)
    except metadata.PackageNotFoundError:
        versions[dist] = None
print(json.dumps({
    "argos_settings": {
        "ARGOS_BEAM_SIZE": settings.beam_size,
        "ARGOS_BATCH_SIZE": settings.batch_size,
        "ARGOS_COMPUTE_TYPE": settings.compute_type,
        "ARGOS_INTER_THREADS": settings.inter_threads,
        "ARGOS_INTRA_THREADS": settings.intra_threads,
        "ARGOS_DEVICE_TYPE": settings.device,
        "ARGOS_CHUNK_TYPE": settings.chunk_type.name,
    },
    "effective_compute_type": translator.compute_type,
    "translate_batch_call": call,
    "translate_batch_file": inspect.getsourcefile(translate),
    "translate_batch_line": lines + start,
    "ct2_defaults": ct2_defaults,
    "versions": versions,
}))
"""

INSTALL = r"""
import sys
import argostranslate.package as package
package.install_from_path(sys.argv[1])
print([str(p) for p in package.get_installed_packages()])
"""

SPACY_BLANK = r"""
import sys, spacy
try:
    nlp = spacy.blank(sys.argv[1])
except Exception:
    nlp = spacy.blank("xx")
nlp.to_disk(sys.argv[2])
print(nlp.lang)
"""


@dataclass
class Article:
    doc_id: str
    units: list[str]  # headline, then paragraphs
    sentences: int


@dataclass
class Result:
    seconds: float
    chars_out: int
    error: str | None = None


@dataclass
class LogCounts:
    sentences: list[int] = field(default_factory=list)  # sentences per translate_batch call (after argos' SBD)
    generated: list[int] = field(default_factory=list)  # tokens per generated hypothesis


def load_articles(data: Path, source: str, count: int, paragraph_size: int) -> list[Article]:
    ids = (data / "doc_ids.txt").read_text(encoding="utf-8").splitlines()
    lines = (data / f"ntrex.{source}.txt").read_text(encoding="utf-8").splitlines()
    if len(ids) != len(lines):
        raise SystemExit(f"{data}: doc_ids.txt and ntrex.{source}.txt differ in length")
    docs: list[tuple[str, list[str]]] = []
    for doc_id, line in zip(ids, lines, strict=True):
        if not docs or docs[-1][0] != doc_id:
            docs.append((doc_id, []))
        docs[-1][1].append(line.strip())
    if count > len(docs):
        raise SystemExit(f"{data} has {len(docs)} articles, fewer than --articles {count}")
    articles = []
    for doc_id, sents in docs[:count]:
        body = [" ".join(sents[i : i + paragraph_size]) for i in range(1, len(sents), paragraph_size)]
        articles.append(Article(doc_id, [sents[0], *body], len(sents)))
    return articles


def ensure_venv(venv: Path) -> dict[str, object]:
    exe = venv / "bin" / "libretranslate"
    if exe.exists():
        return {"created": False}
    print(f"creating {venv} and installing {' '.join(LIBRETRANSLATE_REQUIREMENTS)} ...", flush=True)
    start = time.monotonic()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, *LIBRETRANSLATE_REQUIREMENTS], check=True)
    seconds = time.monotonic() - start
    size = sum(f.stat().st_size for f in venv.rglob("*") if f.is_file() and not f.is_symlink())
    print(f"installed in {seconds:.0f} s, venv is {size / 2**20:.0f} MiB", flush=True)
    return {"created": True, "install_seconds": round(seconds, 1), "venv_mib": round(size / 2**20)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(root: Path, args: argparse.Namespace) -> dict[str, str]:
    env = dict(os.environ)
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there: any outbound request fails at once
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        env[var] = dead
    env["no_proxy"] = env["NO_PROXY"] = "127.0.0.1,localhost"
    index = root / "index"
    index.mkdir(exist_ok=True)
    (index / "index.json").write_text("[]\n")
    env.update(
        {
            "XDG_DATA_HOME": str(root / "xdg" / "data"),
            "XDG_CACHE_HOME": str(root / "xdg" / "cache"),
            "XDG_CONFIG_HOME": str(root / "xdg" / "config"),
            "ARGOS_PACKAGES_DIR": str(root / "packages"),
            "ARGOS_PACKAGE_INDEX": index.as_uri() + "/",
            "ARGOS_CHUNK_TYPE": "SPACY",
            "ARGOS_DEVICE_TYPE": "cpu",
        }
    )
    overrides = {
        "ARGOS_COMPUTE_TYPE": args.compute_type,
        "ARGOS_BEAM_SIZE": args.beam_size,
        "ARGOS_BATCH_SIZE": args.batch_size,
        "ARGOS_INTER_THREADS": args.inter_threads,
        "ARGOS_INTRA_THREADS": args.intra_threads,
    }
    for key, value in overrides.items():
        if value is not None:
            env[key] = str(value)
        else:
            env.pop(key, None)
    return env


def build_package(model: Path, root: Path, venv: Path, env: dict[str, str], source: str, target: str) -> Path:
    src_spm, tgt_spm = model / "source.spm", model / "target.spm"
    if not (model / "model.bin").is_file() or not src_spm.is_file():
        raise SystemExit(f"{model}: not a CTranslate2 model with source.spm (model.bin, config.json, source.spm)")
    if tgt_spm.is_file() and tgt_spm.read_bytes() != src_spm.read_bytes():
        raise SystemExit(
            f"{model}: source.spm and target.spm differ; an argos package holds one sentencepiece.model "
            "for both sides (argostranslate/package.py, Package.__init__), so this model cannot be served as is"
        )
    name = f"translate-{source}_{target}"
    pkg = root / "build" / name
    (pkg / "model").mkdir(parents=True)
    for f in model.iterdir():
        if f.is_file() and f.suffix != ".spm" and f.name != "lintas.json":
            if _same_fs(f, pkg):
                os.link(f, pkg / "model" / f.name)
            else:
                shutil.copy2(f, pkg / "model" / f.name)
    shutil.copy2(src_spm, pkg / "sentencepiece.model")
    metadata = {
        "package_version": "0.0.1",
        "argos_version": "1.12",
        "from_code": source,
        "from_name": LANGUAGE_NAMES.get(source, source),
        "to_code": target,
        "to_name": LANGUAGE_NAMES.get(target, target),
        "type": "translate",
    }
    (pkg / "metadata.json").write_text(json.dumps(metadata, indent=2))
    py = str(venv / "bin" / "python")
    subprocess.run([py, "-c", SPACY_BLANK, source, str(pkg / "spacy")], check=True, env=env, capture_output=True)
    archive = root / f"{name}.argosmodel"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as z:
        for f in sorted(pkg.rglob("*")):
            z.write(f, f.relative_to(pkg.parent))
    out = subprocess.run([py, "-c", INSTALL, str(archive)], check=True, env=env, capture_output=True, text=True)
    print(f"installed argos package {archive.name}: {out.stdout.strip()}", flush=True)
    archive.unlink()
    shutil.rmtree(root / "build")
    return Path(env["ARGOS_PACKAGES_DIR"]) / name


def _same_fs(a: Path, b: Path) -> bool:
    return a.stat().st_dev == b.stat().st_dev


def post(url: str, text: str, source: str, target: str, timeout: float) -> str:
    body = json.dumps({"q": text, "source": source, "target": target, "format": "text"}).encode()
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return str(json.load(resp)["translatedText"])


def wait_ready(base: str, proc: subprocess.Popen[bytes], log: Path, source: str, timeout: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if proc.poll() is not None:
            raise SystemExit(f"libretranslate exited with {proc.returncode}:\n{tail(log)}")
        try:
            with urllib.request.urlopen(base + "/languages", timeout=2) as resp:
                langs = json.load(resp)
            if any(lang["code"] == source for lang in langs):
                return time.monotonic() - start
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise SystemExit(f"libretranslate not ready after {timeout:.0f} s:\n{tail(log)}")


def tail(log: Path, lines: int = 30) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


_SENTENCES = re.compile(r"^INFO:argostranslate\.utils:(\('sentences', .*\))$")
_HYPOTHESES = re.compile(r"hypotheses=(\[\[.*?\]\]), scores=\[")


def count_from_log(text: str) -> LogCounts:
    """argos logs every step at INFO (argostranslate/utils.py; LibreTranslate shows INFO): the sentences after its
    SBD and each ``TranslationResult`` with its token lists.  Best effort: empty lists if the format changes."""
    import ast

    counts = LogCounts()
    for line in text.splitlines():
        m = _SENTENCES.match(line)
        if m:
            with contextlib.suppress(ValueError, SyntaxError):
                counts.sentences.append(len(ast.literal_eval(m.group(1))[1]))
        elif line.startswith("INFO:argostranslate.utils:('translated_batches'"):
            for hyp in _HYPOTHESES.findall(line):
                with contextlib.suppress(ValueError, SyntaxError):
                    counts.generated.extend(len(tokens) for tokens in ast.literal_eval(hyp))
    return counts


def run(args: argparse.Namespace) -> dict[str, object]:
    venv = args.venv.resolve()
    install = ensure_venv(venv)
    articles = load_articles(args.data, args.source, args.articles, args.paragraph_size)
    keep = args.keep_dir is not None
    root = Path(args.keep_dir or tempfile.mkdtemp(prefix="peer-libretranslate-")).resolve()
    root.mkdir(parents=True, exist_ok=True)
    env = server_env(root, args)
    proc: subprocess.Popen[bytes] | None = None
    try:
        pkg = build_package(args.model.resolve(), root, venv, env, args.source, args.target)
        probe = subprocess.run(
            [str(venv / "bin" / "python"), "-c", PROBE, str(pkg / "model")],
            check=True,
            env=env,
            capture_output=True,
            text=True,
        )
        settings = json.loads(probe.stdout.strip().splitlines()[-1])
        port = free_port()
        threads = args.lt_threads or max(4, args.concurrency)
        cmd = [
            str(venv / "bin" / "libretranslate"),
            *("--host", "127.0.0.1", "--port", str(port)),
            *("--load-only", f"{args.source},{args.target}"),
            *("--threads", str(threads)),
            "--disable-web-ui",
            "--disable-files-translation",
        ]
        log = root / "server.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=root)
        base = f"http://127.0.0.1:{port}"
        ready = wait_ready(base, proc, log, args.source, args.startup_timeout)
        url = base + "/translate"
        w0 = time.monotonic()
        sample = post(url, "Ini adalah kalimat pemanasan untuk server.", args.source, args.target, args.request_timeout)
        warmup = time.monotonic() - w0
        offset = log.stat().st_size

        if args.unit == "article":
            requests = ["\n".join(a.units) for a in articles]
        else:
            requests = [u for a in articles for u in a.units]

        def one(text: str) -> Result:
            start = time.monotonic()
            try:
                out = post(url, text, args.source, args.target, args.request_timeout)
                return Result(time.monotonic() - start, len(out))
            except Exception as exc:
                return Result(time.monotonic() - start, 0, f"{type(exc).__name__}: {exc}")

        start = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.concurrency) as pool:
            results = list(pool.map(one, requests))
        wall = time.monotonic() - start
        time.sleep(0.3)  # let the last log lines reach the file
        with log.open("rb") as f:
            f.seek(offset)
            counts = count_from_log(f.read().decode(errors="replace"))
    finally:
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if not keep:
            shutil.rmtree(root, ignore_errors=True)

    errors = [r.error for r in results if r.error]
    source_sentences = sum(a.sentences for a in articles)
    latencies = [r.seconds for r in results if not r.error]
    max_len = int(settings["ct2_defaults"].get("max_decoding_length", 0)) or None
    report: dict[str, object] = {
        "install": install,
        "versions": settings["versions"],
        "server": {
            "command": " ".join(cmd),
            "startup_seconds": round(ready, 2),
            "first_request_seconds": round(warmup, 2),
            "waitress_threads": threads,
            "sample_output": sample[:120],
        },
        "decoding": {
            **settings["argos_settings"],
            "effective_compute_type": settings["effective_compute_type"],
            "translate_batch": f"{settings['translate_batch_file']}:{settings['translate_batch_line']}",
            "translate_batch_call": settings["translate_batch_call"],
            "max_decoding_length": f"{max_len} (CTranslate2 default; argos passes none and has no setting for it)",
            "min_decoding_length": f"{settings['ct2_defaults'].get('min_decoding_length')} (CTranslate2 default)",
        },
        "workload": {
            "articles": len(articles),
            "unit": args.unit,
            "paragraph_size": args.paragraph_size,
            "requests": len(requests),
            "concurrency": args.concurrency,
            "source_sentences": source_sentences,
            "source_chars": sum(len(t) for t in requests),
        },
        "results": {
            "wall_seconds": round(wall, 2),
            "errors": len(errors),
            "first_error": errors[0] if errors else None,
            "articles_per_minute": round(len(articles) / wall * 60, 2),
            "source_sentences_per_second": round(source_sentences / wall, 3),
            "latency_mean_s": round(statistics.mean(latencies), 2) if latencies else None,
            "latency_max_s": round(max(latencies), 2) if latencies else None,
            "output_chars": sum(r.chars_out for r in results),
        },
    }
    if counts.generated:
        gen = counts.generated
        report["generated"] = {
            "sbd_sentences_translated": sum(counts.sentences),
            "translate_batch_calls": len(counts.sentences),
            "hypotheses": len(gen),
            "tokens": sum(gen),
            "tokens_per_second": round(sum(gen) / wall, 1),
            "mean_tokens_per_sentence": round(statistics.mean(gen), 1),
            "hypotheses_at_max_decoding_length": sum(1 for n in gen if max_len and n >= max_len),
        }
    else:
        report["generated"] = "not counted (no argos INFO 'translated_batches' lines in the server log)"
    if keep:
        report["kept"] = str(root)
    return report


def run_lintas(args: argparse.Namespace, report: dict[str, object]) -> dict[str, object]:
    """Lintas on the same articles, model and decoding LibreTranslate used (beam, max decoding length, compute
    type); the output length is fixed at that maximum, as every LibreTranslate output of a random model is."""
    decoding = report["decoding"]
    assert isinstance(decoding, dict)
    max_len = int(str(decoding["max_decoding_length"]).split()[0])
    spec = {
        "peer": True,
        "data": str(args.data.resolve()),
        "model_dir": str(args.model.resolve()),
        "articles": args.articles,
        "beam_size": int(decoding.get("ARGOS_BEAM_SIZE") or 4),
        "max_decoding_length": max_len,
        "compute_type": args.compute_type or "auto",
        "intra_threads": args.intra_threads or 0,
        "threads": args.lintas_threads,
        "max_attempts": args.lintas_attempts,
    }
    done = subprocess.run(
        [args.lintas_python, "-m", "lintas.measure.bench", json.dumps(spec)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"the Lintas run failed: {done.stderr.strip()[-2000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def print_report(report: dict[str, object]) -> None:
    for section, values in report.items():
        print(f"\n[{section}]")
        if isinstance(values, dict):
            for key, value in values.items():
                text = str(value).rstrip()
                print(f"  {key}: " + text.replace("\n", "\n      "))
        else:
            print(f"  {values}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--model", type=Path, required=True, help="CTranslate2 model dir (model.bin, source.spm, ...)")
    p.add_argument("--venv", type=Path, default=Path("/tmp/ltvenv"), help="LibreTranslate venv (made if missing)")
    p.add_argument("--data", type=Path, required=True, help="NTREX folder: doc_ids.txt, ntrex.<src>.txt")
    p.add_argument("--articles", type=int, default=10)
    p.add_argument("--concurrency", type=int, default=1, help="client threads sending requests at once")
    p.add_argument("--unit", choices=("article", "paragraph"), default="article", help="what one POST carries")
    p.add_argument("--paragraph-size", type=int, default=4, help="source lines per paragraph (lintas eval: 4)")
    p.add_argument("--source", default="id")
    p.add_argument("--target", default="en")
    p.add_argument(
        "--compute-type",
        default="int8",
        help="ARGOS_COMPUTE_TYPE (default int8, what real int8-saved argos models run and lintas' default; "
        "'auto' keeps the saved type, float32 on CPU for a float16 model)",
    )
    p.add_argument("--beam-size", type=int, help="ARGOS_BEAM_SIZE (argos default 4)")
    p.add_argument("--batch-size", type=int, help="ARGOS_BATCH_SIZE, tokens per CT2 batch (argos default 32)")
    p.add_argument("--inter-threads", type=int, help="ARGOS_INTER_THREADS (argos default 1)")
    p.add_argument("--intra-threads", type=int, help="ARGOS_INTRA_THREADS (argos default 0: CT2 chooses)")
    p.add_argument("--lt-threads", type=int, help="libretranslate --threads (default max(4, concurrency))")
    p.add_argument("--startup-timeout", type=float, default=180)
    p.add_argument("--request-timeout", type=float, default=1800)
    p.add_argument("--keep-dir", type=Path, help="keep packages, XDG dirs and server.log here")
    p.add_argument("--json", type=Path, help="also write the report here")
    p.add_argument(
        "--lintas",
        action="store_true",
        help="then translate the same articles with Lintas (lintas.measure.bench.peer_case) on the same model and decoding, "
        "and print both throughputs side by side",
    )
    p.add_argument("--lintas-python", default=sys.executable, help="Python with lintas installed (default: this one)")
    p.add_argument("--lintas-threads", type=int, default=16, help="articles Lintas keeps in flight (translate_many)")
    p.add_argument(
        "--lintas-attempts", type=int, default=1, help="Lintas attempts per segment (1: no retries, as LibreTranslate)"
    )
    args = p.parse_args(argv)
    if args.compute_type == "auto":
        args.compute_type = None
    report = run(args)
    if args.lintas and not report["results"]["errors"]:  # type: ignore[index]
        report["lintas"] = run_lintas(args, report)
        lt = float(report["results"]["articles_per_minute"])  # type: ignore[index]
        ours = float(report["lintas"]["articles_per_minute"])  # type: ignore[index]
        report["comparison"] = {
            "libretranslate_articles_per_minute": lt,
            "lintas_articles_per_minute": ours,
            "lintas_vs_libretranslate": f"{ours / lt:.2f}x" if lt else "n/a",
        }
    print_report(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    return 1 if report["results"]["errors"] else 0  # type: ignore[index]


if __name__ == "__main__":
    sys.exit(main())
