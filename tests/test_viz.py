"""minigrad.viz: the DOT text of a known graph (nodes, edges, labels, backward's order, names, values and
gradients), drawing after backward, the matplotlib drawing without Graphviz (files, tooltips, no overlapping
boxes, text inside its box) and grouping by module."""

import re

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn, viz
from minigrad.viz import render

NUM = r"-?\d+(?:\.\d*)?(?:e[-+]?\d+)?"


def tour_graph():
    """L = mean(tanh(x @ W + b) ** 2): 8 tensors (x needs no grad), 5 ops."""
    mg.manual_seed(0)
    x = mg.tensor([[0.5, -1.0, 2.0], [1.5, 0.3, -0.7]], dtype=mg.float64)
    W = mg.randn(3, 2, dtype=mg.float64, requires_grad=True)
    b = mg.tensor([0.1, -0.2], dtype=mg.float64, requires_grad=True)
    z = x @ W
    a = z + b
    h = a.tanh()
    s = h**2
    L = s.mean()
    return dict(x=x, W=W, b=b, z=z, a=a, h=h, s=s, L=L)


def parse_dot(text):
    """{node id: (attrs text, label)} and [(from, to)] of the DOT that to_dot writes (one statement a line)."""
    nodes, edges = {}, []
    for line in text.splitlines():
        m = re.match(r"\s*(n\d+) \[(.*)\];$", line)
        if m:
            label = re.search(r'label="((?:[^"\\]|\\.)*)"', m.group(2)).group(1)
            nodes[m.group(1)] = (m.group(2), label.replace("\\ ", " "))
        m = re.match(r"\s*(n\d+) -> (n\d+);$", line)
        if m:
            edges.append(m.groups())
    return nodes, edges


def node_of(nodes, name):
    (label,) = [lab for _, lab in nodes.values() if lab.startswith("{" + name + "\\l")]
    return label


def section(label, key):
    """The numbers of the 'data' or 'grad' field of a record label."""
    (field,) = [f for f in label.strip("{}").split("|") if f.startswith(key)]
    return [float(v) for v in re.findall(NUM, field[len(key) :].replace("\\l", " "))]


def test_dot_of_a_known_graph_counts_labels_and_backward_order():
    g = tour_graph()
    visited = []  # the independent record of backward's order: a tensor hook runs just before its op's backward
    for name in ("z", "a", "h", "s", "L"):
        g[name].register_hook(lambda grad, name=name: visited.append(name))
    dot = viz.to_dot(g["L"], params=g, max_values=6)
    nodes, edges = parse_dot(dot)
    assert len(nodes) == 8 + 5 and len(edges) == 5 + 7
    ops = {
        re.match(r"\{?(\w+)\\n", lab).group(1): int(re.search(r"backward #(\d+)", lab).group(1))
        for attrs, lab in nodes.values()
        if "shape=box" in attrs
    }
    assert set(ops) == {"MatMul", "Add", "Tanh", "PowScalar", "Mean"}
    g["L"].backward()
    made_by = {"z": "MatMul", "a": "Add", "h": "Tanh", "s": "PowScalar", "L": "Mean"}
    assert sorted(ops, key=ops.get) == [made_by[n] for n in visited]
    # edges follow the data: x and W into MatMul, MatMul into z
    label_of = {k: lab for k, (_, lab) in nodes.items()}
    named = {re.match(r"\{(\w+)\\l", lab).group(1): k for k, lab in label_of.items() if lab.startswith("{")}
    matmul = next(k for k, lab in label_of.items() if lab.startswith("MatMul"))
    assert (named["x"], matmul) in edges and (named["W"], matmul) in edges and (matmul, named["z"]) in edges
    assert "(3, 2) float64" in node_of(nodes, "W") and "(2,) float64" in node_of(nodes, "b")


def test_small_tensors_show_data_and_grad_large_ones_statistics():
    g = tour_graph()
    graph = viz.Graph(g["L"], params=dict(W=g["W"], b=g["b"], h=g["h"]))
    nodes, _ = parse_dot(viz.to_dot(graph))
    assert not [lab for _, lab in nodes.values() if "grad" in lab]  # before backward: no gradients yet
    np.testing.assert_allclose(section(node_of(nodes, "W"), "data"), g["W"].numpy().ravel(), atol=1e-4)
    g["h"].retain_grad()
    g["L"].backward()
    nodes, _ = parse_dot(viz.to_dot(graph))
    np.testing.assert_allclose(section(node_of(nodes, "W"), "grad"), g["W"].grad.numpy().ravel(), atol=1e-4)
    # an intermediate's gradient, kept by the Graph's hook, equals the one retain_grad kept
    np.testing.assert_allclose(section(node_of(nodes, "h"), "grad"), g["h"].grad.numpy().ravel(), atol=1e-4)
    # max_values=3: the 6-element W shows mean, std and norm of its values and of its gradient
    nodes, _ = parse_dot(viz.to_dot(graph, max_values=3))
    for key, arr in (("data", g["W"].numpy()), ("grad", g["W"].grad.numpy())):
        mean, std, norm = section(node_of(nodes, "W"), key)
        np.testing.assert_allclose([mean, std, norm], [arr.mean(), arr.std(), np.sqrt((arr**2).sum())], rtol=1e-3)


