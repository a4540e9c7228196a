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
(pixel, tap) instead of once per (channel, image row), as it would be in the
channel-first (C*kh*kw, N*OH*OW) layout (benchmarks/README.md). The
convolution is then one GEMM over the whole batch, ``Wr @ cols.T`` with the
weight as an (O, kh*kw*C) matrix ``Wr`` (see conv.py); ``cols.T`` is a free view
that BLAS reads as a transposed operand.

No Python loop runs over the batch or the output pixels: ``im2col`` copies the
image once into a zero-padded channels-last buffer, and ``cols`` is then a
single strided view of that buffer (one window per output pixel), copied out in
one call. ``col2im`` is the adjoint (transpose) of ``im2col``: it scatters the rows
back with kh*kw slice-adds, summing where receptive fields overlap. The adds go
into a *phase grid* of the image (``phase_grid``: pixels split by their index
mod the stride), where each tap's windows form one dense block.

``im2col_nhwc`` works on padded channels-last images (N, Hp, Wp, C) and 6-D
``cols`` (N, OH, OW, kh, kw, C); ``im2col``/``col2im`` wrap it for NCHW arrays.
``conv_output_size`` and ``conv_transpose_output_size`` are the one place the output-size formulas live.
The convolution these buffers compute is defined, loop by loop, in ``reference.py``.
"""

from __future__ import annotations

import numpy as np

from minigrad.backend import as_strided, get_array_module

__all__ = ["col2im", "conv_output_size", "conv_transpose_output_size", "im2col"]


def conv_output_size(in_size: int, k: int, s: int, p: int, d: int) -> int:
    """Output length of a convolution: floor((in + 2p - d(k-1) - 1) / s) + 1."""
    return (in_size + 2 * p - d * (k - 1) - 1) // s + 1


def conv_transpose_output_size(in_size: int, k: int, s: int, p: int, output_padding: int, d: int) -> int:
    """Output length of a transposed convolution: (in-1)s - 2p + d(k-1) + output_padding + 1."""
    return (in_size - 1) * s - 2 * p + d * (k - 1) + output_padding + 1


def to_channels_last(a, out=None):
    """(N, C, H, W) -> (N, H, W, C): a new contiguous array, or written into ``out`` (any strides)."""
    xp = get_array_module(a)
    N, C, H, W = a.shape
    if out is None:
        out = xp.empty((N, H, W, C), dtype=a.dtype)
    if xp is np and C > 1 and (H * W) % 64 == 0:
        # The transposing copy reads one value per channel plane; when a plane is
        # a multiple of 256 bytes those reads hit the same few cache sets and
        # thrash. Going through planes padded by one cache line breaks the
        # pattern; the extra copy is contiguous and cheap.
        HW = H * W
        tmp = xp.empty((N, C, HW + 16), dtype=a.dtype)
        tmp[:, :, :HW] = a.reshape(N, C, HW)
        out[...] = tmp[:, :, :HW].transpose(0, 2, 1).reshape(N, H, W, C)
    else:
        out[...] = a.transpose(0, 2, 3, 1)
    return out


def padded_channels_last(a, padding):
    """(N, C, H, W) -> new contiguous (N, H + 2 ph, W + 2 pw, C) with zero borders."""
    xp = get_array_module(a)
    (ph, pw), (N, C, H, W) = padding, a.shape
    if ph == pw == 0:
        return to_channels_last(a)
    out = xp.zeros((N, H + 2 * ph, W + 2 * pw, C), dtype=a.dtype)
    to_channels_last(a, out=out[:, ph : ph + H, pw : pw + W])
    return out


def im2col_nhwc(xpad, out_hw, kernel_size, stride, dilation):
    """Channels-last im2col of a padded image: xpad (N, Hp, Wp, C) -> cols (N, OH, OW, kh, kw, C).

    Every window is inside the padded image, so ``cols`` is one strided *view* of
    it (cols[n, oh, ow, i, j] = xpad[n, oh*sh + i*dh, ow*sw + j*dw]) copied out in
    a single call; with dilation 1, each (j, c) run of the view is kw*C
    contiguous values. ``out_hw`` is passed explicitly because a transposed
    convolution with output_padding >= stride asks for fewer positions than
    conv_output_size.
    """
    xp = get_array_module(xpad)
    N, _, _, C = xpad.shape
    (kh, kw), (sh, sw), (dh, dw), (OH, OW) = kernel_size, stride, dilation, out_hw
    sN, sH, sW, sC = xpad.strides
    windows = as_strided(xpad, (N, OH, OW, kh, kw, C), (sN, sh * sH, sw * sW, dh * sH, dw * sW, sC))
    cols = xp.empty((N, OH, OW, kh, kw, C), dtype=xpad.dtype)
    cols[...] = windows
    return cols


def _phase_range(out_size: int, in_size: int, offset: int, s: int):
    """Where one kernel tap lands in the *phase grid* of the input axis.

    Window o reads input index ``o*s + offset = (o + q)*s + r`` with r = offset mod s
    (the tap's phase) and q = offset // s. Splitting the axis into its s phases
    (index h = m*s + r -> phase r, row m), the tap adds window o to row o + q of
    phase r. Returns (r, rows, windows): the phase, the rows slice and the matching
    windows slice; None when no window lands inside the grid. The grid has
    ceil(in_size / s) rows per phase; rows past in_size are cropped by the caller.
    """
    r, q = offset % s, offset // s
    lo, hi = max(0, -q), min(out_size, -(-in_size // s) - q)
    if hi <= lo:
        return None
    return r, slice(lo + q, hi + q), slice(lo, hi)


def phase_taps(out_hw, in_hw, kernel_size, stride, padding, dilation):
    """[(i, j, (rh, rows_h, win_h), (rw, rows_w, win_w))] of every tap that touches the image."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel_size, stride, padding, dilation
    taps = []
    for i in range(kh):
        for j in range(kw):
            rh = _phase_range(out_hw[0], in_hw[0], i * dh - ph, sh)
            rw = _phase_range(out_hw[1], in_hw[1], j * dw - pw, sw)
            if rh is not None and rw is not None:
                taps.append((i, j, rh, rw))
    return taps


def phase_grid(xp, n, channels, in_hw, stride, dtype, zeroed=True):
    """Accumulator (sh, sw, N, ceil(H/sh), ceil(W/sw), C) for a scatter-add over taps (zeroed by default).

    Why phases: with stride s, a tap's windows land on every s-th pixel, so adding
    them straight into an (N, H, W, C) image moves C values at a time (one NumPy
    inner loop per pixel). In the phase grid the same windows land on a dense block
    whose rows are contiguous runs of OW*C values.
    """
    (H, W), (sh, sw) = in_hw, stride
    return (xp.zeros if zeroed else xp.empty)((sh, sw, n, -(-H // sh), -(-W // sw), channels), dtype=dtype)


def phase_grid_to_nchw(acc, in_hw, bias=None):
    """The phase grid (sh, sw, N, Hs, Ws, C) -> a new contiguous (N, C, H, W) image (+ bias per channel)."""
    xp = get_array_module(acc)
    sh, sw, N, Hs, Ws, C = acc.shape
    H, W = in_hw
    # Pixel (m*sh + r, l*sw + t) is acc[r, t, :, m, l]. First interleave the phases into a channels-last
    # image, one copy per phase whose inner loop runs over C contiguous values on both sides, then one
    # transposing copy to NCHW (bias added there). Copying each phase straight into the NCHW image ran
    # NumPy's inner loop over Ws values with a stride of sw: 1.2-2.5x slower (benchmarks/README.md).
    nhwc = xp.empty((N, Hs, sh, Ws, sw, C), dtype=acc.dtype)
    for r in range(sh):
        for t in range(sw):
            nhwc[:, :, r, :, t, :] = acc[r, t]
    image = nhwc.reshape(N, Hs * sh, Ws * sw, C)[:, :H, :W]  # rows past the image are cropped here
    out = xp.empty((N, C, H, W), dtype=acc.dtype)
    src = image.transpose(0, 3, 1, 2)
    if bias is None:
        out[...] = src
    else:
        xp.add(src, bias.reshape(1, C, 1, 1), out=out)
    return out


def im2col(x, kernel_size, stride, padding, dilation):
    """Unfold ``x`` (N, C, H, W) into ``cols`` of shape (N*OH*OW, kh*kw*C).

    ``cols[(n*OH + oh)*OW + ow, (i*kw + j)*C + c] = x[n, c, oh*s_h - p_h + i*d_h, ow*s_w - p_w + j*d_w]``
    (0 where the index falls into the padding).
    """
    if x.ndim != 4:
        raise ValueError(f"im2col: expected x of shape (N, C, H, W), got {tuple(x.shape)}")
    N, C = x.shape[:2]
    OH, OW = map(conv_output_size, x.shape[2:], kernel_size, stride, padding, dilation)
    cols = im2col_nhwc(padded_channels_last(x, padding), (OH, OW), kernel_size, stride, dilation)
    return cols.reshape(N * OH * OW, kernel_size[0] * kernel_size[1] * C)


def col2im(cols, x_shape, kernel_size, stride, padding, dilation):
    """Fold ``cols`` (N*OH*OW, kh*kw*C) back into an (N, C, H, W) array of ``x_shape``, summing overlaps.

    This is the adjoint of ``im2col``: <im2col(x), c> == <x, col2im(c)> for all x, c,
    so it maps the gradient w.r.t. the columns to the gradient w.r.t. x.
    """
    if len(x_shape) != 4:
        raise ValueError(f"col2im: x_shape must be (N, C, H, W), got {tuple(x_shape)}")
    N, C, H, W = x_shape
    kh, kw = kernel_size
    OH, OW = map(conv_output_size, (H, W), kernel_size, stride, padding, dilation)
    expected = (N * OH * OW, kh * kw * C)
    if tuple(cols.shape) != expected:
        raise ValueError(
            f"col2im: cols of shape {tuple(cols.shape)} do not match x_shape {tuple(x_shape)} "
            f"with kernel_size {tuple(kernel_size)} (expected {expected})"
        )
    cols6 = cols.reshape(N, OH, OW, kh, kw, C)
    acc = phase_grid(get_array_module(cols), N, C, (H, W), stride, cols.dtype)
    for i, j, (rh, rows_h, win_h), (rw, rows_w, win_w) in phase_taps(
        (OH, OW), (H, W), kernel_size, stride, padding, dilation
    ):
        acc[rh, rw, :, rows_h, rows_w] += cols6[:, win_h, win_w, i, j]  # in place: no temporary
    return phase_grid_to_nchw(acc, (H, W))
