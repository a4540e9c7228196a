"""The graph walk: ``backward`` (gradients into ``.grad``) and ``grad`` (gradients returned).

Both visit the graph once in reverse topological order (iteratively, so a
chain of 100,000 ops needs no recursion), hand each node the gradient of its
output, and sum what it returns per input. Without ``create_graph`` the
gradients are raw arrays and nothing is recorded; with it, grad mode stays on
and every backward formula runs on Tensors, so the gradients carry a graph
and can be differentiated again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from minigrad import backend
from minigrad.amp import autocast_mode
from minigrad.autograd import anomaly
from minigrad.grad_mode import set_grad_enabled
from minigrad.tensor import Tensor

_FREED_MSG = (
    "backward: trying to backward through {} a second time, but its saved buffers were freed "
    "by the first backward; call backward(retain_graph=True) the first time if you need to "
    "backward twice"
)

# callbacks(fn, out, grad_out, grads_in), called after each node's backward: see minigrad.autograd.trace
_node_observers: list[Callable[..., None]] = []

# one tensor or several; gradients may be Tensors, arrays or numbers
Tensors = Tensor | Sequence[Tensor]


def backward(
    tensors: Tensors,
    grad_tensors: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    inputs: Tensors | None = None,
) -> None:
    """Accumulate d(tensors)/d(leaf) into the ``.grad`` of every leaf that requires grad.

    ``grad_tensors`` are the gradients of some scalar w.r.t. ``tensors`` (may be
    omitted for one-element outputs). ``retain_graph`` defaults to
    ``create_graph``. ``inputs``, if given, limits accumulation to those tensors.
    """
    roots = _as_list(tensors)
    targets = None if inputs is None else _nonempty_inputs("backward", inputs)
    seeds = _seeds("backward", roots, grad_tensors, create_graph)
    if retain_graph is None:
        retain_graph = create_graph
    captured = _walk(roots, seeds, retain_graph, create_graph, targets)
    if targets is not None:
        for t in targets:
            g = captured.get(id(t))
            if g is not None:
                _accumulate(t, g, create_graph)


def grad(
    outputs: Tensors,
    inputs: Tensors,
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Tensor | None, ...]:
    """The gradients of ``outputs`` w.r.t. ``inputs``, returned as a tuple; no ``.grad`` is touched.

    As ``torch.autograd.grad``: an input the outputs do not depend on is an
    error unless ``allow_unused=True`` (then its entry is None); with
    ``create_graph=True`` the results carry a graph (differentiable again),
    otherwise they are constants. ``retain_graph`` defaults to ``create_graph``.

    >>> import minigrad
    >>> x = minigrad.tensor(3.0, requires_grad=True)
    >>> dy, = minigrad.autograd.grad(x ** 3, x, create_graph=True)   # 3 x^2
    >>> dy
    tensor(27., dtype=float32, grad_fn=<MulBackward>)
    >>> d2y, = minigrad.autograd.grad(dy, x)                         # 6 x
    >>> d2y
    tensor(18., dtype=float32)
    """
    roots = _as_list(outputs)
    targets = _nonempty_inputs("grad", inputs)
    for i, t in enumerate(targets):
        if not isinstance(t, Tensor):
            raise TypeError(f"grad: inputs[{i}] is a {type(t).__name__}, expected a Tensor")
        if not t.requires_grad:
            raise RuntimeError(f"grad: inputs[{i}] (shape {t.shape}) does not require grad")
    seeds = _seeds("grad", roots, grad_outputs, create_graph)
    if retain_graph is None:
        retain_graph = create_graph
    captured = _walk(roots, seeds, retain_graph, create_graph, targets)
    result: list[Tensor | None] = []
    for i, t in enumerate(targets):
        g = captured.get(id(t))
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"grad: inputs[{i}] (shape {t.shape}) was not used in the graph of the outputs; "
                    f"pass allow_unused=True if this is expected (its gradient is then None)"
                )
            result.append(None)
        else:
            result.append(g if isinstance(g, Tensor) else Tensor._from_op(_owned(g)))
    return tuple(result)


def _as_list(tensors: Any) -> list[Any]:
    return list(tensors) if isinstance(tensors, (tuple, list)) else [tensors]


def _nonempty_inputs(op, inputs):
    """``inputs`` as a list; an empty one is refused with PyTorch's message (it would differentiate nothing)."""
    targets = _as_list(inputs)
    if not targets:
        raise RuntimeError(f"`inputs` argument to `{op}()` cannot be empty")
    return targets


