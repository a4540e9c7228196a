"""Array backends: NumPy on the CPU, CuPy on an NVIDIA GPU.

Every op is written against an array module ``xp`` that is either ``numpy`` or
``cupy``; ``get_array_module`` picks it from the arrays themselves (the
DeZero/Chainer way), so one implementation serves both devices.
"""

from __future__ import annotations

import numpy as np

try:  # CuPy is optional: the `gpu` extra.
    import cupy as _cupy
except Exception:  # ImportError, or a CUDA library that fails to load
    _cupy = None


def cupy_module():
    """The ``cupy`` module, or None when it is not importable."""
    return _cupy


def gpu_available() -> bool:
    """True when CuPy is installed and sees at least one GPU."""
    if _cupy is None:
        return False
    try:
        return _cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


def get_array_module(*arrays):
    """``cupy`` if any argument is a CuPy array, else ``numpy``."""
    if _cupy is not None:
        for a in arrays:
            if isinstance(a, _cupy.ndarray):
                return _cupy
    return np


def device_of(array) -> str:
    """'cuda' for a CuPy array, 'cpu' for anything else."""
    if _cupy is not None and isinstance(array, _cupy.ndarray):
        return "cuda"
    return "cpu"


def normalize_device(device) -> str:
    """Accept 'cpu', 'cuda', 'cuda:0', 'gpu' or None (-> 'cpu')."""
    if device is None:
        return "cpu"
    name = str(getattr(device, "type", device)).lower()
    if name == "cpu":
        return "cpu"
    if name in ("cuda", "gpu") or name.startswith("cuda:"):
        return "cuda"
    raise ValueError(f"unknown device {device!r}: expected 'cpu' or 'cuda'")


def to_arguments(device=None, dtype=None):
    """The (device, dtype) a ``.to()`` call asks for, each None when not given.

    ``to('cuda')``, ``to(dtype=float64)``, ``to('cuda', float64)`` and ``to(float64)`` (a dtype in the device's
    place, as PyTorch accepts) alike; the device normalised, the dtype a NumPy dtype.
    """
    if isinstance(device, (np.dtype, type)):  # a dtype has .type too, so test this before normalize_device
        device, dtype = None, device
    return (None if device is None else normalize_device(device)), (None if dtype is None else np.dtype(dtype))


def xp_for(device: str):
    """The array module of a device name; a clear error when CUDA is missing."""
    if device == "cpu":
        return np
    if not gpu_available():
        raise RuntimeError(
            "device 'cuda' requested but CUDA is not available "
            "(install the `gpu` extra: pip install 'minigrad[gpu]', and check the GPU)"
        )
    return _cupy


def to_device(array, device: str):
    """Move a raw array to ``device`` ('cpu' or 'cuda'); no copy if already there."""
    if device == "cpu":
        if _cupy is not None and isinstance(array, _cupy.ndarray):
            return _cupy.asnumpy(array)
        return np.asarray(array)
    xp = xp_for(device)
    return xp.asarray(array)


def as_numpy(array) -> np.ndarray:
    """A NumPy copy/view of any backend array (copies from the GPU)."""
    return to_device(array, "cpu")


# --- randomness: one generator per backend, reseeded by manual_seed -------------

_generators: dict = {}
_seed = None


def manual_seed(seed: int) -> None:
    """Seed every random draw in minigrad (both backends)."""
    global _seed
    _seed = int(seed)
    _generators.clear()


def generator(device: str = "cpu"):
    """The backend's random generator (numpy.random.Generator or cupy's)."""
    gen = _generators.get(device)
    if gen is None:
        seed = _seed
        if device == "cpu":
            gen = np.random.Generator(np.random.PCG64(seed))
        else:
            xp = xp_for(device)
            gen = xp.random.default_rng(seed)
        _generators[device] = gen
    return gen


def get_rng_state() -> dict:
    """The CPU generator's state (JSON-serialisable), for checkpoints."""
    return {"seed": _seed, "cpu": generator("cpu").bit_generator.state}


def set_rng_state(state: dict) -> None:
    """Restore the CPU generator from ``get_rng_state()`` (resuming a checkpoint)."""
    global _seed
    _seed = state.get("seed")
    _generators.clear()
    generator("cpu").bit_generator.state = state["cpu"]


def scatter_add(target, index, values):
    """target[index] += values, accumulating over repeated indices (in place)."""
    if isinstance(target, np.ndarray):
        np.add.at(target, index, values)
    else:
        import cupyx

        cupyx.scatter_add(target, index, values)


def as_strided(array, shape, strides):
    """A view of ``array`` with the given shape and byte strides (read it, never write through it)."""
    if isinstance(array, np.ndarray):
        return np.lib.stride_tricks.as_strided(array, shape=shape, strides=strides, writeable=False)
    from cupy.lib.stride_tricks import as_strided as cupy_as_strided

    return cupy_as_strided(array, shape=shape, strides=strides)
