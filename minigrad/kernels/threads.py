"""Split memory-bound array loops over the batch axis across CPU threads.

BLAS runs the matrix products on all cores, but NumPy's copies and ufuncs run
on one. The im2col/col2im loops and the layout transposes are plain strided
copies and adds, which release the GIL, so running them on disjoint slices of
the batch in a few Python threads uses the other cores too (about 1.5-2x on
those loops with 2 cores). CuPy arrays are left alone: the GPU is parallel.

The thread count follows MINIGRAD_NUM_THREADS, else OMP_NUM_THREADS /
OPENBLAS_NUM_THREADS (so it matches BLAS), else the CPUs this process may use.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

# below this many elements a loop is not worth handing to threads
MIN_PARALLEL_ELEMENTS = 1 << 17

_pool = None
_pool_size = 0


def num_threads() -> int:
    """Threads used for the batch-split loops (>= 1)."""
    for var in ("MINIGRAD_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        value = os.environ.get(var, "")
        if value.isdigit() and int(value) > 0:
            return int(value)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def run_over_batch(fn, n: int, work_elements: int, xp=np) -> None:
    """Call ``fn(lo, hi)`` on chunks [lo, hi) that tile range(n), in parallel.

    ``fn`` must only write to its own chunk of the outputs. ``work_elements`` is
    the size of the job; small jobs, a single thread or a CuPy array run as
    ``fn(0, n)`` in the calling thread.
    """
    global _pool, _pool_size
    threads = min(num_threads(), n)
    if xp is not np or threads <= 1 or work_elements < MIN_PARALLEL_ELEMENTS:
        fn(0, n)
        return
    if _pool is None or _pool_size < threads - 1:
        _pool = ThreadPoolExecutor(max_workers=threads - 1, thread_name_prefix="minigrad-kernels")
        _pool_size = threads - 1
    bounds = [n * t // threads for t in range(threads + 1)]
    futures = [_pool.submit(fn, lo, hi) for lo, hi in zip(bounds[1:-1], bounds[2:])]
    fn(bounds[0], bounds[1])               # the calling thread takes the first chunk
    for f in futures:
        f.result()                         # re-raises a worker's exception here
