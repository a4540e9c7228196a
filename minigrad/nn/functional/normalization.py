"""Normalisation, each kind one Function: batch_norm normalises each channel over the batch (Ioffe & Szegedy
2015), layer_norm each sample over its trailing dimensions (Ba, Kiros & Hinton 2016)."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

from minigrad.amp import autocast_mode
from minigrad.autograd import Function, is_tensor, raw
from minigrad.autograd.function import Array, Grad
from minigrad.backend import get_array_module
from minigrad.ops.pointwise import Sqrt
from minigrad.tensor import Tensor


def _per_channel_sum(a3: Grad) -> Grad:
    """sum over n and l of a3 (N, C, L) -> (C,): a matrix-vector product, one fast pass (BLAS)."""
    xp = get_array_module(raw(a3))
    N, C, L = a3.shape
    if L == 1:
        return a3.reshape(N, C).sum(axis=0)
    return (a3.reshape(N * C, L) @ xp.ones(L, dtype=a3.dtype)).reshape(N, C).sum(axis=0)


def _per_channel_dot(a3: Grad, b3: Grad) -> Grad:
    """sum over n and l of a3 * b3 (both (N, C, L)) -> (C,), without an (N, C, L) temporary."""
    N, C, L = a3.shape
    if L == 1:
        return (a3 * b3).reshape(N, C).sum(axis=0)
    return (a3.reshape(N * C, 1, L) @ b3.reshape(N * C, L, 1)).reshape(N, C).sum(axis=0)


def _subtract(a: Grad, b: Grad) -> Grad:
    """a - b: in place into a's buffer on raw arrays (a is a temporary of backward), recorded on Tensors."""
    if is_tensor(a):
        return a - b
    a -= b
    return a


class BatchNorm(Function):
    """y = xhat * gamma + beta,  xhat = (x - mu) / sqrt(var + eps), per channel (axis 1).

    Training: mu and var (biased) are the batch statistics over every axis
    but 1, so every output depends on the whole batch. With n values per
    channel and dxhat = gamma gy, the closed-form gradient is

        dx     = (inv_std / n) (n dxhat - sum(dxhat) - xhat sum(dxhat xhat))
               = gamma inv_std (gy - mean(gy) - xhat mean(gy xhat)),
        dgamma = sum(gy xhat),   dbeta = sum(gy).

    Eval: mu and var are the running statistics (constants), so
    dx = gamma inv_std gy.

    The running statistics are updated in place during a training forward:
    running = (1 - momentum) running + momentum * batch_stat, with the
    unbiased variance var * n / (n - 1), as PyTorch does.

    Speed: the per-channel sums are matrix-vector products on the (N, C, L)
    view (one pass, BLAS) instead of NumPy reductions over axes (0, 2, 3), and
    xhat is never stored: forward keeps xc = x - mu and inv_std, and the
    per-channel factors are folded so that each full-size pass does one thing.
    """

    autocast_policy = "fp32"  # unlisted in PyTorch (cuDNN keeps its statistics in float32); float32 here

    def __init__(
        self,
        running_mean: Tensor | None,
        running_var: Tensor | None,
        training: bool,
        momentum: float,
        eps: float,
        has_weight: bool,
        has_bias: bool,
    ) -> None:
        self.running_mean, self.running_var = running_mean, running_var
        self.training, self.momentum, self.eps = training, momentum, eps
        self.has_weight, self.has_bias = has_weight, has_bias

    def forward(self, x: Array, *params: Array) -> Array:
        xp = get_array_module(x)
        N, c = x.shape[0], x.shape[1]
        x3 = x.reshape(N, c, -1)
        bshape = (1, c, 1)
        w = params[0] if self.has_weight else None
        b = params[-1] if self.has_bias else None
        dt = x.dtype.type
        if self.training:
            n = x3.shape[0] * x3.shape[2]
            mean = _per_channel_sum(x3) / dt(n)
            xc = x3 - mean.reshape(bshape)
            var = _per_channel_dot(xc, xc) / dt(n)  # biased: normalisation uses 1/n
            self._update_running(mean, var, n)
        else:
            # a copy (C values): a later in-place update of the running mean must not reach this graph's backward
            mean = raw(self.running_mean).astype(x.dtype)
            var = raw(self.running_var).astype(x.dtype, copy=False)
            xc = x3 - mean.reshape(bshape)
        inv_std = 1 / xp.sqrt(var + dt(self.eps))
        # xc and inv_std are the first-order backward's cache; under create_graph xc is recomputed from x
        # (and, in training, inv_std too)
        self.save_for_backward(x, w, xc, inv_std, mean)
        scale = inv_std if w is None else inv_std * w  # y = xc * scale + beta
        y = xc * scale.reshape(bshape)
        if b is not None:
            y += b.reshape(bshape)
        return y.reshape(x.shape)

    def _update_running(self, mean: Array, var: Array, n: int) -> None:
        m = self.momentum
        rm, rv = self.running_mean, self.running_var
        if rm is not None:
            rm.mul_(1 - m).add_((rm.dtype.type(m) * mean).astype(rm.dtype, copy=False))
        if rv is not None:
            rv.mul_(1 - m).add_((rv.dtype.type(m * n / (n - 1)) * var).astype(rv.dtype, copy=False))

    def _statistics(self, x3: Grad, mean: Array, inv_std: Array) -> tuple[Grad, Grad]:
        """(xc, inv_std) of x3 (N, C, L) in the mode of the forward, written on Tensors for create_graph.

        Eval: the running statistics of the forward (``mean``, ``inv_std``) are constants."""
        bshape = (1, x3.shape[1], 1)
        if not self.training:
            return x3 - mean.reshape(bshape), inv_std
        n = x3.shape[0] * x3.shape[2]
        xc = x3 - (_per_channel_sum(x3) / n).reshape(bshape)
        var = _per_channel_dot(xc, xc) / n
        return xc, 1 / Sqrt().forward_or_record(var + self.eps)

    def backward(self, gy: Grad) -> tuple[Grad | None, ...]:
        x, w, xc, inv_std, mean = self.saved_values
        if is_tensor(gy):
            xc, inv_std = self._statistics(x.reshape(x.shape[0], x.shape[1], -1), mean, inv_std)
        gy3 = gy.reshape(xc.shape)
        bshape = (1, xc.shape[1], 1)
        need = self.needs_input_grad
        dbeta = _per_channel_sum(gy3)
        want_dgamma = (self.training and need[0]) or (self.has_weight and need[1])
        dgamma = _per_channel_dot(gy3, xc) * inv_std if want_dgamma else None  # sum(gy xhat)
        dx = None
        if need[0]:
            scale = inv_std if w is None else inv_std * w
            dx = gy3 * scale.reshape(bshape)
            if self.training:
                # gamma inv_std (gy - mean(gy) - xhat mean(gy xhat)), with xhat = xc inv_std
                n = xc.shape[0] * xc.shape[2]
                dx = _subtract(dx, xc * (scale * inv_std * dgamma / n).reshape(bshape))
                dx = _subtract(dx, (scale * dbeta / n).reshape(bshape))
            dx = dx.reshape(gy.shape)
        grads = [dx]
        if self.has_weight:
            grads.append(dgamma if need[1] else None)
        if self.has_bias:
            grads.append(dbeta if need[-1] else None)
        return tuple(grads)


