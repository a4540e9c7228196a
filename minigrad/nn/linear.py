"""Linear: the fully connected layer y = x W^T + b."""

from __future__ import annotations

from typing import Any

from minigrad.nn import init
from minigrad.nn.functional.linear import linear
from minigrad.nn.module import Module
from minigrad.nn.parameter import add_weight_and_bias
from minigrad.tensor import Tensor


class Linear(Module):
    """y = x W^T + b with W of shape (out_features, in_features), for x of shape (..., in_features).

    Initialised as PyTorch: W ~ kaiming_uniform_(a=sqrt(5)) = U(-1/sqrt(in), 1/sqrt(in)),
    b ~ U(-1/sqrt(in), 1/sqrt(in)).
    """

    def __init__(
        self, in_features: int, out_features: int, bias: bool = True, device: str | None = None, dtype: Any = None
    ) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        add_weight_and_bias(self, (out_features, in_features), out_features, bias, device, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's initialisation: weight and bias uniform in (-1/sqrt(in), 1/sqrt(in))."""
        init.default_layer_init_(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:
        return linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
