"""Tensor's differentiable methods and operators, attached to the class here.

``tensor.py`` is the data structure alone; each line below makes one op
reachable as a method, named and spelled as in PyTorch (where NumPy spells a
keyword differently, both are accepted).
"""

from __future__ import annotations

from typing import Any

from minigrad.autograd import engine
from minigrad.ops import activations, arithmetic, conversion, matmul, pointwise, reductions, shape_ops
from minigrad.tensor import Tensor


def backward(
    self: Tensor,
    gradient: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    inputs: Tensor | list[Tensor] | None = None,
    *,
    grad: Any = None,
) -> None:
    """Accumulate d(self)/d(leaf) into every leaf's ``.grad``.

    ``gradient`` (PyTorch's name; ``grad=`` is accepted too) is the gradient
    of some scalar loss w.r.t. self; it may be omitted only when self has
    one element (then it is 1). ``create_graph=True`` records the backward
    pass, so the gradients can be differentiated again; ``retain_graph``
    defaults to it.
    """
    engine.backward(self, gradient if grad is None else grad, retain_graph, create_graph, inputs)


def _reshape(self: Tensor, *shape_args: Any, shape: tuple[int, ...] | None = None) -> Tensor:
    """The same elements in a new shape: ``reshape(2, 3)``, ``reshape((2, 3))`` or ``reshape(shape=(2, 3))``."""
    return shape_ops.reshape(self, *(shape_args if shape is None else (shape,)))


def _view(self: Tensor, *shape_args: Any, size: tuple[int, ...] | None = None) -> Tensor:
    """PyTorch's name for reshape (``size=`` its keyword)."""
    return shape_ops.reshape(self, *(shape_args if size is None else (size,)))


def _transpose(self: Tensor, *axes: int, dim0: int | None = None, dim1: int | None = None) -> Tensor:
    """``transpose(d0, d1)`` or ``transpose(dim0=d0, dim1=d1)`` swaps two axes; ``transpose()`` reverses all."""
    if dim0 is not None or dim1 is not None:
        axes = (dim0, dim1)  # type: ignore[assignment]  # shape_ops.transpose names a missing one
    return shape_ops.transpose(self, *axes)


def _permute(self: Tensor, *dims_args: Any, dims: tuple[int, ...] | None = None) -> Tensor:
    """The axes reordered: ``permute(2, 0, 1)`` or ``permute(dims=(2, 0, 1))``."""
    return shape_ops.permute(self, *(dims_args if dims is None else (dims,)))


def _squeeze(self: Tensor, dim: Any = None, *, axis: Any = None) -> Tensor:
    """Size-1 axes removed: all of them, or those in ``dim`` (``axis``, NumPy's keyword)."""
    return shape_ops.squeeze(self, dim if axis is None else axis)


# the reflected operators: Python calls them for ``2 + t`` or ``ndarray * t``
def _radd(self: Tensor, other: Any) -> Tensor:
    """other + self."""
    return arithmetic.add(other, self)


def _rsub(self: Tensor, other: Any) -> Tensor:
    """other - self."""
    return arithmetic.sub(other, self)


def _rmul(self: Tensor, other: Any) -> Tensor:
    """other * self."""
    return arithmetic.mul(other, self)


def _rtruediv(self: Tensor, other: Any) -> Tensor:
    """other / self: RDiv, which autocast runs in float32 (PyTorch's __rtruediv__)."""
    return arithmetic.RDiv()(other, self)


def _rpow(self: Tensor, base: Any) -> Tensor:
    """base ** self."""
    return arithmetic.pow(base, self)


def _rmatmul(self: Tensor, other: Any) -> Tensor:
    """other @ self."""
    return matmul.matmul(other, self)


def _pos(self: Tensor) -> Tensor:
    """+self: self itself."""
    return self


def _T(self: Tensor) -> Tensor:
    """The axes reversed (a transpose for a matrix)."""
    return shape_ops.permute(self, *reversed(range(self.ndim)))


