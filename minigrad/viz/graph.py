"""Graph: the nodes and edges of the graph that produced a tensor, captured so it can be drawn (again) later.

The structure is read once, when the Graph is made: tensors and the Functions
(ops) that made them, in the order backward visits them (the reverse of
``minigrad.autograd.topological_order``). Values and gradients are read each
time the graph is drawn, so a Graph made before ``backward()`` draws the
gradients after it.

A Graph made after ``backward()`` is read from what backward keeps (as
PyTorch's ``grad_fn.next_functions``): every op, the leaves with their values
and gradients, and for each intermediate tensor and constant only its shape
and dtype ("value freed by backward"). Make the Graph before backward (or run
``backward(retain_graph=True)``) to see every value and intermediate gradient.

To see the gradient of every intermediate tensor (not only of leaves and of
tensors with ``retain_grad()``) the Graph registers a tensor hook on each of
them that keeps the gradient backward hands it (``capture_grads=True``).
"""

from __future__ import annotations

from typing import Any

from minigrad.autograd.accumulate_grad import AccumulateGrad
from minigrad.autograd.engine import topological_order
from minigrad.viz import summary
from minigrad.viz.modules import collapse
from minigrad.viz.node import Node

FREED_TEXT = "value freed by backward"


class FreedTensor:
    """Stand-in for a tensor whose value backward freed: its shape, dtype and the op that made it (None: a constant)."""

    data = None
    grad = None

    def __init__(self, shape, dtype, grad_fn):
        self.shape, self.dtype, self.grad_fn = tuple(shape), dtype, grad_fn
        self.requires_grad = grad_fn is not None


class _Reader:
    """The tensors of a graph and each op's inputs, from live ops (their input tensors) or freed ones (their edges).

    Every op's output appears once: the tensor itself where something still holds it, else a FreedTensor.
    """

    def __init__(self, output):
        self.made_by = {} if output.grad_fn is None else {id(output.grad_fn): output}
        self.inputs = {}  # id(fn) -> the op's inputs, each as drawn

    def canonical(self, x):
        fn = x.grad_fn
        return x if fn is None else self.made_by.setdefault(id(fn), x)

    def inputs_of(self, fn):
        got = self.inputs.get(id(fn))
        if got is None:
            if not fn._freed:
                got = tuple(self.canonical(x) for x in fn.inputs)
            else:
                got = tuple(self._stand_in(node, meta) for (node, _), meta in zip(fn.next_functions, fn.input_metadata))
            self.inputs[id(fn)] = got
        return got

    def _stand_in(self, node, meta):
        if isinstance(node, AccumulateGrad):
            return node.variable
        if node is None:
            return FreedTensor(meta[0], meta[1], None)
        return self.made_by.setdefault(id(node), FreedTensor(meta[0], meta[1], node))


def backward_order(output, reader=None):
    """The tensors of ``output``'s graph in the order backward visits them (output first, leaves last).

    Works on a graph that backward freed too (then intermediates are FreedTensor stand-ins).
    """
    reader = reader or _Reader(output)
    return topological_order(reader.canonical(output), reader.inputs_of)[::-1]


