"""Activations: relu, leaky_relu, sigmoid, tanh, softplus, logsigmoid, softmax, log_softmax.

Each activation's Function and its functional form live here, the one home
of both: ``minigrad.relu`` / ``Tensor.relu`` and ``nn.functional.relu`` are
these functions, and the layers in ``minigrad.nn.activation`` call them.

All are written to stay finite for |x| up to 1e4 in float32: nothing ever
computes exp of a large positive number. Each backward is one formula on
arrays or (``create_graph=True``) Tensors; masks are constants.
"""

from __future__ import annotations

from functools import partial

from minigrad.autograd import Function
from minigrad.autograd.function import Array, Grad
from minigrad.autograd.piecewise import piecewise_scale
from minigrad.backend import get_array_module
from minigrad.ops.pointwise import Exp
from minigrad.tensor import Tensor


class ReLU(Function):
    """y = max(x, 0) ;  dx = gy [y > 0] (y > 0 exactly where x > 0)."""

    def forward(self, x: Array) -> Array:
        y = get_array_module(x).maximum(x, 0)
        self.save_for_backward(y)  # the output, as PyTorch: the input may be overwritten
        return y

    def backward(self, gy: Grad) -> Grad:
        (y,) = self.saved_values
        return piecewise_scale(gy, _positive, y)


def _positive(y: Array) -> Array:
    return y > 0


class LeakyReLU(Function):
    """y = x if x > 0 else a x ;  dx = gy if x > 0 else a gy.

    For 0 <= a <= 1 that is y = max(x, a x): two passes of arithmetic, no mask-select
    with ``where`` (the slow path on NumPy). The backward scales gy by
    s = a + (1 - a) [x > 0], again with arithmetic only.
    """

    def __init__(self, negative_slope: float = 0.01) -> None:
        self.slope = negative_slope

    def forward(self, x: Array) -> Array:
        xp = get_array_module(x)
        a = x.dtype.type(self.slope)
        self.save_for_backward(x)
        y = xp.multiply(x, a, out=xp.empty_like(x))  # out=: an array even when x is 0-d
        if 0 <= self.slope <= 1:
            return xp.maximum(x, y, out=y)
        return xp.where(x > 0, x, y)  # a > 1 or a < 0: max() is not the formula

    def backward(self, gy: Grad) -> Grad:
        (x,) = self.saved_values
        return piecewise_scale(gy, partial(_leaky_slope, a=self.slope), x)


def _leaky_slope(x: Array, a: float) -> Array:
    """1 where x > 0, else a, in x's dtype: arithmetic only."""
    dt = x.dtype
    s = (x > 0).astype(dt)
    s *= dt.type(1 - a)
    s += dt.type(a)
    return s


def stable_sigmoid(x: Array) -> Array:
    """1 / (1 + e^-x) without overflow: uses e^-|x| <= 1 on both sides."""
    xp = get_array_module(x)
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e))


def stable_softplus(x: Array) -> Array:
    """log(1 + e^x) = max(x, 0) + log1p(e^-|x|), finite for any x."""
    xp = get_array_module(x)
    return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))


class Sigmoid(Function):
    """y = 1 / (1 + e^-x) ;  dx = y (1 - y) gy."""

    def forward(self, x: Array) -> Array:
        y = stable_sigmoid(x)
        self.save_for_backward(y)
        return y

    def backward(self, gy: Grad) -> Grad:
        (y,) = self.saved_values
        return gy * y * (1 - y)


class Tanh(Function):
    """y = tanh x ;  dx = (1 - y^2) gy."""

    def forward(self, x: Array) -> Array:
        y = get_array_module(x).tanh(x)
        self.save_for_backward(y)
        return y

    def backward(self, gy: Grad) -> Grad:
        (y,) = self.saved_values
        return gy * (1 - y * y)


