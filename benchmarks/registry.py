"""The registry: every benchmark case, in run order, from the modules that hold them."""

from __future__ import annotations

from benchmarks import cases_contention, cases_defaults, cases_kernels, cases_training, memory
from benchmarks.cases import Case


def all_cases() -> list[Case]:
    """The registry, in run order."""
    return cases_kernels.CASES + cases_training.CASES + cases_defaults.CASES + memory.CASES + cases_contention.CASES
