"""Tensor constructors in the PyTorch style: tensor, zeros, ones, full, randn, rand, arange, *_like."""

from __future__ import annotations

import numbers

import numpy as np

from minigrad import backend, dtypes
from minigrad.dtypes import (  # noqa: F401  (re-exported: minigrad.float32, ...)
    bool_,
    double,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    int32,
    int64,
    long,
    set_default_dtype,
    uint8,
)
from minigrad.tensor import Tensor


def _make(data, requires_grad):
    t = Tensor._from_op(data)
    if requires_grad:
        t.requires_grad_(True)
    return t


def tensor(data, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A new leaf tensor holding a copy of ``data``.

    Python floats become the default dtype (float32), Python ints int64, and
    arrays keep their dtype unless ``dtype`` is given; ``device`` is 'cpu'
    (default) or 'cuda'.
    """
    if isinstance(data, Tensor):
        data = data.data
    dev = backend.normalize_device(device) if device is not None else backend.device_of(data)
    xp = backend.xp_for(dev)
    if dtype is None and not hasattr(data, "dtype"):
        probe = np.asarray(backend.as_numpy(data) if backend.device_of(data) == "cuda" else data)
        if probe.dtype.kind == "f" or isinstance(data, float):
            dtype = dtypes.get_default_dtype()
        else:
            dtype = probe.dtype
    arr = backend.to_device(data, dev) if backend.device_of(data) != dev else data
    arr = xp.array(arr, dtype=dtype, copy=True)
    _check_numeric("tensor", arr, data)
    return _make(arr, requires_grad)


def _check_numeric(op, arr, data):
    """TypeError unless ``arr`` holds real numbers or bools (strings, objects and complex are not supported)."""
    if arr.dtype.kind not in "biuf":
        what = {"U": "strings", "S": "bytes", "O": "Python objects", "c": "complex numbers"}.get(
            arr.dtype.kind, "values"
        )
        raise TypeError(
            f"{op}: cannot make a tensor of {what} (got {type(data).__name__} giving dtype {arr.dtype}); "
            f"minigrad tensors hold bool, integer or floating point numbers"
        )


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like ``tensor`` but shares memory when possible."""
    if isinstance(data, Tensor) and dtype is None and device is None:
        return data
    return tensor(data, dtype=dtype, device=device)


def from_numpy(array) -> Tensor:
    """A tensor sharing the NumPy array's memory and dtype, as ``torch.from_numpy``."""
    return Tensor(np.asarray(array))


def _shape(shape, size=None):
    """f(2, 3), f((2, 3)) and PyTorch's f(size=(2, 3)) alike."""
    if size is not None:
        if shape:
            raise TypeError(f"got both a shape {shape} and size={size!r}")
        return (size,) if isinstance(size, int) else tuple(size)
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def _dtype(dtype):
    return dtypes.get_default_dtype() if dtype is None else np.dtype(dtype)


def zeros(*shape, size=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A tensor of zeros: ``zeros(2, 3)`` or ``zeros((2, 3))``."""
    xp = backend.xp_for(backend.normalize_device(device))
    return _make(xp.zeros(_shape(shape, size), dtype=_dtype(dtype)), requires_grad)


def ones(*shape, size=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A tensor of ones: ``ones(2, 3)`` or ``ones((2, 3))``."""
    xp = backend.xp_for(backend.normalize_device(device))
    return _make(xp.ones(_shape(shape, size), dtype=_dtype(dtype)), requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A tensor of shape ``size`` filled with ``fill_value``."""
    xp = backend.xp_for(backend.normalize_device(device))
    if dtype is None and isinstance(fill_value, bool):
        dtype = bool_
    elif dtype is None and isinstance(fill_value, numbers.Integral):
        dtype = int64
    return _make(xp.full(_shape((size,)), fill_value, dtype=_dtype(dtype)), requires_grad)


def empty(*shape, size=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """An uninitialised tensor (its values are whatever the memory held)."""
    xp = backend.xp_for(backend.normalize_device(device))
    return _make(xp.empty(_shape(shape, size), dtype=_dtype(dtype)), requires_grad)


def _draw(method, shape, size, dtype, device, requires_grad):
    """A tensor of ``generator.<method>(shape, dtype=...)`` draws from the device's generator."""
    gen = backend.generator(backend.normalize_device(device))
    dt = _dtype(dtype)
    return _make(getattr(gen, method)(_shape(shape, size), dtype=dt), requires_grad)


def randn(*shape, size=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Standard normal draws from minigrad's generator (reproducible with manual_seed)."""
    return _draw("standard_normal", shape, size, dtype, device, requires_grad)


def rand(*shape, size=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Uniform draws on [0, 1) from minigrad's generator."""
    return _draw("random", shape, size, dtype, device, requires_grad)


def randint(low, high=None, size=None, dtype=None, device=None) -> Tensor:
    """Integers in [low, high); ``randint(high, size)`` draws from [0, high), as in PyTorch."""
    if size is None:
        if high is None:
            raise TypeError("randint: expected randint(high, size) or randint(low, high, size)")
        low, high, size = 0, low, high
    dev = backend.normalize_device(device)
    data = backend.generator(dev).integers(low, high, size=_shape((size,)))
    return Tensor(data.astype(int64 if dtype is None else dtype))


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Values from ``start`` to ``end`` (exclusive) by ``step``; ``arange(n)`` is 0 .. n-1."""
    if end is None:
        start, end = 0, start
    xp = backend.xp_for(backend.normalize_device(device))
    if dtype is None:
        is_float = any(isinstance(v, float) for v in (start, end, step))
        dtype = dtypes.get_default_dtype() if is_float else int64
    return _make(xp.arange(start, end, step, dtype=np.dtype(dtype)), requires_grad)


def linspace(start, end, steps, dtype=None, device=None) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end``, both included."""
    xp = backend.xp_for(backend.normalize_device(device))
    return Tensor(xp.linspace(start, end, steps, dtype=_dtype(dtype)))


def _like(x, fill, dtype, device, requires_grad):
    dev = x.device if device is None else backend.normalize_device(device)
    xp = backend.xp_for(dev)
    dt = x.dtype if dtype is None else np.dtype(dtype)
    return _make(xp.full(x.shape, fill, dtype=dt), requires_grad)


def zeros_like(x, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Zeros of ``x``'s shape (and dtype and device, unless given)."""
    return _like(x, 0, dtype, device, requires_grad)


def ones_like(x, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Ones of ``x``'s shape (and dtype and device, unless given)."""
    return _like(x, 1, dtype, device, requires_grad)


def full_like(x, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    """``fill_value`` in ``x``'s shape (and dtype and device, unless given)."""
    return _like(x, fill_value, dtype, device, requires_grad)


def randn_like(x, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Standard normal samples in ``x``'s shape (and dtype and device, unless given)."""
    return randn(
        *x.shape,
        dtype=x.dtype if dtype is None else dtype,
        device=x.device if device is None else device,
        requires_grad=requires_grad,
    )


def rand_like(x, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Uniform [0, 1) samples in ``x``'s shape (and dtype and device, unless given)."""
    return rand(
        *x.shape,
        dtype=x.dtype if dtype is None else dtype,
        device=x.device if device is None else device,
        requires_grad=requires_grad,
    )
