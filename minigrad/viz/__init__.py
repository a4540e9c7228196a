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

import os
import tempfile
from pathlib import Path

from minigrad.viz.dot import dot_available, dot_source, run_dot  # noqa: F401 (dot_available is public)
from minigrad.viz.graph import Graph
from minigrad.viz.modules import record_modules
from minigrad.viz.render import render as _render

__all__ = ["Graph", "draw", "record_modules", "to_dot"]


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
) -> Path:
    """Draw the graph that produced ``output`` (a Tensor or a ``Graph``) into ``path`` (.svg or .png).

    ``engine``: 'dot' (Graphviz), 'matplotlib' (minigrad's own layered layout),
    or 'auto' (Graphviz when ``dot`` is on PATH). The SVG has a hover tooltip
    with each node's full summary. Returns the path.
    """
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("svg", "png"):
        raise ValueError(f"minigrad.viz.draw: path must end in .svg or .png, got {path.name!r}")
    if engine not in ("auto", "dot", "matplotlib"):
        raise ValueError(f"minigrad.viz.draw: engine must be 'auto', 'dot' or 'matplotlib', got {engine!r}")
    if engine == "dot" and not dot_available():
        raise RuntimeError("minigrad.viz.draw: engine='dot' but Graphviz's dot is not on PATH")
    nodes, edges = _graph(output, params, modules).view(group_modules, max_values)
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
    _atomic_write(path, data)
    return path


def _atomic_write(path, data: bytes):
    """Write to a temporary file next to ``path``, then rename it onto ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
