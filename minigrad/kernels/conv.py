"""2-D convolution and transposed convolution on raw arrays (NumPy or CuPy).

Shapes (PyTorch conventions):

* conv2d:            x (N, C, H, W), w (O, C, kh, kw), b (O,)  -> y (N, O, OH, OW)
* conv_transpose2d:  x (N, C_in, H, W), w (C_in, C_out, kh, kw), b (C_out,)
                     -> y (N, C_out, OH, OW)

Everything is a GEMM over the whole batch. With ``cols = im2col(x)`` of shape
(N*L, kh*kw*C), L = OH*OW (channels-last rows, see im2col.py), the weight
permuted to (O, kh, kw, C) and flattened to ``Wr`` (O, kh*kw*C), and ``gY`` the
output gradient as an (N*L, O) matrix:

    forward     Y   = cols @ Wr.T  (+ b)      (N*L, O) channels-last, one copy to NCHW
    grad w      gWr = gY.T @ cols
    grad x      gx  = col2im(gY @ Wr)         one tap at a time, see _gemm_col2im
    grad b      gb  = sum of gY over its rows

A transposed convolution is the input-gradient of a convolution with weight
``w`` (so O = C_in, C = C_out): its forward is ``col2im(X @ Wr)`` and its backward
reuses the conv2d kernels (grad x is conv2d(gy, w), grad w uses im2col(gy)).

Layout copies are all of image or weight size (never of ``cols`` size): NCHW
-> channels-last before im2col, phase grid -> NCHW after col2im, and the
weight permutation.

One case skips all of it: when the kernel's only window is the whole unpadded
image (a DCGAN discriminator's last layer, 4x4 -> 1x1, and its generator's
first, 1x1 -> 4x4), the convolution is a Linear layer on the flattened arrays,
whose (c, i, j) order is the weight's own: no im2col, no col2im, no permutes.

The arguments arrive checked (minigrad.nn.functional.conv); the kernels trust them. The definitions these
kernels must agree with are ``reference.conv2d_reference`` and ``reference.conv_transpose2d_reference``.
"""

from __future__ import annotations

from typing import Any

from minigrad.backend import get_array_module
from minigrad.kernels.im2col import (
    conv_output_size,
    conv_transpose_output_size,
    im2col_nhwc,
    padded_channels_last,
    phase_grid,
    phase_grid_to_nchw,
    phase_taps,
)

__all__ = [
    "conv2d_backward",
    "conv2d_forward",
    "conv2d_weight",
    "conv_transpose2d_backward",
    "conv_transpose2d_forward",
]


def _weight_rows(w):
    """(A, B, kh, kw) -> contiguous (A, kh*kw*B): row a in the (i, j, b) order of the cols columns."""
    xp = get_array_module(w)
    return xp.ascontiguousarray(w.transpose(0, 2, 3, 1)).reshape(w.shape[0], -1)


def _weight_from_rows(g, w_shape):
    """Inverse of ``_weight_rows``: (A, kh*kw*B) -> contiguous (A, B, kh, kw)."""
    A, B, kh, kw = w_shape
    xp = get_array_module(g)
    return xp.ascontiguousarray(g.reshape(A, kh, kw, B).transpose(0, 3, 1, 2))


def _channel_major(a):
    """(N, R, H, W) -> contiguous (R, N*H*W). A cheap copy: rows of H*W stay contiguous."""
    xp = get_array_module(a)
    N, R = a.shape[:2]
    return xp.ascontiguousarray(a.reshape(N, R, -1).transpose(1, 0, 2)).reshape(R, -1)