def test_parameter_names_label_their_tensors():
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    loss = model(mg.randn(2, 3)).sum()
    nodes, _ = parse_dot(viz.to_dot(loss, params=dict(model.named_parameters())))
    for name, p in model.named_parameters():
        assert f"{tuple(p.shape)} float32" in node_of(nodes, name)


def test_draw_after_backward_shows_leaves_with_grads_and_freed_intermediates():
    g = tour_graph()
    full = viz.Graph(g["L"], params=dict(W=g["W"], b=g["b"]))  # before backward: the full picture
    g["L"].backward()
    nodes_full, edges_full = parse_dot(viz.to_dot(full))
    nodes, edges = parse_dot(viz.to_dot(g["L"], params=dict(W=g["W"], b=g["b"])))  # read from next_functions
    assert len(nodes) == len(nodes_full) == 8 + 5 and sorted(edges) == sorted(edges_full)

    def ops(nodes):  # "Name backward #k" of every op box
        return sorted(lab.replace("\\n", " ") for attrs, lab in nodes.values() if "shape=box" in attrs)

    assert ops(nodes) == ops(nodes_full) and len(ops(nodes)) == 5
    for leaf in ("W", "b"):  # leaves: values and gradients, as before
        np.testing.assert_allclose(section(node_of(nodes, leaf), "data"), g[leaf].numpy().ravel(), atol=1e-4)
        np.testing.assert_allclose(section(node_of(nodes, leaf), "grad"), g[leaf].grad.numpy().ravel(), atol=1e-4)
    records = [lab for attrs, lab in nodes.values() if "shape=record" in attrs]
    freed = [lab for lab in records if "value freed by backward" in lab]
    # z, a, h, s: shape and dtype only; x, a constant the graph no longer holds, likewise
    assert sorted(re.match(r"\{(\([\d, ]*\) \w+)", lab).group(1) for lab in freed) == sorted(
        [f"{tuple(g[n].shape)} float64" for n in ("z", "a", "h", "s", "x")]
    )
    assert sum("constant" in lab for lab in freed) == 1
    assert [lab for lab in records if lab.startswith("{() float64\\l|data")]  # L, the output, keeps its value
    # group_modules needs the forward's tensors: a clear error after backward
    with pytest.raises(ValueError, match="before backward"):
        viz.Graph(g["L"]).view(group_modules=True)
    g = tour_graph()
    g["L"].backward(retain_graph=True)
    assert "freed" not in viz.to_dot(g["L"], params=dict(W=g["W"]))


def no_dot(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert not viz.dot_available()


def test_matplotlib_path_writes_png_and_svg_with_a_tooltip_per_node(monkeypatch, tmp_path):
    no_dot(monkeypatch, tmp_path)
    g = tour_graph()
    graph = viz.Graph(g["L"], params=g)
    g["L"].backward()
    png = viz.draw(graph, tmp_path / "g.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    svg = viz.draw(graph, tmp_path / "g.svg").read_text()
    nodes, _ = graph.view()
    for n in nodes:  # the node's patch group carries its full summary as <title>
        m = re.search(rf'<g id="{n.id}">\s*<title>([^<]*)</title>', svg)
        assert m and m.group(1).split("\n")[0] == n.tooltip.split("\n")[0]
    assert "W: tensor (3, 2) float64" in svg and "backward visits it 5th of 5" in svg
    with pytest.raises(ValueError, match=r"\.svg or \.png"):
        viz.draw(graph, tmp_path / "g.pdf")


def mlp_loss():
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 1))
    loss = F.mse_loss(model(mg.randn(5, 4)), mg.randn(5, 1))
    graph = viz.Graph(loss, params=dict(model.named_parameters()))
    loss.backward()
    return graph


def test_layout_of_a_3_layer_mlp_has_no_overlapping_boxes_and_every_label_inside_its_box():
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    nodes, edges = mlp_loss().view()
    fig, boxes = render.figure(nodes, edges)
    assert len(boxes) == len(nodes) == 14 + 6  # 6 params, x, y, 6 op outputs; 3 Linear, 2 ReLU, MSELoss
    renderer = FigureCanvasAgg(fig).get_renderer()
    ax = fig.axes[0]
    patches = {p.get_gid(): p.get_window_extent(renderer) for p in ax.patches if p.get_gid()}
    assert len(patches) == len(nodes)
    ids = sorted(patches)
    for i, a in enumerate(ids):  # measured on the canvas, not taken from the layout
        for b in ids[i + 1 :]:
            pa, pb = patches[a], patches[b]
            assert min(pa.x1, pb.x1) <= max(pa.x0, pb.x0) or min(pa.y1, pb.y1) <= max(pa.y0, pb.y0), (a, b)
    for t in ax.texts:
        box, ext = patches[t.get_gid().split("_")[0]], t.get_window_extent(renderer)
        assert box.x0 <= ext.x0 and ext.x1 <= box.x1 and box.y0 <= ext.y0 and ext.y1 <= box.y1, t.get_text()


