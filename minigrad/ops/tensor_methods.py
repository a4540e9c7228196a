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


def _axis_keep(axis, keepdims, dim, keepdim):
    return (axis if dim is None else dim), (keepdims if keepdim is None else keepdim)


def _sum(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
    return reductions.sum(self, *_axis_keep(axis, keepdims, dim, keepdim))


def _mean(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
    return reductions.mean(self, *_axis_keep(axis, keepdims, dim, keepdim))


def _max(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """As PyTorch: the max; ``(values, indices)`` along one int dim; elementwise with another tensor."""
    return reductions.max(self, axis, keepdims, dim=dim, keepdim=keepdim)


def _min(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """As PyTorch: the min; ``(values, indices)`` along one int dim; elementwise with another tensor."""
    return reductions.min(self, axis, keepdims, dim=dim, keepdim=keepdim)


def _amax(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
    return reductions.amax(self, *_axis_keep(axis, keepdims, dim, keepdim))


def _amin(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
    return reductions.amin(self, *_axis_keep(axis, keepdims, dim, keepdim))


def _var(self, axis=None, unbiased=True, keepdims=False, *, dim=None, keepdim=None, correction=None):
    return reductions.var(self, axis, unbiased, keepdims, dim=dim, keepdim=keepdim, correction=correction)


def _std(self, axis=None, unbiased=True, keepdims=False, *, dim=None, keepdim=None, correction=None):
    return reductions.std(self, axis, unbiased, keepdims, dim=dim, keepdim=keepdim, correction=correction)


def _softmax(self, dim=-1, *, axis=None):
    return activations.softmax(self, dim if axis is None else axis)


def _log_softmax(self, dim=-1, *, axis=None):
    return activations.log_softmax(self, dim if axis is None else axis)


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
    "__rtruediv__": lambda self, other: arithmetic.div(other, self),
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
    "softmax": _softmax,
    "log_softmax": _log_softmax,
    # reductions
    "sum": _sum,
    "mean": _mean,
    "max": _max,
    "min": _min,
    "amax": _amax,
    "amin": _amin,
    "var": _var,
    "std": _std,
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
