"""Tensor: one array of its device's backend, plus what autograd needs.

``data`` is the raw array (numpy.ndarray or cupy.ndarray), ``grad`` the
accumulated gradient (a Tensor, None until backward), ``grad_fn`` the
Function that produced it (None for leaves). The methods are thin wrappers
over the ops in ``minigrad.ops``, named as in PyTorch.
"""
from __future__ import annotations

import numbers

import numpy as np

from minigrad import autograd, backend

_FLOAT_KINDS = ("f",)


def _check_can_require_grad(dtype, where="tensor"):
    if np.dtype(dtype).kind not in _FLOAT_KINDS:
        raise TypeError(
            f"{where}: only floating point tensors can require gradients, got dtype {np.dtype(dtype)}"
        )


class Tensor:
    __array_priority__ = 1000  # so `ndarray + Tensor` calls Tensor.__radd__
    _version = 0  # bumped by every in-place write; backward checks it (autograd._check_versions)

    def __init__(self, data, requires_grad: bool = False):
        if isinstance(data, Tensor):
            data = data.data
        xp = backend.get_array_module(data)
        if not isinstance(data, xp.ndarray):
            arr = np.asarray(data)
            if arr.dtype.kind == "f" and not hasattr(data, "dtype"):  # Python floats: float32, as torch.Tensor
                from minigrad.creation import get_default_dtype

                arr = arr.astype(get_default_dtype())
            data = arr
        self.data = data
        self.grad = None
        self.grad_fn = None
        self._hooks = []
        self._retains_grad = False
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _from_op(cls, data):
        """Fast path for op outputs: ``data`` is already a backend array."""
        t = cls.__new__(cls)
        t.data = data
        t.grad = None
        t.grad_fn = None
        t._hooks = []
        t._retains_grad = False
        t.requires_grad = False
        return t

    # --- attributes ---------------------------------------------------------
    @property
    def shape(self):
        return tuple(self.data.shape)

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def device(self) -> str:
        return backend.device_of(self.data)

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def is_cuda(self) -> bool:
        return self.device == "cuda"

    @property
    def xp(self):
        """The array module of this tensor: numpy or cupy."""
        return backend.get_array_module(self.data)

    def size(self, dim=None):
        return self.shape if dim is None else self.shape[dim]

    def numel(self) -> int:
        return int(self.data.size)

    def dim(self) -> int:
        return self.ndim

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def item(self):
        if self.data.size != 1:
            raise ValueError(f"item: only one-element tensors can be converted, got shape {self.shape}")
        return self.data.reshape(()).item()

    def numpy(self) -> np.ndarray:
        """The data as a NumPy array (a copy from the GPU; a view on the CPU)."""
        return backend.as_numpy(self.data)

    def tolist(self):
        return self.numpy().tolist()

    def __array__(self, dtype=None, copy=None):
        a = self.numpy()
        return a if dtype is None else a.astype(dtype)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        return bool(self.item())

    __hash__ = object.__hash__

    # --- autograd -------------------------------------------------------------
    def requires_grad_(self, requires_grad: bool = True):
        if requires_grad:
            _check_can_require_grad(self.dtype, "requires_grad_")
        self.requires_grad = bool(requires_grad)
        return self

    def backward(self, gradient=None, retain_graph: bool = False, *, grad=None):
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad``.

        ``gradient`` (PyTorch's name; ``grad=`` is accepted too) is the gradient
        of some scalar loss w.r.t. self; it may be omitted only when self has
        one element (then it is 1).
        """
        autograd.backward(self, gradient if grad is None else grad, retain_graph)

    def register_hook(self, hook):
        """``hook(grad) -> Tensor or None`` runs when self's gradient is computed.

        Returns a handle whose ``remove()`` unregisters the hook, as in PyTorch.
        """
        if not self.requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that does not require grad")
        self._hooks.append(hook)
        return _HookHandle(self._hooks, hook)

    def retain_grad(self):
        """Keep ``.grad`` on a non-leaf tensor too."""
        self._retains_grad = True

    def detach(self) -> "Tensor":
        """Same data, cut from the graph."""
        return Tensor._from_op(self.data)

    def detach_(self):
        self.grad_fn = None
        self.requires_grad = False
        return self

    def _check_writable(self, name):
        """In-place writes happen outside the graph: refused on a tensor that requires grad in grad mode."""
        if self.requires_grad and autograd.is_grad_enabled():
            raise RuntimeError(f"{name}: in-place operation on a tensor that requires grad while grad mode is on "
                               f"(shape {self.shape}); do it under `with minigrad.no_grad():`, as for a manual "
                               f"parameter update")

    def zero_(self):
        self._check_writable("zero_")
        self.data[...] = 0
        self._version += 1
        return self

    def fill_(self, value):
        self._check_writable("fill_")
        self.data[...] = value
        self._version += 1
        return self

    def copy_(self, src):
        self._check_writable("copy_")
        src = src.data if isinstance(src, Tensor) else src
        self.data[...] = backend.to_device(src, self.device) if self.device == "cpu" else self.xp.asarray(src)
        self._version += 1
        return self

    # --- in-place arithmetic ------------------------------------------------------
    # Outside the graph, as a manual update is written in PyTorch:
    #     with no_grad(): p -= lr * p.grad
    # (without __isub__, Python would rebind p to a new tensor and leave the model unchanged).
    def _inplace(self, name, ufunc, other, alpha=1):
        self._check_writable(name)
        value = other.data if isinstance(other, Tensor) else other
        if alpha != 1:
            value = value * alpha
        try:
            ufunc(self.data, value, out=self.data, casting="same_kind")
        except (TypeError, ValueError) as e:  # a broadcast that would grow self, or a dtype it cannot hold
            other_desc = (f"shape {tuple(value.shape)}, dtype {value.dtype}" if hasattr(value, "shape")
                          else type(value).__name__)
            error = TypeError if isinstance(e, TypeError) else ValueError
            raise error(f"{name}: cannot update a tensor of shape {self.shape} and dtype {self.dtype} in place "
                        f"with {other_desc} ({e})") from None
        self._version += 1
        return self

    def add_(self, other, alpha=1):
        """self += alpha * other, in place (outside the graph)."""
        return self._inplace("add_", self.xp.add, other, alpha)

    def sub_(self, other, alpha=1):
        """self -= alpha * other, in place (outside the graph)."""
        return self._inplace("sub_", self.xp.subtract, other, alpha)

    def mul_(self, other):
        return self._inplace("mul_", self.xp.multiply, other)

    def div_(self, other):
        return self._inplace("div_", self.xp.true_divide, other)

    def __iadd__(self, other):
        return self._inplace("+=", self.xp.add, other)

    def __isub__(self, other):
        return self._inplace("-=", self.xp.subtract, other)

    def __imul__(self, other):
        return self._inplace("*=", self.xp.multiply, other)

    def __itruediv__(self, other):
        return self._inplace("/=", self.xp.true_divide, other)

    def _copy_in_graph(self, data):
        """A new tensor holding ``data`` (a copy of self's values): d(copy)/dx = identity when grad is recorded."""
        if autograd.is_grad_enabled() and self.requires_grad:
            return _ops().shape_ops.ToCopy(data)(self)
        return Tensor(data)

    def clone(self) -> "Tensor":
        """A copy of the data that stays in the graph: d(clone)/dx = identity."""
        return self._copy_in_graph(self.data.copy())

    def contiguous(self) -> "Tensor":
        """self when its data is C-contiguous, else a contiguous clone."""
        if self.data.flags.c_contiguous:
            return self
        return self._copy_in_graph(self.xp.ascontiguousarray(self.data))

    # --- devices and dtypes -----------------------------------------------------
    def to(self, device=None, dtype=None) -> "Tensor":
        """Copy to another device and/or dtype (self when nothing changes).

        The copy is a new leaf that keeps ``requires_grad``, like PyTorch's ``.to``
        on a leaf.
        """
        if isinstance(device, (np.dtype, type)):  # t.to(minigrad.float64); (a dtype has .type too)
            device, dtype = None, device
        data = self.data
        if device is not None:
            data = backend.to_device(data, backend.normalize_device(device))
        if dtype is not None and data.dtype != np.dtype(dtype):
            data = data.astype(dtype)
        if data is self.data:
            return self
        if autograd.is_grad_enabled() and self.requires_grad:
            return _ops().shape_ops.ToCopy(data)(self)
        return Tensor(data, requires_grad=self.requires_grad)

    def cpu(self):
        return self.to("cpu")

    def cuda(self):
        return self.to("cuda")

    def float(self):
        return self.to(dtype=np.float32)

    def double(self):
        return self.to(dtype=np.float64)

    def long(self):
        return self.to(dtype=np.int64)

    def int(self):
        return self.to(dtype=np.int32)

    def type(self, dtype):
        return self.to(dtype=dtype)

    astype = type

    # --- repr --------------------------------------------------------------
    def __repr__(self):
        body = np.array2string(self.numpy(), separator=", ", prefix="tensor(", threshold=200)
        extra = [f"dtype={self.dtype}"]
        if self.device != "cpu":
            extra.append(f"device='{self.device}'")
        if self.grad_fn is not None:
            extra.append(f"grad_fn=<{self.grad_fn.name}Backward>")
        elif self.requires_grad:
            extra.append("requires_grad=True")
        return f"tensor({body}, {', '.join(extra)})"

    # --- arithmetic operators -----------------------------------------------------
    def __add__(self, other):
        return _ops().arithmetic.add(self, other)

    def __radd__(self, other):
        return _ops().arithmetic.add(other, self)

    def __sub__(self, other):
        return _ops().arithmetic.sub(self, other)

    def __rsub__(self, other):
        return _ops().arithmetic.sub(other, self)

    def __mul__(self, other):
        return _ops().arithmetic.mul(self, other)

    def __rmul__(self, other):
        return _ops().arithmetic.mul(other, self)

    def __truediv__(self, other):
        return _ops().arithmetic.div(self, other)

    def __rtruediv__(self, other):
        return _ops().arithmetic.div(other, self)

    def __neg__(self):
        return _ops().arithmetic.neg(self)

    def __pos__(self):
        return self

    def __pow__(self, exponent):
        return _ops().arithmetic.pow(self, exponent)

    def __rpow__(self, base):
        return _ops().arithmetic.pow(base, self)

    def __matmul__(self, other):
        return _ops().matmul.matmul(self, other)

    def __rmatmul__(self, other):
        return _ops().matmul.matmul(other, self)

    def __abs__(self):
        return _ops().pointwise.abs(self)

    def __getitem__(self, key):
        return _ops().shape_ops.getitem(self, key)

    def __setitem__(self, key, value):
        self._check_writable("__setitem__")
        self.data[key] = value.data if isinstance(value, Tensor) else value
        self._version += 1

    # comparisons give bool tensors that never require grad
    def _compare(self, other, op):
        other = other.data if isinstance(other, Tensor) else other
        return Tensor._from_op(op(self.data, other))

    def __lt__(self, other):
        return self._compare(other, lambda a, b: a < b)

    def __le__(self, other):
        return self._compare(other, lambda a, b: a <= b)

    def __gt__(self, other):
        return self._compare(other, lambda a, b: a > b)

    def __ge__(self, other):
        return self._compare(other, lambda a, b: a >= b)

    def __eq__(self, other):
        return self._compare(other, lambda a, b: a == b)

    def __ne__(self, other):
        return self._compare(other, lambda a, b: a != b)

    # --- methods named as in PyTorch ------------------------------------------------
    def add(self, other):
        return self + other

    def sub(self, other):
        return self - other

    def mul(self, other):
        return self * other

    def div(self, other):
        return self / other

    def pow(self, exponent):
        return self ** exponent

    def matmul(self, other):
        return self @ other

    def neg(self):
        return -self

    def exp(self):
        return _ops().pointwise.exp(self)

    def log(self):
        return _ops().pointwise.log(self)

    def sqrt(self):
        return _ops().pointwise.sqrt(self)

    def abs(self):
        return _ops().pointwise.abs(self)

    def clamp(self, min=None, max=None):
        return _ops().pointwise.clamp(self, min, max)

    clip = clamp

    def maximum(self, other):
        return _ops().pointwise.maximum(self, other)

    def minimum(self, other):
        return _ops().pointwise.minimum(self, other)

    def relu(self):
        return _ops().activations.relu(self)

    def leaky_relu(self, negative_slope=0.01):
        return _ops().activations.leaky_relu(self, negative_slope)

    def sigmoid(self):
        return _ops().activations.sigmoid(self)

    def tanh(self):
        return _ops().activations.tanh(self)

    def softplus(self):
        return _ops().activations.softplus(self)

    def softmax(self, dim=-1, *, axis=None):
        return _ops().activations.softmax(self, dim if axis is None else axis)

    def log_softmax(self, dim=-1, *, axis=None):
        return _ops().activations.log_softmax(self, dim if axis is None else axis)

    def sum(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        return _ops().reductions.sum(self, axis, keepdims, dim=dim, keepdim=keepdim)

    def mean(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        return _ops().reductions.mean(self, axis, keepdims, dim=dim, keepdim=keepdim)

    def max(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        """As PyTorch: the max; ``(values, indices)`` along one int dim; elementwise with another tensor."""
        return _ops().reductions.max(self, axis, keepdims, dim=dim, keepdim=keepdim)

    def min(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        """As PyTorch: the min; ``(values, indices)`` along one int dim; elementwise with another tensor."""
        return _ops().reductions.min(self, axis, keepdims, dim=dim, keepdim=keepdim)

    def amax(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        return _ops().reductions.amax(self, axis, keepdims, dim=dim, keepdim=keepdim)

    def amin(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        return _ops().reductions.amin(self, axis, keepdims, dim=dim, keepdim=keepdim)

    def var(self, axis=None, unbiased=True, keepdims=False, *, dim=None, keepdim=None, correction=None):
        return _ops().reductions.var(self, axis, unbiased, keepdims, dim=dim, keepdim=keepdim, correction=correction)

    def std(self, axis=None, unbiased=True, keepdims=False, *, dim=None, keepdim=None, correction=None):
        return _ops().reductions.std(self, axis, unbiased, keepdims, dim=dim, keepdim=keepdim, correction=correction)

    def argmax(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        axis = axis if dim is None else dim
        keep = keepdims if keepdim is None else keepdim
        return Tensor._from_op(self.data.argmax(axis=axis, keepdims=keep))

    def argmin(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        axis = axis if dim is None else dim
        keep = keepdims if keepdim is None else keepdim
        return Tensor._from_op(self.data.argmin(axis=axis, keepdims=keep))

    def reshape(self, *shape_args, shape=None):
        return _ops().shape_ops.reshape(self, *(shape_args if shape is None else (shape,)))

    def view(self, *shape_args, size=None):
        return _ops().shape_ops.reshape(self, *(shape_args if size is None else (size,)))

    def flatten(self, start_dim=0, end_dim=-1):
        return _ops().shape_ops.flatten(self, start_dim, end_dim)

    def transpose(self, *axes, dim0=None, dim1=None):
        """``transpose(d0, d1)`` or ``transpose(dim0=d0, dim1=d1)`` swaps two axes; ``transpose()`` reverses all."""
        if dim0 is not None or dim1 is not None:
            axes = (dim0, dim1)
        return _ops().shape_ops.transpose(self, *axes)

    def permute(self, *dims_args, dims=None):
        return _ops().shape_ops.permute(self, *(dims_args if dims is None else (dims,)))

    @property
    def T(self):
        return _ops().shape_ops.permute(self, *reversed(range(self.ndim)))

    def squeeze(self, dim=None, *, axis=None):
        return _ops().shape_ops.squeeze(self, dim if axis is None else axis)

    def unsqueeze(self, dim):
        return _ops().shape_ops.unsqueeze(self, dim)

    def expand(self, *shape):
        return _ops().shape_ops.expand(self, *shape)

    def broadcast_to(self, shape):
        return _ops().shape_ops.expand(self, shape)

    def expand_as(self, other):
        return _ops().shape_ops.expand(self, other.shape)

    def view_as(self, other):
        return self.reshape(other.shape)


class _HookHandle:
    """What register_hook returns: ``remove()`` takes the hook off its tensor (once; later calls do nothing)."""

    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        for i, h in enumerate(self._hooks):
            if h is self._hook:
                del self._hooks[i]
                return


def _ops():
    """The ops package, imported late (ops import Tensor)."""
    import minigrad.ops as ops

    return ops


def as_tensor_args(fn, inputs):
    """Turn an op's inputs into Tensors on one device.

    Python numbers adopt the dtype of the tensor operands (``x * 2`` stays
    float32, NumPy's rule for scalars); arrays become constant tensors.
    Mixing devices is an error that names the op and both devices.
    """
    ref = None
    for x in inputs:
        if isinstance(x, Tensor):
            if ref is None:
                ref = x
            elif x.device != ref.device:
                raise RuntimeError(
                    f"{fn.name}: expected all tensors on the same device, got {ref.device} and {x.device}"
                )
    if ref is None:
        raise TypeError(f"{fn.name}: expected at least one Tensor argument")
    if all(isinstance(x, Tensor) for x in inputs):
        return inputs
    out = []
    xp = ref.xp
    for x in inputs:
        if isinstance(x, Tensor):
            out.append(x)
        elif isinstance(x, numbers.Number):
            dtype = ref.dtype if ref.dtype.kind == "f" or not isinstance(x, float) else np.float32
            out.append(Tensor._from_op(xp.asarray(x, dtype=dtype)))
        else:
            # host data (lists, NumPy arrays) is copied to the tensors' device; a GPU array
            # next to CPU tensors is a device mix-up
            if ref.device == "cpu" and backend.device_of(x) == "cuda":
                raise RuntimeError(f"{fn.name}: expected all tensors on the same device, got cpu and cuda")
            out.append(Tensor._from_op(xp.asarray(x)))
    return tuple(out)
