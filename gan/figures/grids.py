"""Figures of a GAN run: sample grids, an animated GIF of them, loss curves, evaluation scores.

Matplotlib is used through its object-oriented API (``Figure`` + the Agg canvas), so nothing
here touches pyplot's global state or needs a display. Every file is written atomically
(minigrad.atomic_write: a temporary file in the same folder, then a rename), so a run killed
mid-write never leaves a half-written PNG behind.
"""

from __future__ import annotations

import gc
import math
from pathlib import Path

import numpy as np

from gan.pixels import unit_to_uint8
from minigrad.atomic_write import atomic_write
from minigrad.backend import as_numpy


def _atomic_write(path, write) -> Path:
    """Call write(f) on a temporary file next to path (its folder made), then rename it onto path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write(path, write)


def _save_figure(fig, path, dpi) -> Path:
    """Write ``fig`` as a PNG (atomically), then free it.

    A Figure and its artists form reference cycles, which only Python's cyclic
    garbage collector frees, at a time of its choosing; a run that plots every
    epoch would hold several figures' worth of memory in between. Clearing the
    figure and collecting at once keeps memory flat from one epoch to the next.
    """
    try:
        return _atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=dpi))
    finally:
        fig.clf()
        gc.collect()


def _figure(figsize, dpi=100):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


# --- image grids --------------------------------------------------------------------------------


def _to_numpy_images(images) -> np.ndarray:
    if hasattr(images, "numpy") and not isinstance(images, np.ndarray):  # a minigrad Tensor
        images = images.numpy()
    return np.asarray(as_numpy(images), dtype=np.float32)


def grid_shape(n: int, nrow=None) -> tuple[int, int]:
    """(rows, columns) of the grid for n images; nrow is images per row (default ceil(sqrt(n)))."""
    cols = min(n, int(nrow) if nrow else math.ceil(math.sqrt(n)))
    return math.ceil(n / cols), cols


def image_grid(images, nrow=None, padding: int = 2, pad_value: float = 1.0) -> np.ndarray:
    """Tile a batch into one image, like torchvision.utils.make_grid.

    images: (N, C, H, W) with C in {1, 3}, or (N, H, W), values in [0, 1] (map tanh outputs with
    (x + 1) / 2 first; NaN is drawn as 0). nrow images per row (default ceil(sqrt(N))). Returns
    float32 in [0, 1] of shape (rows*(H+p)+p, cols*(W+p)+p) for one channel, or that x 3 for RGB.
    """
    x = _to_numpy_images(images)
    if x.ndim == 3:
        x = x[:, None]
    if x.ndim != 4 or x.shape[1] not in (1, 3) or x.shape[0] == 0:
        raise ValueError(
            f"image_grid: expected images (N, H, W) or (N, C, H, W) with C in (1, 3) and N > 0, got shape {x.shape}"
        )
    if np.isfinite(x).any():
        lo, hi = np.nanmin(x), np.nanmax(x)
        if lo < -1e-3 or hi > 1 + 1e-3:
            raise ValueError(
                f"image_grid: pixel values must lie in [0, 1], got range [{lo:.3g}, {hi:.3g}] "
                "(map [-1, 1] images with (x + 1) / 2)"
            )
    x = np.clip(np.nan_to_num(x, nan=0.0), 0.0, 1.0)
    n, c, h, w = x.shape
    rows, cols = grid_shape(n, nrow)
    p = int(padding)
    grid = np.full((c, rows * (h + p) + p, cols * (w + p) + p), pad_value, dtype=np.float32)
    for k in range(n):
        r, q = divmod(k, cols)
        grid[:, p + r * (h + p) : p + r * (h + p) + h, p + q * (w + p) : p + q * (w + p) + w] = x[k]
    return grid[0] if c == 1 else grid.transpose(1, 2, 0)


def save_grid(images, path, nrow=None, title=None, padding: int = 2, pad_value: float = 1.0) -> Path:
    """Write image_grid(images) as a PNG: pixel for pixel without a title, via matplotlib with one."""
    grid = image_grid(images, nrow=nrow, padding=padding, pad_value=pad_value)
    if title is None:
        from PIL import Image

        img = Image.fromarray(unit_to_uint8(grid))
        return _atomic_write(path, lambda f: img.save(f, format="PNG"))

    h, w = grid.shape[:2]
    scale = max(1, math.ceil(300 / max(h, w)))  # small grids are magnified so the title fits
    dpi, title_px = 100, 24
    fig = _figure(figsize=(w * scale / dpi, (h * scale + title_px) / dpi), dpi=dpi)
    ax = fig.add_axes((0, 0, 1, h * scale / (h * scale + title_px)))
    ax.imshow(grid, cmap="gray" if grid.ndim == 2 else None, vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_axis_off()
    fig.text(0.5, 1 - 0.5 * title_px / (h * scale + title_px), title, ha="center", va="center", fontsize=10)
    return _save_figure(fig, path, dpi)


def evenly_spaced(items, k: int) -> list:
    """At most k of ``items``, evenly spaced, the first and the last always included."""
    items = list(items)
    if len(items) <= k:
        return items
    if k == 1:
        return items[-1:]
    return [items[round(i * (len(items) - 1) / (k - 1))] for i in range(k)]


def save_gif(png_paths, path, duration_ms=300, loop: int = 0) -> Path:
    """Animated GIF from grid PNGs (e.g. one per epoch), with Pillow.

    Frames are resized to the first frame's size when they differ; duration_ms is per frame (an
    int, or a list with one value per frame, e.g. to hold the last frame longer). Note that
    Pillow merges identical consecutive frames into one.
    """
    from PIL import Image

    paths = [Path(p) for p in png_paths]
    if not paths:
        raise ValueError("save_gif: no frames given")
    # Gray grids stay exact with the 256-level gray palette (and take a third of the memory);
    # colour frames get an adaptive palette. Frames are converted as they are read, so a long
    # run's GIF holds one byte per pixel per frame while it is written.
    frames, size = [], None
    for p in paths:
        with Image.open(p) as im:
            frame = im.convert("RGB")
        size = size or frame.size
        if frame.size != size:
            frame = frame.resize(size, Image.Resampling.BILINEAR)
        rgb = np.asarray(frame)
        frames.append(frame.convert("L") if np.ptp(rgb, axis=2).max() == 0 else frame)
    if any(f.mode == "RGB" for f in frames):
        frames = [f.convert("RGB") for f in frames]
    durations = duration_ms if isinstance(duration_ms, (list, tuple)) else int(duration_ms)

    def write(f):
        frames[0].save(f, format="GIF", save_all=True, append_images=frames[1:], duration=durations, loop=loop)

    return _atomic_write(path, write)


# --- curves -------------------------------------------------------------------------------------


def moving_average(y, window: int) -> np.ndarray:
    """Trailing mean over the last `window` values (fewer at the start), same length as y."""
    y = np.asarray(y, dtype=np.float64)
    c = np.concatenate([[0.0], np.cumsum(y)])
    i = np.arange(1, len(y) + 1)
    lo = np.maximum(0, i - window)
    return (c[i] - c[lo]) / (i - lo)


def _column(records, key):
    return np.array([float(r[key]) if r.get(key) is not None else np.nan for r in records])


def _plot_series(ax, x, y, label, color):
    """Raw values thin; a moving average on top once there are enough points to be noisy."""
    if len(y) > 50:
        ax.plot(x, y, color=color, alpha=0.25, linewidth=0.7)
        ax.plot(x, moving_average(y, max(2, len(y) // 50)), color=color, linewidth=1.5, label=label)
    else:
        ax.plot(x, y, color=color, linewidth=1.5, marker="." if len(y) < 20 else None, label=label)


def plot_losses(records, path, title=None, critic=False) -> Path:
    """Training curves -> PNG with two panels: the losses, and the discriminator's outputs.

    records: dicts with 'step', 'loss_d', 'loss_g', 'd_real' (mean D(x)) and 'd_fake' (mean
    D(G(z))); missing values are skipped. At the game's equilibrium D = 1/2 everywhere
    (Goodfellow et al. 2014, Prop. 1), drawn as a dashed line. critic=True: the outputs are
    unbounded critic values f (hinge, WGAN), drawn on their own scale without that line.
    """
    records = list(records)
    if not records:
        raise ValueError("plot_losses: no records")
    if any("step" not in r for r in records):
        raise ValueError("plot_losses: every record needs a 'step' key")
    step = _column(records, "step")
    fig = _figure(figsize=(8, 6.5))
    ax_loss, ax_d = fig.subplots(2, 1, sharex=True)
    for key, label, color in (("loss_d", "D loss", "tab:blue"), ("loss_g", "G loss", "tab:orange")):
        if any(key in r for r in records):
            _plot_series(ax_loss, step, _column(records, key), label, color)
    ax_loss.set_ylabel("loss")
    d = "f" if critic else "D"
    for key, label, color in (("d_real", f"{d}(x), real", "tab:green"), ("d_fake", f"{d}(G(z)), fake", "tab:red")):
        if any(key in r for r in records):
            _plot_series(ax_d, step, _column(records, key), label, color)
    if critic:
        ax_d.set_ylabel("mean critic output")
    else:
        ax_d.axhline(0.5, color="gray", linestyle="--", linewidth=1, label="equilibrium 1/2")
        ax_d.set_ylim(-0.02, 1.02)
        ax_d.set_ylabel("mean discriminator output")
    ax_d.set_xlabel("step")
    for ax in (ax_loss, ax_d):
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="best", fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return _save_figure(fig, path, 100)


# key -> (panel title, key of its error bar, which direction is better)
SCORE_METRICS = {
    "parzen_ll": ("Parzen window log-likelihood (nats)", "parzen_se", "higher is better"),
    "fid": ("FID (MNIST classifier features)", None, "lower is better"),
    "inception_score": ("Inception score (MNIST classifier)", "inception_score_std", "higher is better"),
    "modes_covered": ("digit classes covered", None, "of 10"),
}


def plot_scores(records, path, references=None, title=None) -> Path:
    """Evaluation scores over epochs -> PNG, one panel per metric present in the records.

    records: dicts with 'epoch' and any of 'parzen_ll' (error bars from 'parzen_se'), 'fid',
    'inception_score', 'modes_covered'. references: optional {metric: [(value, label), ...]}
    drawn as dashed lines, e.g. {'parzen_ll': [(225, 'paper: adversarial nets')]}.
    """
    records = list(records)
    if any("epoch" not in r for r in records):
        raise ValueError("plot_scores: every record needs an 'epoch' key")
    present = [k for k in SCORE_METRICS if any(r.get(k) is not None for r in records)]
    if not present:
        raise ValueError(f"plot_scores: the records hold none of the metrics {list(SCORE_METRICS)}")
    references = references or {}
    fig = _figure(figsize=(4.2 * len(present), 3.6))
    axes = np.atleast_1d(fig.subplots(1, len(present)))
    for ax, key in zip(axes, present):
        name, err_key, better = SCORE_METRICS[key]
        rows = [r for r in records if r.get(key) is not None]
        x, y = _column(rows, "epoch"), _column(rows, key)
        err = _column(rows, err_key) if err_key and any(r.get(err_key) is not None for r in rows) else None
        ax.errorbar(x, y, yerr=err, marker="o", markersize=4, capsize=3, linewidth=1.5, label="model")
        for value, label in references.get(key, ()):
            ax.axhline(value, color="gray", linestyle="--", linewidth=1, label=label)
        if key == "modes_covered":
            ax.set_ylim(-0.3, 10.3)
        ax.set_title(f"{name}\n({better})", fontsize=9)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        if len(ax.get_legend_handles_labels()[0]) > 1:
            ax.legend(loc="best", fontsize=7)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return _save_figure(fig, path, 100)
