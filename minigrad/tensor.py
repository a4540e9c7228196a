"""Tensor: one array of its device's backend, plus what autograd needs.

``data`` is the raw array (numpy.ndarray or cupy.ndarray), ``grad`` the
accumulated gradient (a Tensor, None until backward), ``grad_fn`` the
Function that produced it (None for leaves).

This file is the data structure only: it imports no op and no autograd code.
The differentiable methods (``+``, ``exp``, ``sum``, ``reshape``, ``to``,
``backward``...) are attached by ``minigrad/ops/tensor_methods.py``, one line
each, so the core reads one way: tensor -> autograd -> ops.
"""
from __future__ import annotations

import numbers

import numpy as np

from minigrad import backend, dtypes, grad_mode

_FLOAT_KINDS = ("f",)


def _check_can_require_grad(dtype, op="tensor"):
    if np.dtype(dtype).kind not in _FLOAT_KINDS:
        raise TypeError(
            f"{op}: only floating point tensors can require gradients, got dtype {np.dtype(dtype)}"
        )


class Tensor:
    __array_priority__ = 1000  # so `ndarray + Tensor` calls Tensor.__radd__
    _version = 0  # bumped by every in-place write (_bump_version); backward checks it

    def __init__(self, data, requires_grad: bool = False):
        if isinstance(data, Tensor):
            data = data.data
        xp = backend.get_array_module(data)
        if not isinstance(data, xp.ndarray):
            arr = np.asarray(data)
            if arr.dtype.kind == "f" and not hasattr(data, "dtype"):  # Python floats: float32, as torch.Tensor
                arr = arr.astype(dtypes.get_default_dtype())
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

    def _check_writable(self, op):
        """In-place writes happen outside the graph: refused on a tensor that requires grad in grad mode."""
        if self.requires_grad and grad_mode.is_grad_enabled():
            raise RuntimeError(f"{op}: in-place operation on a tensor that requires grad while grad mode is on "
                               f"(shape {self.shape}); do it under `with minigrad.no_grad():`, as for a manual "
                               f"parameter update")

    def _bump_version(self):
        """Record an in-place write: backward refuses a graph that saved this tensor's old values.

        Every in-place writer (these methods, optimizer steps, nn.init, load_state_dict, BatchNorm's running
        statistics) goes through here.
        """
        self._version += 1

    def zero_(self):
        self._check_writable("zero_")
        self.data[...] = 0
        self._bump_version()
        return self

    def fill_(self, value):
        self._check_writable("fill_")
        self.data[...] = value
        self._bump_version()
        return self

    def copy_(self, src):
        self._check_writable("copy_")
        src = src.data if isinstance(src, Tensor) else src
        self.data[...] = backend.to_device(src, self.device) if self.device == "cpu" else self.xp.asarray(src)
        self._bump_version()
        return self

    # --- in-place arithmetic ------------------------------------------------------
    # Outside the graph, as a manual update is written in PyTorch:
    #     with no_grad(): p -= lr * p.grad
    # (without __isub__, Python would rebind p to a new tensor and leave the model unchanged).
    def _inplace(self, op, ufunc, other, alpha=1):
        self._check_writable(op)
        value = other.data if isinstance(other, Tensor) else other
        if alpha != 1:
            value = value * alpha
        try:
            ufunc(self.data, value, out=self.data, casting="same_kind")
        except (TypeError, ValueError) as e:  # a broadcast that would grow self, or a dtype it cannot hold
            other_desc = (f"shape {tuple(value.shape)}, dtype {value.dtype}" if hasattr(value, "shape")
                          else type(value).__name__)
            error = TypeError if isinstance(e, TypeError) else ValueError
            raise error(f"{op}: cannot update a tensor of shape {self.shape} and dtype {self.dtype} in place "
                        f"with {other_desc} ({e})") from None
        self._bump_version()
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

    def __setitem__(self, key, value):
        self._check_writable("__setitem__")
        self.data[key] = value.data if isinstance(value, Tensor) else value
        self._bump_version()

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

    # --- index reductions (no gradient) ------------------------------------------
    def argmax(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        axis = axis if dim is None else dim
        keep = keepdims if keepdim is None else keepdim
        return Tensor._from_op(self.data.argmax(axis=axis, keepdims=keep))

    def argmin(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        axis = axis if dim is None else dim
        keep = keepdims if keepdim is None else keepdim
        return Tensor._from_op(self.data.argmin(axis=axis, keepdims=keep))


class _HookHandle:
    """What register_hook returns: ``remove()`` takes the hook off its tensor (once; later calls do nothing)."""

    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        for i, h in enumerate(self._hooks):
            if h is self._hook:
                del self._hooks[i]
                return
