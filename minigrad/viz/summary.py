"""The text of a node: a tensor's values and gradient (``data | grad``, as micrograd draws them) or their statistics.

A tensor with at most ``max_values`` elements shows every value; a larger one
shows mean, std and norm (the L2 norm, sqrt(sum x^2)) of its values and of its
gradient. The tooltip holds the full summary (min and max too) for every node.
"""

from __future__ import annotations

import numpy as np

from minigrad import backend


def as_numpy(a):
    """A NumPy copy of a NumPy or CuPy array (None stays None)."""
    return None if a is None else np.asarray(backend.as_numpy(a))


def values_lines(a, max_values: int):
    """The values of a small array as lines of text, or None when it has more than ``max_values`` elements."""
    if a.size > max_values:
        return None
    if a.ndim == 0:
        return [_number(a.item())]
    text = np.array2string(
        a, precision=4, max_line_width=48, separator=" ", formatter=None if a.dtype.kind == "f" else {"all": str}
    )
    return text.split("\n")


def stats(a) -> dict:
    """mean, std, norm (and min, max) of an array, in float64."""
    f = a.astype(np.float64, copy=False)
    if f.size == 0:
        return {}
    return dict(mean=f.mean(), std=f.std(), norm=float(np.sqrt((f * f).sum())), min=f.min(), max=f.max())


def stats_line(a) -> str:
    """'mean m  std s  norm n' of an array, on one line."""
    s = stats(a)
    if not s:
        return "(empty)"
    return f"mean {_number(s['mean'])}  std {_number(s['std'])}  norm {_number(s['norm'])}"


def array_lines(label: str, a, max_values: int) -> list[str]:
    """``label`` followed by the values (small arrays) or the statistics (large ones)."""
    lines = values_lines(a, max_values)
    if lines is None:
        return [f"{label} {stats_line(a)}"]
    pad = " " * (len(label) + 1)
    return [f"{label} {lines[0]}"] + [pad + line for line in lines[1:]]


def shape_text(shape, dtype) -> str:
    """'(2, 3) float32': a shape and a dtype name."""
    return f"{tuple(shape)} {np.dtype(dtype).name}"


def full_summary(label: str, a) -> list[str]:
    """Every statistic (and every value, up to 64) of an array: the tooltip's text."""
    s = stats(a)
    lines = (
        [
            f"{label}: mean {_number(s['mean'])}, std {_number(s['std'])}, norm {_number(s['norm'])}, "
            f"min {_number(s['min'])}, max {_number(s['max'])}"
        ]
        if s
        else [f"{label}: (empty)"]
    )
    small = values_lines(a, 64)
    if small is not None:
        lines += ["  " + line for line in small]
    return lines


def _number(v) -> str:
    return f"{float(v):.4g}"
