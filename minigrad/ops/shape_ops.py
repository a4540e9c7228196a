"""Shape ops: reshape/view, transpose/permute, flatten, squeeze/unsqueeze,
expand, getitem, cat, stack, pad. They move values around without changing
them, so each backward moves the gradient back the same way (and, since
each is linear, the backward of a backward is the forward again).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from minigrad.autograd import Function, sum_to
from minigrad.autograd.function import Array, Grad
from minigrad.backend import get_array_module, scatter_add
from minigrad.tensor import Tensor

if TYPE_CHECKING:
    from minigrad.tensor import Axis


def wrap_dim(op: str, dim: int, ndim: int) -> int:
    """dim in [-ndim, ndim) -> dim in [0, ndim), as PyTorch checks it; IndexError naming ``op`` otherwise."""
    n = max(ndim, 1)  # a 0-d tensor accepts dim 0 and -1, like PyTorch
    if not -n <= dim < n:
        raise IndexError(f"{op}: dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim % n


def _shape_arg(shape: tuple[Any, ...]) -> tuple[int, ...]:
    """Accept f(2, 3) and f((2, 3)) alike."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


class Reshape(Function):
    """y = x viewed with a new shape ;  dx = gy reshaped back."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape

    def forward(self, x: Array) -> Array:
        self.in_shape = x.shape
        try:
            return x.reshape(self.shape)
        except ValueError:
            raise ValueError(f"cannot reshape {tuple(x.shape)} ({x.size} elements) into {self.shape}") from None

    def backward(self, gy: Grad) -> Grad:
        return gy.reshape(self.in_shape)


class Permute(Function):
    """y = x with axes reordered ;  dx = gy with the inverse order."""

    def __init__(self, axes: tuple[int, ...]) -> None:
        self.axes = axes

    def forward(self, x: Array) -> Array:
        axes = tuple(wrap_dim("permute", a, x.ndim) for a in self.axes)
        if sorted(axes) != list(range(x.ndim)):
            raise ValueError(f"permute: {self.axes} is not a permutation of the {x.ndim} axes")
        self.axes = axes
        return x.transpose(axes)

    def backward(self, gy: Grad) -> Grad:
        # as a Function, not gy.transpose(...): Tensor.transpose(d0, d1) swaps two dims (PyTorch), so the
        # identity permutation (0, 1) of a 2-D gradient would be read as a swap
        return Permute(tuple(int(a) for a in np.argsort(self.axes))).forward_or_record(gy)


class Expand(Function):
    """y = x broadcast to ``shape`` ;  dx = gy summed back to x's shape."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape

    def forward(self, x: Array) -> Array:
        self.in_shape = x.shape
        shape = tuple(n if n != -1 else x.shape[i - (len(self.shape) - x.ndim)] for i, n in enumerate(self.shape))
        try:
            return get_array_module(x).broadcast_to(x, shape)
        except ValueError:
            raise ValueError(f"expand: cannot broadcast shape {tuple(x.shape)} to {shape}") from None

    def backward(self, gy: Grad) -> Grad:
        return sum_to(gy, self.in_shape)


def _is_advanced(key: Any) -> bool:
    """True if ``key`` uses integer/bool arrays (NumPy advanced indexing)."""
    keys = key if isinstance(key, tuple) else (key,)
    return any(isinstance(k, (list, np.ndarray)) or hasattr(k, "__cuda_array_interface__") for k in keys)


class GetItem(Function):
    """y = x[key] ;  dx = IndexAdd(key)(gy): zeros with gy added into the selected places."""

    def __init__(self, key: Any) -> None:
        self.key = key

    def forward(self, x: Array) -> Array:
        self.in_shape = x.shape
        y = x[self.key]
        return y if isinstance(y, type(x)) else get_array_module(x).asarray(y)  # a full int index gives a scalar

    def backward(self, gy: Grad) -> Grad:
        return IndexAdd(self.key, self.in_shape).forward_or_record(gy)


