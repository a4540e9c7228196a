"""Timing: BLAS thread pinning, device synchronisation, interleaved medians.

This module imports no NumPy, so ``pin_thread_env`` can run before NumPy
loads (OpenBLAS reads OPENBLAS_NUM_THREADS once, when it is loaded).
"""

from __future__ import annotations

import gc
import math
import os
import statistics
import sys
import time
from dataclasses import dataclass, field

THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
# Set in some environments; they pick an older OpenBLAS kernel and slow NumPy down.
OPENBLAS_TUNING_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def pin_thread_env(threads: int) -> bool:
    """Set the BLAS/OpenMP thread-count variables to ``threads``.

    Returns True when NumPy is not imported yet, i.e. when the variables will
    take effect; otherwise only threadpoolctl (``limit_threads``) can pin it.
    """
    for var in THREAD_VARS:
        os.environ[var] = str(threads)
    return "numpy" not in sys.modules


class ThreadLimits:
    """Pins NumPy's BLAS (and torch's pools) to N threads for the whole run.

    Call ``apply`` after torch is imported, so threadpoolctl sees its
    libraries too; keep the object alive while timing.
    """

    def __init__(self, threads: int):
        self.threads = threads
        self._limiter = None
        self.threadpoolctl = False

    def apply(self, torch=None) -> None:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:
            pass
        else:
            self._limiter = threadpool_limits(limits=self.threads)
            self.threadpoolctl = True
        if torch is not None:
            torch.set_num_threads(self.threads)

    @staticmethod
    def pools() -> list[dict]:
        """What threadpoolctl sees: library, version, BLAS kernel, threads."""
        try:
            from threadpoolctl import threadpool_info
        except ImportError:
            return []
        keys = ("user_api", "internal_api", "version", "architecture", "threading_layer", "num_threads")
        out = []
        for info in threadpool_info():
            row = {k: info.get(k) for k in keys if info.get(k) is not None}
            row["library"] = os.path.basename(info.get("filepath", ""))
            out.append(row)
        return out


@dataclass
class Timing:
    """Per-call times in seconds of one timed callable."""

    samples: list = field(default_factory=list)
    calls_per_sample: int = 1

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def median_ms(self) -> float:
        return 1e3 * self.median

    def as_dict(self) -> dict:
        return {
            "median_ms": self.median_ms,
            "samples_ms": [1e3 * s for s in self.samples],
            "calls_per_sample": self.calls_per_sample,
        }


def _run(fn, sync, calls: int, settle: bool = False) -> float:
    if settle:  # one untimed call: the other framework's spinning threads settle first
        fn()
    sync()
    t0 = time.perf_counter()
    for _ in range(calls):
        fn()
    sync()
    return time.perf_counter() - t0


def measure(
    fns: dict,
    *,
    repeat: int,
    warmup: int = 1,
    sync=None,
    min_sample_s: float = 0.02,
    budget_s: float | None = None,
    switch_pause_s: float = 0.0,
) -> dict:
    """Median-ready timings of each callable in ``fns`` (name -> fn()).

    Each callable runs ``warmup`` times first; the last warm-up call sets how
    many calls make one sample (at least ``min_sample_s`` long, so short ops
    are not dominated by timer noise). Samples are then taken interleaved
    (a, b, a, b, ...) so that load from other processes hits every
    contestant alike; sampling stops early, after 3 rounds, once
    ``budget_s`` is spent. ``sync`` (e.g. a CUDA synchronize) runs before
    and after every sample.

    Switching frameworks has a cost that is not either framework's: idle
    OpenBLAS and OpenMP workers keep spinning for tens of milliseconds after
    their last call, and on a machine with as many cores as threads they
    steal the other framework's cores (measured here: torch's mlp GAN step
    took 32 ms right after a minigrad step, 19 ms after a 50 ms pause). So
    each sample follows a pause of ``switch_pause_s`` (untimed) when there
    are several contestants, and a sample of short calls starts with one
    untimed call.
    """
    sync = sync or (lambda: None)
    calls = {}
    for name, fn in fns.items():
        t = 0.0
        if switch_pause_s and len(fns) > 1:
            time.sleep(switch_pause_s)
        for _ in range(max(1, warmup)):
            t = _run(fn, sync, 1)
        calls[name] = max(1, min(1000, math.ceil(min_sample_s / max(t, 1e-9))))
    out = {name: Timing(calls_per_sample=calls[name]) for name in fns}
    gc.collect()
    start = time.perf_counter()
    for i in range(max(1, repeat)):
        for name, fn in fns.items():
            if switch_pause_s and len(fns) > 1:
                time.sleep(switch_pause_s)
            out[name].samples.append(_run(fn, sync, calls[name], settle=calls[name] > 1) / calls[name])
        if budget_s is not None and i >= 2 and time.perf_counter() - start > budget_s:
            break
    return out
