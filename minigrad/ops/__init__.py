"""Differentiable ops, one Function per op, grouped by kind."""
from minigrad.ops import activations, arithmetic, matmul, pointwise, reductions, shape_ops

__all__ = ["activations", "arithmetic", "matmul", "pointwise", "reductions", "shape_ops"]
