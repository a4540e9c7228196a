"""Image value ranges, one function per mapping, named after it.

* uint8 pixels 0..255 (the files)
* unit: [0, 1] (what grids, scores and the goodfellow2014 sigmoid generator use)
* signed unit: [-1, 1] (the range of a tanh generator and of the classifier's input)

Each is float32 throughout (no float64 temporaries); the uint8 ones take any array module (NumPy or CuPy).
"""

from __future__ import annotations

import numpy as np

from minigrad.backend import get_array_module


def uint8_to_signed_unit(images):
    """uint8 pixels (any shape) -> float32 x / 127.5 - 1, so 0 -> -1 and 255 -> +1 exactly."""
    xp = get_array_module(images)
    if images.dtype != xp.uint8:
        raise ValueError(f"uint8_to_signed_unit: expected uint8 pixels, got {images.dtype} {images.shape}")
    # A 256-entry lookup table: one pass over the pixels instead of three.
    lut = xp.arange(256, dtype=xp.float32) / xp.float32(127.5) - xp.float32(1.0)
    return lut[images]


def uint8_to_unit(images):
    """uint8 pixels (any shape) -> float32 x / 255 in [0, 1] (the scaling of pylearn2's MNIST)."""
    xp = get_array_module(images)
    if images.dtype != xp.uint8:
        raise ValueError(f"uint8_to_unit: expected uint8 pixels, got {images.dtype} {images.shape}")
    lut = xp.arange(256, dtype=xp.float32) / xp.float32(255.0)
    return lut[images]


def signed_unit_to_unit(x):
    """[-1, 1] -> [0, 1] as (x + 1) / 2, clipped, float32 (a new array)."""
    xp = get_array_module(x)
    y = xp.asarray(x, dtype=xp.float32) + xp.float32(1.0)
    y *= xp.float32(0.5)
    return xp.clip(y, 0.0, 1.0, out=y)


def range_to_unit(x, value_range):
    """Values in value_range ((-1, 1) or (0, 1), a generator's output range) -> float32 in [0, 1], clipped."""
    if tuple(value_range) == (0, 1):
        return np.clip(x.astype(np.float32), 0.0, 1.0)
    return signed_unit_to_unit(x)


def unit_to_signed_unit(x):
    """[0, 1] -> [-1, 1] as 2x - 1 (float32 stays float32)."""
    return x * 2 - 1


def unit_to_uint8(x) -> np.ndarray:
    """[0, 1] -> uint8 0..255, clipped and rounded to the nearest level."""
    return np.round(np.clip(x, 0.0, 1.0) * 255.0).astype(np.uint8)
