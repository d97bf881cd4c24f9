"""The package's shape, enforced: every import points down a layer, no cycles, no private names across modules.

The layers, bottom up, are the data flow of the README's Architecture section. A module may import its own
layer and the layers below it, never one above; within the whole package no two modules import each other in a
loop (imports inside functions included: a lazy import is still a dependency); and nothing imports a name that
starts with an underscore from another module, or a module whose name does (what another module needs is made
public there, or moves to where it is used).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "lintas"

#: Bottom up. A module belongs to the first prefix that matches it (longest prefixes are listed first).
LAYERS: list[tuple[str, ...]] = [
    ("lintas.errors", "lintas.settings", "lintas.version"),  # foundation: errors, typed settings, the version
    ("lintas.text",),  # the article model and the text stages
    ("lintas.ingest",),  # reading articles
    ("lintas.engines",),  # translation engines
    ("lintas.quality",),  # checks and the quality estimate
    ("lintas.pipeline", "lintas.publish"),  # one article through the stages; rendering pages and feeds
    ("lintas.store",),  # persistence
    ("lintas.newsroom",),  # the use cases: jobs, corrections, notifications, watching feeds, backfill
    ("lintas.service",),  # HTTP: API, desk, public site
    ("lintas.measure",),  # measuring tools
    ("lintas.cli",),  # the command line
    ("lintas.__main__", "lintas"),  # the package's face
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> int:
    best: tuple[int, int] | None = None
    for index, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            matches = module == prefix or module.startswith(prefix + ".")
            if matches and (best is None or len(prefix) > best[1]):
                best = (index, len(prefix))
    assert best is not None, f"{module} is in no layer: add it to LAYERS"
    return best[0]


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py")) if "migrations" not in p.parts}


def imports(module: str) -> list[tuple[str, list[str], int]]:
    """(imported module, names imported from it, line) for every ``lintas`` import in ``module``."""
    path = MODULES[module]
    is_package = path.name == "__init__.py"
    found: list[tuple[str, list[str], int]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, [], node.lineno) for alias in node.names if alias.name.split(".")[0] == "lintas"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "lintas":
                continue
            names = [alias.name for alias in node.names]
            # ``from lintas.store import repo`` imports the module lintas.store.repo
            submodules = [n for n in names if f"{target}.{n}" in MODULES]
            for name in submodules:
                found.append((f"{target}.{name}", [], node.lineno))
            rest = [n for n in names if n not in submodules]
            if rest:
                found.append((target, rest, node.lineno))
    return found


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def test_every_module_is_in_a_layer() -> None:
    for module in MODULES:
        layer_of(module)


def test_every_import_points_down() -> None:
    wrong = [
        f"{module}:{line} imports {target} (layer {layer_of(target)} above {layer_of(module)})"
        for module in MODULES
        for target, _, line in imports(module)
        if target in MODULES and layer_of(target) > layer_of(module)
    ]
    assert wrong == []


def test_no_private_names_across_modules() -> None:
    wrong = []
    for module in MODULES:
        for target, names, line in imports(module):
            if target == module:
                continue
            private_module = [part for part in target.split(".") if is_private(part)]
            same_package = target.rsplit(".", 1)[0] == module.rsplit(".", 1)[0] or target.startswith(module + ".")
            if private_module and not same_package:
                wrong.append(f"{module}:{line} imports the private module {target}")
            wrong += [f"{module}:{line} imports {target}.{n}" for n in names if is_private(n)]
    assert wrong == []


def test_no_import_cycles() -> None:
    graph = {m: sorted({t for t, _, _ in imports(m) if t in MODULES and t != m}) for m in MODULES}
    # A package's __init__ that only re-exports its own modules is part of them, not a cycle through them.
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in graph[node]:
            if nxt.startswith(node + "."):
                continue  # a package importing its own submodules
            if state.get(nxt) == 1:
                cycles.append(" -> ".join([*stack[stack.index(nxt) :], nxt]))
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for module in graph:
        if module not in state:
            visit(module)
    assert cycles == []


@pytest.mark.parametrize(
    ("module", "target", "expected"),
    [
        ("lintas.text.article", "lintas.store.repo", "above"),
        ("lintas.store.repo", "lintas.text.article", "below"),
        ("lintas.pipeline.translate", "lintas.publish.site", "same"),
    ],
)
def test_layer_order_control(module: str, target: str, expected: str) -> None:
    """The rule can fail: a text stage importing the store would be flagged."""
    a, b = layer_of(module), layer_of(target)
    assert {"above": b > a, "below": b < a, "same": a == b}[expected]
