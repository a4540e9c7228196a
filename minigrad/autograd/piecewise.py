"""The gradient of a piecewise-linear op: gy times a factor that is constant on each piece of the inputs.

ReLU's gy [x > 0], |x|'s gy sign(x), clamp's gy [lo <= x <= hi], max's share of gy: the factor
s(x) does not move on a piece, so its derivative is 0 (away from the kinks). It is still a
function of x, and under ``create_graph=True`` the gradient is recorded as a node that reads x
(PyTorch's ``threshold_backward`` and its kin): it requires grad whenever x does, and a further
``grad`` w.r.t. x returns zeros (a ReLU network's input Hessian, the fourth derivative of x^3)
instead of finding x unused in the graph. A mask multiplied in as a constant would cut that edge.

The zero is handed to the xs only in a walk to chosen inputs (``grad``, ``backward(inputs=...)``),
where it decides whether an input is reached. An all-leaves ``backward`` (a WGAN-GP or R1 step's)
skips it: adding zeros changes no gradient, and handing them on would backpropagate zeros through
the whole forward graph that made the xs (a leaf only they reach keeps ``.grad`` None, not zeros).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from minigrad.autograd.broadcasting import sum_to
from minigrad.autograd.function import Array, Function, Grad, raw
from minigrad.backend import get_array_module


class PiecewiseScale(Function):
    """y = gy * s(x_1, ..., x_n), s constant on pieces ;  dgy = sum_to(ggy * s), dx_i = 0.

    ``factor`` computes s from the xs' arrays and returns a new array (bool, or gy's dtype); it
    must not read the Function that uses it, which backward may release before this node runs.
    """

    def __init__(self, factor: Callable[..., Any]) -> None:
        self.factor = factor

    def forward(self, gy: Array, *xs: Array) -> Array:
        self.gy_shape = gy.shape
        self.like = [(x.shape, x.dtype) for x in xs]
        self.save_for_backward(*xs)
        s = self.factor(*xs)
        if s.dtype == gy.dtype and s.shape == np.broadcast_shapes(s.shape, gy.shape):
            s *= gy  # s is new and has the product's shape: scale it in place, one buffer less
            return s
        return gy * (s if s.dtype.kind == "b" else s.astype(gy.dtype, copy=False))

    def backward(self, ggy: Grad) -> tuple[Grad | None, ...]:
        xs = self.saved_values
        need = self.needs_input_grad
        dgy = sum_to(PiecewiseScale(self.factor).forward_or_record(ggy, *xs), self.gy_shape) if need[0] else None
        if not getattr(self, "_to_inputs", False):  # every leaf's gradient: zeros would change none of them
            return (dgy, *(None for _ in xs))
        xp = get_array_module(raw(ggy))
        return (dgy, *(xp.zeros(shape, dtype) if n else None for (shape, dtype), n in zip(self.like, need[1:])))


def piecewise_scale(gy: Grad, factor: Callable[..., Array], *xs: Any) -> Grad:
    """gy * factor(*xs) for a factor constant on pieces of the xs: arrays in, the array out;
    Tensors in (``create_graph=True``), a node whose derivative w.r.t. the xs is zero."""
    return PiecewiseScale(factor).forward_or_record(gy, *xs)
