"""The figures of Goodfellow et al. (2014) for a trained generator.

* Figure 2, ``nearest_figure``: rows of samples, each row ending with the training image nearest (L2 in pixel
  space) to the sample beside it, outlined in yellow as in the paper: "to demonstrate that the model has not
  memorized the training set". ``distance_histogram`` draws the memorisation check of
  ``gan.evaluation.nearest_neighbours.memorisation_check``: samples' distances to their nearest training
  image against unseen test images' distances.
* Figure 3, ``interpolation_images``: rows of G(z(t)) along paths between pairs of z (gan.figures.latent_paths).

Images are float (N, C, H, W) in [0, 1] throughout.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import minigrad
from gan.figures.canvas import new_figure, save_figure
from gan.figures.latent_paths import latent_path
from gan.sampling import generate

YELLOW = (1.0, 0.85, 0.0)


def _rgb(images) -> np.ndarray:
    x = np.asarray(images, dtype=np.float32)
    return np.repeat(x, 3, axis=1) if x.shape[1] == 1 else x.copy()


def outlined(images, color=YELLOW, width: int = 1) -> np.ndarray:
    """(N, 3, H, W) RGB copies of ``images`` with a ``width``-pixel frame of ``color`` drawn over their edge."""
    x = _rgb(images)
    c = np.asarray(color, dtype=np.float32)[None, :, None, None]
    x[:, :, :width, :] = c
    x[:, :, -width:, :] = c
    x[:, :, :, :width] = c
    x[:, :, :, -width:] = c
    return x


def nearest_figure_images(samples, neighbours, rows: int, cols: int) -> np.ndarray:
    """(rows * (cols + 1), 3, H, W): each row is ``cols`` samples, then the (outlined) training image nearest to
    the row's last sample; ``neighbours`` holds one training image per row."""
    s = _rgb(samples)
    if len(s) < rows * cols or len(neighbours) < rows:
        raise ValueError(
            f"nearest figure: {rows} rows of {cols} need {rows * cols} samples and {rows} neighbours, "
            f"got {len(s)} and {len(neighbours)}"
        )
    framed = outlined(neighbours[:rows])
    return np.concatenate([np.concatenate([s[r * cols : (r + 1) * cols], framed[r : r + 1]]) for r in range(rows)])


def interpolation_images(G, z0, z1, steps: int, path: str = "linear", labels=None, device="cpu") -> np.ndarray:
    """(N * steps, C, H, W): row i is G along the path from z0[i] to z1[i] (``labels``: one per row, for a
    conditional G, held fixed along the row)."""
    z = latent_path(z0, z1, steps, path)
    n, _, d = z.shape
    noise = minigrad.tensor(z.reshape(n * steps, d).astype(np.float32), device=device)
    per_image = None if labels is None else np.repeat(np.asarray(labels, dtype=np.int64), steps)
    return generate(G, noise, labels=per_image)


def distance_histogram(check: dict, path, title: str | None = None) -> Path:
    """The memorisation check as two histograms: samples' and test images' distances to the nearest training
    image, with their medians."""
    fig = new_figure(figsize=(6.4, 3.6))
    ax = fig.add_subplot(1, 1, 1)
    hi = max(check["samples"].max(), check["test"].max())
    bins = np.linspace(0.0, hi * 1.02, 50)
    for key, color, label in (("test", "tab:blue", "test images"), ("samples", "tab:orange", "samples")):
        d = check[key]
        ax.hist(d, bins=bins, density=True, alpha=0.55, color=color, label=f"{label} (median {np.median(d):.2f})")
        ax.axvline(np.median(d), color=color, lw=1.5)
    ax.set_xlabel("L2 distance to the nearest training image (pixels in [0, 1])")
    ax.set_ylabel("density")
    ax.legend(loc="upper left", fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path, dpi=100)
