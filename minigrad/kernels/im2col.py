"""im2col / col2im: turn a 2-D convolution into one matrix product.

For an input ``x`` of shape (N, C, H, W) and a kh x kw kernel with stride s,
padding p and dilation d, output pixel (oh, ow) of image n sees the input
pixels ``x[n, c, oh*s - p + i*d, ow*s - p + j*d]`` for i < kh, j < kw (zero
outside the image). ``im2col`` copies those pixels into the matrix

    cols[(n, oh, ow), (i, j, c)]        shape (N*OH*OW, kh*kw*C)

one row per output pixel, holding its receptive field in channels-last order.

Why this layout: the copies that build ``cols`` (and the adds of ``col2im``)
then run over whole channel vectors, which are contiguous in both the
channels-last image and in ``cols``. NumPy's per-row overhead is paid once per
(pixel, tap) instead of once per (channel, image row), which made the
channel-first (C*kh*kw, N*OH*OW) layout 2-4x slower at the DCGAN sizes. The
convolution is then one GEMM over the whole batch, ``Wr @ cols.T`` with the
weight as an (O, kh*kw*C) matrix ``Wr`` (see conv.py); ``cols.T`` is a free view
that BLAS reads as a transposed operand.

No Python loop runs over the batch or the output pixels: ``im2col`` makes kh*kw
strided-slice copies, one per kernel tap, each covering every image, output
pixel and channel at once. Taps that fall into the zero padding are clipped
from the slice (so no padded copy of the image is made) and their entries are
zeroed. ``col2im`` is the adjoint (transpose) of ``im2col``: it scatters the rows
back with kh*kw strided slice-adds, summing where receptive fields overlap.

The ``*_nhwc`` functions work on channels-last images (N, H, W, C) and 6-D
``cols`` (N, OH, OW, kh, kw, C); ``im2col``/``col2im`` wrap them for NCHW arrays.
"""
from __future__ import annotations

import numpy as np

from minigrad.backend import get_array_module

__all__ = [
    "col2im",
    "conv_output_size",
    "conv_transpose_output_size",
    "im2col",
]


def conv_output_size(in_size: int, k: int, s: int, p: int, d: int) -> int:
    """Output length of a convolution: floor((in + 2p - d(k-1) - 1) / s) + 1."""
    return (in_size + 2 * p - d * (k - 1) - 1) // s + 1


def conv_transpose_output_size(in_size: int, k: int, s: int, p: int, output_padding: int, d: int) -> int:
    """Output length of a transposed convolution: (in-1)s - 2p + d(k-1) + output_padding + 1."""
    return (in_size - 1) * s - 2 * p + d * (k - 1) + output_padding + 1


def check_hparams(fname, kernel_size, stride, padding, dilation):
    """ValueError naming ``fname`` unless every hyper-parameter is an int pair in range."""
    for name, val, low in (("kernel_size", kernel_size, 1), ("stride", stride, 1),
                           ("padding", padding, 0), ("dilation", dilation, 1)):
        if len(val) != 2 or any(int(v) != v or v < low for v in val):
            raise ValueError(f"{fname}: {name} must be a pair of integers >= {low}, got {val!r}")


def to_channels_last(a):
    """(N, C, H, W) -> new contiguous (N, H, W, C)."""
    xp = get_array_module(a)
    N, C, H, W = a.shape
    if xp is np and C > 1 and (H * W) % 64 == 0:
        # The transposing copy reads one value per channel plane; when a plane is
        # a multiple of 256 bytes those reads hit the same few cache sets and
        # thrash (4x slower at 32x32). Going through planes padded by one cache
        # line breaks the pattern; the extra copy is contiguous and cheap.
        HW = H * W
        tmp = xp.empty((N, C, HW + 16), dtype=a.dtype)
        tmp[:, :, :HW] = a.reshape(N, C, HW)
        return xp.ascontiguousarray(tmp[:, :, :HW].transpose(0, 2, 1)).reshape(N, H, W, C)
    return xp.ascontiguousarray(a.transpose(0, 2, 3, 1))


