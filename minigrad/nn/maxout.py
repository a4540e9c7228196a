"""Maxout: the layer of Goodfellow et al. (2013), a linear map followed by a max over groups of its outputs."""

from __future__ import annotations

from typing import Any

from minigrad.nn import init
from minigrad.nn.functional.linear import linear
from minigrad.nn.module import Module
from minigrad.nn.parameter import add_weight_and_bias
from minigrad.tensor import Tensor


class Maxout(Module):
    """y_j = max_{k < pieces} z_{j * pieces + k},  z = x W^T + b,  j = 0 .. units - 1.

    W has shape (units * pieces, in_features) and b (units * pieces,): rows j * pieces ..
    j * pieces + pieces - 1 are unit j's pieces. Input (..., in_features), output (..., units).
    Built from linear, reshape and amax, so every derivative comes from those ops: the
    gradient of unit j flows to its maximal piece (split evenly between tied maxima).
    Initialised as Linear: U(-1/sqrt(in), 1/sqrt(in)) for weight and bias.
    """

    def __init__(
        self, in_features: int, units: int, pieces: int, bias: bool = True, device: str | None = None, dtype: Any = None
    ) -> None:
        super().__init__()
        for name, value in (("in_features", in_features), ("units", units), ("pieces", pieces)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"Maxout: {name} must be a positive integer, got {value!r}")
        self.in_features, self.units, self.pieces = in_features, units, pieces
        add_weight_and_bias(self, (units * pieces, in_features), units * pieces, bias, device, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Initialise weight and bias as nn.Linear does (uniform in (-1/sqrt(in), 1/sqrt(in)))."""
        init.default_layer_init_(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:
        z = linear(input, self.weight, self.bias)
        return z.reshape(*z.shape[:-1], self.units, self.pieces).amax(dim=-1)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, units={self.units}, pieces={self.pieces}, bias={self.bias is not None}"
