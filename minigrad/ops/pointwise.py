"""Elementwise math: exp, log, sqrt, abs, maximum, minimum, where, clamp.

Masks (which input won, which elements were clamped) are constants of the
graph: the functions are piecewise smooth, and on each piece the mask does
not move.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from minigrad.autograd import Function, raw, sum_to
from minigrad.autograd.function import Array, Grad
from minigrad.autograd.piecewise import piecewise_scale
from minigrad.backend import get_array_module
from minigrad.ops.promotion import promote
from minigrad.tensor import Tensor

if TYPE_CHECKING:
    from minigrad.tensor import Operand


class Exp(Function):
    """y = e^x ;  dx = y gy."""

    autocast_policy = "fp32"  # PyTorch autocasts exp to float32

    def forward(self, x: Array) -> Array:
        y = get_array_module(x).exp(x)
        self.save_for_backward(y)
        return y

    def backward(self, gy: Grad) -> Grad:
        (y,) = self.saved_values
        return gy * y


class Log(Function):
    """y = ln x ;  dx = gy / x."""

    autocast_policy = "fp32"  # PyTorch autocasts log to float32

    def forward(self, x: Array) -> Array:
        self.save_for_backward(x)
        return get_array_module(x).log(x)

    def backward(self, gy: Grad) -> Grad:
        (x,) = self.saved_values
        return gy / x


class Sqrt(Function):
    """y = sqrt(x) ;  dx = gy / (2 y)."""

    def forward(self, x: Array) -> Array:
        y = get_array_module(x).sqrt(x)
        self.save_for_backward(y)
        return y

    def backward(self, gy: Grad) -> Grad:
        (y,) = self.saved_values
        return gy / (2 * y)


class Abs(Function):
    """y = |x| ;  dx = sign(x) gy (0 at x = 0, as in PyTorch)."""

    def forward(self, x: Array) -> Array:
        self.save_for_backward(x)
        return get_array_module(x).abs(x)

    def backward(self, gy: Grad) -> Grad:
        (x,) = self.saved_values
        return piecewise_scale(gy, _sign, x)


def _sign(x: Array) -> Array:
    return get_array_module(x).sign(x)


class Maximum(Function):
    """y = max(a, b) elementwise; the gradient goes to the larger input, split evenly on ties."""

    def forward(self, a: Array, b: Array) -> Array:
        self.save_for_backward(a, b)
        return get_array_module(a).maximum(a, b)

    def backward(self, gy: Grad) -> tuple[Grad | None, ...]:
        return _split_by_winner(self, gy, larger=True)


class Minimum(Function):
    """y = min(a, b) elementwise; the gradient goes to the smaller input, split evenly on ties."""

    def forward(self, a: Array, b: Array) -> Array:
        self.save_for_backward(a, b)
        return get_array_module(a).minimum(a, b)

    def backward(self, gy: Grad) -> tuple[Grad | None, ...]:
        return _split_by_winner(self, gy, larger=False)


def _share(a: Array, b: Array, larger: bool, of_a: bool) -> Array:
    """a's share of the gradient: 1 where a wins, 0.5 on ties, 0 otherwise (b's: 1 minus that), in a's dtype."""
    w = ((a > b) if larger else (a < b)).astype(a.dtype)
    w += (a == b) * a.dtype.type(0.5)
    return w if of_a else 1 - w


def _split_by_winner(fn: Function, gy: Grad, larger: bool) -> tuple[Grad | None, Grad | None]:
    a, b = fn.saved_values
    ga = gb = None
    if fn.needs_input_grad[0]:
        ga = sum_to(piecewise_scale(gy, partial(_share, larger=larger, of_a=True), a, b), a.shape)
    if fn.needs_input_grad[1]:
        gb = sum_to(piecewise_scale(gy, partial(_share, larger=larger, of_a=False), a, b), b.shape)
    return ga, gb


class Where(Function):
    """y = cond ? a : b ;  da = gy where cond, db = gy elsewhere. ``cond`` is a constant mask."""

    def __init__(self, cond: Array) -> None:
        self.cond = cond

    def forward(self, a: Array, b: Array) -> Array:
        self.shapes = a.shape, b.shape
        return get_array_module(a).where(self.cond, a, b)

    def backward(self, gy: Grad) -> tuple[Grad | None, ...]:
        zero = get_array_module(raw(gy)).zeros((), dtype=raw(gy).dtype)
        ga = sum_to(Where(self.cond).forward_or_record(gy, zero), self.shapes[0]) if self.needs_input_grad[0] else None
        gb = sum_to(Where(self.cond).forward_or_record(zero, gy), self.shapes[1]) if self.needs_input_grad[1] else None
        return ga, gb


class Clamp(Function):
    """y = min(max(x, lo), hi) ;  dx = gy where lo <= x <= hi, else 0 (PyTorch's rule)."""

    def __init__(self, lo: float | None = None, hi: float | None = None) -> None:
        self.lo, self.hi = lo, hi

    def forward(self, x: Array) -> Array:
        self.save_for_backward(x)
        return get_array_module(x).clip(x, self.lo, self.hi)

    def backward(self, gy: Grad) -> Grad:
        (x,) = self.saved_values
        return piecewise_scale(gy, partial(_within, lo=self.lo, hi=self.hi), x)


def _within(x: Array, lo: Any, hi: Any) -> Array:
    """[lo <= x <= hi], a bound that is None left out."""
    mask = get_array_module(x).ones(x.shape, dtype=bool)
    if lo is not None:
        mask &= x >= lo
    if hi is not None:
        mask &= x <= hi
    return mask


def exp(x: Tensor) -> Tensor:
    """e^x, elementwise ;  dx = e^x gy."""
    return Exp()(x)


def log(x: Tensor) -> Tensor:
    """ln x, elementwise ;  dx = gy / x."""
    return Log()(x)


def sqrt(x: Tensor) -> Tensor:
    """sqrt(x), elementwise ;  dx = gy / (2 sqrt(x))."""
    return Sqrt()(x)


def abs(x: Tensor) -> Tensor:
    """|x|, elementwise ;  dx = sign(x) gy (0 at x = 0, as PyTorch)."""
    return Abs()(x)


def maximum(a: Operand, b: Operand) -> Tensor:
    """max(a, b), elementwise and broadcast ;  the gradient goes to the larger input, split evenly on ties."""
    return Maximum()(*promote(a, b))


def minimum(a: Operand, b: Operand) -> Tensor:
    """min(a, b), elementwise and broadcast ;  the gradient goes to the smaller input, split evenly on ties."""
    return Minimum()(*promote(a, b))


def where(condition: Any, a: Operand, b: Operand) -> Tensor:
    """Elementwise select; ``condition`` may be a bool Tensor or array (never differentiated)."""
    cond = condition.data if isinstance(condition, Tensor) else condition
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        raise TypeError("where: at least one of a and b must be a Tensor")
    ref = next(t for t in (a, b) if isinstance(t, Tensor))
    cond = ref.xp.asarray(cond)
    return Where(cond)(a, b)


def clamp(x: Tensor, min: float | None = None, max: float | None = None) -> Tensor:
    """min(max(x, min), max), elementwise (either bound may be None) ;  dx = gy where min <= x <= max, else 0."""
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    return Clamp(min, max)(x)
