"""CPU threads: ``set_num_threads`` / ``get_num_threads`` (PyTorch's names), and a policy for shared machines.

minigrad's CPU work runs in two thread pools: the BLAS library NumPy is linked against (matrix
products: Linear, the convolutions' GEMMs) and the optimizers' element-wise update threads
(``minigrad.optim``). ``set_num_threads(n)`` sets both. The BLAS pool is reached as threadpoolctl
does, through ctypes into the OpenBLAS the process has loaded (``openblas_set_num_threads`` under
its plain or its scipy-openblas/64-bit-integer names); with another or an unknown BLAS it leaves
that pool alone and warns once (set ``OPENBLAS_NUM_THREADS``/``OMP_NUM_THREADS`` before starting
Python instead). Nothing here runs at import.

``idle_cpus()`` and ``recommended_num_threads()`` are the policy the gan CLI uses by default:
OpenBLAS workers busy-wait for each other at every GEMM, so one descheduled worker stalls the
whole product; with other processes keeping the cores busy, n workers on n cores slow a run
tenfold and more. The policy counts the cores other processes leave idle (from /proc/stat over
a short interval) and uses that many threads, at least 1.
"""

from __future__ import annotations

import ctypes
import math
import os
import sys
import time
import warnings
from typing import Any

_blas: Any = None  # (set, get) ctypes functions of the loaded OpenBLAS, or False when there is none
_BLAS_NAMES = ("", "scipy_")  # symbol prefixes: plain OpenBLAS, the scipy-openblas wheels NumPy ships
_BLAS_SUFFIXES = ("", "64_")  # 64-bit-integer (ILP64) builds append 64_


def _loaded_libraries() -> list[str]:
    """Paths of the shared libraries mapped into this process (Linux: /proc/self/maps)."""
    try:
        with open("/proc/self/maps") as f:
            return sorted({line.split()[-1] for line in f if ".so" in line and "/" in line})
    except OSError:
        return []


def _openblas():
    """(set_num_threads, get_num_threads) of the loaded OpenBLAS, or None."""
    global _blas
    if _blas is None:
        _blas = False
        import numpy  # noqa: F401  (its BLAS must be loaded to be found)

        for path in _loaded_libraries():
            if "openblas" not in os.path.basename(path).lower():
                continue
            try:
                lib = ctypes.CDLL(path)
            except OSError:
                continue
            for prefix in _BLAS_NAMES:
                for suffix in _BLAS_SUFFIXES:
                    set_fn = getattr(lib, f"{prefix}openblas_set_num_threads{suffix}", None)
                    get_fn = getattr(lib, f"{prefix}openblas_get_num_threads{suffix}", None)
                    if set_fn is not None and get_fn is not None:
                        set_fn.argtypes, set_fn.restype = (ctypes.c_int,), None
                        get_fn.argtypes, get_fn.restype = (), ctypes.c_int
                        _blas = (set_fn, get_fn)
                        return _blas
    return _blas or None


def blas_thread_control() -> bool:
    """True when this process's BLAS thread pool can be set at run time (a loaded OpenBLAS)."""
    return _openblas() is not None


def set_num_threads(n: int) -> None:
    """Use ``n`` CPU threads: the BLAS pool (OpenBLAS) and the optimizers' update threads.

    Where the BLAS is not OpenBLAS, its pool is left as it is, with a RuntimeWarning saying so.
    """
    from minigrad.optim import optimizer

    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: expected a positive integer, got {n!r}")
    blas = _openblas()
    if blas is None:
        warnings.warn(
            "set_num_threads: no OpenBLAS is loaded, so the BLAS thread pool is left as it is "
            "(set OPENBLAS_NUM_THREADS / OMP_NUM_THREADS / MKL_NUM_THREADS before starting Python)",
            RuntimeWarning,
            stacklevel=2,
        )
    else:
        blas[0](n)
    optimizer.set_num_threads(n)


def get_num_threads():
    """The BLAS pool's thread count (OpenBLAS), else the optimizers' (the count minigrad controls)."""
    from minigrad.optim import optimizer

    blas = _openblas()
    return int(blas[1]()) if blas is not None else optimizer.get_num_threads()


def usable_cpus() -> list[int]:
    """The CPUs this process may run on (its affinity mask; all CPUs where there is none)."""
    try:
        return sorted(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return list(range(os.cpu_count() or 1))


def _cpu_ticks(cpus) -> tuple[int, int] | None:
    """(busy, total) jiffies summed over ``cpus`` from /proc/stat, or None where it is unreadable."""
    try:
        with open("/proc/stat") as f:
            lines = [line.split() for line in f if line.startswith("cpu") and line[3:4].isdigit()]
    except OSError:
        return None
    busy = total = 0
    wanted = set(cpus)
    for fields in lines:
        if int(fields[0][3:]) in wanted:
            ticks = [int(v) for v in fields[1:9]]  # user nice system idle iowait irq softirq steal
            total += sum(ticks)
            busy += sum(ticks) - ticks[3] - ticks[4]
    return (busy, total) if total else None


def idle_cpus(interval: float = 0.1) -> float | None:
    """How many of the usable CPUs other processes left idle over the next ``interval`` seconds.

    busy = (busy jiffies of those CPUs) - (this process's own CPU time); idle = n_cpus - busy/elapsed.
    None where /proc/stat is not available (not Linux).
    """
    cpus = usable_cpus()
    before, own_before = _cpu_ticks(cpus), os.times()
    if before is None:
        return None
    time.sleep(interval)
    after, own_after = _cpu_ticks(cpus), os.times()
    if after is None or after[1] <= before[1]:
        return None
    hz = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    own = ((own_after.user - own_before.user) + (own_after.system - own_before.system)) * hz
    busy_share = max(0.0, (after[0] - before[0]) - own) / (after[1] - before[1])  # of all usable CPUs
    return len(cpus) * (1.0 - busy_share)


def recommended_num_threads(interval: float = 0.1) -> int:
    """The policy: as many threads as CPUs other processes leave idle (a CPU counts from 80% idle), >= 1.

    On a quiet machine that is every usable CPU; beside one busy process on 2 cores, 1. Without
    /proc/stat, every usable CPU.
    """
    n = len(usable_cpus())
    idle = idle_cpus(interval) if sys.platform.startswith("linux") else None
    if idle is None:
        return n
    return max(1, min(n, math.floor(idle + 0.2)))