def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Batch normalisation of (N, C) or (N, C, *spatial) input over all axes but 1.

    ``running_mean``/``running_var`` (Tensors or arrays of shape (C,), or None)
    are updated in place when ``training``; without them the batch statistics
    are always used. ``weight``/``bias`` (gamma, beta) may be None.
    """
    x = input if isinstance(input, Tensor) else Tensor(input)
    op = "batch_norm"
    if x.ndim < 2:
        raise ValueError(f"{op}: expected input of shape (N, C) or (N, C, *spatial), got {tuple(x.shape)}")
    c = x.shape[1]
    rm, rv = running_mean, running_var
    for name, t in (("running_mean", rm), ("running_var", rv), ("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != (c,):
            raise ValueError(
                f"{op}: {name} must have shape ({c},) for input of shape {tuple(x.shape)} (C = {c}), "
                f"got {tuple(t.shape)}"
            )
    if not training and (rm is None or rv is None):
        raise ValueError(f"{op}: running_mean and running_var must be given when training=False")
    if training and x.data.size // max(c, 1) <= 1:
        raise ValueError(
            f"{op}: expected more than 1 value per channel when training, got input of shape {tuple(x.shape)}"
        )
    _check_affine_dtypes(op, x, weight, bias)
    rm = rm if rm is None or isinstance(rm, Tensor) else Tensor(rm)
    rv = rv if rv is None or isinstance(rv, Tensor) else Tensor(rv)
    fn = BatchNorm(rm, rv, bool(training), float(momentum), float(eps), weight is not None, bias is not None)
    params = [t for t in (weight, bias) if t is not None]
    return fn(x, *params)


def _row_statistics(x2: Grad, eps: float) -> tuple[Grad, Grad]:
    """(xhat, inv_std) of the rows of x2 (M, N): xhat = (x - mean) inv_std, inv_std = 1 / sqrt(var + eps) with the
    biased variance; the same code on raw arrays and on Tensors (create_graph)."""
    xc = x2 - x2.mean(axis=1, keepdims=True)
    var = (xc * xc).mean(axis=1, keepdims=True)
    if is_tensor(x2):
        inv_std = 1 / Sqrt().forward_or_record(var + eps)
    else:
        inv_std = 1 / get_array_module(x2).sqrt(var + x2.dtype.type(eps))
    return xc * inv_std, inv_std


class LayerNorm(Function):
    """y = xhat * gamma + beta,  xhat = (x - mu) / sqrt(var + eps), mu and var (biased) over the trailing dims.

    With the input viewed as M rows of N = prod(normalized_shape) values, each
    row is normalised on its own (no batch statistics, no running state). With
    dxhat = gamma gy, the closed-form gradient of one row is

        dx     = inv_std (dxhat - mean(dxhat) - xhat mean(dxhat xhat)),
        dgamma = sum over rows of gy xhat,   dbeta = sum over rows of gy.

    First-order backward reads xhat and inv_std from the forward; under
    create_graph both are recomputed from x on Tensors, so the gradient is
    itself differentiable.
    """

    autocast_policy = "fp32"  # PyTorch autocasts layer_norm to float32

    def __init__(self, normalized_shape: tuple[int, ...], eps: float, has_weight: bool, has_bias: bool) -> None:
        self.normalized_shape, self.eps = normalized_shape, eps
        self.n_features = math.prod(normalized_shape)
        self.has_weight, self.has_bias = has_weight, has_bias

    def forward(self, x: Array, *params: Array) -> Array:
        self.shapes = [x.shape] + [p.shape for p in params]
        if self.n_features == 0:  # nothing to normalise: an empty output, as PyTorch (and no mean of nothing)
            return x.copy()
        w = params[0] if self.has_weight else None
        b = params[-1] if self.has_bias else None
        xhat, inv_std = _row_statistics(x.reshape(-1, self.n_features), self.eps)
        self.save_for_backward(x, w, xhat, inv_std)
        y = xhat * w.reshape(-1) if w is not None else xhat.copy()
        if b is not None:
            y += b.reshape(-1)
        return y.reshape(x.shape)

    def backward(self, gy: Grad) -> tuple[Grad | None, ...]:
        if self.n_features == 0:  # every input is empty, and so is its gradient
            xp = get_array_module(raw(gy))
            return tuple(xp.zeros(shape, raw(gy).dtype) for shape in self.shapes)
        x, w, xhat, inv_std = self.saved_values
        if is_tensor(gy):
            xhat, inv_std = _row_statistics(x.reshape(-1, self.n_features), self.eps)
        g = gy.reshape(xhat.shape)
        need = self.needs_input_grad
        dx = None
        if need[0]:
            dxhat = g * w.reshape(-1) if w is not None else g
            mean_dxhat = dxhat.mean(axis=1, keepdims=True)
            mean_dxhat_xhat = (dxhat * xhat).mean(axis=1, keepdims=True)
            dx = ((dxhat - mean_dxhat - xhat * mean_dxhat_xhat) * inv_std).reshape(gy.shape)
        grads = [dx]
        if self.has_weight:
            grads.append((g * xhat).sum(axis=0).reshape(self.normalized_shape) if need[1] else None)
        if self.has_bias:
            grads.append(g.sum(axis=0).reshape(self.normalized_shape) if need[-1] else None)
        return tuple(grads)


def layer_norm(
    input: Tensor,
    normalized_shape: int | Sequence[int],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Layer normalisation of ``input`` (..., *normalized_shape) over its trailing len(normalized_shape) dims.

    y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias, with the mean and the
    biased variance of each sample over those dims, as PyTorch's. ``weight``
    and ``bias`` (shape normalized_shape) may be None.
    """
    op = "layer_norm"
    x = input if isinstance(input, Tensor) else Tensor(input)
    if x.dtype.kind != "f":  # as PyTorch: no integer mean and variance
        raise ValueError(f"{op}: input must be floating point, got dtype {x.dtype}")
    shape = as_normalized_shape(normalized_shape, op)
    k = len(shape)
    if x.ndim < k or tuple(x.shape[x.ndim - k :]) != shape:
        star = ", ".join(["*"] + [str(d) for d in shape])
        raise ValueError(
            f"{op}: normalized_shape {shape} expects input of shape ({star}), got input of shape {tuple(x.shape)}"
        )
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != shape:
            raise ValueError(f"{op}: {name} must have shape normalized_shape {shape}, got {tuple(t.shape)}")
    _check_affine_dtypes(op, x, weight, bias)
    fn = LayerNorm(shape, float(eps), weight is not None, bias is not None)
    return fn(x, *[t for t in (weight, bias) if t is not None])


def as_normalized_shape(normalized_shape: int | Sequence[int], op: str) -> tuple[int, ...]:
    """normalized_shape as a tuple of ints (an int is a 1-tuple); empty, negative or non-integer sizes are errors."""
    dims = (normalized_shape,) if isinstance(normalized_shape, numbers.Integral) else normalized_shape
    if not isinstance(dims, Sequence) or not all(isinstance(d, numbers.Integral) for d in dims):
        raise TypeError(f"{op}: normalized_shape must be an int or a sequence of ints, got {normalized_shape!r}")
    if not dims or any(d < 0 for d in dims):
        raise ValueError(f"{op}: normalized_shape must be non-empty with non-negative sizes, got {normalized_shape!r}")
    return tuple(int(d) for d in dims)


def _check_affine_dtypes(op: str, x: Tensor, weight: Tensor | None, bias: Tensor | None) -> None:
    """weight and bias (either may be None) must have the input's dtype (as the op will see them under autocast,
    which runs both normalisations in float32)."""
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and autocast_mode.seen_dtype(t, "fp32") != autocast_mode.seen_dtype(x, "fp32"):
            raise ValueError(f"{op}: {name} dtype {t.dtype} differs from input dtype {x.dtype}")
