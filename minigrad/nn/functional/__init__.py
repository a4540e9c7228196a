"""``minigrad.nn.functional`` (import as F): stateless ops, each one Function with a fused backward.

The activations are those of ``minigrad.ops.activations`` (their one home, as
``minigrad.relu`` and ``Tensor.relu`` use them too); the rest live here.

import minigrad.nn.functional as F
y = F.leaky_relu(F.linear(x, w, b), 0.2)
loss = F.binary_cross_entropy_with_logits(y, target)
"""

from minigrad.nn.functional.conv import conv2d, conv_transpose2d
from minigrad.nn.functional.dropout import dropout
from minigrad.nn.functional.linear import linear
from minigrad.nn.functional.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    mse_loss,
    nll_loss,
)
from minigrad.nn.functional.normalization import batch_norm, layer_norm
from minigrad.nn.functional.shape import flatten, unflatten
from minigrad.ops.activations import leaky_relu, log_softmax, logsigmoid, relu, sigmoid, softmax, softplus, tanh

__all__ = [
    "batch_norm",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "conv2d",
    "conv_transpose2d",
    "cross_entropy",
    "dropout",
    "flatten",
    "layer_norm",
    "leaky_relu",
    "linear",
    "log_softmax",
    "logsigmoid",
    "mse_loss",
    "nll_loss",
    "relu",
    "sigmoid",
    "softmax",
    "softplus",
    "tanh",
    "unflatten",
]
