"""Reductions: sum, mean, max, min, amax, amin, var, std over an axis, a tuple of axes, or all.

Both spellings are accepted: ``axis``/``dim`` and ``keepdims``/``keepdim``.
As in PyTorch, ``max(x, dim)`` with one int dim returns ``(values, indices)``,
``max(x)`` and ``amax(x, dims)`` the values only, and ``max(x, other)`` the
elementwise maximum.
Backward re-inserts the reduced axes into ``gy`` (so it broadcasts against x)
and spreads it over the reduced elements.
"""

from __future__ import annotations

import builtins
from collections import namedtuple
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from minigrad.autograd import Function, raw
from minigrad.autograd.function import Array, Grad
from minigrad.autograd.piecewise import piecewise_scale
from minigrad.backend import get_array_module
from minigrad.ops.pointwise import Where, maximum, minimum
from minigrad.ops.shape_ops import Expand
from minigrad.tensor import Tensor

if TYPE_CHECKING:
    from minigrad.tensor import Axis


def _normalize_axis(axis: Axis, ndim: int, op: str) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    out = []
    for a in axes:
        if not -builtins.max(ndim, 1) <= a < builtins.max(ndim, 1):
            raise ValueError(f"{op}: axis {a} is out of range for a tensor with {ndim} dimensions")
        if ndim:  # a 0-d tensor has nothing to reduce: dim 0 / -1 are accepted as no-ops
            out.append(a % ndim)
    return tuple(sorted(set(out)))


def _resolve(axis: Any, keepdims: bool, dim: Any, keepdim: bool | None) -> tuple[Any, bool]:
    return (axis if dim is None else dim), bool(keepdims if keepdim is None else keepdim)


class _Reduction(Function):
    def __init__(self, axis: Axis = None, keepdims: bool = False) -> None:
        self.axis_arg, self.keepdims = axis, keepdims

    def _setup(self, x: Array) -> tuple[int, ...] | None:
        self.axes = _normalize_axis(self.axis_arg, x.ndim, self.name.lower())
        self.in_shape = x.shape
        return self.axes if x.ndim else None

    def _expand(self, gy: Grad) -> Grad:
        """gy with the reduced axes put back as size-1 axes."""
        if self.keepdims or not self.axes:
            return gy
        kept = [1 if i in self.axes else n for i, n in enumerate(self.in_shape)]
        return gy.reshape(kept)


class Sum(_Reduction):
    """y = sum_i x_i ;  dx_i = gy."""

    autocast_policy = "fp32"  # PyTorch autocasts sum to float32

    def forward(self, x: Array) -> Array:
        return x.sum(axis=self._setup(x), keepdims=self.keepdims)

    def backward(self, gy: Grad) -> Grad:
        return Expand(self.in_shape).forward_or_record(self._expand(gy))


class Mean(_Reduction):
    """y = (1/n) sum_i x_i ;  dx_i = gy / n."""

    def forward(self, x: Array) -> Array:
        return x.mean(axis=self._setup(x), keepdims=self.keepdims)

    def backward(self, gy: Grad) -> Grad:
        n = 1
        for a in self.axes:
            n *= self.in_shape[a]
        return Expand(self.in_shape).forward_or_record(self._expand(gy) / n)


class Max(_Reduction):
    """y = max_i x_i ;  dx_i = gy / (number of maxima) where x_i is a maximum, else 0."""

    def forward(self, x: Array) -> Array:
        return self._extreme(x, x.max(axis=self._setup(x), keepdims=True))

    def _extreme(self, x: Array, y: Array) -> Array:
        if not self.keepdims:
            y = y.reshape([n for i, n in enumerate(x.shape) if i not in self.axes])
        self.save_for_backward(x, y)
        return y

    def backward(self, gy: Grad) -> Grad:
        x, y = self.saved_values
        share = partial(_extreme_share, axes=self.axes, kept=self._expand(raw(y)).shape)
        return piecewise_scale(self._expand(gy), share, x, y)


def _extreme_share(x: Array, y: Array, axes: tuple[int, ...], kept: tuple[int, ...]) -> Array:
    """1 / (number of extremes) where x is an extreme of its slice, else 0 (y the extremes, reshaped to kept)."""
    mask = (x == y.reshape(kept)).astype(x.dtype)
    mask /= mask.sum(axis=axes, keepdims=True)
    return mask


class Min(Max):
    """y = min_i x_i ;  dx_i = gy / (number of minima) where x_i is a minimum, else 0."""

    def forward(self, x: Array) -> Array:
        return self._extreme(x, x.min(axis=self._setup(x), keepdims=True))


