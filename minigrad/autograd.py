"""Reverse-mode automatic differentiation: Function, the graph, and backward.

A Function is one node of the graph. Calling it on tensors runs ``forward`` on
their raw arrays and, when grad mode is on and some input requires grad,
records itself as the output's ``grad_fn`` together with its inputs.
``backward`` walks the graph once in reverse topological order (iteratively,
so a chain of 100,000 ops needs no recursion), calls each node's ``backward``
with the gradient of its output, and accumulates input gradients.
"""
from __future__ import annotations

import contextlib
import functools

from minigrad.backend import get_array_module

# --- grad mode ---------------------------------------------------------------

_grad_enabled = True


def is_grad_enabled() -> bool:
    return _grad_enabled


class _GradMode(contextlib.ContextDecorator):
    """Context manager / decorator: grad mode ``mode`` inside, the previous mode restored after."""

    def __init__(self, mode: bool):
        self.mode = bool(mode)

    def __enter__(self):
        global _grad_enabled
        self.prev = _grad_enabled
        _grad_enabled = self.mode

    def __exit__(self, *exc):
        global _grad_enabled
        _grad_enabled = self.prev
        return False


class set_grad_enabled(_GradMode):
    """Set grad mode, as PyTorch does: at once when called (``set_grad_enabled(False)`` on a line of its own),
    for a block as ``with set_grad_enabled(mode):`` (the mode from before the call comes back after it),
    or for every call of a function as ``@set_grad_enabled(mode)``."""

    def __init__(self, mode: bool):
        global _grad_enabled
        super().__init__(mode)
        self.prev = _grad_enabled
        _grad_enabled = self.mode

    def __enter__(self):  # the mode is already set; self.prev is the mode before the call
        global _grad_enabled
        _grad_enabled = self.mode

    def __call__(self, func):
        global _grad_enabled
        _grad_enabled = self.prev  # a decorator changes nothing until the function runs
        return super().__call__(func)

    def _recreate_cm(self):  # per decorated call: the mode from before *that* call comes back after it
        return set_grad_enabled(self.mode)


class no_grad(_GradMode):
    """Nothing computed inside records a graph: ``with no_grad():`` or ``@no_grad()``."""

    def __init__(self, func=None):
        super().__init__(False)
        if func is not None:  # used as a bare decorator: @no_grad
            self._func = func
            functools.update_wrapper(self, func)

    def __call__(self, *args, **kwargs):
        if hasattr(self, "_func"):
            with _GradMode(False):
                return self._func(*args, **kwargs)
        return super().__call__(*args, **kwargs)


class enable_grad(_GradMode):
    def __init__(self):
        super().__init__(True)


# --- broadcasting helper -------------------------------------------------------


def sum_to(grad, shape):
    """Reduce ``grad`` to ``shape`` by summing over the broadcast axes.

    If y = broadcast(x) then dL/dx = sum of dL/dy over every axis that
    broadcasting added or stretched from size 1.
    """
    if grad.shape == tuple(shape):
        return grad
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1
    )
    g = grad.sum(axis=axes, keepdims=True) if axes else grad
    if lead:
        g = g.reshape(shape)
    return g


# --- Function ----------------------------------------------------------------


class Function:
    """One differentiable op. Subclasses implement ``forward`` and ``backward``.

    ``forward(*arrays)`` gets raw arrays (numpy or cupy) and returns one array.
    ``backward(gy)`` gets the gradient of the output and returns one gradient
    per input (a tuple, or a single array for one input; None where an input
    needs none). Store what backward needs as attributes of ``self``; the
    engine drops them after the backward pass unless ``retain_graph=True``.
    """

    inputs: tuple = ()
    needs_input_grad: tuple = ()
    _freed = False

    def __call__(self, *inputs):
        from minigrad.tensor import Tensor, as_tensor_args

        tensors = as_tensor_args(self, inputs)
        self.needs_input_grad = tuple(t.requires_grad for t in tensors)
        try:
            y = self.forward(*[t.data for t in tensors])
        except ValueError as e:
            shapes = ", ".join(str(tuple(t.shape)) for t in tensors)
            raise ValueError(f"{self.name}: {e} (input shapes {shapes})") from e
        out = Tensor._from_op(y)
        if _grad_enabled and any(self.needs_input_grad):
            out.requires_grad = True
            out.grad_fn = self
            self.inputs = tensors
            self.input_versions = tuple(t._version for t in tensors)  # see _check_versions
        return out

    @property
    def name(self) -> str:
        return type(self).__name__

    def forward(self, *xs):
        raise NotImplementedError

    def backward(self, gy):
        raise NotImplementedError

    def release(self):
        """Drop saved arrays and inputs after backward (frees the graph)."""
        self.__dict__.clear()
        self._freed = True

    def __repr__(self):
        return f"<{self.name}Backward>"


