"""A guided tour of reverse-mode autodiff on a graph small enough to read.

    python examples/backprop_tour.py [--outdir DIR] [--engine auto|dot|matplotlib]

It builds  L = mean(tanh(x @ W + b) ** 2)  for a 2x3 input, prints every
intermediate's forward value in the order the graph was built, runs backward,
prints every intermediate's gradient from L back to z (the order backward
reaches them on this chain) and those of the leaves W and b, checks dL/dW and
dL/db by hand with the chain rule, and finally lets gradcheck compare them
with finite differences. It also draws the graph before and after backward
(DIR/backprop_graph_before.png and DIR/backprop_graph_after.png) with
minigrad.viz: values and gradients in every node, ops numbered in the order
backward visits them. After backward it walks ``L.grad_fn.next_functions``,
as a PyTorch tutorial does, and draws what backward kept
(DIR/backprop_graph_freed.png): every op, the leaves with their values and
gradients, the intermediates' shapes.
"""

import argparse
from pathlib import Path

import numpy as np

import minigrad as mg
from minigrad import viz
from minigrad.autograd import AccumulateGrad

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--outdir", type=Path, default=Path("."), help="where the three drawings go (default: here)")
parser.add_argument(
    "--engine",
    default="auto",
    choices=("auto", "dot", "matplotlib"),
    help="Graphviz's dot, minigrad's own layout with matplotlib, or dot when installed (default)",
)
args = parser.parse_args()

mg.manual_seed(0)
x = mg.tensor([[0.5, -1.0, 2.0], [1.5, 0.3, -0.7]], dtype=mg.float64)
W = mg.randn(3, 2, dtype=mg.float64, requires_grad=True)
b = mg.tensor([0.1, -0.2], dtype=mg.float64, requires_grad=True)

# Forward pass: every op records a Function node (grad_fn) that knows its inputs.
nodes = {}
nodes["z = x @ W"] = z = x @ W
nodes["a = z + b"] = a = z + b
nodes["h = tanh(a)"] = h = a.tanh()
nodes["s = h ** 2"] = s = h**2
nodes["L = mean(s)"] = L = s.mean()
for t in nodes.values():
    t.retain_grad()  # keep .grad on intermediates so we can print it

print("== forward ==")
for name, t in nodes.items():
    print(f"{name:14s} grad_fn={t.grad_fn!r:22s} value=\n{t.numpy()}\n")

# Capture the graph before backward, so it can be drawn after it with every value and intermediate gradient
# (backward frees the intermediates' values; it keeps the structure, drawn at the end).
graph = viz.Graph(L, params={"x": x, "W": W, "b": b, **{name.split(" ")[0]: t for name, t in nodes.items()}})
before = viz.draw(graph, args.outdir / "backprop_graph_before.png", engine=args.engine)

# Backward pass: one walk over the graph in reverse topological order, watched node by node.
with mg.autograd.BackwardTrace(names={"W": W, "b": b}) as trace:
    L.backward()
print("== backward, node by node (the order of the drawing's 'backward #' numbers) ==")
print(trace.table() + "\n")
after = viz.draw(graph, args.outdir / "backprop_graph_after.png", engine=args.engine)
print(f"drew the graph before and after backward: {before}, {after}\n")

# What backward kept: the structure, as PyTorch's grad_fn.next_functions ((node, input_nr) per input; a leaf that
# requires grad is an AccumulateGrad node whose .variable is the leaf; a constant, such as x here, is None).
print("== after backward: L.grad_fn.next_functions, walked ==")
node, depth = L.grad_fn, 0
while node is not None:
    print("  " * depth + repr(node), node.next_functions)
    leaves = [n.variable.shape for n, _ in node.next_functions if isinstance(n, AccumulateGrad)]
    if leaves:
        print("  " * depth + f"  leaves that require grad, shapes {leaves}")
    node = next((n for n, _ in node.next_functions if n is not None and not isinstance(n, AccumulateGrad)), None)
    depth += 1
freed = viz.draw(L, args.outdir / "backprop_graph_freed.png", params={"W": W, "b": b}, engine=args.engine)
print(f"drew what backward kept: {freed}\n")

print("== backward (dL/d node) ==")
for name, t in reversed(list(nodes.items())):
    print(f"dL/d{name.split(' ')[0]:3s} =\n{t.grad.numpy()}\n")
print(f"dL/dW =\n{W.grad.numpy()}\n")
print(f"dL/db = {b.grad.numpy()}\n")

# The chain rule by hand, for comparison:
#   dL/ds = 1/n,  dL/dh = 2h/n,  dL/da = (1 - h^2) 2h/n,  dL/dW = x^T dL/da,  dL/db = sum_rows dL/da
n = s.numel()
h_ = h.numpy()
dA = (1 - h_**2) * 2 * h_ / n
assert np.allclose(W.grad.numpy(), x.numpy().T @ dA)
assert np.allclose(b.grad.numpy(), dA.sum(axis=0))
print("hand-derived chain rule matches backward for W and b")

# gradcheck compares the analytic backward with central finite differences.
ok = mg.gradcheck(lambda W, b: ((x @ W + b).tanh() ** 2).mean(), [W, b])
print("gradcheck:", ok)