class Softplus(Function):
    """y = log(1 + e^x) ;  dx = sigmoid(x) gy."""

    autocast_policy = "fp32"  # PyTorch autocasts softplus to float32

    def forward(self, x: Array) -> Array:
        self.save_for_backward(x)
        return stable_softplus(x)

    def backward(self, gy: Grad) -> Grad:
        (x,) = self.saved_values
        return gy * Sigmoid().forward_or_record(x)


class LogSigmoid(Function):
    """y = log sigmoid(x) = -softplus(-x) ;  dx = sigmoid(-x) gy = (1 - sigmoid(x)) gy."""

    def forward(self, x: Array) -> Array:
        self.save_for_backward(x)
        return -stable_softplus(-x)

    def backward(self, gy: Grad) -> Grad:
        (x,) = self.saved_values
        return gy * Sigmoid().forward_or_record(-x)


class Softmax(Function):
    """y_i = e^(x_i - max) / sum_j e^(x_j - max) ;  dx = y (gy - sum_j gy_j y_j)."""

    autocast_policy = "fp32"  # PyTorch autocasts softmax to float32

    def __init__(self, axis: int = -1) -> None:
        self.axis = axis

    def forward(self, x: Array) -> Array:
        xp = get_array_module(x)
        e = xp.exp(x - x.max(axis=self.axis, keepdims=True))
        y = e / e.sum(axis=self.axis, keepdims=True)
        self.save_for_backward(y)
        return y

    def backward(self, gy: Grad) -> Grad:
        (y,) = self.saved_values
        return y * (gy - (gy * y).sum(axis=self.axis, keepdims=True))


class LogSoftmax(Function):
    """y = x - max - log sum_j e^(x_j - max) ;  dx = gy - softmax(x) sum_j gy_j."""

    autocast_policy = "fp32"  # PyTorch autocasts log_softmax to float32

    def __init__(self, axis: int = -1) -> None:
        self.axis = axis

    def forward(self, x: Array) -> Array:
        xp = get_array_module(x)
        shifted = x - x.max(axis=self.axis, keepdims=True)
        y = shifted - xp.log(xp.exp(shifted).sum(axis=self.axis, keepdims=True))
        self.save_for_backward(y)
        return y

    def backward(self, gy: Grad) -> Grad:
        (y,) = self.saved_values
        return gy - Exp().forward_or_record(y) * gy.sum(axis=self.axis, keepdims=True)


def relu(input: Tensor) -> Tensor:
    """max(x, 0), elementwise ;  dx = gy where x > 0."""
    return ReLU()(input)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x if x > 0 else negative_slope * x (``inplace`` is accepted for PyTorch compatibility; ignored)."""
    return LeakyReLU(negative_slope)(input)


def sigmoid(input: Tensor) -> Tensor:
    """y = 1 / (1 + e^-x), computed without overflow ;  dx = y (1 - y) gy."""
    return Sigmoid()(input)


def tanh(input: Tensor) -> Tensor:
    """y = tanh(x) ;  dx = (1 - y^2) gy."""
    return Tanh()(input)


def softplus(input: Tensor) -> Tensor:
    """log(1 + e^x), computed without overflow ;  dx = sigmoid(x) gy."""
    return Softplus()(input)


def logsigmoid(input: Tensor) -> Tensor:
    """log sigmoid(x) = -softplus(-x) ;  dx = sigmoid(-x) gy."""
    return LogSigmoid()(input)


def softmax(input: Tensor, dim: int = -1, *, axis: int | None = None) -> Tensor:
    """y_i = e^x_i / sum_j e^x_j along ``dim`` (``axis``, NumPy's keyword) ;  dx = y (gy - sum_j gy_j y_j)."""
    return Softmax(dim if axis is None else axis)(input)


def log_softmax(input: Tensor, dim: int = -1, *, axis: int | None = None) -> Tensor:
    """x_i - log sum_j e^x_j along ``dim`` ;  dx = gy - softmax(x) sum_j gy_j."""
    return LogSoftmax(dim if axis is None else axis)(input)
