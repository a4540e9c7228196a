"""Moving a tensor to another device or dtype, and copying it, inside the graph (``to``, ``clone``...)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from minigrad import backend, grad_mode
from minigrad.autograd import Function
from minigrad.autograd.function import Array, Grad
from minigrad.tensor import Tensor

if TYPE_CHECKING:
    from minigrad.tensor import DTypeLike


class ToCopy(Function):
    """y = x on ``device`` as ``dtype`` ;  dx = gy moved back to x's device and dtype."""

    def __init__(self, device: str | None = None, dtype: DTypeLike | None = None) -> None:
        self.device, self.dtype = device, dtype

    def forward(self, x: Array) -> Array:
        self.in_device, self.in_dtype = backend.device_of(x), x.dtype
        y = x if self.device is None else backend.to_device(x, self.device)
        if self.dtype is not None and y.dtype != self.dtype:
            y = y.astype(self.dtype)
        return y.copy() if y is x else y

    def backward(self, gy: Grad) -> Grad:
        return ToCopy(self.in_device, self.in_dtype).forward_or_record(gy)


def to(self: Tensor, device: Any = None, dtype: DTypeLike | None = None) -> Tensor:
    """Copy to another device and/or dtype (self when nothing changes).

    Inside the graph, d(copy)/dx = identity moved back; a leaf that does not
    record keeps ``requires_grad``, like PyTorch's ``.to`` on a leaf.
    """
    device, dtype = backend.to_arguments(device, dtype)
    if (device is None or device == self.device) and (dtype is None or dtype == self.dtype):
        return self
    if grad_mode.is_grad_enabled() and self.requires_grad:
        return ToCopy(device, dtype)(self)
    return Tensor(ToCopy(device, dtype).forward(self.data), requires_grad=self.requires_grad)


def clone(self: Tensor) -> Tensor:
    """A copy of the data that stays in the graph: d(clone)/dx = identity."""
    return ToCopy()(self) if grad_mode.is_grad_enabled() and self.requires_grad else Tensor(self.data.copy())


def contiguous(self: Tensor) -> Tensor:
    """self when its data is C-contiguous, else a contiguous clone."""
    return self if self.data.flags.c_contiguous else clone(self)