class IndexAdd(Function):
    """y = zeros(shape) with x added at ``key`` (the gradient of x[key]) ;  dx = gy[key].

    With integer-array keys an element may be picked more than once, so the
    scatter accumulates (``add.at``) instead of assigning.
    """

    def __init__(self, key: Any, shape: tuple[int, ...]) -> None:
        self.key, self.shape = key, shape

    def forward(self, x: Array) -> Array:
        y = get_array_module(x).zeros(self.shape, dtype=x.dtype)
        if _is_advanced(self.key):
            scatter_add(y, self.key, x)
        else:
            y[self.key] = x
        return y

    def backward(self, gy: Grad) -> Grad:
        return GetItem(self.key).forward_or_record(gy)


class Cat(Function):
    """y = concatenate(xs, axis) ;  dx_i = the slice of gy that came from x_i."""

    autocast_policy = "promote"  # PyTorch's CPU list promotes cat to the widest input type

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def forward(self, *xs: Array) -> Array:
        ref = xs[0]
        if ref.ndim == 0:
            raise ValueError("cat: zero-dimensional tensors cannot be concatenated")
        ax = wrap_dim("cat", self.axis, ref.ndim)
        for x in xs[1:]:
            if x.ndim != ref.ndim or any(a != b for i, (a, b) in enumerate(zip(x.shape, ref.shape)) if i != ax):
                raise ValueError(f"cat: shapes {tuple(ref.shape)} and {tuple(x.shape)} differ outside dim {self.axis}")
        self.sizes = [x.shape[ax] for x in xs]
        self.ax = ax
        return get_array_module(ref).concatenate(xs, axis=ax)

    def backward(self, gy: Grad) -> tuple[Grad | None, ...]:
        edges = np.cumsum([0] + self.sizes).tolist()
        lead = (slice(None),) * self.ax
        return tuple(GetItem(lead + (slice(lo, hi),)).forward_or_record(gy) for lo, hi in zip(edges[:-1], edges[1:]))


class Stack(Function):
    """y = stack(xs, axis) ;  dx_i = gy taken at index i along the new axis."""

    autocast_policy = "promote"  # PyTorch's CPU list promotes stack to the widest input type

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def forward(self, *xs: Array) -> Array:
        for x in xs[1:]:
            if x.shape != xs[0].shape:
                raise ValueError(f"stack: all shapes must be equal, got {tuple(xs[0].shape)} and {tuple(x.shape)}")
        self.n = len(xs)
        return get_array_module(xs[0]).stack(xs, axis=self.axis)

    def backward(self, gy: Grad) -> tuple[Grad | None, ...]:
        lead = (slice(None),) * (self.axis % gy.ndim)
        return tuple(GetItem(lead + (i,)).forward_or_record(gy) for i in range(self.n))


class Pad(Function):
    """Constant padding ;  dx = the interior of gy (the padded border gets no gradient).

    ``pad`` is PyTorch's: (left, right) for the last axis, then (top, bottom)
    for the one before it, and so on.
    """

    def __init__(self, pad: Sequence[int], value: float = 0.0) -> None:
        if len(pad) % 2:
            raise ValueError(f"pad: expected an even number of pad sizes, got {len(pad)}")
        self.pad, self.value = tuple(pad), value

    def forward(self, x: Array) -> Array:
        n = len(self.pad) // 2
        if n > x.ndim:
            raise ValueError(f"pad: {n} axes of padding for a tensor of {x.ndim} dimensions")
        width = [(0, 0)] * (x.ndim - n) + [tuple(self.pad[2 * i : 2 * i + 2]) for i in reversed(range(n))]
        if any(p < 0 for pw in width for p in pw):
            raise ValueError(f"pad: negative pad sizes are not supported, got {self.pad}")
        self.slices = tuple(slice(lo, lo + s) for (lo, _), s in zip(width, x.shape))
        return get_array_module(x).pad(x, width, mode="constant", constant_values=self.value)

    def backward(self, gy: Grad) -> Grad:
        return GetItem(self.slices).forward_or_record(gy)


