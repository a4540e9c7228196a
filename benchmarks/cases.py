"""What a benchmark case is (Case), gets (Context) and returns (Result).

A case is one function ``fn(ctx, **params) -> Result | list[Result]``. The
modules that hold cases import this one; the registry that lists them all is
``benchmarks.registry`` (so nothing here imports a case module).
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Callable
from dataclasses import dataclass, field

from benchmarks.timing import measure


class CaseSkipped(Exception):
    """Raised by a case that cannot run here (the message says why)."""


@dataclass
class Case:
    name: str
    fn: Callable
    params: dict = field(default_factory=dict)

    def matches(self, patterns: list[str]) -> bool:
        """Substring match, or shell-style glob when the pattern has * ? [."""
        if not patterns:
            return True
        for p in patterns:
            if any(c in p for c in "*?[") and fnmatch.fnmatch(self.name, p):
                return True
            if p in self.name:
                return True
        return False


@dataclass
class Result:
    """One table row. ``minigrad``/``torch`` are in ``unit`` (ms, MiB, img/s).

    ``ratio`` is minigrad's cost over torch's (time or memory; for a
    throughput it is torch's img/s over minigrad's), so < 1 means minigrad
    is better and the targets read ``ratio <= x``.
    """

    case: str
    minigrad: float | None = None
    torch: float | None = None
    unit: str = "ms"
    gflops: float | None = None
    torch_gflops: float | None = None
    target: str = ""
    passed: bool | None = None
    note: str = ""
    status: str = "ok"  # ok | skipped | error
    extra: dict = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.minigrad is None or self.torch is None or self.torch == 0 or self.minigrad == 0:
            return None
        if self.unit.endswith("/s"):
            return self.torch / self.minigrad
        return self.minigrad / self.torch

    def check_ratio(self, limit: float) -> Result:
        """Target: minigrad at most ``limit`` times torch's cost (n/a without torch)."""
        self.target = f"ratio <= {limit:g}"
        self.passed = None if self.ratio is None else self.ratio <= limit
        return self

    def as_dict(self) -> dict:
        d = {k: v for k, v in self.__dict__.items()}
        d["ratio"] = self.ratio
        return d


@dataclass
class Context:
    """Run-wide settings handed to every case."""

    device: str = "cpu"
    quick: bool = False
    repeat: int | None = None  # --repeat overrides each case's default
    threads: int = 2
    torch: object = None  # the torch module when --compare torch found it
    torch_note: str = "torch comparison not requested (--compare torch)"
    cache: dict = field(default_factory=dict)  # results shared between cases (sgemm ceiling)

    @property
    def torch_device(self):
        return self.torch.device(self.device) if self.torch is not None else None

    def sync(self) -> None:
        """Wait for queued GPU work of both frameworks (a no-op on the CPU)."""
        if self.device == "cuda":
            import minigrad

            minigrad.cuda.synchronize()
            if self.torch is not None:
                self.torch.cuda.synchronize()

    def time(self, fns: dict, repeat: int = 10, budget_s: float = 20.0, warmup: int = 2) -> dict:
        """Interleaved timings of ``fns`` (name -> fn), see timing.measure."""
        if self.quick:
            repeat, warmup, budget_s = 2, 1, 1.0
        if self.repeat is not None:
            repeat, budget_s = self.repeat, None
        min_sample = 0.0 if self.quick else 0.02
        pause = 0.0 if self.quick or self.device != "cpu" else 0.1  # let the other's BLAS threads park
        return measure(
            {k: f for k, f in fns.items() if f is not None},
            repeat=repeat,
            warmup=warmup,
            sync=self.sync,
            min_sample_s=min_sample,
            budget_s=budget_s,
            switch_pause_s=pause,
        )

    def compare(self, minigrad_fn, torch_fn, flop: float | None = None, **time_kw) -> Result:
        """Time minigrad_fn against torch_fn (skipped when torch is off): a Result in ms.

        The row's name is filled in by the runner from the Case.
        """
        fns = {"minigrad": minigrad_fn, "torch": torch_fn if self.torch is not None else None}
        t = self.time(fns, **time_kw)
        r = Result("", minigrad=t["minigrad"].median_ms, torch=t["torch"].median_ms if "torch" in t else None)
        r.extra["samples"] = {k: v.as_dict() for k, v in t.items()}
        if flop:
            r.gflops = gflops(flop, r.minigrad)
            r.torch_gflops = gflops(flop, r.torch)
            r.extra["gflop"] = flop / 1e9
        if self.torch is None:
            r.note = self.torch_note
        return r


def gflops(flop: float, ms: float | None) -> float | None:
    if ms is None or ms <= 0 or not math.isfinite(ms):
        return None
    return flop / (ms * 1e-3) / 1e9
