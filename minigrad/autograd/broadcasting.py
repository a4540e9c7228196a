"""sum_to: the gradient of broadcasting, for backward formulas on arrays and Tensors alike."""

from __future__ import annotations


def sum_to(grad, shape):
    """Reduce ``grad`` to ``shape`` by summing over the broadcast axes.

    If y = broadcast(x) then dL/dx = sum of dL/dy over every axis that
    broadcasting added or stretched from size 1. Uses only ``sum`` and
    ``reshape``, so it runs on raw arrays and on Tensors (recorded).
    """
    shape = tuple(shape)
    if tuple(grad.shape) == shape:
        return grad
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1)
    g = grad.sum(axis=axes, keepdims=True) if axes else grad
    if lead:
        g = g.reshape(shape)
    return g
