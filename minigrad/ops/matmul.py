"""Matrix product with NumPy's rules: 1-D, 2-D and batched (broadcast) operands."""

from __future__ import annotations

from typing import TYPE_CHECKING

from minigrad.autograd import Function, sum_to
from minigrad.autograd.function import Array, Grad
from minigrad.tensor import Tensor

if TYPE_CHECKING:
    from minigrad.tensor import Operand


def _swap_last(a: Grad) -> Grad:
    """a with its last two axes swapped (a view; arrays and Tensors alike)."""
    perm = list(range(a.ndim))
    perm[-1], perm[-2] = perm[-2], perm[-1]
    return a.transpose(tuple(perm))


class MatMul(Function):
    """Y = A @ B ;  dA = dY @ B^T,  dB = A^T @ dY.

    A 1-D operand is treated as a row (left) or column (right) vector and the
    added axis is removed again; batch axes broadcast, so their gradients are
    summed back with ``sum_to``.
    """

    autocast_policy = "lower"  # PyTorch autocasts matmul, mm, bmm, __matmul__ to float16

    def forward(self, a: Array, b: Array) -> Array:
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError(f"matmul: both operands need at least 1 dimension, got shapes {a.shape} and {b.shape}")
        if a.dtype != b.dtype:  # as PyTorch: no silent float32 -> float64 widening of a GEMM
            raise ValueError(
                f"matmul: dtypes differ ({a.dtype} and {b.dtype}, shapes {tuple(a.shape)} and "
                f"{tuple(b.shape)}); convert one operand"
            )
        k_a = a.shape[-1]
        k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
        if k_a != k_b:
            raise ValueError(
                f"matmul: shapes {tuple(a.shape)} and {tuple(b.shape)} are not aligned "
                f"({k_a} (last dim of the first) != {k_b} ({'dim 0' if b.ndim == 1 else 'dim -2'} of the second))"
            )
        self.save_for_backward(a, b)
        return a @ b

    def backward(self, gy: Grad) -> tuple[Grad | None, ...]:
        a, b = self.saved_values
        a2 = a.reshape((1,) + tuple(a.shape)) if a.ndim == 1 else a  # (k,) -> (1, k)
        b2 = b.reshape(tuple(b.shape) + (1,)) if b.ndim == 1 else b  # (k,) -> (k, 1)
        g = gy  # (..., n, m) with the axes of 1-D operands put back; b first, so 1-D @ 1-D works
        if b.ndim == 1:
            g = g.reshape(tuple(g.shape) + (1,))
        if a.ndim == 1:
            g = g.reshape(tuple(g.shape[:-1]) + (1,) + tuple(g.shape[-1:]))
        ga = gb = None
        if self.needs_input_grad[0]:
            ga = sum_to(g @ _swap_last(b2), a2.shape).reshape(a.shape)
        if self.needs_input_grad[1]:
            gb = sum_to(_swap_last(a2) @ g, b2.shape).reshape(b.shape)
        return ga, gb


def matmul(a: Operand, b: Operand) -> Tensor:
    """a @ b with NumPy's rules (1-D, 2-D, batched) ;  da = gy @ b^T, db = a^T @ gy."""
    return MatMul()(a, b)
