"""Weight initialisation, as ``torch.nn.init``.

Every function fills its tensor in place (through ``.data``, so a Parameter
keeps its identity and no graph is recorded) with draws from
``minigrad.backend.generator(device)`` (reproducible with
``minigrad.manual_seed``) in the tensor's own dtype, and returns the tensor.

Fans of a weight of shape (out, in, *kernel): fan_in = in * prod(kernel),
fan_out = out * prod(kernel). For ConvTranspose2d's (C_in, C_out, kh, kw)
layout this makes fan_in = C_out * kh * kw, exactly as PyTorch does.
"""

from __future__ import annotations

import math
from typing import Any, TypeVar

import numpy as np

from minigrad import backend
from minigrad.tensor import Tensor

_T = TypeVar("_T")  # a Tensor or a raw array: each fill returns what it was given

__all__ = [
    "calculate_gain",
    "uniform_",
    "normal_",
    "constant_",
    "zeros_",
    "ones_",
    "xavier_uniform_",
    "xavier_normal_",
    "kaiming_uniform_",
    "kaiming_normal_",
]


def _array(t):
    """The raw array behind a Tensor (or the array itself)."""
    return t.data if isinstance(t, Tensor) else t


def _written(t):
    """Count an in-place fill as a write: a graph that saved the old values can no longer backward."""
    if isinstance(t, Tensor):
        t._bump_version()
    return t


def _shape(t):
    return tuple(_array(t).shape)


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """Recommended gain for a nonlinearity (PyTorch's table).

    linear, conv*, sigmoid: 1;  tanh: 5/3;  relu: sqrt(2);
    leaky_relu: sqrt(2 / (1 + slope^2)) (slope = param, default 0.01);  selu: 3/4.
    """
    linear_fns = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")
    if nonlinearity in linear_fns or nonlinearity == "sigmoid":
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = float(param)
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _calculate_fan_in_and_fan_out(tensor):
    """(fan_in, fan_out) = (size(1) * receptive field, size(0) * receptive field)."""
    shape = _shape(tensor)
    if len(shape) < 2:
        raise ValueError(
            f"fan in and fan out can not be computed for a tensor with fewer than 2 dimensions (got shape {shape})"
        )
    receptive = 1
    for s in shape[2:]:
        receptive *= s
    return shape[1] * receptive, shape[0] * receptive


def _calculate_correct_fan(tensor, mode):
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"kaiming init: mode {mode!r} not supported, use 'fan_in' or 'fan_out'")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _draw_dtype(dtype):
    # numpy's Generator draws float32 or float64 only; other floats (float16) draw float32 and cast
    return dtype if dtype in (np.float32, np.float64) else np.dtype(np.float32)


def uniform_(tensor: _T, a: float = 0.0, b: float = 1.0, generator: Any = None) -> _T:
    """Fill with U(a, b); ``generator`` (a numpy/cupy Generator on the tensor's device) instead of minigrad's."""
    arr = _array(tensor)
    gen = backend.generator(backend.device_of(arr)) if generator is None else generator
    u = gen.random(arr.shape, dtype=_draw_dtype(arr.dtype))
    u *= u.dtype.type(b - a)
    u += u.dtype.type(a)
    arr[...] = u
    return _written(tensor)


def normal_(tensor: _T, mean: float = 0.0, std: float = 1.0, generator: Any = None) -> _T:
    """Fill with N(mean, std^2); ``generator`` as in uniform_."""
    arr = _array(tensor)
    gen = backend.generator(backend.device_of(arr)) if generator is None else generator
    z = gen.standard_normal(arr.shape, dtype=_draw_dtype(arr.dtype))
    z *= z.dtype.type(std)
    z += z.dtype.type(mean)
    arr[...] = z
    return _written(tensor)


def constant_(tensor: _T, val: float) -> _T:
    """Fill ``tensor`` with ``val`` in place (no gradient recorded)."""
    _array(tensor)[...] = val
    return _written(tensor)


def zeros_(tensor: _T) -> _T:
    """Fill ``tensor`` with zeros in place (no gradient recorded)."""
    return constant_(tensor, 0)


def ones_(tensor: _T) -> _T:
    """Fill ``tensor`` with ones in place (no gradient recorded)."""
    return constant_(tensor, 1)


def xavier_uniform_(tensor: _T, gain: float = 1.0) -> _T:
    """U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio 2010)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    a = math.sqrt(3.0) * std
    return uniform_(tensor, -a, a)


def xavier_normal_(tensor: _T, gain: float = 1.0) -> _T:
    """N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std)


def kaiming_uniform_(tensor: _T, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu") -> _T:
    """U(-bound, bound) with bound = gain * sqrt(3 / fan) (He et al. 2015); gain from ``a``."""
    if 0 in _shape(tensor):
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(tensor: _T, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu") -> _T:
    """N(0, std^2) with std = gain / sqrt(fan)."""
    if 0 in _shape(tensor):
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return normal_(tensor, 0.0, std)


def default_layer_init_(weight, bias=None):
    """PyTorch's default for Linear and Conv layers: weight kaiming_uniform_(a=sqrt(5)),
    i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)).

    The fans come from the weight's dims 0 and 1, whatever they mean for the layer's layout (as PyTorch).
    """
    kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = _calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        uniform_(bias, -bound, bound)
