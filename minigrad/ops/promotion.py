"""Type promotion of two operands, as PyTorch does it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from minigrad.tensor import Tensor

if TYPE_CHECKING:
    from minigrad.tensor import Operand


def promote(a: Operand, b: Operand) -> tuple[Operand, Operand]:
    """PyTorch's rule for a float tensor meeting an integer or bool tensor: the result keeps the float dtype.

    (NumPy would widen float32 + int64 to float64.) The integer operand is cast,
    which needs no gradient: integer tensors never require one.
    """
    if isinstance(a, Tensor) and isinstance(b, Tensor) and (a.dtype.kind == "f") != (b.dtype.kind == "f"):
        if a.dtype.kind == "f":
            return a, b.to(dtype=a.dtype)
        return a.to(dtype=b.dtype), b
    return a, b
