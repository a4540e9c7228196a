"""Matrix product with NumPy's rules: 1-D, 2-D and batched (broadcast) operands."""
from minigrad.autograd import Function, sum_to
from minigrad.backend import get_array_module


class MatMul(Function):
    """Y = A @ B ;  dA = dY @ B^T,  dB = A^T @ dY.

    A 1-D operand is treated as a row (left) or column (right) vector and the
    added axis is removed again; batch axes broadcast, so their gradients are
    summed back with ``sum_to``.
    """

    def forward(self, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError(f"matmul: both operands need at least 1 dimension, got shapes {a.shape} and {b.shape}")
        if a.dtype != b.dtype:  # as PyTorch: no silent float32 -> float64 widening of a GEMM
            raise ValueError(f"matmul: dtypes differ ({a.dtype} and {b.dtype}, shapes {tuple(a.shape)} and "
                             f"{tuple(b.shape)}); convert one operand")
        k_a = a.shape[-1]
        k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
        if k_a != k_b:
            raise ValueError(
                f"matmul: shapes {tuple(a.shape)} and {tuple(b.shape)} are not aligned "
                f"({k_a} (last dim of the first) != {k_b} ({'dim 0' if b.ndim == 1 else 'dim -2'} of the second))"
            )
        self.a, self.b = a, b
        return a @ b

    def backward(self, gy):
        a, b = self.a, self.b
        xp = get_array_module(gy)
        a2 = a[None, :] if a.ndim == 1 else a  # (k,) -> (1, k)
        b2 = b[:, None] if b.ndim == 1 else b  # (k,) -> (k, 1)
        g = gy  # (..., n, m) with the axes of 1-D operands put back; b first, so 1-D @ 1-D works
        if b.ndim == 1:
            g = xp.expand_dims(g, -1)
        if a.ndim == 1:
            g = xp.expand_dims(g, -2)
        ga = gb = None
        if self.needs_input_grad[0]:
            ga = g @ xp.swapaxes(b2, -1, -2)
            ga = sum_to(ga, a2.shape).reshape(a.shape)
        if self.needs_input_grad[1]:
            gb = xp.swapaxes(a2, -1, -2) @ g
            gb = sum_to(gb, b2.shape).reshape(b.shape)
        return ga, gb


def matmul(a, b):
    return MatMul()(a, b)
