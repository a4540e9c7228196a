"""layer_norm: normalise each sample over its trailing dimensions (Ba, Kiros & Hinton 2016), as one Function."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

from minigrad.amp import autocast_mode
from minigrad.autograd import Function, is_graph
from minigrad.backend import get_array_module
from minigrad.ops.pointwise import Sqrt
from minigrad.tensor import Tensor


def _statistics(x2, eps):
    """(xhat, inv_std) of the rows of x2 (M, N): xhat = (x - mean) inv_std, inv_std = 1 / sqrt(var + eps) with the
    biased variance; the same code on raw arrays and on Tensors (create_graph)."""
    xc = x2 - x2.mean(axis=1, keepdims=True)
    var = (xc * xc).mean(axis=1, keepdims=True)
    if is_graph(x2):
        inv_std = 1 / Sqrt().apply(var + eps)
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

    def __init__(self, normalized_shape, eps, has_weight, has_bias):
        self.normalized_shape, self.eps = normalized_shape, eps
        self.n_features = math.prod(normalized_shape)
        self.has_weight, self.has_bias = has_weight, has_bias

    def forward(self, x, *params):
        w = params[0] if self.has_weight else None
        b = params[-1] if self.has_bias else None
        xhat, inv_std = _statistics(x.reshape(-1, self.n_features), self.eps)
        self.save_for_backward(x, w, xhat, inv_std)
        y = xhat * w.reshape(-1) if w is not None else xhat.copy()
        if b is not None:
            y += b.reshape(-1)
        return y.reshape(x.shape)

    def backward(self, gy):
        x, w, xhat, inv_std = self.saved_tensors
        if is_graph(gy):
            xhat, inv_std = _statistics(x.reshape(-1, self.n_features), self.eps)
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
    shape = as_normalized_shape(normalized_shape, op)
    k = len(shape)
    if x.ndim < k or tuple(x.shape[x.ndim - k :]) != shape:
        star = ", ".join(["*"] + [str(d) for d in shape])
        raise ValueError(
            f"{op}: normalized_shape {shape} expects input of shape ({star}), got input of shape {tuple(x.shape)}"
        )
    for name, t in (("weight", weight), ("bias", bias)):
        if t is None:
            continue
        if tuple(t.shape) != shape:
            raise ValueError(f"{op}: {name} must have shape normalized_shape {shape}, got {tuple(t.shape)}")
        if autocast_mode.seen_dtype(t, "fp32") != autocast_mode.seen_dtype(x, "fp32"):
            raise ValueError(f"{op}: {name} dtype {t.dtype} differs from input dtype {x.dtype}")
    fn = LayerNorm(shape, float(eps), weight is not None, bias is not None)
    return fn(x, *[t for t in (weight, bias) if t is not None])


def as_normalized_shape(normalized_shape, op):
    """normalized_shape as a tuple of ints (an int is a 1-tuple); empty, negative or non-integer sizes are errors."""
    dims = (normalized_shape,) if isinstance(normalized_shape, numbers.Integral) else normalized_shape
    if not isinstance(dims, Sequence) or not all(isinstance(d, numbers.Integral) for d in dims):
        raise TypeError(f"{op}: normalized_shape must be an int or a sequence of ints, got {normalized_shape!r}")
    if not dims or any(d < 0 for d in dims):
        raise ValueError(f"{op}: normalized_shape must be non-empty with non-negative sizes, got {normalized_shape!r}")
    return tuple(int(d) for d in dims)
