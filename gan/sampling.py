"""The generator's input and output: noise batches z ~ p_z, and images G(z) drawn without a graph."""

from __future__ import annotations

import numpy as np

import minigrad
from gan.pixels import range_to_unit
from minigrad import backend

SQRT3 = 3.0**0.5


def sample_noise(n: int, latent_dim: int, kind: str = "normal", device: str = "cpu"):
    """(n, latent_dim) float32 noise from minigrad's generator: N(0, 1), U(-1, 1) for 'uniform',
    U(-sqrt 3, sqrt 3) (unit variance, the released code's) for 'uniform_sqrt3'."""
    if kind == "normal":
        return minigrad.randn(n, latent_dim, device=device)
    if kind in ("uniform", "uniform_sqrt3"):
        half = 1.0 if kind == "uniform" else SQRT3
        z = minigrad.rand(n, latent_dim, device=device)
        z.data *= np.float32(2 * half)  # in place: float32 stays float32
        z.data -= np.float32(half)
        return z
    raise ValueError(f"sample_noise: kind must be 'normal', 'uniform' or 'uniform_sqrt3', got {kind!r}")


def digit_rows(n_per_row: int, num_classes: int = 10) -> np.ndarray:
    """Labels 0,..,0, 1,..,1, ..., one row of n_per_row per class: a grid with one row per digit."""
    return np.repeat(np.arange(num_classes, dtype=np.int64), n_per_row)


def generate(G, noise, batch_size: int = 500, labels=None) -> np.ndarray:
    """G(noise) in eval mode without a graph, in chunks -> float32 NumPy (N, C, H, W) in [0, 1].

    ``labels`` (N,) integers: G(noise, labels) of a conditional generator (one whose num_classes is set), which
    needs them."""
    was_training = G.training
    pixel_range = getattr(G, "pixel_range", (-1, 1))
    conditional = bool(getattr(G, "num_classes", 0))
    if conditional != (labels is not None):
        raise ValueError(
            "generate: a conditional generator needs labels"
            if conditional
            else "generate: labels given to an unconditional generator"
        )
    if labels is not None:
        labels = np.asarray(labels, dtype=np.int64)
        if labels.shape != (noise.shape[0],):
            raise ValueError(f"generate: {labels.shape} labels for {noise.shape[0]} noise vectors")

    def chunk(i):
        z = noise[i : i + batch_size]
        return G(z) if labels is None else G(z, backend.to_device(labels[i : i + batch_size], z.device))

    G.eval()
    try:
        with minigrad.no_grad():
            starts = range(0, noise.shape[0], batch_size)
            parts = [range_to_unit(backend.as_numpy(chunk(i).data), pixel_range) for i in starts]
    finally:
        G.train(was_training)
    return np.concatenate(parts)
