"""Where the figures are drawn and how they are written.

Matplotlib is used through its object-oriented API (``Figure`` + the Agg canvas), so nothing here touches
pyplot's global state or needs a display. Every file is written atomically (minigrad.atomic_write: a temporary
file in the same folder, then a rename), so a run killed mid-write never leaves a half-written PNG behind.
"""

from __future__ import annotations

import gc
from pathlib import Path

from minigrad.atomic_write import atomic_write


def write_file(path, write) -> Path:
    """Call write(f) on a temporary file next to path (its folder made), then rename it onto path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write(path, write)


def save_figure(fig, path, dpi) -> Path:
    """Write ``fig`` as a PNG (atomically), then free it.

    A Figure and its artists form reference cycles, which only Python's cyclic
    garbage collector frees, at a time of its choosing; a run that plots every
    epoch would hold several figures' worth of memory in between. Clearing the
    figure and collecting at once keeps memory flat from one epoch to the next.
    """
    try:
        return write_file(path, lambda f: fig.savefig(f, format="png", dpi=dpi))
    finally:
        fig.clf()
        gc.collect()


def new_figure(figsize, dpi=100):
    """A matplotlib Figure on an Agg canvas (off-screen, no pyplot)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    return fig
