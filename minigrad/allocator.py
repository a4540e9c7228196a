"""Host memory: keep freed blocks for reuse instead of handing them back to the OS.

A training step allocates and frees the same large arrays (activations, im2col
buffers, gradients) over and over. glibc's malloc serves blocks above a size
threshold with mmap and returns them with munmap on free, and trims the top of
its heap when enough of it is free. Either way the next step's arrays come back
as fresh pages, and every first touch of a fresh page is a page fault (what that
costs a training step: benchmarks/README.md).

``keep_freed_memory()`` raises both thresholds (``mallopt``) so freed memory stays
in the process and is reused: this is what PyTorch's caching allocators do on
the GPU. The resident size then stays at the high-water mark of the run instead
of breathing with every step; peak memory is unchanged. Because it changes the
whole host process, ``import minigrad`` leaves malloc alone: the first
optimizer step calls it (a process that trains wants it), and ``python -m gan``
and the benchmarks call it up front. It works on glibc only (elsewhere it does
nothing); MINIGRAD_KEEP_FREED_MEMORY=0 in the environment switches it off.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

_M_TRIM_THRESHOLD = -1  # mallopt parameters, from glibc's malloc.h
_M_MMAP_THRESHOLD = -3
_THRESHOLD = 1 << 30  # 1 GiB: blocks below this come from (and go back to) the heap

_applied = None


def decided() -> bool:
    """True once ``keep_freed_memory`` has run (whether or not it took effect)."""
    return _applied is not None


def keep_freed_memory() -> bool:
    """Tell glibc's malloc to keep freed memory for reuse; True when it took effect."""
    global _applied
    if _applied is not None:
        return _applied
    _applied = False
    if not sys.platform.startswith("linux") or os.environ.get("MINIGRAD_KEEP_FREED_MEMORY", "1") == "0":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    _applied = bool(mallopt(_M_MMAP_THRESHOLD, _THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, _THRESHOLD))
    return _applied
