"""``minigrad.cuda``: is a CuPy GPU usable?"""

from minigrad import backend


def is_available() -> bool:
    """True when CuPy imports and sees at least one GPU."""
    return backend.gpu_available()


def device_count() -> int:
    """The number of GPUs CuPy sees (0 without CuPy)."""
    if not is_available():
        return 0
    return backend.cupy_module().cuda.runtime.getDeviceCount()


def synchronize() -> None:
    """Wait for queued GPU work (a no-op without CUDA); use it around timings."""
    if is_available():
        backend.cupy_module().cuda.Stream.null.synchronize()


def manual_seed(seed: int) -> None:
    """Seed every random draw in minigrad, on both backends (as minigrad.manual_seed)."""
    backend.manual_seed(seed)
