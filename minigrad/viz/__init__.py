"""Drawing the autograd graph: ``to_dot`` (Graphviz text) and ``draw`` (SVG or PNG, with or without Graphviz).

    g = minigrad.viz.Graph(loss, params=dict(model.named_parameters()))   # before backward
    loss.backward()
    minigrad.viz.draw(g, "graph.svg")     # values and gradients, in backward's order
    minigrad.viz.draw(loss, "kept.svg")   # what backward kept: ops, leaves, intermediates' shapes

Tensors show shape, dtype, name, and ``data | grad`` (their values when small,
mean / std / norm when large); ops show the Function and their position in
the order backward visits them. ``draw(..., modules=calls, group_modules=True)``
collapses each module call (recorded with ``record_modules``) into one box.
"""

from __future__ import annotations

from pathlib import Path

from minigrad.atomic_write import atomic_write
from minigrad.viz.dot import dot_available, dot_source, run_dot  # noqa: F401 (dot_available is public)
from minigrad.viz.graph import Graph
from minigrad.viz.modules import record_modules
from minigrad.viz.render import render as _render

__all__ = ["Graph", "draw", "record_modules", "to_dot"]

# boxes draw() lays out by default: a 5,000-op chain (10,001 boxes) took 40 s and made a 51 MB SVG no one can read
MAX_NODES = 1000


def _graph(output, params, modules):
    if isinstance(output, Graph):
        if params or modules is not None:
            raise ValueError("minigrad.viz: pass params= and modules= to Graph(...), not with a Graph")
        return output
    return Graph(output, params=params, modules=modules)


def to_dot(output, params=None, modules=None, group_modules=False, max_values: int = 6) -> str:
    """Graphviz DOT text of the graph that produced ``output`` (a Tensor or a ``Graph``).

    ``params``: name -> Tensor (e.g. ``dict(model.named_parameters())``) to label
    tensors by name. Tensors with at most ``max_values`` elements show every
    value and gradient, larger ones their mean, std and norm.
    """
    nodes, edges = _graph(output, params, modules).view(group_modules, max_values)
    return dot_source(nodes, edges)


def draw(
    output,
    path,
    params=None,
    modules=None,
    group_modules=False,
    max_values: int = 6,
    engine: str = "auto",
    dpi: int = 150,
    max_nodes: int | None = MAX_NODES,
) -> Path:
    """Draw the graph that produced ``output`` (a Tensor or a ``Graph``) into ``path`` (.svg or .png).

    ``engine``: 'dot' (Graphviz), 'matplotlib' (minigrad's own layered layout),
    or 'auto' (Graphviz when ``dot`` is on PATH). The SVG has a hover tooltip
    with each node's full summary. A graph of more than ``max_nodes`` boxes
    (tensors and ops, after ``group_modules``) is refused with a ValueError
    before anything is laid out; None draws any size. Returns the path.
    """
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("svg", "png"):
        raise ValueError(f"minigrad.viz.draw: path must end in .svg or .png, got {path.name!r}")
    if engine not in ("auto", "dot", "matplotlib"):
        raise ValueError(f"minigrad.viz.draw: engine must be 'auto', 'dot' or 'matplotlib', got {engine!r}")
    if engine == "dot" and not dot_available():
        raise RuntimeError("minigrad.viz.draw: engine='dot' but Graphviz's dot is not on PATH")
    graph = _graph(output, params, modules)
    if not group_modules:  # refuse before view(), which alone takes seconds for 10,000 boxes
        _check_size(len(graph.tensors) + len(graph.ops), len(graph.ops), max_nodes)
    nodes, edges = graph.view(group_modules, max_values)
    _check_size(len(nodes), len(graph.ops), max_nodes)
    if engine == "dot" or (engine == "auto" and dot_available()):
        data = run_dot(
            dot_source(nodes, edges)
            if fmt == "svg"
            else dot_source(nodes, edges).replace("graph [", f"graph [dpi={dpi}, ", 1),
            fmt,
            nodes,
        )
    else:
        data = _render(nodes, edges, fmt, dpi)
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write(path, lambda f: f.write(data))


def _check_size(boxes, ops, max_nodes):
    if max_nodes is not None and boxes > max_nodes:
        raise ValueError(
            f"minigrad.viz.draw: the graph has {boxes} boxes ({ops} ops), more than max_nodes={max_nodes}; draw a "
            f"part of it (e.g. one layer's output), collapse module calls (modules=..., group_modules=True), "
            f"or pass a larger max_nodes (None: any size)"
        )