_FREED_MSG = (
    "backward: trying to backward through {} a second time, but its saved buffers were freed "
    "by the first backward; call backward(retain_graph=True) the first time if you need to "
    "backward twice"
)


def backward(root, grad=None, retain_graph=False):
    """Backpropagate from tensor ``root``; see Tensor.backward."""
    xp = get_array_module(root.data)
    if not root.requires_grad:
        raise RuntimeError(
            "backward: tensor does not require grad and has no grad_fn "
            "(was it created under no_grad, or from tensors that do not require grad?)"
        )
    if grad is None:
        if root.data.size != 1:
            raise RuntimeError(
                f"backward: grad can be implicitly created only for scalar outputs; "
                f"got shape {tuple(root.shape)}, pass grad= of that shape"
            )
        g = xp.ones_like(root.data)
    else:
        g = grad.data if hasattr(grad, "grad_fn") else xp.asarray(grad, dtype=root.dtype)
        if tuple(g.shape) != tuple(root.shape):
            raise ValueError(
                f"backward: grad has shape {tuple(g.shape)} but the output has shape {tuple(root.shape)}"
            )

    order = _topological_order(root)
    grads = {id(root): g}
    for t in reversed(order):
        g = grads.pop(id(t), None)
        if g is None:
            continue
        if t._hooks:
            g = _run_hooks(t, g)
        fn = t.grad_fn
        if fn is None or t._retains_grad:
            _accumulate(t, g)
        if fn is None:
            continue
        _check_versions(t, fn)
        gxs = fn.backward(g)
        if not isinstance(gxs, tuple):
            gxs = (gxs,)
        given = []  # arrays handed out by this node: a leaf must own its .grad
        for x, gx in zip(fn.inputs, gxs):
            if gx is None or not x.requires_grad:
                continue
            if gx.dtype != x.data.dtype:
                gx = gx.astype(x.data.dtype)
            elif x.grad_fn is None and (gx is g or any(gx is o for o in given)):
                gx = gx.copy()
            given.append(gx)
            key = id(x)
            prev = grads.get(key)
            grads[key] = gx if prev is None else prev + gx
        if not retain_graph:
            fn.release()


def _check_versions(out, fn):
    """RuntimeError when an input or the output of ``fn`` was changed in place after its forward.

    ``fn`` saved arrays of its forward (its inputs, or its output) for backward;
    an in-place write since then (``+=``, ``zero_``, ``copy_``, an optimizer
    step...) bumps the tensor's version, and the gradient would silently use
    the new values. PyTorch raises here too.
    """
    for i, (x, v) in enumerate(zip(fn.inputs, fn.input_versions)):
        if x._version != v:
            _raise_stale(fn, f"input {i}", x)
    if out._version != 0:
        _raise_stale(fn, "its output", out)


def _raise_stale(fn, what, x):
    raise RuntimeError(
        f"backward: {what} of {fn.name} (shape {tuple(x.shape)}, dtype {x.dtype}) was modified in place after "
        f"the forward pass that saved it (e.g. by optimizer.step(), +=, zero_ or copy_), so the gradient would use "
        f"the new values; run the forward again after the in-place update")


def _topological_order(root):
    """Tensors reachable from root, each after all of its inputs (iterative DFS).

    A node is marked when it is expanded, not when it is pushed: it may sit on
    the stack twice, and the second copy is skipped.
    """
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        t, finished = stack.pop()
        if finished:
            order.append(t)
            continue
        if id(t) in visited:
            continue
        visited.add(id(t))
        stack.append((t, True))
        fn = t.grad_fn
        if fn is None:
            continue
        if fn._freed:
            raise RuntimeError(_FREED_MSG.format(fn.name))
        for x in fn.inputs:
            if x.requires_grad and id(x) not in visited:
                stack.append((x, False))
    return order


def _run_hooks(t, g):
    from minigrad.tensor import Tensor

    for hook in t._hooks:
        out = hook(Tensor(g))
        if out is not None:
            g = out.data if isinstance(out, Tensor) else out
    return g


def _accumulate(t, g):
    from minigrad.tensor import Tensor

    if t.grad is None:
        # a view would pin (and alias) someone else's buffer
        t.grad = Tensor(g.copy() if g.base is not None else g)
    else:
        t.grad.data = t.grad.data + g
