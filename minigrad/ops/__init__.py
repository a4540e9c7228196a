"""Differentiable ops, one Function per op, grouped by kind; importing it gives Tensor its methods."""

from minigrad.ops import (
    activations,
    arithmetic,
    conversion,
    matmul,
    pointwise,
    promotion,
    reductions,
    shape_ops,
    tensor_methods,
)

__all__ = [
    "activations",
    "arithmetic",
    "conversion",
    "matmul",
    "pointwise",
    "promotion",
    "reductions",
    "shape_ops",
    "tensor_methods",
]
