"""The import graph of minigrad, gan and benchmarks has no cycle, and minigrad imports neither gan nor benchmarks.

The graph is read from the source with ``ast``, not by importing anything:
every ``import`` / ``from ... import`` statement of a module is an edge from it
to the module it names, wherever the statement stands (module level, inside a
function or a class), except under ``if TYPE_CHECKING:``, which never runs.
An import inside a function counts because it runs the first time the
function is called: moving an import into a function hides a circle from the
interpreter's start-up, not from the reader, who still has to understand the
two modules together.

``from package import name`` is an edge to ``package.name`` when that is a
module of ours, else to ``package`` (its ``__init__``). The implicit import of
a module's parent packages is not an edge: a package's ``__init__`` re-exports
its modules, so counting it would make every package a circle with each of its
modules, which says nothing about how the modules depend on each other.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("minigrad", "gan", "benchmarks")

# Circles that exist today and are being removed elsewhere (issue 24): each is the set of modules of one strongly
# connected component. The test prints those still present; a new circle, or a known one that grows, fails it.
KNOWN_CIRCLES: list[frozenset[str]] = []  # none left


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def our_modules() -> dict[str, Path]:
    """Every module of the three packages: dotted name -> file."""
    return {module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST):
    """The Import and ImportFrom nodes of a tree, leaving out the bodies of ``if TYPE_CHECKING:`` (not its else)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def imported_modules(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The modules of ours that ``name`` (at ``path``) imports."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in _imports(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:  # relative: level 1 is this package, 2 its parent, ...
                parent = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(parent + ([base] if base else []))
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
        for target in targets:
            while target and target not in modules:  # `import a.b.c` of a name inside a.b: the module a.b
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = our_modules()
    return {name: imported_modules(name, path, modules) for name, path in modules.items()}


def strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's strongly connected components with more than one module (a module never imports itself here)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            v, children = work[-1]
            w = next(children, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                component = set()
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    component.add(w)
                    if w == v:
                        break
                if len(component) > 1:
                    components.append(component)
    return components


def a_cycle(graph: dict[str, set[str]], component: set[str]) -> list[str]:
    """One shortest cycle through the component's first module (breadth-first), as a -> b -> ... -> a."""
    start = min(component)
    parent = {start: start}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(graph[v] & component):
                if w == start:
                    path = [v]
                    while path[-1] != start:
                        path.append(parent[path[-1]])
                    return path[::-1] + [start]
                if w not in parent:
                    parent[w] = v
                    nxt.append(w)
        frontier = nxt
    raise AssertionError(f"no cycle in component {sorted(component)}")


def test_the_reader_finds_the_packages_modules():
    graph = import_graph()
    assert {"minigrad.tensor", "minigrad.autograd.function", "gan", "benchmarks.run"} <= set(graph)
    assert "minigrad.autograd.function" not in graph["minigrad.tensor"]  # only under TYPE_CHECKING
    assert "minigrad.viz.node" in graph["minigrad.viz.graph"]


def test_the_cycle_finder_finds_a_planted_circle_and_names_it():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"e2"}, "e2": {"e"}}
    components = sorted(strongly_connected(graph), key=min)
    assert components == [{"a", "b", "c"}, {"e", "e2"}]
    assert a_cycle(graph, components[0]) == ["a", "b", "c", "a"]


def test_relative_and_function_level_imports_are_edges_and_type_checking_ones_are_not(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import c\ndef f():\n    from . import b\n"
    )
    (pkg / "b.py").write_text("")
    (pkg / "c.py").write_text("")
    modules = {"pkg": pkg / "__init__.py", "pkg.a": pkg / "a.py", "pkg.b": pkg / "b.py", "pkg.c": pkg / "c.py"}
    assert imported_modules("pkg.a", pkg / "a.py", modules) == {"pkg.b"}


def test_no_import_circles():
    graph = import_graph()
    known_present = []
    new = []
    for component in strongly_connected(graph):
        cycle = " -> ".join(a_cycle(graph, component))
        if any(component <= known for known in KNOWN_CIRCLES):
            known_present.append(f"{sorted(component)}: {cycle}")
        else:
            new.append(f"{sorted(component)}: {cycle}")
    if known_present:
        print("known import circles still present (issue 24):\n  " + "\n  ".join(known_present))
    assert not new, "import circles (module set: one cycle through it):\n  " + "\n  ".join(new)


def test_minigrad_imports_neither_gan_nor_benchmarks():
    wrong = sorted(
        f"{m} imports {t}"
        for m, targets in import_graph().items()
        if m.split(".")[0] == "minigrad"
        for t in targets
        if t.split(".")[0] in ("gan", "benchmarks")
    )
    assert not wrong, "minigrad must not import gan or benchmarks:\n  " + "\n  ".join(wrong)
