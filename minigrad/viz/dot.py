"""Graphviz DOT text of a graph, and running Graphviz's ``dot`` on it when it is installed.

Tensors are record nodes (micrograd's ``{ name | data | grad }``), ops are
rounded boxes; every node has a ``tooltip`` with its full summary, which
``dot -Tsvg`` turns into a hover text.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from html import escape

from minigrad.viz.style import EDGE, FILL, FONT_SIZE


def _record_text(line: str) -> str:
    return re.sub(r'([{}|<>"\\ ])', r"\\\1", line)  # spaces too: records collapse them


def _quoted(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def dot_source(nodes, edges, title: str = "minigrad") -> str:
    """DOT text: one statement per node and per edge, inputs above outputs."""
    lines = [
        f'digraph "{_quoted(title)}" {{',
        "  graph [rankdir=TB, nodesep=0.25, ranksep=0.3];",
        f'  node [fontname="DejaVu Sans Mono", fontsize={FONT_SIZE}, style="rounded,filled", penwidth=0.8];',
        f'  edge [color="{EDGE}", arrowsize=0.6];',
    ]
    for n in nodes:
        if n.kind in ("op",):
            label = _quoted("\n".join(line for s in n.sections for line in s))
            shape = "box"
        else:
            fields = ["".join(_record_text(line) + "\\l" for line in s) for s in n.sections]
            label = "{" + "|".join(fields) + "}"
            shape = "record"
        lines.append(
            f'  {n.id} [shape={shape}, fillcolor="{FILL[n.kind]}", label="{label}", tooltip="{_quoted(n.tooltip)}"];'
        )
    for a, b in edges:
        lines.append(f"  {a} -> {b};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def dot_available() -> bool:
    """True when Graphviz's ``dot`` is on PATH."""
    return shutil.which("dot") is not None


def run_dot(source: str, fmt: str, nodes) -> bytes:
    """The output of ``dot -T<fmt>``; in SVG each node's <title> becomes its tooltip text."""
    out = subprocess.run(["dot", f"-T{fmt}"], input=source.encode(), capture_output=True, timeout=120)
    if out.returncode != 0:
        raise RuntimeError(f"minigrad.viz: Graphviz dot failed: {out.stderr.decode(errors='replace').strip()}")
    if fmt != "svg":
        return out.stdout
    tips = {n.id: n.tooltip for n in nodes}
    svg = out.stdout.decode()
    svg = re.sub(
        r"<title>(\w+)</title>",
        lambda m: f"<title>{escape(tips[m.group(1)])}</title>" if m.group(1) in tips else m.group(0),
        svg,
    )
    return svg.encode()
