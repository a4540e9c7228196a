"""Bilinear resizing of image batches: separable, as two matrix products, on the array module of the images."""

from __future__ import annotations

import numpy as np

from minigrad.backend import get_array_module

_CHUNK = 4096  # images per resize chunk: bounds the temporaries of big batches


def image_hw(size) -> tuple[int, int]:
    """(h, w) of an image size given as an int or a pair; ValueError unless both are positive."""
    h, w = (size, size) if np.isscalar(size) else tuple(size)
    if int(h) < 1 or int(w) < 1:
        raise ValueError(f"image size must be positive, got {size!r}")
    return int(h), int(w)


def resize_weights(n_in: int, n_out: int, antialias: bool = True) -> np.ndarray:
    """(n_out, n_in) matrix of 1-D linear-interpolation weights; each row sums to 1.

    Pixel j has its centre at j + 0.5 and output pixel i samples the input at c_i = (i + 0.5) * s,
    s = n_in / n_out (half-pixel centres, PyTorch's align_corners=False). The weight of j is the
    triangle (1 - |j + 0.5 - c_i| / r)_+ with r = 1, or r = s when shrinking with antialias
    (as Pillow does) so every input pixel contributes. Weights falling outside the image are
    dropped and the row renormalised, which clamps to the edge pixel. Rows reproduce constants
    exactly, and linear ramps (away from the edges) except when shrinking by a non-integer factor
    with antialias, where the widened triangle's taps are not symmetric on the pixel grid.
    """
    scale = n_in / n_out
    radius = max(scale, 1.0) if antialias else 1.0
    centres = (np.arange(n_out) + 0.5) * scale
    t = (np.arange(n_in)[None, :] + 0.5 - centres[:, None]) / radius
    w = np.maximum(0.0, 1.0 - np.abs(t))
    return w / w.sum(axis=1, keepdims=True)


def resize(images, size, antialias: bool = True):
    """Bilinear resize of the last two axes of (N, C, H, W) (or any (..., H, W)) to size x size.

    size is an int or (h, w). Separable: out = Wh @ x @ Ww^T with the matrices of
    ``resize_weights``, so the work is two large matrix products, done in chunks of images to
    bound memory. Floating inputs keep their dtype; integer inputs become float32.
    """
    xp = get_array_module(images)
    if images.ndim < 2:
        raise ValueError(f"resize: expected images (..., H, W), got shape {images.shape}")
    dtype = images.dtype if xp.issubdtype(images.dtype, xp.floating) else xp.float32
    x = xp.asarray(images, dtype=dtype)
    (h, w), (oh, ow) = x.shape[-2:], image_hw(size)
    if (h, w) == (oh, ow):
        return x.copy()
    wh = xp.asarray(resize_weights(h, oh, antialias), dtype=dtype)
    wwt = xp.asarray(resize_weights(w, ow, antialias).T, dtype=dtype)  # (w, ow)
    lead = x.shape[:-2]
    flat = x.reshape(-1, h, w)
    out = xp.empty((flat.shape[0], oh, ow), dtype=dtype)
    for s in range(0, flat.shape[0], _CHUNK):
        c = flat[s : s + _CHUNK]
        t = (c.reshape(-1, w) @ wwt).reshape(len(c), h, ow)  # along W: one (n*h, w) @ (w, ow) product
        xp.matmul(wh, t, out=out[s : s + _CHUNK])  # along H: (oh, h) @ (h, ow) per image
    return out.reshape(lead + (oh, ow))
