"""Layers point one way: the import graph of the package, read from the source with ``ast``.

Every import counts, also those inside functions and under ``TYPE_CHECKING``: a lazy import is
still a dependency, it only moves the failure to run time.
"""

from __future__ import annotations

import ast
from pathlib import Path

import convnextpose

PACKAGE_DIR = Path(convnextpose.__file__).resolve().parent

# Inference should run without the exporters. Known exception, the one this list allows: the second
# pass of issue 17 moves the fused/oneDNN PyTorch path, the ONNX Runtime sessions and the TFLite
# runner out of `export` into a `runtime` layer below both (and the speed benchmark out of
# `inference`); then `inference` no longer imports `export` and the entry must be deleted here.
ALLOWED = {("inference", "export")}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports (``from .x import y`` counts ``x.y`` where that is a module)."""
    sources = {module_name(p): p for p in PACKAGE_DIR.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in sources.items():
        is_package = path.name == "__init__.py"
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets.update(a.name for a in node.names if a.name.split(".")[0] == "convnextpose")
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = name.split(".") if is_package else name.split(".")[:-1]
                    base = base[: len(base) - node.level + 1]
                    module = ".".join(base + ([node.module] if node.module else []))
                else:
                    module = node.module or ""
                if module.split(".")[0] != "convnextpose":
                    continue
                for alias in node.names:
                    targets.add(f"{module}.{alias.name}" if f"{module}.{alias.name}" in sources else module)
        graph[name] = {t for t in targets if t != name and t in sources}
    return graph


def layer(module: str) -> str:
    """``convnextpose.engine.trainer`` -> ``engine``; a top-level module is its own layer."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "convnextpose"


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_graph_is_read_correctly():
    graph = import_graph()
    assert len(graph) > 80 and "convnextpose.inference.estimator" in graph
    # Relative, absolute, lazy and module-valued imports are all seen.
    assert "convnextpose.models.checkpoint" in graph["convnextpose.engine.snapshots"]
    assert "convnextpose.cli" in graph["convnextpose.__main__"]
    assert "convnextpose.vis" in graph["convnextpose.inference.result"]  # imported inside PersonPose.plot
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_module_imports_itself_back():
    assert cycles(import_graph()) == []


def test_no_subpackage_imports_itself_back():
    graph = import_graph()
    layers: dict[str, set[str]] = {}
    for source, targets in graph.items():
        layers.setdefault(layer(source), set()).update(layer(t) for t in targets if layer(t) != layer(source))
    assert cycles(layers) == []


def test_the_library_never_imports_the_cli():
    graph = import_graph()
    upward = sorted(
        (source, target)
        for source, targets in graph.items()
        for target in targets
        if layer(target) == "cli" and layer(source) != "cli" and source != "convnextpose.__main__"
    )
    assert upward == []


def test_inference_does_not_import_export():
    graph = import_graph()
    pairs = {(layer(s), layer(t)) for s, targets in graph.items() for t in targets}
    if ("inference", "export") in ALLOWED:
        assert ("inference", "export") in pairs, "inference no longer imports export: delete the ALLOWED entry"
    else:
        assert ("inference", "export") not in pairs
    assert ("export", "inference") not in pairs


def test_no_test_module_imports_another():
    """What two test modules share lives in conftest.py; a test module never imports another one."""
    tests_dir = Path(__file__).resolve().parent
    test_modules = {p.stem for p in tests_dir.rglob("test_*.py")}
    imports = []
    for path in tests_dir.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            imports += [(path.name, n) for n in names if n.split(".")[-1] in test_modules]
    assert len(test_modules) > 30 and imports == []
