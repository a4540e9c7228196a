"""Benchmarks: minigrad side by side with PyTorch.

Run ``python -m benchmarks --compare torch`` (see ``python -m benchmarks -h``).
This package must not import NumPy at import time: ``python -m benchmarks``
pins the BLAS thread counts in the environment before NumPy is loaded.
"""
