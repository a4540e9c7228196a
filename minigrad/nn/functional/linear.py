"""linear: y = x W^T + b as one fused Function."""

from __future__ import annotations

from minigrad.autograd import Function
from minigrad.autograd.function import Array, Grad
from minigrad.tensor import Tensor


class Linear(Function):
    """y = x W^T + b  for x of shape (..., in), W (out, in), b (out,).

    With x and gy flattened to matrices X (M, in) and G (M, out):

        dX = G W,   dW = G^T X,   db = sum_rows G.

    Each product is one GEMM on C-contiguous arrays or their transposed
    views (BLAS reads a transpose through its trans flag, no copy), and the
    bias is added in place into the GEMM's output.
    """

    autocast_policy = "lower"  # PyTorch autocasts linear to float16

    def forward(self, x: Array, w: Array, b: Array = None) -> Array:
        if w.ndim != 2:
            raise ValueError(f"weight must be 2-D (out_features, in_features), got shape {tuple(w.shape)}")
        if x.ndim == 0 or x.shape[-1] != w.shape[1]:
            raise ValueError(
                f"input of shape {tuple(x.shape)} has {x.shape[-1] if x.ndim else 0} features in its last "
                f"dimension, but weight of shape {tuple(w.shape)} expects in_features={w.shape[1]}"
            )
        if b is not None and tuple(b.shape) != (w.shape[0],):
            raise ValueError(f"bias must have shape ({w.shape[0]},), got {tuple(b.shape)}")
        if x.dtype != w.dtype or (b is not None and b.dtype != w.dtype):
            raise ValueError(
                f"dtypes differ: input {x.dtype}, weight {w.dtype}"
                + (f", bias {b.dtype}" if b is not None else "")
                + " (convert the input or the module, e.g. model.double())"
            )
        x2 = x if x.ndim == 2 else x.reshape(-1, x.shape[-1])
        y = x2 @ w.T
        if b is not None:
            y += b
        self.has_bias = b is not None
        self.save_for_backward(x, w)
        return y if x.ndim == 2 else y.reshape(x.shape[:-1] + (w.shape[0],))

    def backward(self, gy: Grad) -> tuple[Grad | None, ...]:
        x, w = self.saved_values
        need = self.needs_input_grad
        g2 = gy if gy.ndim == 2 else gy.reshape(-1, gy.shape[-1])
        gx = gw = gb = None
        if need[0]:
            gx = g2 @ w
            if x.ndim != 2:
                gx = gx.reshape(x.shape)
        if need[1]:
            gw = g2.T @ (x if x.ndim == 2 else x.reshape(-1, x.shape[-1]))
        if self.has_bias:
            if need[2]:
                gb = g2.sum(axis=0)
            return gx, gw, gb
        return gx, gw


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = input @ weight.T + bias, as ``torch.nn.functional.linear``."""
    if bias is None:
        return Linear()(input, weight)
    return Linear()(input, weight, bias)
