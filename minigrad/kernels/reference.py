"""The reference convolutions: the definitions, one kernel tap at a time, that the fast kernels are tested against.

Short and slow on purpose (DeZero's ``conv2d_simple`` idea): no im2col, no phase grid, no layout copies. With
xpad the zero-padded input, s the stride, d the dilation and p the padding:

    conv2d:            y[n, o, a, e] = b[o] + sum_{c, i, j} w[o, c, i, j] xpad[n, c, s a + d i, s e + d j]
    conv_transpose2d:  every input pixel (h, v) adds x[n, :, h, v] @ w[:, :, i, j] at (s h + d i, s v + d j)
                       of a zero buffer, which is then cropped by p on each side (the adjoint of conv2d)

Arguments are raw arrays (NumPy or CuPy) and (int, int) pairs, as the kernels in ``conv.py`` take them.
"""

from __future__ import annotations

from minigrad.backend import get_array_module
from minigrad.kernels.im2col import conv_output_size, conv_transpose_output_size

__all__ = ["conv2d_reference", "conv_transpose2d_reference"]


def conv2d_reference(x, w, b, stride, padding, dilation):
    """y = conv2d(x, w) + b for x (N, C, H, W), w (O, C, kh, kw), b (O,) or None: a sum over the kh*kw taps."""
    xp = get_array_module(x, w)
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    N, _, H, W = x.shape
    O, _, kh, kw = w.shape
    OH, OW = conv_output_size(H, kh, sh, ph, dh), conv_output_size(W, kw, sw, pw, dw)
    xpad = xp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    y = xp.zeros((N, O, OH, OW), dtype=xp.result_type(x, w))
    for i in range(kh):
        for j in range(kw):
            # tap (i, j) of every window: xpad[n, c, s a + d i, s e + d j] for a < OH, e < OW
            tap = xpad[:, :, i * dh : i * dh + sh * (OH - 1) + 1 : sh, j * dw : j * dw + sw * (OW - 1) + 1 : sw]
            y += xp.einsum("ncae,oc->noae", tap, w[:, :, i, j])
    return y if b is None else y + b.reshape(1, O, 1, 1)


def conv_transpose2d_reference(x, w, b, stride, padding, output_padding, dilation):
    """y = conv_transpose2d(x, w) + b for x (N, C_in, H, W), w (C_in, C_out, kh, kw), b (C_out,) or None."""
    xp = get_array_module(x, w)
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    N, _, H, W = x.shape
    _, O, kh, kw = w.shape
    OH = conv_transpose_output_size(H, kh, sh, ph, output_padding[0], dh)
    OW = conv_transpose_output_size(W, kw, sw, pw, output_padding[1], dw)
    full = xp.zeros((N, O, OH + 2 * ph, OW + 2 * pw), dtype=xp.result_type(x, w))
    for i in range(kh):
        for j in range(kw):
            # input pixel (h, v) lands at (s h + d i, s v + d j) of the uncropped output
            full[:, :, i * dh : i * dh + sh * (H - 1) + 1 : sh, j * dw : j * dw + sw * (W - 1) + 1 : sw] += xp.einsum(
                "nchv,co->nohv", x, w[:, :, i, j]
            )
    y = full[:, :, ph : ph + OH, pw : pw + OW]
    return y if b is None else y + b.reshape(1, O, 1, 1)