def _seeds(op, roots, grads, create_graph):
    """The starting gradient of each root: ones for a one-element root, else the given one (checked)."""
    grads = [None] * len(roots) if grads is None else _as_list(grads)
    if len(grads) != len(roots):
        raise ValueError(f"{op}: got {len(grads)} gradients for {len(roots)} outputs")
    seeds = []
    for i, (r, g) in enumerate(zip(roots, grads)):
        if not isinstance(r, Tensor) or not r.requires_grad:
            raise RuntimeError(
                f"{op}: output {i} does not require grad and has no grad_fn "
                "(was it created under no_grad, or from tensors that do not require grad?)"
            )
        if g is None:
            if r.data.size != 1:
                raise RuntimeError(
                    f"{op}: grad can be implicitly created only for scalar outputs; "
                    f"got shape {tuple(r.shape)}, pass a gradient of that shape"
                )
            g = r.xp.ones_like(r.data)
        elif isinstance(g, Tensor):
            if tuple(g.shape) != tuple(r.shape):
                raise ValueError(f"{op}: gradient has shape {tuple(g.shape)} but the output has shape {tuple(r.shape)}")
            if create_graph:
                seeds.append(g if g.dtype == r.dtype else g.to(dtype=r.dtype))
                continue
            g = g.data.astype(r.dtype)  # a copy in the output's dtype: .grad must not alias the caller's tensor
        else:
            g = r.xp.array(g, dtype=r.dtype)  # a copy, for the same reason
            if tuple(g.shape) != tuple(r.shape):
                raise ValueError(f"{op}: gradient has shape {tuple(g.shape)} but the output has shape {tuple(r.shape)}")
        seeds.append(Tensor._from_op(g) if create_graph else g)
    return seeds


def _walk(roots, seeds, retain_graph, create_graph, targets):
    """Propagate ``seeds`` from ``roots``; accumulate into leaves (targets None) or capture at ``targets``."""
    order = topological_order(roots)
    grads: dict[int, Any] = {}
    for r, g in zip(roots, seeds):
        grads[id(r)] = g if id(r) not in grads else grads[id(r)] + g
    captured = {}
    needed = None
    if targets is not None:
        target_ids = {id(t) for t in targets}
        needed = _needed(order, target_ids)
    with set_grad_enabled(create_graph), autocast_mode.suspended():  # backward runs in its forward's dtypes
        for t in reversed(order):
            g = grads.pop(id(t), None)
            if g is None:
                continue
            if t._hooks:
                g = _run_hooks(t, g)
            fn = t.grad_fn
            if targets is None:
                if fn is None or t._retains_grad:
                    _accumulate(t, g, create_graph)
            elif id(t) in target_ids:
                captured[id(t)] = g
            if fn is None or (needed is not None and id(t) not in needed):
                continue
            gxs = _call_backward(fn, t, g, create_graph, needed)
            given: list[Any] = []  # arrays handed out by this node: a leaf must own its .grad
            for i, (x, gx) in enumerate(zip(fn.inputs, gxs)):
                if gx is None or not x.requires_grad:
                    continue
                if tuple(gx.shape) != tuple(x.data.shape):
                    raise RuntimeError(
                        f"backward: {fn.name} returned a gradient of shape {tuple(gx.shape)} for "
                        f"input {i} of shape {tuple(x.data.shape)}"
                    )
                gx = _cast_like(gx, x, create_graph)
                if not create_graph and x.grad_fn is None and (gx is g or any(gx is o for o in given)):
                    gx = gx.copy()
                given.append(gx)
                key = id(x)
                prev = grads.get(key)
                grads[key] = gx if prev is None else prev + gx
            if not retain_graph:
                fn.release()
            else:
                fn.saved_values = ()
    return captured


