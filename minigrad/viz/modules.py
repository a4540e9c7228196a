"""Grouping a graph by module: record each submodule call with forward hooks, then collapse its ops into one box.

An op belongs to the innermost recorded call whose region contains it; a
call's region is every op reachable backward from the call's outputs without
passing through its inputs. The call's parameters and the tensors its ops
make (outputs included) go into the same box, which shows the outputs' shape
and statistics. The model's own call (the root) is not collapsed.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from minigrad.viz import summary
from minigrad.viz.node import Node


@dataclass
class Call:
    """One call of a submodule: its dotted name, the module, and the ids of its input and output tensors."""

    name: str
    module: object
    depth: int
    inputs: tuple = ()
    outputs: tuple = ()


class ModuleCalls:
    """What ``record_modules`` records: the model and its submodule calls, in the order they returned."""

    def __init__(self, model):
        self.model = model
        self.calls: list[Call] = []

    def named_parameters(self):
        """The recorded model's named parameters (to name tensors in a drawing)."""
        return self.model.named_parameters()


def _tensors(obj):
    if hasattr(obj, "grad_fn"):
        return [obj]
    if isinstance(obj, (tuple, list)):
        return [t for o in obj for t in _tensors(o)]
    if isinstance(obj, dict):
        return [t for o in obj.values() for t in _tensors(o)]
    return []


@contextlib.contextmanager
def record_modules(model):
    """Record every submodule call of ``model`` inside the ``with`` block (forward hooks, removed on exit).

    with minigrad.viz.record_modules(D) as calls:
        loss = criterion(D(x), y)
    minigrad.viz.draw(loss, "d.svg", modules=calls, group_modules=True)
    """
    calls = ModuleCalls(model)
    open_calls: dict[int, list[Any]] = {}  # id(module) -> stack of input id tuples (a module may call itself)
    handles = []
    for name, m in model.named_modules():
        if not name:
            continue

        def pre(module, args):
            open_calls.setdefault(id(module), []).append(tuple(id(t) for t in _tensors(args)))

        def post(module, args, out, name=name):
            inputs = open_calls[id(module)].pop()
            calls.calls.append(Call(name, module, name.count(".") + 1, inputs, tuple(id(t) for t in _tensors(out))))

        handles += [m.register_forward_pre_hook(pre), m.register_forward_hook(post)]
    try:
        yield calls
    finally:
        for h in handles:
            h.remove()


def collapse(graph, nodes, edges, order, depth, max_values):
    """Replace the ops, parameters and tensors of each recorded call by one module node."""
    calls = [c for c in graph.modules.calls if depth is None or c.depth <= depth]
    preds: dict[Any, Any] = {}
    for a, b in edges:
        preds.setdefault(b, []).append(a)
    cluster: dict[str, Any] = {}  # node id -> index into calls
    # outer calls first, so an inner call's ops are claimed again by the inner call
    for i in sorted(range(len(calls)), key=lambda i: calls[i].depth):
        stop = set(calls[i].inputs)
        seen = set()
        stack = [k for k in calls[i].outputs if k in graph.tensors]
        while stack:
            key = stack.pop()
            if key in stop or key in seen or key not in graph.ops:
                continue
            seen.add(key)
            cluster[f"op{key}"] = i
            stack += [int(p[1:]) for p in preds[f"op{key}"]]
    all_inputs = {k for c in calls for k in c.inputs}
    consumers: dict[Any, list[Any]] = {}
    for a, b in edges:
        consumers.setdefault(a, []).append(b)
    for key, t in graph.tensors.items():
        tid = f"t{key}"
        if t is graph.output:
            continue
        if key in graph.ops:
            if f"op{key}" in cluster:
                cluster[tid] = cluster[f"op{key}"]
            continue
        owners = {cluster.get(c) for c in consumers.get(tid, [])}
        if key not in all_inputs and len(owners) == 1 and None not in owners:
            cluster[tid] = owners.pop()
    members: dict[Any, list[Any]] = {}
    for nid, i in cluster.items():
        members.setdefault(i, []).append(nid)
    rep = {nid: f"m{i}" for nid, i in cluster.items()}
    new_nodes = {nid: n for nid, n in nodes.items() if nid not in cluster}
    seen_names: dict[Any, Any] = {}
    for i in sorted(members):  # calls in the order they returned
        n = seen_names[calls[i].name] = seen_names.get(calls[i].name, 0) + 1
        node = _module_node(graph, calls[i], f"m{i}", members[i], consumers, rep, max_values)
        if sum(c.name == calls[i].name for c in calls) > 1:  # a module called more than once: say which call
            node.sections[0][0] += f" (call {n})"
        new_nodes[f"m{i}"] = node
    new_edges = []
    for a, b in edges:
        a, b = rep.get(a, a), rep.get(b, b)
        if a != b:
            new_edges.append((a, b))
    new_order: list[Any] = []
    for nid in order:  # a box goes where its last member was: after all of its inputs
        r = rep.get(nid, nid)
        if r in new_order:
            new_order.remove(r)
        new_order.append(r)
    return new_nodes, list(dict.fromkeys(new_edges)), new_order


def _module_node(graph, call, nid, ids, consumers, rep, max_values):
    module = call.module
    kind = type(module).__name__
    outs = [
        graph.tensors[int(m[1:])]
        for m in ids
        if m.startswith("t") and int(m[1:]) in graph.ops and any(rep.get(c) != nid for c in consumers.get(m, []))
    ]
    positions = sorted(graph.ops[int(m[2:])][1] for m in ids if m.startswith("op"))
    n_params = sum(int(p.data.size) for p in module.parameters())
    sections = [[f"{call.name}: {kind}"]]
    tip = [
        f"module {call.name}: {kind}",
        repr(module),
        f"{n_params:,} parameters",
        f"ops: {', '.join(graph.ops[int(m[2:])][0] for m in ids if m.startswith('op'))}",
    ]
    for t in outs:
        data, grad = summary.as_numpy(t.data), summary.as_numpy(graph.grad(t))
        part = [f"-> {summary.shape_text(t.shape, t.dtype)}", *summary.array_lines("out", data, max_values)]
        tip += [f"output {summary.shape_text(t.shape, t.dtype)}", *summary.full_summary("out", data)]
        if grad is not None:
            part += summary.array_lines("grad", grad, max_values)
            tip += summary.full_summary("grad", grad)
        sections.append(part)
    steps = f"backward #{positions[0]}" + (f"-{positions[-1]}" if len(positions) > 1 else "")
    sections.append([(f"{n_params:,} params, " if n_params else "") + steps])
    return Node(nid, "module", sections, "\n".join(tip))