def conv_net():
    mg.manual_seed(0)
    return nn.Sequential(nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU()), nn.Flatten(), nn.Linear(2 * 4 * 4, 1))


def test_group_modules_collapses_each_module_into_one_box(monkeypatch, tmp_path):
    model = conv_net()
    with viz.record_modules(model) as calls:
        out = model(mg.randn(2, 1, 6, 6))
    loss = out.sum()
    assert not any(m._forward_hooks or m._forward_pre_hooks for m in model.modules())  # hooks removed
    graph = viz.Graph(loss, modules=calls)
    nodes, edges = graph.view(group_modules=True)
    boxes = [n for n in nodes if n.kind == "module"]
    assert [n.sections[0][0] for n in boxes] == ["0.0: Conv2d", "0.1: ReLU", "1: Flatten", "2: Linear"]
    assert [n.kind for n in nodes] == ["input"] + ["module"] * 4 + ["op", "output"]
    assert len(edges) == 6  # a chain: x -> 4 boxes -> Sum -> loss
    assert "-> (2, 2, 4, 4) float32" in boxes[0].sections[1][0] and "20 params" in boxes[0].sections[-1][0]
    full, _ = graph.view()
    assert any(n.kind == "param" for n in full) and len(full) > len(nodes)
    outer = [n.sections[0][0] for n in graph.view(group_modules=1)[0] if n.kind == "module"]
    assert outer == ["0: Sequential", "1: Flatten", "2: Linear"]
    no_dot(monkeypatch, tmp_path)
    assert viz.draw(graph, tmp_path / "g.png", group_modules=True).stat().st_size > 5000
    with pytest.raises(ValueError, match="record_modules"):
        viz.Graph(loss).view(group_modules=True)


@pytest.mark.skipif(not viz.dot_available(), reason="Graphviz's dot is not installed")
def test_graphviz_path_svg_has_the_tooltips(tmp_path):
    g = tour_graph()
    svg = viz.draw(g["L"], tmp_path / "g.svg", params=g, engine="dot").read_text()
    assert "<title>W: tensor (3, 2) float64" in svg


def test_a_module_called_twice_is_two_boxes_and_its_shared_parameters_stay_visible():
    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(2, 2)

        def forward(self, x):
            return self.lin(self.lin(x))

    model = Twice()
    with viz.record_modules(model) as calls:
        loss = model(mg.randn(3, 2)).sum()
    nodes, _ = viz.Graph(loss, modules=calls).view(group_modules=True)
    assert [n.sections[0][0] for n in nodes if n.kind == "module"] == ["lin: Linear (call 1)", "lin: Linear (call 2)"]
    assert sorted(n.sections[0][0] for n in nodes if n.kind == "param") == ["lin.bias", "lin.weight"]


def test_draw_writes_through_the_one_atomic_writer(monkeypatch, tmp_path):
    """A write whose flush to disk fails (a full disk can report it only then) keeps the previous drawing, leaves
    no temporary file and names the path, as every other file minigrad writes."""
    import errno
    import os

    no_dot(monkeypatch, tmp_path)
    path = viz.draw(tour_graph()["L"], tmp_path / "g.svg")
    before = path.read_bytes()

    def full_disk(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError, match=r"cannot write .*g\.svg: No space left on device"):
        viz.draw(tour_graph()["h"], path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["g.svg"]


def test_a_huge_graph_is_refused_before_layout_naming_the_size_and_the_ways_out(monkeypatch, tmp_path):
    no_dot(monkeypatch, tmp_path)
    x = mg.randn(2, requires_grad=True)
    y = x
    for _ in range(600):  # 1,201 boxes: over the default
        y = y.tanh()
    with pytest.raises(ValueError, match=r"1201 boxes \(600 ops\), more than max_nodes=1000.*group_modules=True"):
        viz.draw(y, tmp_path / "chain.svg")
    with pytest.raises(ValueError, match=r"13 boxes \(5 ops\), more than max_nodes=10"):
        viz.draw(tour_graph()["L"], tmp_path / "small.svg", max_nodes=10)
    assert list(tmp_path.glob("*.svg")) == []  # nothing written
    assert viz.draw(tour_graph()["L"], tmp_path / "small.svg", max_nodes=13).exists()
