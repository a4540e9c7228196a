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


def generate(G, noise, batch_size: int = 500) -> np.ndarray:
    """G(noise) in eval mode without a graph, in chunks -> float32 NumPy (N, C, H, W) in [0, 1]."""
    was_training = G.training
    pixel_range = getattr(G, "pixel_range", (-1, 1))
    G.eval()
    try:
        with minigrad.no_grad():
            parts = [
                range_to_unit(backend.as_numpy(G(noise[i : i + batch_size]).data), pixel_range)
                for i in range(0, noise.shape[0], batch_size)
            ]
    finally:
        G.train(was_training)
    return np.concatenate(parts)