def reshape(x: Tensor, *shape: Any) -> Tensor:
    """The same elements in a new shape (``(2, 3)`` or ``2, 3``; one -1 is inferred) ;  dx = gy reshaped back."""
    return Reshape(_shape_arg(shape))(x)


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """The dims ``start_dim`` to ``end_dim`` merged into one ;  dx = gy reshaped back."""
    nd = x.ndim
    if nd == 0:
        return reshape(x, 1)
    s, e = wrap_dim("flatten", start_dim, nd), wrap_dim("flatten", end_dim, nd)
    if s > e:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for shape {tuple(x.shape)}")
    shape = x.shape[:s] + (-1,) + x.shape[e + 1 :]
    if 0 in x.shape:
        n = 1
        for d in x.shape[s : e + 1]:
            n *= d
        shape = x.shape[:s] + (n,) + x.shape[e + 1 :]
    return Reshape(shape)(x)


def permute(x: Tensor, *dims: Any) -> Tensor:
    """The dims reordered: output dim i is input dim ``dims[i]`` ;  dx = gy with the inverse order."""
    return Permute(_shape_arg(dims))(x)


def transpose(x: Tensor, *axes: int) -> Tensor:
    """``transpose(x, d0, d1)`` swaps two axes (PyTorch); ``transpose(x)`` reverses them all."""
    axes = _shape_arg(axes)
    if len(axes) == 0:
        return Permute(tuple(reversed(range(x.ndim))))(x)
    if len(axes) == 2:
        d0, d1 = wrap_dim("transpose", axes[0], x.ndim), wrap_dim("transpose", axes[1], x.ndim)
        perm = list(range(x.ndim))
        perm[d0], perm[d1] = perm[d1], perm[d0]
        return Permute(tuple(perm))(x)
    return Permute(axes)(x)


def squeeze(x: Tensor, dim: Axis = None) -> Tensor:
    """Size-1 dims removed (all, or those in ``dim``) ;  dx = gy reshaped back."""
    if dim is None:
        shape = tuple(n for n in x.shape if n != 1)
    else:
        dims = {wrap_dim("squeeze", d, x.ndim) for d in ((dim,) if isinstance(dim, int) else dim)}
        shape = tuple(n for i, n in enumerate(x.shape) if not (i in dims and n == 1))
    return Reshape(shape)(x)


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    """A size-1 dim inserted at ``dim`` ;  dx = gy reshaped back."""
    d = wrap_dim("unsqueeze", dim, x.ndim + 1)
    return Reshape(x.shape[:d] + (1,) + x.shape[d:])(x)


def expand(x: Tensor, *shape: Any) -> Tensor:
    """x broadcast to ``shape`` (-1 keeps a dim) ;  dx = gy summed over the broadcast dims."""
    return Expand(_shape_arg(shape))(x)


broadcast_to = expand


def getitem(x: Tensor, key: Any) -> Tensor:
    """x[key], NumPy indexing (basic or advanced) ;  dx = zeros with gy added at ``key``."""
    if isinstance(key, Tensor):
        key = key.data
    elif isinstance(key, tuple):
        key = tuple(k.data if isinstance(k, Tensor) else k for k in key)
    if isinstance(key, list):
        key = x.xp.asarray(key)
    return GetItem(key)(x)


def cat(tensors: Sequence[Tensor], dim: int = 0, *, axis: int | None = None) -> Tensor:
    """The tensors joined along ``dim`` ;  each input's gradient is its slice of gy."""
    if len(tensors) == 0:
        raise ValueError("cat: expected a non-empty sequence of tensors")
    return Cat(dim if axis is None else axis)(*tensors)


concatenate = cat


def stack(tensors: Sequence[Tensor], dim: int = 0, *, axis: int | None = None) -> Tensor:
    """The tensors (of one shape) stacked along a new dim ``dim`` ;  each input's gradient is gy at its index."""
    if len(tensors) == 0:
        raise ValueError("stack: expected a non-empty sequence of tensors")
    return Stack(dim if axis is None else axis)(*tensors)


def pad(x: Tensor, pad: Sequence[int], mode: str = "constant", value: float = 0.0) -> Tensor:
    """Constant padding as ``F.pad`` (``pad``: (before, after) pairs from the last dim) ;  dx = gy's interior."""
    if mode != "constant":
        raise NotImplementedError(f"pad: only mode='constant' is implemented, got {mode!r}")
    return Pad(pad, value)(x)
