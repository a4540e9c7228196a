"""Drawing a laid-out graph with matplotlib (PNG or SVG), for machines without Graphviz.

Boxes are sized from the text in DejaVu Sans Mono (which ships with
matplotlib): a character is 0.602 em wide, but Agg rounds each advance to
whole pixels (up to 0.64 em at 100 dpi, 0.66 at 72), so 0.66 em is allowed;
a line is 1.2 em tall. In the SVG
each node's shapes are in groups whose id is the node's id, and a <title>
(the hover tooltip of browsers and viewers) with the node's full summary is
inserted into each of them.
"""

from __future__ import annotations

import io
import re
from html import escape

from minigrad.viz.layout import layered_layout
from minigrad.viz.style import EDGE, FILL, FONT_SIZE

FONT = "DejaVu Sans Mono"
CHAR_W = 0.66  # advance width of DejaVu Sans Mono with pixel rounding, in em
LINE_H = 1.2  # matplotlib's default line spacing, in em
PAD_X, PAD_Y = 5.0, 3.0
MARGIN = 10.0


def node_size(node, fs=FONT_SIZE):
    """(w, h) in points of a node's box: the widest line plus padding, every section's lines plus padding."""
    chars = max(len(line) for s in node.sections for line in s)
    w = chars * CHAR_W * fs + 2 * PAD_X
    h = sum(len(s) * LINE_H * fs + 2 * PAD_Y for s in node.sections)
    return w, h


def figure(nodes, edges, fs=FONT_SIZE):
    """A matplotlib Figure of the graph (1 data unit = 1 point) and the boxes of the layout."""
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
    from matplotlib.path import Path

    sizes = {n.id: node_size(n, fs) for n in nodes}
    boxes, routes = layered_layout(sizes, edges)
    x0 = min(b.x - b.w / 2 for b in boxes.values()) - MARGIN
    x1 = max(b.x + b.w / 2 for b in boxes.values()) + MARGIN
    y0 = min(b.y - b.h / 2 for b in boxes.values()) - MARGIN
    y1 = max(b.y + b.h / 2 for b in boxes.values()) + MARGIN
    fig = Figure(figsize=((x1 - x0) / 72, (y1 - y0) / 72))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(x0, x1)
    ax.set_ylim(y1, y0)  # inputs on top
    ax.set_axis_off()
    for _a, _b, pts in routes:
        verts, codes = [pts[0]], [Path.MOVETO]
        for (px, py), (qx, qy) in zip(pts, pts[1:]):
            if px == qx:
                verts.append((qx, qy))
                codes.append(Path.LINETO)
            else:  # a smooth S from one rank to the next, vertical at both ends
                my = (py + qy) / 2
                verts += [(px, my), (qx, my), (qx, qy)]
                codes += [Path.CURVE4] * 3
        ax.add_patch(
            FancyArrowPatch(
                path=Path(verts, codes),
                arrowstyle="-|>",
                mutation_scale=7,
                color=EDGE,
                lw=0.7,
                shrinkA=0,
                shrinkB=0,
                zorder=1,
            )
        )
    for n in nodes:
        b = boxes[n.id]
        left, top = b.x - b.w / 2, b.y - b.h / 2
        style = "round,pad=0,rounding_size=4" if n.kind in ("op", "module") else "square,pad=0"
        patch = FancyBboxPatch((left, top), b.w, b.h, boxstyle=style, fc=FILL[n.kind], ec="#333333", lw=0.7, zorder=2)
        patch.set_gid(n.id)
        ax.add_patch(patch)
        y = top
        for k, section in enumerate(n.sections):
            sh = len(section) * LINE_H * fs + 2 * PAD_Y
            if k:
                sep = ax.plot([left, left + b.w], [y, y], color="#333333", lw=0.5, zorder=3)[0]
                sep.set_gid(f"{n.id}_sep{k}")
            centred = n.kind == "op"
            t = ax.text(
                b.x if centred else left + PAD_X,
                y + sh / 2,
                "\n".join(section),
                fontsize=fs,
                family=FONT,
                ha="center" if centred else "left",
                va="center",
                linespacing=LINE_H,
                zorder=4,
                weight="bold" if k == 0 and n.kind in ("op", "module") else "normal",
            )
            t.set_gid(f"{n.id}_text{k}")
            y += sh
    return fig, boxes


def render(nodes, edges, fmt: str, dpi: int = 150) -> bytes:
    """PNG or SVG bytes of the graph; the SVG with a <title> tooltip in every node's groups."""
    fig, _ = figure(nodes, edges)
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=dpi)
    if fmt != "svg":
        return buf.getvalue()
    tips = {n.id: escape(n.tooltip) for n in nodes}
    svg = buf.getvalue().decode()
    svg = re.sub(
        r'(<g id="([A-Za-z]+\d+)(?:_\w+)?">)',
        lambda m: m.group(1) + (f"\n   <title>{tips[m.group(2)]}</title>" if m.group(2) in tips else ""),
        svg,
    )
    return svg.encode()
