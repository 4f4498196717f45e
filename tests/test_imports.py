"""The project's import graph, read from the source with ``ast``: no circles, and each package
imports only what its ``__init__`` docstring allows.

Every ``import`` counts wherever it stands (inside functions and ``try`` blocks too), except in
an ``if TYPE_CHECKING:`` block, which never runs. ``from package import name`` is an import of
the submodule ``package.name`` when there is one, else of ``package``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import ROOT

PACKAGES = ("qa", "embeddings", "ui", "bench")
# What each layer may import from the project (a module belongs to the longest matching prefix);
# TYPE_CHECKING imports count here too. The top of qa may import them all; ui and bench: below.
ALLOWED = {
    "embeddings": ("embeddings",),
    "qa.language": ("qa.language", "embeddings"),
    "qa.documents": ("qa.documents", "qa.language", "embeddings"),
    "qa.retrieval": ("qa.retrieval", "qa.documents", "qa.language", "embeddings"),
    "qa.answers": ("qa.answers", "qa.retrieval", "qa.documents", "qa.language", "qa.results", "embeddings"),
    "qa.team": ("qa.team", "embeddings"),
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))}


def is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def import_nodes(node: ast.AST, type_checking: bool) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Every import statement under ``node``, with whether it sits in an ``if TYPE_CHECKING:`` block."""
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        yield node, type_checking
        return
    if isinstance(node, ast.If) and is_type_checking(node.test):
        for child in node.body:
            yield from import_nodes(child, True)
        for child in node.orelse:
            yield from import_nodes(child, type_checking)
        return
    for child in ast.iter_child_nodes(node):
        yield from import_nodes(child, type_checking)


def imported_names(module: str, node: ast.Import | ast.ImportFrom) -> Iterator[str]:
    """The dotted names an import statement brings in (relative imports resolved)."""
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
        return
    base = node.module or ""
    if node.level:
        package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
        anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
        base = f"{anchor}.{base}" if base else anchor
    for alias in node.names:
        yield f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base


def project_module(name: str) -> str | None:
    """The project module an imported dotted name loads (its longest prefix that is one), or None."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        if ".".join(parts[:end]) in MODULES:
            return ".".join(parts[:end])
    return None


def imports(module: str, with_type_checking: bool) -> Iterator[tuple[str, int]]:
    """(imported dotted name, line) for each project import of ``module``."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    for node, type_checking in import_nodes(tree, False):
        if type_checking and not with_type_checking:
            continue
        for name in dict.fromkeys(imported_names(module, node)):
            if name.split(".")[0] in PACKAGES:
                yield name, node.lineno


def graph(with_type_checking: bool) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {module: set() for module in MODULES}
    for module in MODULES:
        for name, _ in imports(module, with_type_checking):
            target = project_module(name)
            if target is not None and target != module:
                edges[module].add(target)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """One circle through each group of modules that import each other (Tarjan's strongly
    connected components), as a path; the group's other members follow it in brackets."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(edges[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in sorted(edges):
        if node not in index:
            visit(node)
    circles = [circle_in(group, edges) for group in groups]
    return [circle + [f"[{', '.join(sorted(group - set(circle)))}]"] if group - set(circle) else circle
            for circle, group in zip(circles, groups)]


def circle_in(group: set[str], edges: dict[str, set[str]]) -> list[str]:
    """A shortest path from the group's first module back to itself, within the group."""
    start = min(group)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for target in sorted(edges[node] & group):
                if target == start:
                    return paths[node] + [start]
                if target not in paths:
                    paths[target] = paths[node] + [target]
                    following.append(target)
        frontier = following
    raise AssertionError(f"no circle in {sorted(group)}")


def layer(module: str) -> str | None:
    matches = [prefix for prefix in ALLOWED if module == prefix or module.startswith(prefix + ".")]
    return max(matches, key=len) if matches else None


def public_api() -> set[str]:
    tree = ast.parse(MODULES["qa"].read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            return {ast.literal_eval(element) for element in node.value.elts}
    raise AssertionError("qa/__init__.py has no __all__")


def test_qa_holds_at_most_12_modules_beside_its_packages() -> None:
    top = sorted(module for module in MODULES if module.count(".") == 1 and MODULES[module].parent == ROOT / "qa")
    assert len(top) <= 12, top


def test_the_walk_sees_every_package() -> None:
    assert {"qa", "qa.assistant", "qa.answers.answerer", "embeddings.encoder", "ui.app", "bench"} <= set(MODULES)
    assert graph(False)["qa.answers.answerer"] >= {"qa.answers.decide", "qa.answers.highlight"}


def test_every_project_import_names_a_module() -> None:
    """A module path left behind by a move fails here, even in a function no test runs."""
    wrong = []
    for module in MODULES:
        tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
        for node, _ in import_nodes(tree, False):
            paths = [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            if isinstance(node, ast.ImportFrom) and node.level:
                continue
            wrong += [f"{module}:{node.lineno}: {path}" for path in paths
                      if path.split(".")[0] in PACKAGES and path not in MODULES]
    assert not wrong, "imports of modules that do not exist:\n" + "\n".join(wrong)


def test_no_import_circle() -> None:
    found = cycles(graph(with_type_checking=False))
    assert not found, "import circles:\n" + "\n".join(" -> ".join(circle) for circle in found)


def test_the_circle_finder_finds_circles() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"d"}}
    assert cycles(edges) == [["a", "b", "c", "a"]]
    source = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import x\nelse:\n    import y\ndef f():\n    import z\n"
    assert [(node.names[0].name, hidden) for node, hidden in import_nodes(ast.parse(source), False)] == [
        ("TYPE_CHECKING", False), ("x", True), ("y", False), ("z", False)]


@pytest.mark.parametrize("prefix", sorted(ALLOWED))
def test_a_layer_imports_only_what_it_may(prefix: str) -> None:
    allowed = ALLOWED[prefix]
    wrong = [
        f"{MODULES[module].relative_to(ROOT)}:{line}: {name}"
        for module in MODULES
        if layer(module) == prefix
        for name, line in imports(module, with_type_checking=True)
        if not any(name == a or name.startswith(a + ".") for a in allowed)
    ]
    assert not wrong, f"{prefix} may import only {', '.join(allowed)}:\n" + "\n".join(wrong)


def test_only_the_cli_imports_ui_and_nothing_imports_bench() -> None:
    wrong = [
        f"{MODULES[module].relative_to(ROOT)}:{line}: {name}"
        for module in MODULES
        if not module.startswith("bench")
        for name, line in imports(module, with_type_checking=True)
        if name.split(".")[0] == "bench" or (name.split(".")[0] == "ui" and module.split(".")[0] != "ui" and module != "qa.cli")
    ]
    assert not wrong, "\n".join(wrong)


def test_ui_uses_only_the_public_api_of_qa() -> None:
    public = public_api()
    wrong = []
    for module in (m for m in MODULES if m == "ui" or m.startswith("ui.")):
        tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
        for node, _ in import_nodes(tree, False):
            names = [alias.name for alias in node.names]
            if isinstance(node, ast.Import):
                wrong += [f"{module}:{node.lineno}: import {n}" for n in names if n.split(".")[0] == "qa"]
            elif (node.module or "").split(".")[0] == "qa":
                if node.module != "qa" or not set(names) <= public:
                    wrong.append(f"{module}:{node.lineno}: from {node.module} import {', '.join(names)}")
    assert not wrong, "ui imports qa beyond its public API (qa.__all__):\n" + "\n".join(wrong)
