"""AccumulateGrad: the graph node of a leaf that requires grad, as PyTorch's (what ``next_functions`` points to).

A leaf has no ``grad_fn``; the ops that read it list its AccumulateGrad in
their ``next_functions``, and ``.variable`` is the leaf itself. One node per
leaf while any graph holds it (a weak reference on the leaf finds it again),
so ``(x * x).grad_fn.next_functions`` names the same node twice.
"""

from __future__ import annotations

import weakref
from typing import Any

from minigrad.tensor import Tensor


class AccumulateGrad:
    """The node where backward adds a leaf's gradient into ``variable.grad``; it has no inputs."""

    next_functions: tuple[tuple[Any, int], ...] = ()

    def __init__(self, variable: Tensor) -> None:
        self.variable = variable

    @property
    def name(self) -> str:
        """'AccumulateGrad', as PyTorch's node name."""
        return "AccumulateGrad"

    def __repr__(self) -> str:
        return "<AccumulateGrad>"


def grad_accumulator(leaf: Tensor) -> AccumulateGrad:
    """The AccumulateGrad node of ``leaf`` (a tensor that requires grad and has no grad_fn), made once."""
    ref = leaf._grad_accumulator
    node = None if ref is None else ref()
    if node is None:
        node = AccumulateGrad(leaf)
        leaf._grad_accumulator = weakref.ref(node)
    return node