def _call_backward(fn, out, g, create_graph, needed):
    """fn.backward(g) with its saved values unpacked, restricted to the inputs this walk needs."""
    _check_versions(fn, out)
    fn.saved_values = fn._unpack_saved(out, create_graph)
    needs = fn.needs_input_grad
    if needed is not None:
        fn.needs_input_grad = tuple(n and id(x) in needed for x, n in zip(fn.inputs, needs))
    fn._to_inputs = needed is not None  # grad() or backward(inputs=...): see minigrad.autograd.piecewise
    try:
        gxs = fn.backward(g)
    finally:
        fn.needs_input_grad = needs
    if not isinstance(gxs, tuple):
        gxs = (gxs,)
    if anomaly.is_anomaly_enabled():
        anomaly.check_backward(fn, gxs)
    for observe in _node_observers:
        observe(fn, out, g, gxs)
    return gxs


def _needed(order, target_ids):
    """ids of the tensors whose gradient leads to a target (the part of the graph ``grad`` must walk)."""
    needed = set()
    for t in order:  # inputs come before the tensors made from them
        fn = t.grad_fn
        if id(t) in target_ids or (fn is not None and any(id(x) in needed for x in fn.inputs)):
            needed.add(id(t))
    return needed


def _cast_like(gx, x, create_graph):
    """A gradient in its input's dtype (a raw constant becomes a Tensor when the graph is recorded)."""
    if create_graph and not isinstance(gx, Tensor):
        gx = Tensor._from_op(backend.get_array_module(gx).asarray(gx))
    if gx.dtype != x.dtype:
        gx = gx.to(dtype=x.dtype) if isinstance(gx, Tensor) else gx.astype(x.dtype)
    return gx


def _check_versions(fn, out):
    """RuntimeError when a tensor whose values ``fn`` saved for backward was changed in place since.

    Only what the Function declared with ``save_for_backward`` is checked: an
    input it did not save (Add saves nothing) may be overwritten freely.
    """
    for i, v in fn._saved_versions:
        x = fn.inputs[i]
        if x._version != v:
            _raise_stale(fn, f"input {i}", x)
    if out._version != fn._output_version and any(kind == "output" for kind, _ in fn._saved):
        _raise_stale(fn, "its output", out)


def _raise_stale(fn, what, x):
    raise RuntimeError(
        f"backward: {what} of {fn.name} (shape {tuple(x.shape)}, dtype {x.dtype}) was modified in place after "
        f"the forward pass that saved it (e.g. by optimizer.step(), +=, zero_ or copy_), so the gradient would use "
        f"the new values; run the forward again after the in-place update"
    )


def topological_order(roots: Tensors, inputs_of: Callable[[Any], Sequence[Any]] | None = None) -> list[Tensor]:
    """Tensors reachable from ``roots`` (a Tensor or a list), each after all of its inputs (iterative DFS).

    A node is marked when it is expanded, not when it is pushed: it may sit on
    the stack twice, and the second copy is skipped. Backward visits them in
    reverse. ``inputs_of(fn)`` gives the input tensors of the Function ``fn``
    (default ``fn.inputs``, refused once backward freed ``fn``; minigrad.viz
    reads freed graphs through its own).
    """
    inputs_of = inputs_of or _live_inputs
    order: list[Tensor] = []
    visited: set[int] = set()
    stack = [(r, False) for r in reversed(_as_list(roots))]
    while stack:
        t, finished = stack.pop()
        if finished:
            order.append(t)
            continue
        if id(t) in visited:
            continue
        visited.add(id(t))
        stack.append((t, True))
        if t.grad_fn is None:
            continue
        for x in inputs_of(t.grad_fn):
            if x.requires_grad and id(x) not in visited:
                stack.append((x, False))
    return order


def _live_inputs(fn):
    if fn._freed:
        raise RuntimeError(_FREED_MSG.format(fn.name))
    return fn.inputs


def _run_hooks(t, g):
    for hook in t._hooks:
        out = hook(g if isinstance(g, Tensor) else Tensor._from_op(g))
        if out is not None:
            g = out if isinstance(g, Tensor) else (out.data if isinstance(out, Tensor) else out)
    return g


def _owned(g):
    """``g`` itself, or a copy when it is a view (a view would pin and alias someone else's buffer)."""
    return g.copy() if getattr(g, "base", None) is not None else g


def _accumulate(t, g, create_graph):
    if create_graph:  # .grad carries the graph, as PyTorch's with create_graph=True
        t.grad = g if t.grad is None else t.grad + g
    elif t.grad is None:
        t.grad = Tensor._from_op(_owned(g))
    else:
        t.grad.data = t.grad.data + g
