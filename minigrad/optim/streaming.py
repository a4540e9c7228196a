"""Element-wise updates that stream each array through the cache once (PyTorch's foreach/fused idea, in NumPy).

An optimizer update is a dozen ufunc passes over a few arrays of the parameter's size
(parameter, gradient, moments, scratch). Run pass by pass over a whole array of a few MiB,
every pass reads and writes main memory. ``stream(kernel, jobs)`` instead cuts every contiguous
NumPy job into chunks small enough that all of a chunk's arrays stay in the L2 cache, and runs
the whole kernel on one chunk before moving to the next: the arrays are read from memory once
and written once. The kernel is element-wise, so every element goes through the same ufuncs
with the same operands as in one whole-array call: the results are bit-for-bit the same.

Chunks are handed out to ``threads`` threads from a shared counter (the calling thread takes
its share too), so a thread the OS deschedules delays only the chunk it holds. Scratch arrays
are chunk-sized and per thread (pass ``SCRATCH`` in place of an array): they stay in cache and
no full-size scratch is kept. CuPy arrays, non-contiguous arrays and arrays of mismatched
sizes are run whole, with full-size scratch.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from minigrad.backend import get_array_module

# Bytes of each array in one chunk: a kernel touches 4-7 arrays, so a chunk's working set stays
# within a 1 MiB L2 (figures: benchmarks/README.md).
CHUNK_BYTES = 1 << 18
# Below this many elements in all a step stays on the calling thread: a hand-off costs more.
MIN_THREADED_ELEMENTS = 1 << 17
# At most this many threads by default: every ufunc call holds the GIL for its Python part.
MAX_DEFAULT_THREADS = 4


class _Scratch:
    def __repr__(self) -> str:
        return "SCRATCH"


SCRATCH: Any = _Scratch()  # stands for a scratch array in a job's arrays

_num_threads: int | None = None  # None: decided at the first update (default_num_threads)
_pool = None
_pool_key = None  # (pid, workers) the pool was made for
_pool_lock = threading.Lock()


def _env_int(name: str) -> int | None:
    try:
        value = int(os.environ.get(name) or 0)
    except ValueError:
        return None
    return value if value >= 1 else None


def default_num_threads() -> int:
    """MINIGRAD_NUM_THREADS if set, else the usable cores (at most 4 and at most OMP/OPENBLAS_NUM_THREADS)."""
    forced = _env_int("MINIGRAD_NUM_THREADS")
    if forced is not None:
        return forced
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    n = min(cores, MAX_DEFAULT_THREADS)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        limit = _env_int(var)
        if limit is not None:
            n = min(n, limit)
    return max(1, n)


def get_num_threads() -> int:
    """Threads used by optimizer updates on the CPU (decided at first use when never set)."""
    global _num_threads
    if _num_threads is None:
        _num_threads = default_num_threads()
    return _num_threads


def set_num_threads(n: int) -> None:
    """Use ``n`` threads for optimizer updates on the CPU (1 = no threads)."""
    global _num_threads
    if int(n) < 1:
        raise ValueError(f"set_num_threads: need at least 1 thread, got {n}")
    _num_threads = int(n)


def _worker_pool(workers: int) -> ThreadPoolExecutor:
    """A pool with ``workers`` threads, rebuilt after fork or a size change."""
    global _pool, _pool_key
    with _pool_lock:
        # a forked child inherits the pool object but not its threads
        if _pool is None or _pool_key != (os.getpid(), workers):
            if _pool is not None and _pool_key is not None and _pool_key[0] == os.getpid():
                _pool.shutdown(wait=False)  # size changed: let the old threads exit
            _pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="minigrad-optim")
            _pool_key = (os.getpid(), workers)
        return _pool


def _streamable(arrays: Sequence[Any]) -> bool:
    """Every entry a C-contiguous NumPy array of the first one's size and dtype (or None / SCRATCH)."""
    first = arrays[0]
    if not isinstance(first, np.ndarray) or not first.flags.c_contiguous:
        return False
    return all(
        a is None
        or a is SCRATCH
        or (isinstance(a, np.ndarray) and a.flags.c_contiguous and a.size == first.size and a.dtype == first.dtype)
        for a in arrays
    )


class _Chunks:
    """The chunks of one stream() call, handed out in order to whichever thread asks."""

    def __init__(self, kernel: Callable[..., None], pieces: list[Any]) -> None:
        self.kernel, self.pieces = kernel, pieces
        self.next, self.lock = 0, threading.Lock()

    def take(self) -> Any:
        with self.lock:
            i = self.next
            self.next += 1
        return self.pieces[i] if i < len(self.pieces) else None

    def run(self) -> None:
        scratch: dict[Any, Any] = {}  # (dtype, slot) -> this thread's chunk-sized scratch
        kernel = self.kernel
        while (piece := self.take()) is not None:
            flats, args, lo, hi = piece
            if lo is None:  # run whole
                kernel(*(_full_scratch(flats[0]) if a is SCRATCH else a for a in flats), *args)
                continue
            arrays, slot = [], 0
            for a in flats:
                if a is SCRATCH:
                    key = (flats[0].dtype, slot)
                    buf = scratch.get(key)
                    if buf is None:
                        buf = scratch[key] = np.empty(max(1, CHUNK_BYTES // flats[0].itemsize), flats[0].dtype)
                    arrays.append(buf[: hi - lo])
                    slot += 1
                else:
                    arrays.append(None if a is None else a[lo:hi])
            kernel(*arrays, *args)


def _full_scratch(like):
    return get_array_module(like).empty(like.shape, dtype=like.dtype)


def stream(kernel: Callable[..., None], jobs: Iterable[tuple[Sequence[Any], Sequence[Any]]]) -> None:
    """Run ``kernel(*arrays, *args)`` for every ``(arrays, args)`` in ``jobs``, chunk by chunk.

    ``kernel`` must be element-wise over ``arrays`` (same shape; None entries allowed; SCRATCH
    entries become scratch arrays of the right size). Each job's writes land in its own arrays;
    jobs must not share an output array.
    """
    pieces: list[Any] = []
    elements = 0
    for arrays, args in jobs:
        first = arrays[0]
        if not _streamable(arrays):
            pieces.append((list(arrays), args, None, None))
            continue
        n = first.size
        elements += n
        flats = [a if a is None or a is SCRATCH else a.reshape(-1) for a in arrays]
        step = max(1, CHUNK_BYTES // first.itemsize)
        pieces.extend((flats, args, lo, min(n, lo + step)) for lo in range(0, n, step))
    if not pieces:
        return
    threads = min(get_num_threads(), len(pieces)) if elements >= MIN_THREADED_ELEMENTS else 1
    chunks = _Chunks(kernel, pieces)
    if threads <= 1:
        chunks.run()
        return
    futures = [_worker_pool(threads - 1).submit(chunks.run) for _ in range(threads - 1)]
    try:
        chunks.run()
    finally:  # never return while a worker may still write
        for f in futures:
            f.result()