def _gemm_col2im(a, w, a_hw, out_shape, stride, padding, dilation, bias=None):
    """``col2im(a @ Wr)`` (+ bias) without materialising the (rows, kh*kw*C) product.

    a (N*OH*OW, A) has one row per window position, w (A, C, kh, kw) is the weight
    read as an (A -> C) map per tap; the result is a new NCHW image of ``out_shape``
    (N, C, H, W). The product is taken one kernel tap at a time, ``a @ w[:, :, i, j]``
    of shape (N*OH*OW, C), into a small reused buffer that is added at once into the
    phase grid (see im2col.phase_grid): the big product never goes through main memory.
    """
    xp = get_array_module(a, w)
    N, C, H, W = out_shape
    OH, OW = a_hw
    taps = xp.ascontiguousarray(w.transpose(2, 3, 0, 1))  # (kh, kw, A, C)
    acc = phase_grid(xp, N, C, (H, W), stride, xp.result_type(a, w), zeroed=False)
    tap_list = phase_taps(a_hw, (H, W), w.shape[2:], stride, padding, dilation)
    # A tap whose windows cover its whole phase block (the central taps of a 4x4 stride-2
    # kernel) lets the GEMM write that block directly: no zeroing, no add.
    whole = (slice(0, acc.shape[3]), slice(0, OH), slice(0, acc.shape[4]), slice(0, OW))
    first: dict[Any, Any] = {}
    for tap in tap_list:
        (rh, rows_h, win_h), (rw, rows_w, win_w) = tap[2:]
        if (rows_h, win_h, rows_w, win_w) == whole:
            first.setdefault((rh, rw), tap)
    for rh in range(acc.shape[0]):
        for rw in range(acc.shape[1]):
            if (rh, rw) in first:
                i, j = first[rh, rw][:2]
                xp.matmul(a, taps[i, j], out=acc[rh, rw].reshape(-1, C))
            else:
                acc[rh, rw] = 0
    tmp = xp.empty((N * OH * OW, C), dtype=acc.dtype)
    tmp4 = tmp.reshape(N, OH, OW, C)
    for tap in tap_list:
        i, j, (rh, rows_h, win_h), (rw, rows_w, win_w) = tap
        if first.get((rh, rw)) is tap:
            continue
        xp.matmul(a, taps[i, j], out=tmp)
        acc[rh, rw, :, rows_h, rows_w] += tmp4[:, win_h, win_w]
    return phase_grid_to_nchw(acc, (H, W), bias)


def _one_window(image_hw, kernel_size, padding, dilation):
    """True when the kernel, unpadded and undilated, covers the image exactly: one window, one output pixel."""
    return tuple(padding) == (0, 0) and tuple(dilation) == (1, 1) and tuple(image_hw) == tuple(kernel_size)


def _conv_cols_gemm(x, w, b, stride, padding, dilation, out_hw):
    """conv2d with a given output size: (y NCHW, cols). Shared by conv2d and conv_transpose2d."""
    xp = get_array_module(x, w)
    N = x.shape[0]
    O = w.shape[0]
    OH, OW = out_hw
    cols6 = im2col_nhwc(padded_channels_last(x, padding), out_hw, w.shape[2:], stride, dilation)
    cols = cols6.reshape(N * OH * OW, -1)
    # Y = cols @ Wr.T is channels-last (N, OH*OW, O); the NCHW copy adds the bias in the same pass.
    # (Not Y.T = Wr @ cols.T, which would come out nearly NCHW: that GEMM layout is the slower one.)
    yr = (cols @ _weight_rows(w).T).reshape(N, OH * OW, O).transpose(0, 2, 1)
    y = xp.empty((N, O, OH * OW), dtype=yr.dtype)
    if b is None:
        y[...] = yr
    else:
        xp.add(yr, b.reshape(1, O, 1), out=y)
    return y.reshape(N, O, OH, OW), cols


# ---------------------------------------------------------------- conv2d


def conv2d_forward(x, w, b, stride, padding, dilation):
    """y = conv2d(x, w) + b and the im2col buffer kept for the weight gradient.

    Returns ``(y, cols)``: y of shape (N, O, OH, OW) and cols (N*OH*OW, kh*kw*C).
    ``b`` may be None. When the kernel covers the whole unpadded input (OH = OW = 1),
    cols is just the input flattened to (N, C*kh*kw), in the weight's (c, i, j) order.
    """
    O, _, kh, kw = w.shape
    out_hw = tuple(map(conv_output_size, x.shape[2:], (kh, kw), stride, padding, dilation))
    if _one_window(x.shape[2:], (kh, kw), padding, dilation):
        cols = x.reshape(x.shape[0], -1)  # y = x W^T + b, a Linear layer
        y = cols @ w.reshape(O, -1).T
        if b is not None:
            y += b
        return y.reshape(x.shape[0], O, 1, 1), cols
    return _conv_cols_gemm(x, w, b, stride, padding, dilation, out_hw)


