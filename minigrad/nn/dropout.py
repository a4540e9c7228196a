"""Dropout layer: inverted dropout while training, the identity in eval mode."""

from __future__ import annotations

from minigrad.nn.functional.dropout import dropout
from minigrad.nn.module import Module
from minigrad.tensor import Tensor


class Dropout(Module):
    """Zero each element with probability p and scale the rest by 1/(1-p) (training only)."""

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if isinstance(p, bool) or not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input: Tensor) -> Tensor:
        return dropout(input, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