class Var(_Reduction):
    """y = sum_i (x_i - m)^2 / (n - c), m the mean, c the correction (1 = unbiased).

    dx_i = 2 (x_i - m) / (n - c) * gy (the m-dependence cancels since sum_i (x_i - m) = 0).
    """

    def __init__(self, axis: Axis = None, keepdims: bool = False, correction: int = 1) -> None:
        super().__init__(axis, keepdims)
        self.correction = correction

    def _dof(self) -> int:
        n = 1
        for a in self.axes:
            n *= self.in_shape[a]
        return n - self.correction

    def forward(self, x: Array) -> Array:
        axes = self._setup(x)
        self.save_for_backward(x)
        centered = x - x.mean(axis=axes, keepdims=True)
        return (centered**2).sum(axis=axes, keepdims=self.keepdims) / self._dof()

    def _centered(self, x: Grad) -> Grad:
        return x - x.mean(axis=self.axes, keepdims=True)

    def backward(self, gy: Grad) -> Grad:
        (x,) = self.saved_values
        dof = self._dof()
        return self._expand(gy) * (2 / dof if dof else float("nan")) * self._centered(x)  # no dof: nan, as PyTorch


class Std(Var):
    """y = sqrt(var(x)) ;  dx_i = (x_i - m) / ((n - c) y) * gy."""

    def forward(self, x: Array) -> Array:
        y = get_array_module(x).sqrt(super().forward(x))
        self.save_for_backward(x, y)
        return y

    def backward(self, gy: Grad) -> Grad:
        x, y = self.saved_values
        y = self._expand(y)
        # zero spread: centered is 0 there, so dx = 0 (as PyTorch), not 0/0
        y = Where(raw(y) == 0).forward_or_record(raw(y).dtype.type(1), y)
        return self._expand(gy) / (self._dof() * y) * self._centered(x)


def sum(
    x: Tensor, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None, keepdim: bool | None = None
) -> Tensor:
    """The sum over ``axis`` (all elements when None) ;  dx_i = gy."""
    return Sum(*_resolve(axis, keepdims, dim, keepdim))(x)


def mean(
    x: Tensor, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None, keepdim: bool | None = None
) -> Tensor:
    """The mean over ``axis`` (all elements when None) ;  dx_i = gy / n."""
    return Mean(*_resolve(axis, keepdims, dim, keepdim))(x)


# What max/min over one dim return, as PyTorch's torch.return_types.max: a tuple with named fields.
MaxResult = namedtuple("max", ["values", "indices"])  # type: ignore[name-match]  # torch.return_types.max's name
MinResult = namedtuple("min", ["values", "indices"])  # type: ignore[name-match]


def amax(
    x: Tensor, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None, keepdim: bool | None = None
) -> Tensor:
    """The largest values over ``axis`` (None, an int or a tuple)."""
    return Max(*_resolve(axis, keepdims, dim, keepdim))(x)


def amin(
    x: Tensor, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None, keepdim: bool | None = None
) -> Tensor:
    """The smallest values over ``axis`` (None, an int or a tuple)."""
    return Min(*_resolve(axis, keepdims, dim, keepdim))(x)


def _with_indices(reduce: Callable[..., Tensor], x: Tensor, axis: Any, keep: bool, arg: str) -> Any:
    """(values, indices) for one int axis, the values alone otherwise."""
    values = reduce(x, axis, keep)
    if axis is None or isinstance(axis, (tuple, list)):
        return values
    xp = get_array_module(x.data)
    if x.ndim == 0:
        idx = xp.zeros((), dtype="int64")
    else:
        idx = getattr(x.data, arg)(axis=axis, keepdims=keep).astype("int64", copy=False)
    return (MaxResult if arg == "argmax" else MinResult)(values, Tensor._from_op(idx))


def max(x: Tensor, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: bool | None = None) -> Any:
    """max(x): the largest value; max(x, dim): (values, indices) along dim; max(x, other): elementwise."""
    if isinstance(axis, Tensor):
        return maximum(x, axis)
    ax, keep = _resolve(axis, keepdims, dim, keepdim)
    return _with_indices(amax, x, ax, keep, "argmax")


def min(x: Tensor, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: bool | None = None) -> Any:
    """min(x): the smallest value; min(x, dim): (values, indices) along dim; min(x, other): elementwise."""
    if isinstance(axis, Tensor):
        return minimum(x, axis)
    ax, keep = _resolve(axis, keepdims, dim, keepdim)
    return _with_indices(amin, x, ax, keep, "argmin")


def _correction(unbiased: bool, correction: int | None) -> int:
    return (1 if unbiased else 0) if correction is None else correction


def var(
    x: Tensor,
    axis: Axis = None,
    unbiased: bool = True,
    keepdims: bool = False,
    *,
    dim: Axis = None,
    keepdim: bool | None = None,
    correction: int | None = None,
) -> Tensor:
    """sum_i (x_i - m)^2 / (n - c), m the mean, c the correction (1: unbiased) ;  dx_i = 2 (x_i - m) gy / (n - c)."""
    axis, keep = _resolve(axis, keepdims, dim, keepdim)
    return Var(axis, keep, _correction(unbiased, correction))(x)


def std(
    x: Tensor,
    axis: Axis = None,
    unbiased: bool = True,
    keepdims: bool = False,
    *,
    dim: Axis = None,
    keepdim: bool | None = None,
    correction: int | None = None,
) -> Tensor:
    """sqrt(var(x)) ;  dx_i = (x_i - m) gy / ((n - c) std)."""
    axis, keep = _resolve(axis, keepdims, dim, keepdim)
    return Std(axis, keep, _correction(unbiased, correction))(x)
