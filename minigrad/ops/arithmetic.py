"""Elementwise arithmetic: + - * / neg and pow, with broadcasting.

In backward, each input's gradient is reduced back to that input's shape with
``sum_to`` (broadcasting copies a value to many outputs, so its gradient is
the sum of theirs). Every formula uses operators only, so it runs on arrays
and, under ``create_graph=True``, on Tensors.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeGuard

from minigrad.autograd import Function, raw, sum_to
from minigrad.autograd.function import Array, Grad
from minigrad.autograd.piecewise import piecewise_scale
from minigrad.backend import get_array_module
from minigrad.ops.pointwise import Log, Where
from minigrad.ops.promotion import promote
from minigrad.tensor import Tensor

if TYPE_CHECKING:
    from minigrad.tensor import Operand


class Add(Function):
    """y = a + b ;  da = gy, db = gy."""

    def forward(self, a: Array, b: Array) -> Array:
        self.shapes = a.shape, b.shape
        return a + b

    def backward(self, gy: Grad) -> tuple[Grad | None, ...]:
        sa, sb = self.shapes
        return sum_to(gy, sa), sum_to(gy, sb)


class Sub(Function):
    """y = a - b ;  da = gy, db = -gy."""

    def forward(self, a: Array, b: Array) -> Array:
        self.shapes = a.shape, b.shape
        return a - b

    def backward(self, gy: Grad) -> tuple[Grad | None, ...]:
        sa, sb = self.shapes
        gb = -sum_to(gy, sb) if self.needs_input_grad[1] else None
        return sum_to(gy, sa), gb


class Mul(Function):
    """y = a * b ;  da = gy * b, db = gy * a."""

    def forward(self, a: Array, b: Array) -> Array:
        self.save_for_backward(a, b)
        return a * b

    def backward(self, gy: Grad) -> tuple[Grad | None, ...]:
        a, b = self.saved_values
        ga = sum_to(gy * b, a.shape) if self.needs_input_grad[0] else None
        gb = sum_to(gy * a, b.shape) if self.needs_input_grad[1] else None
        return ga, gb


class Div(Function):
    """y = a / b ;  da = gy / b, db = -gy * a / b^2."""

    def forward(self, a: Array, b: Array) -> Array:
        self.save_for_backward(a, b)
        return a / b

    def backward(self, gy: Grad) -> tuple[Grad | None, ...]:
        a, b = self.saved_values
        ga = sum_to(gy / b, a.shape) if self.needs_input_grad[0] else None
        gb = sum_to(-gy * a / (b * b), b.shape) if self.needs_input_grad[1] else None
        return ga, gb


class RDiv(Div):
    """y = c / x for a number or array c (``c / tensor``): Div, run in float32 under autocast as PyTorch's
    __rtruediv__ (a reciprocal overflows float16 where x is small)."""

    autocast_policy = "fp32"


class Neg(Function):
    """y = -x ;  dx = -gy."""

    def forward(self, x: Array) -> Array:
        return -x

    def backward(self, gy: Grad) -> Grad:
        return -gy


class PowScalar(Function):
    """y = x^c for a constant c ;  dx = c x^(c-1) gy."""

    autocast_policy = "fp32"  # PyTorch autocasts pow, __pow__ to float32

    def __init__(self, c: float) -> None:
        self.c = c

    def forward(self, x: Array) -> Array:
        self.save_for_backward(x)
        return x**self.c

    def backward(self, gy: Grad) -> Grad:
        (x,) = self.saved_values
        c = self.c
        if c == 0:  # x^0 = 1: dx = 0, also at x = 0 (not 0 * x^-1), as PyTorch
            return get_array_module(raw(gy)).zeros(x.shape, raw(gy).dtype)
        if c == 1:  # dx = x^0 gy: constant in x, but a function of it (so d2x = 0, not an unused input)
            return piecewise_scale(gy, _one, x)
        return gy * (c * x ** (c - 1))


def _one(x: Array) -> Array:
    return get_array_module(x).ones((), x.dtype)


class Pow(Function):
    """y = a^b, both tensors ;  da = b a^(b-1) gy,  db = a^b log(a) gy  (log a read as 0 where a <= 0)."""

    autocast_policy = "fp32"  # PyTorch autocasts pow, __pow__, __rpow__ to float32

    def forward(self, a: Array, b: Array) -> Array:
        self.save_for_backward(a, b)
        return a**b

    def backward(self, gy: Grad) -> tuple[Grad | None, ...]:
        a, b = self.saved_values
        ga = sum_to(gy * b * a ** (b - 1), a.shape) if self.needs_input_grad[0] else None
        gb = None
        if self.needs_input_grad[1]:
            # a^b log a -> 0 as a -> 0 for b > 0; avoid 0 * -inf = nan there
            positive = raw(a) > 0
            log_a = Log().forward_or_record(
                Where(positive).forward_or_record(a, get_array_module(positive).ones((), raw(a).dtype))
            )
            gb = sum_to(gy * a**b * log_a, b.shape)
        return ga, gb


def add(a: Operand, b: Operand) -> Tensor:
    """a + b, broadcast ;  da = gy, db = gy (each summed back to its input's shape)."""
    return Add()(*promote(a, b))


def sub(a: Operand, b: Operand) -> Tensor:
    """a - b, broadcast ;  da = gy, db = -gy."""
    return Sub()(*promote(a, b))


def mul(a: Operand, b: Operand) -> Tensor:
    """a * b, elementwise and broadcast ;  da = gy b, db = gy a."""
    return Mul()(*promote(a, b))


def div(a: Operand, b: Operand) -> Tensor:
    """a / b, broadcast ;  da = gy / b, db = -gy a / b^2."""
    return Div()(*promote(a, b))


def neg(x: Tensor) -> Tensor:
    """-x ;  dx = -gy."""
    return Neg()(x)


def pow(base: Operand, exponent: Operand) -> Tensor:
    """base ** exponent; a Python-number exponent uses the cheaper PowScalar."""
    if isinstance(base, Tensor) and not isinstance(exponent, Tensor) and _is_scalar(exponent):
        return PowScalar(exponent)(base)
    return Pow()(*promote(base, exponent))


def _is_scalar(v: Any) -> TypeGuard[float]:
    return isinstance(v, (int, float)) and not isinstance(v, bool)
