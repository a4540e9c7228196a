"""gradcheck: compare an op's analytic backward with central finite differences.

For y = fn(*inputs) and a random cotangent v (so non-scalar outputs are
checked in every direction, not only through a sum), the analytic side is
the vector-Jacobian product v^T J from ``backward(v)``, and the numeric side
is, element by element,

    d<v, fn(x)>/dx_j  ~  (<v, fn(x + eps e_j)> - <v, fn(x - eps e_j)>) / (2 eps).

Everything runs in float64: float32 round-off (~1e-7 relative) divided by
eps = 1e-6 would swamp the derivative.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from minigrad import autograd, backend
from minigrad.tensor import Tensor


class GradcheckError(AssertionError):
    """Raised by gradcheck when analytic and numeric gradients disagree."""


def _fn_name(fn, out):
    name = getattr(fn, "__name__", None) or type(fn).__name__
    if out is not None and out.grad_fn is not None:
        return f"{name} (output from {out.grad_fn.name})"
    return name


def _scalar(out, v):
    """<v, out> as a Python float (out may be a Tensor or a tuple of them)."""
    outs = out if isinstance(out, (tuple, list)) else (out,)
    return float(sum(float((o.data * vi).sum()) for o, vi in zip(outs, v)))


def gradcheck(
    fn: Callable[..., Any],
    inputs: Tensor | Sequence[Any],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    seed: int = 0,
    max_report: int = 5,
) -> bool:
    """Check the gradients of ``fn`` at ``inputs`` by finite differences.

    ``inputs`` is a Tensor or a sequence of Tensors (and other arguments,
    passed through untouched). Every floating tensor with ``requires_grad``
    is checked; they must be float64. Returns True, or raises
    ``GradcheckError`` (False with ``raise_exception=False``) naming the
    function, the input, the worst elements, analytic vs numeric and the
    difference.

    >>> import minigrad
    >>> x = minigrad.tensor([0.5, -1.0, 2.0], dtype=minigrad.float64, requires_grad=True)
    >>> minigrad.gradcheck(lambda x: (x * x).tanh(), x)
    True
    >>> class BadSquare(minigrad.Function):
    ...     def forward(self, x):
    ...         self.save_for_backward(x)
    ...         return x * x
    ...     def backward(self, gy):
    ...         x, = self.saved_values
    ...         return gy * x                    # the factor 2 is missing
    >>> minigrad.gradcheck(lambda x: BadSquare()(x), x)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
      ...
    minigrad.gradcheck.GradcheckError: gradcheck failed for <lambda> (output from BadSquare): input 0 (shape (3,)): ...
      index (2,): analytic 1.2808453  numeric 2.5616906  diff 1.28
      index (1,): analytic 0.13210486  numeric 0.26420973  diff 0.132
      index (0,): analytic 0.062865111  numeric 0.12573022  diff 0.0629
    """
    if isinstance(inputs, Tensor):
        inputs = (inputs,)
    return _check(
        fn,
        tuple(inputs),
        "gradcheck",
        _fn_name,
        lambda i: f"input {i}",
        eps,
        atol,
        rtol,
        raise_exception,
        seed,
        max_report,
    )


def gradgradcheck(
    fn: Callable[..., Any],
    inputs: Tensor | Sequence[Any],
    grad_outputs: Tensor | Sequence[Tensor] | None = None,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    seed: int = 0,
    max_report: int = 5,
) -> bool:
    """Check the second-order gradients of ``fn`` at ``inputs`` by finite differences, as PyTorch's.

    With u the output cotangents (``grad_outputs``, random if None) the first
    gradients g(x, u) = u^T J(x) are computed with ``create_graph=True``, and
    their backward (for another random cotangent) is compared with central
    differences of g, over every input x and over u. A mismatch names the
    function, the forward op, which input (or ``grad_output``), the worst
    indices, analytic vs numeric.

    >>> import minigrad
    >>> x = minigrad.randn(3, dtype=minigrad.float64, requires_grad=True)
    >>> minigrad.gradgradcheck(lambda x: (x * x).tanh(), [x])
    True
    """
    if isinstance(inputs, Tensor):
        inputs = (inputs,)
    inputs = tuple(inputs)
    diff_idx = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not diff_idx:
        raise ValueError("gradgradcheck: no input requires grad; nothing to check")
    with autograd.enable_grad():
        outs = fn(*inputs)
    outs = tuple(outs) if isinstance(outs, (tuple, list)) else (outs,)
    outs = [o for o in outs if o.requires_grad]
    if not outs:
        raise ValueError(f"gradgradcheck: the output of {_fn_name(fn, None)} does not require grad")
    forward_name = _fn_name(fn, outs[0])
    if grad_outputs is None:
        rng = np.random.default_rng(seed + 1)
        grad_outputs = [
            Tensor(backend.to_device(rng.standard_normal(o.shape), o.device).astype(o.dtype), requires_grad=True)
            for o in outs
        ]
    us: tuple[Any, ...] = tuple(grad_outputs) if isinstance(grad_outputs, (tuple, list)) else (grad_outputs,)
    n_in = len(inputs)

    def first_gradients(*args):
        xs, us = args[:n_in], args[n_in:]
        with autograd.enable_grad():
            ys = fn(*xs)
            ys = tuple(ys) if isinstance(ys, (tuple, list)) else (ys,)
            ys = [y for y in ys if y.requires_grad]
            gs = autograd.grad(ys, [xs[i] for i in diff_idx], us, create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None and g.requires_grad)

    def describe(i):
        return f"input {i}" if i < n_in else f"grad_output {i - n_in}"

    def name(_fn, _out):
        return f"the first gradients of {forward_name}"

    return _check(
        first_gradients,
        inputs + us,
        "gradgradcheck",
        name,
        describe,
        eps,
        atol,
        rtol,
        raise_exception,
        seed,
        max_report,
    )


def _check(fn, inputs, op, fn_name, describe, eps, atol, rtol, raise_exception, seed, max_report):
    """Backward of fn for a random cotangent against central differences, input by input (see gradcheck)."""
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError(f"{op}: no input requires grad; nothing to check")
    for i in checked:
        if inputs[i].dtype != np.float64:
            raise TypeError(
                f"{op}: {describe(i)} has dtype {inputs[i].dtype}; finite differences need float64 "
                f"(float32 round-off divided by eps={eps} would swamp the derivative). "
                f"Use x.double() or minigrad.tensor(..., dtype=minigrad.float64)."
            )

    # analytic: v^T J through backward
    for i in checked:
        inputs[i].grad = None
        # perturbation below writes through a flat view, which needs contiguous data
        if not inputs[i].data.flags.c_contiguous:  # (ascontiguousarray would make a 0-d input 1-d)
            inputs[i].data = inputs[i].xp.ascontiguousarray(inputs[i].data)
    out = fn(*inputs)
    outs = out if isinstance(out, (tuple, list)) else (out,)
    rng = np.random.default_rng(seed)
    v = [backend.to_device(rng.standard_normal(o.shape), o.device).astype(o.dtype) for o in outs]
    if not any(o.requires_grad for o in outs):
        raise ValueError(f"{op}: the output of {fn_name(fn, None)} does not require grad (no graph recorded)")
    loss: Tensor | None = None
    for o, vi in zip(outs, v):
        if o.requires_grad:
            term = (o * Tensor(vi)).sum()
            loss = term if loss is None else loss + term
    assert loss is not None  # some output requires grad (checked above)
    loss.backward()
    name = fn_name(fn, outs[0])

    ok = True
    report = []
    for i in checked:
        x = inputs[i]
        analytic = backend.as_numpy(x.grad.data) if x.grad is not None else np.zeros(x.shape)
        numeric = np.zeros(x.shape)
        flat = x.data.reshape(-1)  # a view: perturbing it perturbs x
        with autograd.no_grad():
            for j in range(flat.size):
                orig = float(flat[j])
                flat[j] = orig + eps
                f_plus = _scalar(fn(*inputs), v)
                flat[j] = orig - eps
                f_minus = _scalar(fn(*inputs), v)
                flat[j] = orig
                numeric.reshape(-1)[j] = (f_plus - f_minus) / (2 * eps)
        diff = np.abs(analytic - numeric)
        diff = np.where(np.isnan(diff), np.inf, diff)  # a NaN gradient must fail, and be reported first
        bad = diff > atol + rtol * np.abs(numeric)
        if bad.any():
            ok = False
            worst = np.argsort(-diff, axis=None)[:max_report]
            lines = [
                f"{op} failed for {name}: {describe(i)} (shape {x.shape}): "
                f"{int(bad.sum())} of {x.data.size} elements differ (atol={atol}, rtol={rtol})"
            ]
            for flat_idx in worst:
                idx = np.unravel_index(flat_idx, x.shape) if x.shape else ()
                idx = tuple(int(k) for k in idx)
                lines.append(
                    f"  index {idx}: analytic {analytic[idx]:.8g}  numeric {numeric[idx]:.8g}  diff {diff[idx]:.3g}"
                )
            report.append("\n".join(lines))
    if not ok and raise_exception:
        raise GradcheckError("\n".join(report))
    return ok
