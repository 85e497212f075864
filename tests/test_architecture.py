"""Layering and import cycles, read from the source (every import, lazy ones included).

Data flows one way: read → Session → analyzers → writers. The library parts never import
the CLI; ``coding`` (models) never imports ``analysis`` (the pipeline that uses them);
``model`` and ``io`` import neither. Imports under ``if TYPE_CHECKING:`` are ignored.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PKG = SRC / "attunement"


def _module(path: Path) -> str:
    rel = path.relative_to(SRC).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for b in node.body for n in ast.walk(b))
    out: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("attunement"))
        elif (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.startswith("attunement")
        ):
            out.add(node.module)
    return out


def _graph() -> dict[str, set[str]]:
    mods = {_module(p): p for p in PKG.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        deps = set()
        for imp in _imports(path):
            # "from attunement.x import y": y may be a module or a name in x
            deps.add(
                imp
                if imp in mods
                else imp.rsplit(".", 1)[0]
                if imp.rsplit(".", 1)[0] in mods
                else imp
            )
        graph[name] = {d for d in deps if d in mods and d != name}
    return graph


def test_layers() -> None:
    rules = {
        "attunement.coding": ("attunement.analysis", "attunement.cli", "attunement.report"),
        "attunement.model": (
            "attunement.coding",
            "attunement.analysis",
            "attunement.io",
            "attunement.cli",
        ),
        "attunement.io": (
            "attunement.coding",
            "attunement.analysis",
            "attunement.cli",
            "attunement.report",
        ),
        "attunement.analysis": ("attunement.cli", "attunement.report"),
        "attunement.report": ("attunement.cli",),
        # the app's layers: store knows SQL and nothing of the web; the web knows no CLI
        "attunement.store": ("attunement.web", "attunement.cli"),
        "attunement.web": ("attunement.cli",),
    }
    # the library never imports the app (store, web) or a runner (batch)
    app_layers = ("attunement.store", "attunement.web", "attunement.batch")
    for library in ("model", "io", "analysis", "coding", "course", "measures", "report"):
        key = f"attunement.{library}"
        rules[key] = (*rules.get(key, ("attunement.cli",)), *app_layers)
    bad = []
    for mod, deps in _graph().items():
        for layer, banned in rules.items():
            if mod == layer or mod.startswith(layer + "."):
                bad += [f"{mod} -> {d}" for d in deps if d.startswith(banned)]
    assert not bad, bad


def test_no_import_cycles() -> None:
    graph = _graph()
    # cycles among modules (package __init__ re-exports count as the package)
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(n: str, stack: list[str]) -> None:
        state[n] = 1
        for d in sorted(graph.get(n, ())):
            if state.get(d) == 1:
                cycles.append([*stack[stack.index(d) :], d] if d in stack else [n, d])
            elif d not in state:
                visit(d, [*stack, d])
        state[n] = 2

    for n in sorted(graph):
        if n not in state:
            visit(n, [n])
    assert not cycles, cycles[:5]