class Graph:
    """The graph that produced ``output``.

    ``params``: name -> Tensor (e.g. ``dict(model.named_parameters())``); any
    tensor of the graph may be named this way. ``modules``: what
    ``record_modules`` recorded during the forward, for
    ``group_modules`` (and the parameter names of the recorded model).
    """

    def __init__(self, output, params=None, modules=None, capture_grads: bool = True):
        if not hasattr(output, "grad_fn"):
            raise TypeError(f"minigrad.viz: expected a Tensor, got {type(output).__name__}")
        self.output = output
        self.modules = modules
        reader = _Reader(output)
        visit = backward_order(output, reader) if output.requires_grad else [output]
        self.tensors = {}  # id -> Tensor (or FreedTensor): every tensor of the graph, constants included
        self.ops = {}  # id of an op's output tensor -> (Function name, backward position from 1, input shapes)
        self.edges = []  # (from id, to id): tensor -> op and op -> its output tensor, 'op:'-prefixed
        self.freed = False  # True when backward had freed part of the graph before it was read
        position = 0
        for t in visit:
            self.tensors[id(t)] = t
            fn = t.grad_fn
            if fn is None:
                continue
            self.freed = self.freed or fn._freed
            inputs = reader.inputs_of(fn)
            position += 1
            self.ops[id(t)] = (fn.name, position, tuple(tuple(x.shape) for x in inputs))
            self.edges.append((f"op{id(t)}", f"t{id(t)}"))
            for x in inputs:
                self.tensors.setdefault(id(x), x)  # inputs that need no grad are not in backward's order
                self.edges.append((f"t{id(x)}", f"op{id(t)}"))
        self.edges = list(dict.fromkeys(self.edges))  # x * x: one edge
        names = dict(modules.named_parameters()) if modules is not None else {}
        names.update(params or {})
        self.names = {id(t): name for name, t in names.items() if t is not None}
        self._grads: dict[int, Any] = {}
        self._handles = []
        if capture_grads:
            for t in visit:
                if t.grad_fn is not None and not isinstance(t, FreedTensor) and not t.grad_fn._freed:
                    self._handles.append(t.register_hook(self._keeper(id(t))))

    def _keeper(self, key):
        def keep(g):
            self._grads[key] = getattr(g, "data", g)

        return keep

    def grad(self, t):
        """The gradient of ``t`` from the last backward: its ``.grad``, or the one the hook kept."""
        if isinstance(t, FreedTensor):
            return None
        if t.grad is not None:
            return t.grad.data
        return self._grads.get(id(t))

    def remove_hooks(self):
        """Stop keeping intermediate gradients."""
        for h in self._handles:
            h.remove()
        self._handles = []

    # --- what to draw ---------------------------------------------------------------
    def view(self, group_modules=False, max_values: int = 6):
        """(nodes, edges) to draw: a list of Node and a list of (from id, to id), inputs before outputs.

        ``group_modules``: collapse the ops of each recorded submodule call into one
        box (True: the innermost module; an int k: modules at most k levels deep).
        """
        nodes = {}
        for key, t in self.tensors.items():
            nodes[f"t{key}"] = self._tensor_node(t, max_values)
            if key in self.ops:
                nodes[f"op{key}"] = self._op_node(key)
        order = self._drawing_order()
        edges = self.edges
        if group_modules:
            if self.freed:
                raise ValueError(
                    "minigrad.viz: group_modules needs the tensors of the forward, which backward freed; make the "
                    "Graph before backward, g = minigrad.viz.Graph(loss, modules=calls), and draw g after it"
                )
            if self.modules is None:
                raise ValueError(
                    "minigrad.viz: group_modules needs the module calls: run the forward under "
                    "`with minigrad.viz.record_modules(model) as calls:` and pass modules=calls"
                )
            depth = None if group_modules is True else int(group_modules)
            nodes, edges, order = collapse(self, nodes, edges, order, depth, max_values)
        # short ids in drawing order: n1, n2, ...
        new = {k: f"n{i}" for i, k in enumerate(order, 1)}
        out = []
        for k in order:
            n = nodes[k]
            out.append(Node(new[k], n.kind, n.sections, n.tooltip))
        return out, [(new[a], new[b]) for a, b in edges]

    def _drawing_order(self):
        """Node ids, every node after its inputs (the reverse of backward's visit)."""
        out = []
        for key in reversed(list(self.tensors)):
            if key in self.ops:
                out.append(f"op{key}")
            out.append(f"t{key}")
        return out

    def role(self, t):
        """'output', 'tensor' (made by an op), 'param' (a leaf that requires grad) or 'input' (a constant)."""
        if t is self.output:
            return "output"
        if t.grad_fn is not None:
            return "tensor"
        if isinstance(t, FreedTensor):
            return "input"  # a constant of a freed graph
        return "param" if t.requires_grad else "input"

    def _tensor_node(self, t, max_values):
        data = summary.as_numpy(t.data)
        grad = summary.as_numpy(self.grad(t))
        name = self.names.get(id(t))
        head = ([name] if name else []) + [summary.shape_text(t.shape, t.dtype)]
        freed = FREED_TEXT if t.grad_fn is not None else f"constant, {FREED_TEXT}"
        sections = [head, [freed] if data is None else summary.array_lines("data", data, max_values)]
        tip = [f"{name or self.role(t)}: tensor {summary.shape_text(t.shape, t.dtype)}"]
        if t.grad_fn is not None:
            name, pos, _ = self.ops[id(t)]
            tip.append(f"made by {name} (backward step {pos})")
        tip += [freed] if data is None else summary.full_summary("data", data)
        if grad is not None:
            sections.append(summary.array_lines("grad", grad, max_values))
            tip += summary.full_summary("grad", grad)
        elif self.freed and t.grad_fn is not None and not isinstance(t, FreedTensor):
            tip.append("grad: not kept by backward (call retain_grad() before it to keep it)")
        elif t.requires_grad and not isinstance(t, FreedTensor):
            tip.append("grad: none yet (backward has not reached it)")
        return Node(f"t{id(t)}", self.role(t), sections, "\n".join(tip))

    def _op_node(self, key):
        name, pos, shapes = self.ops[key]
        tip = (
            f"op {name}: backward visits it {_ordinal(pos)} of {len(self.ops)}\n"
            f"inputs {', '.join(map(str, shapes))}\noutput {tuple(self.tensors[key].shape)}"
        )
        return Node(f"op{key}", "op", [[name], [f"backward #{pos}"]], tip)


def _ordinal(n):
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
