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

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple, overload

import numpy as np

from minigrad import backend, dtypes, grad_mode

if TYPE_CHECKING:
    from typing import TypeAlias

    from minigrad.autograd.function import Function

    # What an op accepts beside a Tensor: a Python number or host/device array data (made a constant tensor).
    Operand: TypeAlias = "Tensor | float | int | bool | np.ndarray | Any"
    Axis: TypeAlias = int | tuple[int, ...] | list[int] | None
    DTypeLike: TypeAlias = np.dtype | type | str
    Hook: TypeAlias = "Callable[[Tensor], Tensor | None]"

_FLOAT_KINDS = ("f",)


def _check_can_require_grad(dtype: Any, op: str = "tensor") -> None:
    if np.dtype(dtype).kind not in _FLOAT_KINDS:
        raise TypeError(f"{op}: only floating point tensors can require gradients, got dtype {np.dtype(dtype)}")


class Tensor:
    """An array (``data``) plus what autograd needs: ``requires_grad``, ``grad`` and ``grad_fn``."""

    __array_priority__ = 1000  # so `ndarray + Tensor` calls Tensor.__radd__
    _version_counter: list[int] | None = None  # [count], shared by a tensor and its views; None until a write
    _grad_accumulator: Any = None  # weak reference to a leaf's AccumulateGrad node (autograd.accumulate_grad)

    data: Any  # numpy.ndarray or cupy.ndarray
    grad: Tensor | None
    grad_fn: Function | None
    requires_grad: bool
    _hooks: list[Hook]
    _retains_grad: bool

    def __init__(self, data: Any, requires_grad: bool = False) -> None:
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
    def _from_op(cls, data: Any) -> Tensor:
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
    def shape(self) -> tuple[int, ...]:
        """The sizes of the dimensions, a tuple."""
        return tuple(self.data.shape)

    @property
    def ndim(self) -> int:
        """The number of dimensions."""
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        """The NumPy dtype of the data."""
        return self.data.dtype

    @property
    def device(self) -> str:
        """'cpu' or 'cuda'."""
        return backend.device_of(self.data)

    @property
    def is_leaf(self) -> bool:
        """True for a tensor no op made (``grad_fn`` is None): backward fills its ``.grad``."""
        return self.grad_fn is None

    @property
    def is_cuda(self) -> bool:
        """True on the GPU."""
        return self.device == "cuda"

    @property
    def xp(self) -> Any:
        """The array module of this tensor: numpy or cupy."""
        return backend.get_array_module(self.data)

    def size(self, dim: int | None = None) -> Any:
        """The shape, or the size of dimension ``dim``."""
        return self.shape if dim is None else self.shape[dim]

    def numel(self) -> int:
        """The number of elements."""
        return int(self.data.size)

    def dim(self) -> int:
        """The number of dimensions."""
        return self.ndim

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def item(self) -> Any:
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item: only one-element tensors can be converted, got shape {self.shape}")
        return self.data.reshape(()).item()

    def numpy(self) -> np.ndarray:
        """The data as a NumPy array (a copy from the GPU; a view on the CPU)."""
        return backend.as_numpy(self.data)

    def tolist(self) -> Any:
        """The data as (nested) Python lists."""
        return self.numpy().tolist()

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        a = self.numpy()
        return a if dtype is None else a.astype(dtype)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        return bool(self.item())

    __hash__ = object.__hash__

    # --- autograd -------------------------------------------------------------
    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place (floating-point tensors only); returns self."""
        if requires_grad:
            _check_can_require_grad(self.dtype, "requires_grad_")
        self.requires_grad = bool(requires_grad)
        return self

    def register_hook(self, hook: Hook) -> _HookHandle:
        """``hook(grad) -> Tensor or None`` runs when self's gradient is computed.

        Returns a handle whose ``remove()`` unregisters the hook, as in PyTorch.
        """
        if not self.requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that does not require grad")
        self._hooks.append(hook)
        return _HookHandle(self._hooks, hook)

    def retain_grad(self) -> None:
        """Keep ``.grad`` on a non-leaf tensor too."""
        self._retains_grad = True

    def detach(self) -> Tensor:
        """Same data (and the same version counter), cut from the graph."""
        t = Tensor._from_op(self.data)
        t._share_version_counter(self)
        return t

    def detach_(self) -> Tensor:
        """Cut self from the graph in place: no grad_fn, no requires_grad."""
        self.grad_fn = None
        self.requires_grad = False
        return self

    def _check_writable(self, op: str) -> None:
        """In-place writes happen outside the graph: refused on a tensor that requires grad in grad mode."""
        if self.requires_grad and grad_mode.is_grad_enabled():
            raise RuntimeError(
                f"{op}: in-place operation on a tensor that requires grad while grad mode is on "
                f"(shape {self.shape}); do it under `with minigrad.no_grad():`, as for a manual "
                f"parameter update"
            )

    @property
    def _version(self) -> int:
        """How many in-place writes this tensor's memory has seen (0 for a fresh tensor)."""
        return 0 if self._version_counter is None else self._version_counter[0]

    def _share_version_counter(self, base: Tensor) -> None:
        """Make self, a view of ``base``'s memory, count the same writes as ``base``."""
        if base._version_counter is None:
            base._version_counter = [0]
        self._version_counter = base._version_counter

    def _bump_version(self) -> None:
        """Record an in-place write: backward refuses a graph that saved this tensor's old values.

        Every in-place writer (these methods, optimizer steps, nn.init, load_state_dict, BatchNorm's running
        statistics) goes through here. A view (reshape, transpose, basic indexing, ``detach``) shares its base's
        counter, as in PyTorch, so a write through either is seen by graphs that saved the other.
        """
        if self._version_counter is None:
            self._version_counter = [0]
        self._version_counter[0] += 1

    def zero_(self) -> Tensor:
        """Fill with zeros in place (outside the graph)."""
        self._check_writable("zero_")
        self.data[...] = 0
        self._bump_version()
        return self

    def fill_(self, value: Any) -> Tensor:
        """Fill with ``value`` in place (outside the graph)."""
        self._check_writable("fill_")
        self.data[...] = value
        self._bump_version()
        return self

    def copy_(self, src: Any) -> Tensor:
        """Copy ``src``'s values into self in place, broadcast, across devices (outside the graph)."""
        self._check_writable("copy_")
        src = src.data if isinstance(src, Tensor) else src
        self.data[...] = backend.to_device(src, self.device) if self.device == "cpu" else self.xp.asarray(src)
        self._bump_version()
        return self

    # --- in-place arithmetic ------------------------------------------------------
    # Outside the graph, as a manual update is written in PyTorch:
    #     with no_grad(): p -= lr * p.grad
    # (without __isub__, Python would rebind p to a new tensor and leave the model unchanged).
    def _inplace(self, op: str, ufunc: Any, other: Operand, alpha: float = 1) -> Tensor:
        self._check_writable(op)
        value: Any = other.data if isinstance(other, Tensor) else other
        if alpha != 1:
            value = value * alpha
        try:
            ufunc(self.data, value, out=self.data, casting="same_kind")
        except (TypeError, ValueError) as e:  # a broadcast that would grow self, or a dtype it cannot hold
            other_desc = (
                f"shape {tuple(value.shape)}, dtype {value.dtype}" if hasattr(value, "shape") else type(value).__name__
            )
            error = TypeError if isinstance(e, TypeError) else ValueError
            raise error(
                f"{op}: cannot update a tensor of shape {self.shape} and dtype {self.dtype} in place "
                f"with {other_desc} ({e})"
            ) from None
        self._bump_version()
        return self

    def add_(self, other: Operand, alpha: float = 1) -> Tensor:
        """self += alpha * other, in place (outside the graph)."""
        return self._inplace("add_", self.xp.add, other, alpha)

    def sub_(self, other: Operand, alpha: float = 1) -> Tensor:
        """self -= alpha * other, in place (outside the graph)."""
        return self._inplace("sub_", self.xp.subtract, other, alpha)

    def mul_(self, other: Operand) -> Tensor:
        """self *= other, in place (outside the graph)."""
        return self._inplace("mul_", self.xp.multiply, other)

    def div_(self, other: Operand) -> Tensor:
        """self /= other, in place (outside the graph)."""
        return self._inplace("div_", self.xp.true_divide, other)

    def __iadd__(self, other: Operand) -> Tensor:
        return self._inplace("+=", self.xp.add, other)

    def __isub__(self, other: Operand) -> Tensor:
        return self._inplace("-=", self.xp.subtract, other)

    def __imul__(self, other: Operand) -> Tensor:
        return self._inplace("*=", self.xp.multiply, other)

    def __itruediv__(self, other: Operand) -> Tensor:
        return self._inplace("/=", self.xp.true_divide, other)

    # --- repr --------------------------------------------------------------
    def __repr__(self) -> str:
        body = np.array2string(self.numpy(), separator=", ", prefix="tensor(", threshold=200)
        extra = [f"dtype={self.dtype}"]
        if self.device != "cpu":
            extra.append(f"device='{self.device}'")
        if self.grad_fn is not None:
            extra.append(f"grad_fn=<{self.grad_fn.name}Backward>")
        elif self.requires_grad:
            extra.append("requires_grad=True")
        return f"tensor({body}, {', '.join(extra)})"

    def __setitem__(self, key: Any, value: Operand) -> None:
        self._check_writable("__setitem__")
        self.data[key] = value.data if isinstance(value, Tensor) else value
        self._bump_version()

    # comparisons give bool tensors that never require grad
    def _compare(self, other: Operand, op: Callable[[Any, Any], Any]) -> Tensor:
        other = other.data if isinstance(other, Tensor) else other
        return Tensor._from_op(op(self.data, other))

    def __lt__(self, other: Operand) -> Tensor:
        return self._compare(other, lambda a, b: a < b)

    def __le__(self, other: Operand) -> Tensor:
        return self._compare(other, lambda a, b: a <= b)

    def __gt__(self, other: Operand) -> Tensor:
        return self._compare(other, lambda a, b: a > b)

    def __ge__(self, other: Operand) -> Tensor:
        return self._compare(other, lambda a, b: a >= b)

    def __eq__(self, other: Operand) -> Tensor:  # type: ignore[override]  # elementwise, as PyTorch
        return self._compare(other, lambda a, b: a == b)

    def __ne__(self, other: Operand) -> Tensor:  # type: ignore[override]  # elementwise, as PyTorch
        return self._compare(other, lambda a, b: a != b)

    # --- index reductions (no gradient) ------------------------------------------
    def argmax(
        self, axis: int | None = None, keepdims: bool = False, *, dim: int | None = None, keepdim: bool | None = None
    ) -> Tensor:
        """The indices of the largest values (of the flattened tensor when ``axis`` is None); no gradient."""
        axis = axis if dim is None else dim
        keep = keepdims if keepdim is None else keepdim
        return Tensor._from_op(self.data.argmax(axis=axis, keepdims=keep))

    def argmin(
        self, axis: int | None = None, keepdims: bool = False, *, dim: int | None = None, keepdim: bool | None = None
    ) -> Tensor:
        """The indices of the smallest values (of the flattened tensor when ``axis`` is None); no gradient."""
        axis = axis if dim is None else dim
        keep = keepdims if keepdim is None else keepdim
        return Tensor._from_op(self.data.argmin(axis=axis, keepdims=keep))

    if TYPE_CHECKING:
        # The differentiable methods that minigrad/ops/tensor_methods.py attaches at import, declared here for type
        # checkers, IDEs and the API reference (this block never runs, so tensor.py still imports no op): each with
        # its own signature and a one-line contract, the formula for ops (gy: the gradient of the output). Keep it
        # in step with tensor_methods._METHODS; tests/test_typing.py checks the names and parameters.
        def backward(
            self,
            gradient: Operand | None = None,
            retain_graph: bool | None = None,
            create_graph: bool = False,
            inputs: Tensor | list[Tensor] | None = None,
            *,
            grad: Operand | None = None,
        ) -> None:
            """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` (``gradient``: d loss/d self, 1 for a scalar)."""

        # operators (each also a method under PyTorch's name, declared below)
        def __add__(self, b: Operand) -> Tensor:
            """self + b, broadcast ;  d self = gy, db = gy (each summed back to its shape)."""

        def __sub__(self, b: Operand) -> Tensor:
            """self - b, broadcast ;  d self = gy, db = -gy."""

        def __mul__(self, b: Operand) -> Tensor:
            """self * b, elementwise and broadcast ;  d self = gy b, db = gy self."""

        def __truediv__(self, b: Operand) -> Tensor:
            """self / b, broadcast ;  d self = gy / b, db = -gy self / b^2."""

        def __matmul__(self, b: Operand) -> Tensor:
            """self @ b (NumPy's matmul rules, batched) ;  d self = gy @ b^T, db = self^T @ gy."""

        def __radd__(self, other: Operand) -> Tensor:
            """other + self, for ``2 + t`` or ``ndarray + t``."""

        def __rsub__(self, other: Operand) -> Tensor:
            """other - self."""

        def __rmul__(self, other: Operand) -> Tensor:
            """other * self."""

        def __rtruediv__(self, other: Operand) -> Tensor:
            """other / self."""

        def __rmatmul__(self, other: Operand) -> Tensor:
            """other @ self."""

        def __pow__(self, exponent: Operand) -> Tensor:
            """self ** exponent ;  d self = exponent self^(exponent-1) gy, d exponent = self^exponent log(self) gy."""

        def __rpow__(self, base: Operand) -> Tensor:
            """base ** self, e.g. ``2 ** t``."""

        def __neg__(self) -> Tensor:
            """-self ;  d self = -gy."""

        def __pos__(self) -> Tensor:
            """+self: self itself."""

        def __abs__(self) -> Tensor:
            """|self|, elementwise ;  d self = sign(self) gy (0 at 0)."""

        def __getitem__(self, key: Any) -> Tensor:
            """self[key], NumPy indexing (basic or advanced) ;  d self = zeros with gy added at ``key``."""

        # arithmetic and pointwise methods
        def add(self, b: Operand) -> Tensor:
            """self + b (as ``+``)."""

        def sub(self, b: Operand) -> Tensor:
            """self - b (as ``-``)."""

        def mul(self, b: Operand) -> Tensor:
            """self * b (as ``*``)."""

        def div(self, b: Operand) -> Tensor:
            """self / b (as ``/``)."""

        def pow(self, exponent: Operand) -> Tensor:
            """self ** exponent (as ``**``)."""

        def matmul(self, b: Operand) -> Tensor:
            """self @ b (as ``@``)."""

        def neg(self) -> Tensor:
            """-self (as unary ``-``)."""

        def exp(self) -> Tensor:
            """e^self, elementwise ;  d self = e^self gy."""

        def log(self) -> Tensor:
            """ln(self), elementwise ;  d self = gy / self."""

        def sqrt(self) -> Tensor:
            """sqrt(self), elementwise ;  d self = gy / (2 sqrt(self))."""

        def abs(self) -> Tensor:
            """|self|, elementwise ;  d self = sign(self) gy (0 at 0, as PyTorch)."""

        def clamp(self, min: float | None = None, max: float | None = None) -> Tensor:
            """min(max(self, min), max), elementwise ;  d self = gy where min <= self <= max, else 0."""

        def clip(self, min: float | None = None, max: float | None = None) -> Tensor:
            """NumPy's name for ``clamp``."""

        def maximum(self, b: Operand) -> Tensor:
            """max(self, b), elementwise ;  the gradient goes to the larger input (split evenly on ties)."""

        def minimum(self, b: Operand) -> Tensor:
            """min(self, b), elementwise ;  the gradient goes to the smaller input (split evenly on ties)."""

        # activations
        def relu(self) -> Tensor:
            """max(self, 0) ;  d self = gy where self > 0."""

        def leaky_relu(self, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
            """self where self > 0, else negative_slope * self ;  d self = gy or negative_slope gy."""

        def sigmoid(self) -> Tensor:
            """y = 1 / (1 + e^-self) ;  d self = y (1 - y) gy."""

        def tanh(self) -> Tensor:
            """y = tanh(self) ;  d self = (1 - y^2) gy."""

        def softplus(self) -> Tensor:
            """log(1 + e^self), computed without overflow ;  d self = sigmoid(self) gy."""

        def softmax(self, dim: int = -1, *, axis: int | None = None) -> Tensor:
            """y_i = e^x_i / sum_j e^x_j along ``dim`` ;  dx = y (gy - sum_j gy_j y_j)."""

        def log_softmax(self, dim: int = -1, *, axis: int | None = None) -> Tensor:
            """x_i - log sum_j e^x_j along ``dim`` ;  dx = gy - softmax(x) sum_j gy_j."""

        # reductions (``axis``/``keepdims`` as NumPy, ``dim``/``keepdim`` as PyTorch)
        def sum(
            self, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None, keepdim: bool | None = None
        ) -> Tensor:
            """sum of the elements over ``axis`` (all when None) ;  dx_i = gy."""

        def mean(
            self, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None, keepdim: bool | None = None
        ) -> Tensor:
            """(1/n) sum of the elements over ``axis`` ;  dx_i = gy / n."""

        def amax(
            self, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None, keepdim: bool | None = None
        ) -> Tensor:
            """The largest values over ``axis`` ;  dx_i = gy / (number of maxima) at the maxima, else 0."""

        def amin(
            self, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None, keepdim: bool | None = None
        ) -> Tensor:
            """The smallest values over ``axis`` ;  dx_i = gy / (number of minima) at the minima, else 0."""

        # max/min: the reduction; (values, indices) along one int dim; elementwise with another tensor
        @overload
        def max(self, axis: int, keepdims: bool = False, *, keepdim: bool | None = None) -> ReductionResult: ...
        @overload
        def max(self, *, dim: int, keepdim: bool | None = None) -> ReductionResult: ...
        @overload
        def max(
            self,
            axis: Tensor | tuple[int, ...] | None = None,
            keepdims: bool = False,
            *,
            dim: tuple[int, ...] | None = None,
            keepdim: bool | None = None,
        ) -> Tensor: ...
        def max(self, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: bool | None = None) -> Any:
            """max(): the largest value; max(dim): (values, indices) along dim; max(other): elementwise maximum."""

        @overload
        def min(self, axis: int, keepdims: bool = False, *, keepdim: bool | None = None) -> ReductionResult: ...
        @overload
        def min(self, *, dim: int, keepdim: bool | None = None) -> ReductionResult: ...
        @overload
        def min(
            self,
            axis: Tensor | tuple[int, ...] | None = None,
            keepdims: bool = False,
            *,
            dim: tuple[int, ...] | None = None,
            keepdim: bool | None = None,
        ) -> Tensor: ...
        def min(self, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: bool | None = None) -> Any:
            """min(): the smallest value; min(dim): (values, indices) along dim; min(other): elementwise minimum."""

        def var(
            self,
            axis: Axis = None,
            unbiased: bool = True,
            keepdims: bool = False,
            *,
            dim: Axis = None,
            keepdim: bool | None = None,
            correction: int | None = None,
        ) -> Tensor:
            """sum_i (x_i - m)^2 / (n - c), m the mean, c the correction (1) ;  dx_i = 2 (x_i - m) gy / (n - c)."""

        def std(
            self,
            axis: Axis = None,
            unbiased: bool = True,
            keepdims: bool = False,
            *,
            dim: Axis = None,
            keepdim: bool | None = None,
            correction: int | None = None,
        ) -> Tensor:
            """sqrt(var(self)) ;  dx_i = (x_i - m) gy / ((n - c) std)."""

        # shapes: views of the same data where NumPy gives one; the gradient is gy reshaped/permuted back
        def reshape(self, *shape_args: Any, shape: tuple[int, ...] | None = None) -> Tensor:
            """The same elements in a new shape (``reshape(2, 3)`` or ``reshape((2, 3))``; one -1 is inferred)."""

        def view(self, *shape_args: Any, size: tuple[int, ...] | None = None) -> Tensor:
            """PyTorch's name for ``reshape``."""

        def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
            """The dims ``start_dim`` to ``end_dim`` merged into one."""

        def transpose(self, *axes: int, dim0: int | None = None, dim1: int | None = None) -> Tensor:
            """``transpose(d0, d1)`` swaps two dims (PyTorch); ``transpose()`` reverses them all (NumPy)."""

        def permute(self, *dims_args: Any, dims: tuple[int, ...] | None = None) -> Tensor:
            """The dims reordered: output dim i is input dim ``dims[i]``."""

        @property
        def T(self) -> Tensor:
            """The dims reversed (a transpose for a matrix)."""

        def squeeze(self, dim: Axis = None, *, axis: Axis = None) -> Tensor:
            """Size-1 dims removed (all of them, or those in ``dim``)."""

        def unsqueeze(self, dim: int) -> Tensor:
            """A size-1 dim inserted at ``dim``."""

        def expand(self, *shape: Any) -> Tensor:
            """Broadcast to ``shape`` (-1 keeps a dim) ;  d self = gy summed over the broadcast dims."""

        def broadcast_to(self, shape: tuple[int, ...]) -> Tensor:
            """NumPy's name for ``expand``."""

        def expand_as(self, other: Tensor) -> Tensor:
            """``expand`` to ``other``'s shape."""

        def view_as(self, other: Tensor) -> Tensor:
            """``reshape`` to ``other``'s shape."""

        # devices, dtypes, copies: differentiable (the gradient goes back to self's device and dtype)
        def to(self, device: Any = None, dtype: DTypeLike | None = None) -> Tensor:
            """A copy on ``device`` and/or as ``dtype`` (self when nothing changes)."""

        def clone(self) -> Tensor:
            """A copy of the data that stays in the graph ;  d self = gy."""

        def contiguous(self) -> Tensor:
            """self when its data is C-contiguous, else a contiguous copy."""

        def cpu(self) -> Tensor:
            """``to("cpu")``."""

        def cuda(self) -> Tensor:
            """``to("cuda")``."""

        def float(self) -> Tensor:
            """``to(dtype=float32)``."""

        def double(self) -> Tensor:
            """``to(dtype=float64)``."""

        def long(self) -> Tensor:
            """``to(dtype=int64)``."""

        def int(self) -> Tensor:
            """``to(dtype=int32)``."""

        def type(self, dtype: DTypeLike) -> Tensor:
            """``to(dtype=dtype)``."""

        def astype(self, dtype: DTypeLike) -> Tensor:
            """``to(dtype=dtype)`` (NumPy's name)."""


def is_tensor(obj: Any) -> bool:
    """True when ``obj`` is a minigrad Tensor (``torch.is_tensor``); backward formulas ask it to tell a
    ``create_graph=True`` run (Tensors) from a first-order one (raw arrays)."""
    return isinstance(obj, Tensor)


class ReductionResult(NamedTuple):
    """What ``max``/``min`` over one dim return, for type checkers: ``(values, indices)`` with named fields."""

    values: Tensor
    indices: Tensor


class _HookHandle:
    """What register_hook returns: ``remove()`` takes the hook off its tensor (once; later calls do nothing)."""

    def __init__(self, hooks: list[Hook], hook: Hook) -> None:
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        for i, h in enumerate(self._hooks):
            if h is self._hook:
                del self._hooks[i]
                return
