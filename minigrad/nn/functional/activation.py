"""Activations for ``minigrad.nn.functional``: the fused one-Function ops of minigrad.ops.activations."""

from __future__ import annotations

from minigrad.ops.activations import leaky_relu as _leaky_relu
from minigrad.ops.activations import log_softmax, logsigmoid, relu, sigmoid, softmax, softplus, tanh
from minigrad.tensor import Tensor


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x if x > 0 else negative_slope * x (``inplace`` is accepted for PyTorch compatibility; ignored)."""
    return _leaky_relu(input, negative_slope)


__all__ = ["leaky_relu", "log_softmax", "logsigmoid", "relu", "sigmoid", "softmax", "softplus", "tanh"]