def conv2d_backward(gy, x_shape, w, cols, stride, padding, dilation, need_x=True, need_w=True, need_b=True):
    """Gradients (gx, gw, gb) of conv2d given the output gradient ``gy`` (N, O, OH, OW).

    ``cols`` is the buffer returned by ``conv2d_forward`` (only read when need_w).
    Entries not needed are None.
    """
    x_shape = tuple(x_shape)
    N, O, OH, OW = gy.shape
    kh, kw = w.shape[2:]
    gx = gw = gb = None
    if not (need_x or need_w or need_b):
        return gx, gw, gb
    if _one_window(x_shape[2:], (kh, kw), padding, dilation):
        gy2 = gy.reshape(N, O)  # Linear: gx = gy W, gW = gy^T x, gb = sum gy
        if need_b:
            gb = gy2.sum(axis=0)
        if need_w:
            gw = (gy2.T @ cols).reshape(w.shape)
        if need_x:
            gx = (gy2 @ w.reshape(O, -1)).reshape(x_shape)
        return gx, gw, gb
    gyt = _channel_major(gy)  # gY.T (O, N*OH*OW), shared by all three
    if need_b:
        gb = gyt.sum(axis=1)
    if need_w:
        gw = _weight_from_rows(gyt @ cols, w.shape)
    if need_x:
        gx = _gemm_col2im(gyt.T, w, (OH, OW), x_shape, stride, padding, dilation)
    return gx, gw, gb


def conv2d_weight(x, gy, kernel_size, stride, padding, dilation):
    """The weight gradient of conv2d alone: dw = gY^T im2col(x) as (O, C, kh, kw), gy of shape (N, O, OH, OW).

    Bilinear in (x, gy); the higher-order gradients of a convolution are built from it, conv2d and
    conv_transpose2d.
    """
    N, C = x.shape[:2]
    O, OH, OW = gy.shape[1:]
    kh, kw = kernel_size
    if _one_window(x.shape[2:], kernel_size, padding, dilation):
        return (gy.reshape(N, O).T @ x.reshape(N, -1)).reshape(O, C, kh, kw)
    cols = im2col_nhwc(padded_channels_last(x, padding), (OH, OW), kernel_size, stride, dilation)
    return _weight_from_rows(_channel_major(gy) @ cols.reshape(N * OH * OW, -1), (O, C, kh, kw))


# ---------------------------------------------------------------- conv_transpose2d


def conv_transpose2d_forward(x, w, b, stride, padding, output_padding, dilation):
    """Transposed convolution, the input-gradient of conv2d applied to ``x``:

    y = col2im(X @ Wr) + b, X = x as channels-last (N*H*W, C_in), Wr = w as (C_in, kh*kw*C_out).
    """
    N, Cin, H, W = x.shape
    _, Cout, kh, kw = w.shape
    OH, OW = map(conv_transpose_output_size, (H, W), (kh, kw), stride, padding, output_padding, dilation)
    if _one_window((OH, OW), (kh, kw), padding, dilation):
        # a 1x1 input whose one window is the whole output: y = x W, W as (C_in, C_out*kh*kw), NCHW as is
        y = (x.reshape(N, Cin) @ w.reshape(Cin, -1)).reshape(N, Cout, OH * OW)
        if b is not None:
            y += b.reshape(1, Cout, 1)
        return y.reshape(N, Cout, OH, OW)
    return _gemm_col2im(_channel_major(x).T, w, (H, W), (N, Cout, OH, OW), stride, padding, dilation, b)


def conv_transpose2d_backward(
    gy, x, w, stride, padding, output_padding, dilation, need_x=True, need_w=True, need_b=True
):
    """Gradients (gx, gw, gb) of conv_transpose2d, reusing the conv2d kernels.

    gx = conv2d(gy, w) (w read as an (O=C_in, C=C_out, kh, kw) conv weight), which
    also yields gcols = im2col(gy); then gw = X.T @ gcols and gb = sum of gy over n, oh, ow.
    """
    N, Cin, H, W = x.shape
    _, Cout, kh, kw = w.shape
    OH, OW = gy.shape[2:]
    gx = gw = gb = None
    if need_b:
        gb = gy.sum(axis=(0, 2, 3))
    if _one_window((OH, OW), (kh, kw), padding, dilation):
        gy2 = gy.reshape(N, -1)  # y = x W: gx = gy W^T, gW = x^T gy
        if need_x:
            gx = (gy2 @ w.reshape(Cin, -1).T).reshape(x.shape)
        if need_w:
            gw = (x.reshape(N, Cin).T @ gy2).reshape(w.shape)
        return gx, gw, gb
    if need_x or need_w:
        # exactly H x W windows: with output_padding >= stride, conv2d would see one more
        gx, gcols = _conv_cols_gemm(gy, w, None, stride, padding, dilation, (H, W))
        if need_w:
            gw = _weight_from_rows(_channel_major(x) @ gcols, w.shape)
        if not need_x:
            gx = None
    return gx, gw, gb
