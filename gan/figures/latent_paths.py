"""Paths through the generator's input space z, for Figure 3 of Goodfellow et al. (2014).

* ``lerp``   the paper's straight line: z(t) = (1 - t) z0 + t z1.
* ``slerp``  the great circle between the directions, with the norm interpolated linearly:

      u_i = z_i / ||z_i||,  omega = arccos(u0 . u1),
      z(t) = ((1 - t) ||z0|| + t ||z1||) (sin((1 - t) omega) u0 + sin(t omega) u1) / sin(omega).

  Gaussian z in d dimensions concentrates near the sphere of radius sqrt(d); a straight line's midpoint has
  norm about sqrt(d / 2), where G never saw inputs (White 2016, "Sampling generative networks"). The great
  circle keeps the norm: exactly ||z0|| when ||z0|| = ||z1||.

Both take rows: z0, z1 of shape (N, D) and return (N, steps, D), t = 0, 1 / (steps - 1), ..., 1.
"""

from __future__ import annotations

import numpy as np

PATHS = ("linear", "slerp")
_PARALLEL = 1e-7  # below this sin(omega) the two directions are treated as one: the path is a line


def _check(z0, z1, steps: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a, b = np.asarray(z0, dtype=np.float64), np.asarray(z1, dtype=np.float64)
    if a.ndim != 2 or a.shape != b.shape:
        raise ValueError(f"latent path: z0 and z1 must both be (N, D), got shapes {a.shape} and {b.shape}")
    if int(steps) < 2:
        raise ValueError(f"latent path: steps must be at least 2 (the two ends), got {steps}")
    return a, b, np.linspace(0.0, 1.0, int(steps))[None, :, None]


def lerp(z0, z1, steps: int) -> np.ndarray:
    """(N, steps, D): (1 - t) z0 + t z1."""
    a, b, t = _check(z0, z1, steps)
    return (1 - t) * a[:, None] + t * b[:, None]


def slerp(z0, z1, steps: int) -> np.ndarray:
    """(N, steps, D): the great circle between z0's and z1's directions, norm going linearly from ||z0|| to
    ||z1|| (see the module docstring); a straight line where the directions (nearly) coincide or a z is 0."""
    a, b, t = _check(z0, z1, steps)
    na, nb = np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1)
    if np.any(na == 0) or np.any(nb == 0):
        return lerp(a, b, steps)
    ua, ub = a / na[:, None], b / nb[:, None]
    omega = np.arccos(np.clip(np.einsum("ij,ij->i", ua, ub), -1.0, 1.0))[:, None, None]
    s = np.sin(omega)
    safe = np.where(s < _PARALLEL, 1.0, s)
    wa = np.where(s < _PARALLEL, 1 - t, np.sin((1 - t) * omega) / safe)
    wb = np.where(s < _PARALLEL, t, np.sin(t * omega) / safe)
    direction = wa * ua[:, None] + wb * ub[:, None]
    direction /= np.linalg.norm(direction, axis=2, keepdims=True)
    return ((1 - t) * na[:, None, None] + t * nb[:, None, None]) * direction


def latent_path(z0, z1, steps: int, path: str = "linear") -> np.ndarray:
    """``lerp`` or ``slerp`` by name (one of PATHS)."""
    if path == "linear":
        return lerp(z0, z1, steps)
    if path == "slerp":
        return slerp(z0, z1, steps)
    raise ValueError(f"latent path: unknown path {path!r}: choose one of {', '.join(PATHS)}")
