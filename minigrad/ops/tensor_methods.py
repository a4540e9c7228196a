"""Tensor's differentiable methods and operators, attached to the class here.

``tensor.py`` is the data structure alone; each line below makes one op
reachable as a method, named and spelled as in PyTorch (where NumPy spells a
keyword differently, both are accepted).
"""

from minigrad.autograd import engine
from minigrad.ops import activations, arithmetic, conversion, matmul, pointwise, reductions, shape_ops
from minigrad.tensor import Tensor


def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None, *, grad=None):
    """Accumulate d(self)/d(leaf) into every leaf's ``.grad``.

    ``gradient`` (PyTorch's name; ``grad=`` is accepted too) is the gradient
    of some scalar loss w.r.t. self; it may be omitted only when self has
    one element (then it is 1). ``create_graph=True`` records the backward
    pass, so the gradients can be differentiated again; ``retain_graph``
    defaults to it.
    """
    engine.backward(self, gradient if grad is None else grad, retain_graph, create_graph, inputs)


def _reshape(self, *shape_args, shape=None):
    return shape_ops.reshape(self, *(shape_args if shape is None else (shape,)))


def _view(self, *shape_args, size=None):
    return shape_ops.reshape(self, *(shape_args if size is None else (size,)))


def _transpose(self, *axes, dim0=None, dim1=None):
    """``transpose(d0, d1)`` or ``transpose(dim0=d0, dim1=d1)`` swaps two axes; ``transpose()`` reverses all."""
    if dim0 is not None or dim1 is not None:
        axes = (dim0, dim1)
    return shape_ops.transpose(self, *axes)


def _permute(self, *dims_args, dims=None):
    return shape_ops.permute(self, *(dims_args if dims is None else (dims,)))


def _squeeze(self, dim=None, *, axis=None):
    return shape_ops.squeeze(self, dim if axis is None else axis)


_METHODS = {
    "backward": backward,
    # operators
    "__add__": arithmetic.add,
    "__radd__": lambda self, other: arithmetic.add(other, self),
    "__sub__": arithmetic.sub,
    "__rsub__": lambda self, other: arithmetic.sub(other, self),
    "__mul__": arithmetic.mul,
    "__rmul__": lambda self, other: arithmetic.mul(other, self),
    "__truediv__": arithmetic.div,
    "__rtruediv__": lambda self, other: arithmetic.RDiv()(other, self),
    "__neg__": arithmetic.neg,
    "__pos__": lambda self: self,
    "__pow__": arithmetic.pow,
    "__rpow__": lambda self, base: arithmetic.pow(base, self),
    "__matmul__": matmul.matmul,
    "__rmatmul__": lambda self, other: matmul.matmul(other, self),
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
    "T": property(lambda self: shape_ops.permute(self, *reversed(range(self.ndim)))),
    "squeeze": _squeeze,
    "unsqueeze": shape_ops.unsqueeze,
    "expand": shape_ops.expand,
    "broadcast_to": lambda self, shape: shape_ops.expand(self, shape),
    "expand_as": lambda self, other: shape_ops.expand(self, other.shape),
    "view_as": lambda self, other: shape_ops.reshape(self, other.shape),
    # devices, dtypes, copies
    "to": conversion.to,
    "clone": conversion.clone,
    "contiguous": conversion.contiguous,
    "cpu": lambda self: conversion.to(self, "cpu"),
    "cuda": lambda self: conversion.to(self, "cuda"),
    "float": lambda self: conversion.to(self, dtype="float32"),
    "double": lambda self: conversion.to(self, dtype="float64"),
    "long": lambda self: conversion.to(self, dtype="int64"),
    "int": lambda self: conversion.to(self, dtype="int32"),
    "type": lambda self, dtype: conversion.to(self, dtype=dtype),
    "astype": lambda self, dtype: conversion.to(self, dtype=dtype),
}

for _name, _method in _METHODS.items():
    setattr(Tensor, _name, _method)