def _tap_range(out_size: int, in_size: int, offset: int, s: int):
    """For one kernel tap at input offset ``offset = i*d - p``: the output indices
    [lo, hi) whose input index ``o*s + offset`` lies inside [0, in_size), and the
    matching input slice. Returns None when the tap sees only padding."""
    lo = max(0, -(offset // s))                      # ceil(-offset / s)
    hi = min(out_size, (in_size - 1 - offset) // s + 1)
    if hi <= lo:
        return None
    start = lo * s + offset
    return lo, hi, slice(start, start + (hi - lo - 1) * s + 1, s)


def kernel_taps(out_hw, in_hw, kernel_size, stride, padding, dilation):
    """[(i, j, rows, cols)] for every kernel tap (i, j); rows/cols are ``_tap_range``
    results (None when the tap only sees padding) for the height and width axes."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel_size, stride, padding, dilation
    return [(i, j, _tap_range(out_hw[0], in_hw[0], i * dh - ph, sh), _tap_range(out_hw[1], in_hw[1], j * dw - pw, sw))
            for i in range(kh) for j in range(kw)]


def im2col_nhwc(x, out_hw, kernel_size, stride, padding, dilation):
    """Channels-last im2col: x (N, H, W, C) -> cols (N, OH, OW, kh, kw, C).

    ``out_hw`` is passed explicitly because a transposed convolution with
    output_padding >= stride asks for fewer positions than conv_output_size.
    """
    xp = get_array_module(x)
    N, H, W, C = x.shape
    kh, kw = kernel_size
    OH, OW = out_hw
    cols = xp.empty((N, OH, OW, kh, kw, C), dtype=x.dtype)
    taps = kernel_taps((OH, OW), (H, W), kernel_size, stride, padding, dilation)

    for i, j, rh, rw in taps:
        dst = cols[:, :, :, i, j]                    # (N, OH, OW, C) view
        if rh is None or rw is None:                 # this tap only ever sees padding
            dst[...] = 0
            continue
        (h0, h1, hs), (w0, w1, ws) = rh, rw
        # zero the border strips that fall into the padding, copy the rest
        if h0 > 0:
            dst[:, :h0] = 0
        if h1 < OH:
            dst[:, h1:] = 0
        if w0 > 0:
            dst[:, h0:h1, :w0] = 0
        if w1 < OW:
            dst[:, h0:h1, w1:] = 0
        dst[:, h0:h1, w0:w1] = x[:, hs, ws]
    return cols


def col2im_nhwc(cols, x_shape_nhwc, kernel_size, stride, padding, dilation):
    """Adjoint of ``im2col_nhwc``: cols (N, OH, OW, kh, kw, C) -> (N, H, W, C), summing overlaps."""
    xp = get_array_module(cols)
    N, H, W, C = x_shape_nhwc
    OH, OW = cols.shape[1:3]
    dx = xp.zeros((N, H, W, C), dtype=cols.dtype)
    taps = kernel_taps((OH, OW), (H, W), kernel_size, stride, padding, dilation)

    for i, j, rh, rw in taps:
        if rh is None or rw is None:
            continue
        (h0, h1, hs), (w0, w1, ws) = rh, rw
        dx[:, hs, ws] += cols[:, h0:h1, w0:w1, i, j]     # in place: no slice-sized temporary
    return dx


def _conv_out_hw(fname, x_shape, kernel_size, stride, padding, dilation):
    OH, OW = (conv_output_size(n, k, s, p, d)
              for n, k, s, p, d in zip(x_shape[2:], kernel_size, stride, padding, dilation))
    if OH <= 0 or OW <= 0:
        raise ValueError(f"{fname}: input {tuple(x_shape)} is too small for kernel_size {tuple(kernel_size)}, "
                         f"padding {tuple(padding)}, dilation {tuple(dilation)} (output {OH}x{OW})")
    return OH, OW


def im2col(x, kernel_size, stride, padding, dilation):
    """Unfold ``x`` (N, C, H, W) into ``cols`` of shape (N*OH*OW, kh*kw*C).

    ``cols[(n*OH + oh)*OW + ow, (i*kw + j)*C + c] = x[n, c, oh*s_h - p_h + i*d_h, ow*s_w - p_w + j*d_w]``
    (0 where the index falls into the padding).
    """
    if x.ndim != 4:
        raise ValueError(f"im2col: expected x of shape (N, C, H, W), got {tuple(x.shape)}")
    check_hparams("im2col", kernel_size, stride, padding, dilation)
    N, C, H, W = x.shape
    OH, OW = _conv_out_hw("im2col", x.shape, kernel_size, stride, padding, dilation)
    cols = im2col_nhwc(to_channels_last(x), (OH, OW), kernel_size, stride, padding, dilation)
    return cols.reshape(N * OH * OW, kernel_size[0] * kernel_size[1] * C)


def col2im(cols, x_shape, kernel_size, stride, padding, dilation):
    """Fold ``cols`` (N*OH*OW, kh*kw*C) back into an (N, C, H, W) array of ``x_shape``, summing overlaps.

    This is the adjoint of ``im2col``: <im2col(x), c> == <x, col2im(c)> for all x, c,
    so it maps the gradient w.r.t. the columns to the gradient w.r.t. x.
    """
    check_hparams("col2im", kernel_size, stride, padding, dilation)
    if len(x_shape) != 4:
        raise ValueError(f"col2im: x_shape must be (N, C, H, W), got {tuple(x_shape)}")
    N, C, H, W = x_shape
    kh, kw = kernel_size
    OH, OW = _conv_out_hw("col2im", x_shape, kernel_size, stride, padding, dilation)
    expected = (N * OH * OW, kh * kw * C)
    if tuple(cols.shape) != expected:
        raise ValueError(f"col2im: cols of shape {tuple(cols.shape)} do not match x_shape {tuple(x_shape)} "
                         f"with kernel_size {tuple(kernel_size)} (expected {expected})")
    dx = col2im_nhwc(cols.reshape(N, OH, OW, kh, kw, C), (N, H, W, C), kernel_size, stride, padding, dilation)
    return get_array_module(dx).ascontiguousarray(dx.transpose(0, 3, 1, 2))
