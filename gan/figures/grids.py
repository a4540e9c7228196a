"""Image grids of samples, as arrays and PNG files, and an animated GIF of a run's grids (files written
atomically through gan.figures.canvas)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from gan.figures.canvas import new_figure, save_figure, write_file
from gan.pixels import unit_to_uint8
from minigrad.backend import as_numpy

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
        return write_file(path, lambda f: img.save(f, format="PNG"))

    h, w = grid.shape[:2]
    scale = max(1, math.ceil(300 / max(h, w)))  # small grids are magnified so the title fits
    dpi, title_px = 100, 24
    fig = new_figure(figsize=(w * scale / dpi, (h * scale + title_px) / dpi), dpi=dpi)
    ax = fig.add_axes((0, 0, 1, h * scale / (h * scale + title_px)))
    ax.imshow(grid, cmap="gray" if grid.ndim == 2 else None, vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_axis_off()
    fig.text(0.5, 1 - 0.5 * title_px / (h * scale + title_px), title, ha="center", va="center", fontsize=10)
    return save_figure(fig, path, dpi)


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

    return write_file(path, write)
