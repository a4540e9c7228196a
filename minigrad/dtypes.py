"""dtype names as in PyTorch (minigrad.float32, minigrad.long, ...) and the default floating dtype."""

from __future__ import annotations

import numpy as np

float32 = np.dtype("float32")
float64 = np.dtype("float64")
float16 = np.dtype("float16")
int32 = np.dtype("int32")
int64 = np.dtype("int64")
uint8 = np.dtype("uint8")
bool_ = np.dtype("bool")
long = int64
double = float64
half = float16

_default_dtype = float32


def set_default_dtype(dtype) -> None:
    """The dtype of tensors made from Python floats (float32 unless set)."""
    global _default_dtype
    _default_dtype = np.dtype(dtype)


def get_default_dtype():
    """The dtype Python floats become (float32 unless ``set_default_dtype`` changed it)."""
    return _default_dtype
