"""Elementwise math: exp, log, sqrt, abs, maximum, minimum, where, clamp.

Masks (which input won, which elements were clamped) are constants of the
graph: the functions are piecewise smooth, and on each piece the mask does
not move.
"""

from functools import partial

from minigrad.autograd import Function, raw, sum_to
from minigrad.autograd.piecewise import piecewise_scale
from minigrad.backend import get_array_module
from minigrad.ops.promotion import promote
from minigrad.tensor import Tensor


class Exp(Function):
    """y = e^x ;  dx = y gy."""

    def forward(self, x):
        y = get_array_module(x).exp(x)
        self.save_for_backward(y)
        return y

    def backward(self, gy):
        (y,) = self.saved_values
        return gy * y


class Log(Function):
    """y = ln x ;  dx = gy / x."""

    def forward(self, x):
        self.save_for_backward(x)
        return get_array_module(x).log(x)

    def backward(self, gy):
        (x,) = self.saved_values
        return gy / x


class Sqrt(Function):
    """y = sqrt(x) ;  dx = gy / (2 y)."""

    def forward(self, x):
        y = get_array_module(x).sqrt(x)
        self.save_for_backward(y)
        return y

    def backward(self, gy):
        (y,) = self.saved_values
        return gy / (2 * y)


class Abs(Function):
    """y = |x| ;  dx = sign(x) gy (0 at x = 0, as in PyTorch)."""

    def forward(self, x):
        self.save_for_backward(x)
        return get_array_module(x).abs(x)

    def backward(self, gy):
        (x,) = self.saved_values
        return piecewise_scale(gy, _sign, x)


def _sign(x):
    return get_array_module(x).sign(x)


class Maximum(Function):
    """y = max(a, b) elementwise; the gradient goes to the larger input, split evenly on ties."""

    def forward(self, a, b):
        self.save_for_backward(a, b)
        return get_array_module(a).maximum(a, b)

    def backward(self, gy):
        return _split_by_winner(self, gy, larger=True)


class Minimum(Function):
    """y = min(a, b) elementwise; the gradient goes to the smaller input, split evenly on ties."""

    def forward(self, a, b):
        self.save_for_backward(a, b)
        return get_array_module(a).minimum(a, b)

    def backward(self, gy):
        return _split_by_winner(self, gy, larger=False)


def _share(a, b, larger, of_a):
    """a's share of the gradient: 1 where a wins, 0.5 on ties, 0 otherwise (b's: 1 minus that), in a's dtype."""
    w = ((a > b) if larger else (a < b)).astype(a.dtype)
    w += (a == b) * a.dtype.type(0.5)
    return w if of_a else 1 - w


def _split_by_winner(fn, gy, larger):
    a, b = fn.saved_values
    ga = gb = None
    if fn.needs_input_grad[0]:
        ga = sum_to(piecewise_scale(gy, partial(_share, larger=larger, of_a=True), a, b), a.shape)
    if fn.needs_input_grad[1]:
        gb = sum_to(piecewise_scale(gy, partial(_share, larger=larger, of_a=False), a, b), b.shape)
    return ga, gb


class Where(Function):
    """y = cond ? a : b ;  da = gy where cond, db = gy elsewhere. ``cond`` is a constant mask."""

    def __init__(self, cond):
        self.cond = cond

    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        return get_array_module(a).where(self.cond, a, b)

    def backward(self, gy):
        zero = get_array_module(raw(gy)).zeros((), dtype=raw(gy).dtype)
        ga = sum_to(Where(self.cond).forward_or_record(gy, zero), self.shapes[0]) if self.needs_input_grad[0] else None
        gb = sum_to(Where(self.cond).forward_or_record(zero, gy), self.shapes[1]) if self.needs_input_grad[1] else None
        return ga, gb


class Clamp(Function):
    """y = min(max(x, lo), hi) ;  dx = gy where lo <= x <= hi, else 0 (PyTorch's rule)."""

    def __init__(self, lo=None, hi=None):
        self.lo, self.hi = lo, hi

    def forward(self, x):
        self.save_for_backward(x)
        return get_array_module(x).clip(x, self.lo, self.hi)

    def backward(self, gy):
        (x,) = self.saved_values
        return piecewise_scale(gy, partial(_within, lo=self.lo, hi=self.hi), x)


def _within(x, lo, hi):
    """[lo <= x <= hi], a bound that is None left out."""
    mask = get_array_module(x).ones(x.shape, dtype=bool)
    if lo is not None:
        mask &= x >= lo
    if hi is not None:
        mask &= x <= hi
    return mask


def exp(x):
    return Exp()(x)


def log(x):
    return Log()(x)


def sqrt(x):
    return Sqrt()(x)


def abs(x):
    return Abs()(x)


def maximum(a, b):
    return Maximum()(*promote(a, b))


def minimum(a, b):
    return Minimum()(*promote(a, b))


def where(condition, a, b):
    """Elementwise select; ``condition`` may be a bool Tensor or array (never differentiated)."""
    cond = condition.data if isinstance(condition, Tensor) else condition
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        raise TypeError("where: at least one of a and b must be a Tensor")
    ref = a if isinstance(a, Tensor) else b
    cond = ref.xp.asarray(cond)
    return Where(cond)(a, b)


def clamp(x, min=None, max=None):
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    return Clamp(min, max)(x)
