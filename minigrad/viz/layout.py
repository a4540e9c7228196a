"""A layered (Sugiyama-style) layout for drawing a graph without Graphviz.

1. Ranks: each node one rank below its lowest input (longest path from the
   sources); a leaf (a parameter, an input) sits just above its first consumer.
2. Edges that span several ranks get a thin dummy node on each rank between,
   so they are routed around the boxes.
3. Order within a rank: barycentre sweeps (each node at the mean position of
   its neighbours on the rank above, then below), keeping the order with the
   fewest edge crossings.
4. x: per rank, the positions closest (least squares) to the mean x of each
   node's neighbours subject to keeping the order and a gap between boxes;
   that is an isotonic regression, solved exactly by pool-adjacent-violators.
   Boxes of one rank never overlap, and ranks do not share heights, so no two
   boxes overlap.
Coordinates are in points, y grows downwards (inputs on top).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DUMMY_WIDTH = 4.0


@dataclass
class Box:
    """A laid-out node: centre and size."""

    x: float  # centre
    y: float  # centre
    w: float
    h: float

    def overlaps(self, other, eps=1e-6) -> bool:
        """True when the two boxes overlap by more than ``eps``."""
        return abs(self.x - other.x) * 2 < self.w + other.w - eps and abs(self.y - other.y) * 2 < self.h + other.h - eps


def layered_layout(sizes, edges, node_gap=14.0, rank_gap=26.0, sweeps=24):
    """Boxes for nodes and a polyline per edge.

    ``sizes``: ordered dict id -> (w, h), each node after its inputs where
    possible. ``edges``: (from, to) pairs. Returns (boxes: id -> Box,
    routes: list of (from, to, [(x, y), ...])) from the bottom of ``from``
    to the top of ``to``.
    """
    ids = list(sizes)
    preds: dict[Any, list[Any]] = {v: [] for v in ids}
    succs: dict[Any, list[Any]] = {v: [] for v in ids}
    for a, b in edges:
        preds[b].append(a)
        succs[a].append(b)
    rank: dict[Any, int] = {}
    for v in ids:
        rank[v] = 1 + max((rank[p] for p in preds[v] if p in rank), default=-1)
    for v in ids:  # a leaf just above its first consumer, not at the top
        if not preds[v] and succs[v]:
            rank[v] = max(0, min(rank[s] for s in succs[v]) - 1)

    # dummy nodes: every edge then joins adjacent ranks
    width = {v: sizes[v][0] for v in ids}
    up: dict[Any, list[Any]] = {v: [] for v in ids}  # neighbours one rank above
    down: dict[Any, list[Any]] = {v: [] for v in ids}  # neighbours one rank below
    chains = []
    for k, (a, b) in enumerate(edges):
        chain = [a]
        for r in range(rank[a] + 1, rank[b]):
            d = f"_d{k}_{r}"
            rank[d], width[d], up[d], down[d] = r, DUMMY_WIDTH, [], []
            chain.append(d)
        chain.append(b)
        for u, v in zip(chain, chain[1:]):
            down[u].append(v)
            up[v].append(u)
        chains.append((a, b, chain))
    n_ranks = 1 + max(rank.values(), default=0)
    layers: list[list[Any]] = [[] for _ in range(n_ranks)]
    for v in rank:  # first appearance: real nodes in the given order, then dummies
        layers[rank[v]].append(v)

    layers = _order(layers, up, down, sweeps)
    x = _positions(layers, up, down, width, node_gap)

    # y: each rank as tall as its tallest box
    heights = [max((sizes[v][1] for v in layer if v in sizes), default=0.0) for layer in layers]
    top, y = [], 0.0
    for h in heights:
        top.append(y)
        y += h + rank_gap
    boxes = {v: Box(x[v], top[rank[v]] + heights[rank[v]] / 2, *sizes[v]) for v in ids}
    routes = []
    for a, b, chain in chains:
        pts = [(x[a], boxes[a].y + boxes[a].h / 2)]
        for d in chain[1:-1]:
            r = rank[d]
            pts += [(x[d], top[r]), (x[d], top[r] + heights[r])]
        pts.append((x[b], boxes[b].y - boxes[b].h / 2))
        routes.append((a, b, pts))
    return boxes, routes


def crossings(upper, lower, down) -> int:
    """Edge crossings between two adjacent ranks (pairs of edges whose ends are in opposite order)."""
    pos = {v: i for i, v in enumerate(lower)}
    ends = [(i, pos[w]) for i, v in enumerate(upper) for w in down[v] if w in pos]
    return sum(1 for k, (a, b) in enumerate(ends) for c, d in ends[k + 1 :] if (a - c) * (b - d) < 0)


def _total_crossings(layers, down):
    return sum(crossings(a, b, down) for a, b in zip(layers, layers[1:]))


def _order(layers, up, down, sweeps):
    best, best_c = [list(layer) for layer in layers], _total_crossings(layers, down)
    cur = [list(layer) for layer in layers]
    for s in range(sweeps):
        if best_c == 0:
            break
        rng = range(1, len(cur)) if s % 2 == 0 else range(len(cur) - 2, -1, -1)
        nbrs = up if s % 2 == 0 else down
        for r in rng:
            ref = {v: i for i, v in enumerate(cur[r - 1] if s % 2 == 0 else cur[r + 1])}
            old = {v: i for i, v in enumerate(cur[r])}

            def bary(v):  # called within this iteration only, so the loop variables it reads are current
                ps = [ref[u] for u in nbrs[v] if u in ref]  # noqa: B023
                return sum(ps) / len(ps) if ps else old[v]  # noqa: B023

            cur[r] = sorted(cur[r], key=lambda v: (bary(v), old[v]))
        c = _total_crossings(cur, down)
        if c < best_c:
            best, best_c = [list(layer) for layer in cur], c
    return best


def _positions(layers, up, down, width, gap):
    x: dict[Any, float] = {}
    for layer in layers:  # start packed left to right around 0
        _place(layer, {v: 0.0 for v in layer}, width, gap, x)
    passes = [up, down] * 4 + [None]
    for nbrs in passes:
        seq = range(len(layers)) if nbrs is not down else range(len(layers) - 1, -1, -1)
        for r in seq:
            want = {}
            for v in layers[r]:
                ns = (up[v] + down[v]) if nbrs is None else nbrs[v]
                want[v] = sum(x[u] for u in ns) / len(ns) if ns else x[v]
            _place(layers[r], want, width, gap, x)
    return x


def _place(layer, want, width, gap, x):
    """x of one rank: nearest to ``want`` (least squares) keeping the order and ``gap`` between boxes."""
    if not layer:
        return
    offset, acc = [], 0.0
    for i, v in enumerate(layer):
        if i:
            acc += (width[layer[i - 1]] + width[v]) / 2 + gap
        offset.append(acc)
    blocks = []  # pool-adjacent-violators: [mean, weight, count]
    for v, off in zip(layer, offset):
        blocks.append([want[v] - off, 1.0, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, w2, n2 = blocks.pop()
            m1, w1, n1 = blocks.pop()
            blocks.append([(m1 * w1 + m2 * w2) / (w1 + w2), w1 + w2, n1 + n2])
    i = 0
    for m, _, n in blocks:
        for _ in range(n):
            x[layer[i]] = m + offset[i]
            i += 1