def _broadcast_to(self: Tensor, shape: tuple[int, ...]) -> Tensor:
    """NumPy's name for expand."""
    return shape_ops.expand(self, shape)


def _expand_as(self: Tensor, other: Tensor) -> Tensor:
    """expand to ``other``'s shape."""
    return shape_ops.expand(self, other.shape)


def _view_as(self: Tensor, other: Tensor) -> Tensor:
    """reshape to ``other``'s shape."""
    return shape_ops.reshape(self, other.shape)


def _cpu(self: Tensor) -> Tensor:
    """to("cpu")."""
    return conversion.to(self, "cpu")


def _cuda(self: Tensor) -> Tensor:
    """to("cuda")."""
    return conversion.to(self, "cuda")


def _float(self: Tensor) -> Tensor:
    """to(dtype=float32)."""
    return conversion.to(self, dtype="float32")


def _double(self: Tensor) -> Tensor:
    """to(dtype=float64)."""
    return conversion.to(self, dtype="float64")


def _long(self: Tensor) -> Tensor:
    """to(dtype=int64)."""
    return conversion.to(self, dtype="int64")


def _int(self: Tensor) -> Tensor:
    """to(dtype=int32)."""
    return conversion.to(self, dtype="int32")


def _type(self: Tensor, dtype: Any) -> Tensor:
    """to(dtype=dtype)."""
    return conversion.to(self, dtype=dtype)


_METHODS: dict[str, Any] = {
    "backward": backward,
    # operators
    "__add__": arithmetic.add,
    "__radd__": _radd,
    "__sub__": arithmetic.sub,
    "__rsub__": _rsub,
    "__mul__": arithmetic.mul,
    "__rmul__": _rmul,
    "__truediv__": arithmetic.div,
    "__rtruediv__": _rtruediv,
    "__neg__": arithmetic.neg,
    "__pos__": _pos,
    "__pow__": arithmetic.pow,
    "__rpow__": _rpow,
    "__matmul__": matmul.matmul,
    "__rmatmul__": _rmatmul,
    "__abs__": pointwise.abs,
    "__getitem__": shape_ops.getitem,
    # arithmetic and pointwise methods
    "add": arithmetic.add,
    "sub": arithmetic.sub,
    "mul": arithmetic.mul,
    "div": arithmetic.div,
    "pow": arithmetic.pow,
    "matmul": matmul.matmul,
    "neg": arithmetic.neg,
    "exp": pointwise.exp,
    "log": pointwise.log,
    "sqrt": pointwise.sqrt,
    "abs": pointwise.abs,
    "clamp": pointwise.clamp,
    "clip": pointwise.clamp,
    "maximum": pointwise.maximum,
    "minimum": pointwise.minimum,
    # activations
    "relu": activations.relu,
    "leaky_relu": activations.leaky_relu,
    "sigmoid": activations.sigmoid,
    "tanh": activations.tanh,
    "softplus": activations.softplus,
    "softmax": activations.softmax,
    "log_softmax": activations.log_softmax,
    # reductions
    "sum": reductions.sum,
    "mean": reductions.mean,
    "max": reductions.max,
    "min": reductions.min,
    "amax": reductions.amax,
    "amin": reductions.amin,
    "var": reductions.var,
    "std": reductions.std,
    # shapes
    "reshape": _reshape,
    "view": _view,
    "flatten": shape_ops.flatten,
    "transpose": _transpose,
    "permute": _permute,
    "T": property(_T),
    "squeeze": _squeeze,
    "unsqueeze": shape_ops.unsqueeze,
    "expand": shape_ops.expand,
    "broadcast_to": _broadcast_to,
    "expand_as": _expand_as,
    "view_as": _view_as,
    # devices, dtypes, copies
    "to": conversion.to,
    "clone": conversion.clone,
    "contiguous": conversion.contiguous,
    "cpu": _cpu,
    "cuda": _cuda,
    "float": _float,
    "double": _double,
    "long": _long,
    "int": _int,
    "type": _type,
    "astype": _type,
}

for _name, _method in _METHODS.items():
    setattr(Tensor, _name, _method)
