"""dropout: zero each element with probability p, scale the rest by 1 / (1 - p)."""

from __future__ import annotations

import numpy as np

from minigrad import backend
from minigrad.autograd import Function
from minigrad.autograd.function import Array, Grad
from minigrad.tensor import Tensor


class Dropout(Function):
    """y = x * m,  m_i = keep_i / (1 - p),  keep_i ~ Bernoulli(1 - p) ;  dx = gy * m.

    "Inverted" dropout: scaling at train time keeps E[y] = x, so eval is the
    identity. The mask has x's dtype (float32 stays float32) and is drawn
    from minigrad's generator for x's device, so ``manual_seed`` reproduces it.
    """

    def __init__(self, p: float) -> None:
        self.p = p

    def forward(self, x: Array) -> Array:
        xp = backend.get_array_module(x)
        dt = x.dtype
        if self.p >= 1:
            mask = xp.zeros_like(x)
        else:
            draw_dt = dt if dt in (np.float32, np.float64) else np.dtype(np.float32)
            u = backend.generator(backend.device_of(x)).random(x.shape, dtype=draw_dt)
            mask = (u >= draw_dt.type(self.p)).astype(dt)
            mask *= dt.type(1.0 / (1.0 - self.p))
        self.save_for_backward(mask)  # a constant of the graph: dx = gy * m at every order
        return x * mask

    def backward(self, gy: Grad) -> Grad:
        (mask,) = self.saved_values
        return gy * mask


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Inverted dropout in training mode; the identity (the same tensor) otherwise."""
    if isinstance(p, bool) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: probability has to be between 0 and 1, but got {p}")
    x = input if isinstance(input, Tensor) else Tensor(input)
    if not training or p == 0:
        return x
    return Dropout(float(p))(x)
