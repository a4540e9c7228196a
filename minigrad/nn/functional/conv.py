"""conv2d and conv_transpose2d: Functions around the im2col kernels.

The arithmetic lives in ``minigrad.kernels.conv`` (raw arrays, one GEMM per
pass); this file checks arguments, keeps what backward needs, and lets the
engine free the im2col buffer once backward has used it.
"""
from __future__ import annotations

from minigrad.autograd import Function
from minigrad.kernels import conv as _kernels
from minigrad.tensor import Tensor


def _pair(value, name, op):
    """An int or a pair of ints -> (int, int)."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
        pair = tuple(value)
    else:
        pair = (value, value)
    for v in pair:
        if isinstance(v, bool) or not isinstance(v, int) and not hasattr(v, "__index__"):
            raise ValueError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    return tuple(int(v) for v in pair)


def _hyper(op, stride, padding, dilation):
    stride, padding, dilation = (_pair(stride, "stride", op), _pair(padding, "padding", op),
                                 _pair(dilation, "dilation", op))
    if min(stride) < 1:
        raise ValueError(f"{op}: stride must be positive, got {stride}")
    if min(padding) < 0:
        raise ValueError(f"{op}: padding must be non-negative, got {padding}")
    if min(dilation) < 1:
        raise ValueError(f"{op}: dilation must be positive, got {dilation}")
    return stride, padding, dilation


def _check_tensors(op, x, weight, bias, w_layout, in_dim):
    """4-D input and weight, matching channels (input C == weight.shape[in_dim]), bias of the right size."""
    if x.ndim != 4:
        raise ValueError(f"{op}: expected a 4-D input (N, C, H, W), got shape {tuple(x.shape)}")
    if weight.ndim != 4:
        raise ValueError(f"{op}: expected a 4-D weight {w_layout}, got shape {tuple(weight.shape)}")
    if x.shape[1] != weight.shape[in_dim]:
        raise ValueError(
            f"{op}: input of shape {tuple(x.shape)} has {x.shape[1]} channels, but weight {w_layout} of shape "
            f"{tuple(weight.shape)} expects {weight.shape[in_dim]}"
        )
    out_ch = weight.shape[1 - in_dim]
    if bias is not None and tuple(bias.shape) != (out_ch,):
        raise ValueError(f"{op}: bias must have shape ({out_ch},), got {tuple(bias.shape)}")
    dtypes = {t.dtype for t in (x, weight, bias) if t is not None}
    if len(dtypes) > 1:
        raise ValueError(
            f"{op}: dtypes differ (input {x.dtype}, weight {weight.dtype}"
            + (f", bias {bias.dtype}" if bias is not None else "") + ")"
        )


def _as_tensor(t):
    return t if isinstance(t, Tensor) or t is None else Tensor(t)


class Conv2d(Function):
    """y[n, o] = sum_c x[n, c] (*) w[o, c] + b[o]  (cross-correlation, PyTorch layout (O, C, kh, kw)).

    With s the stride, d the dilation and xpad the zero-padded input:

        y[n, o, p, q]  = sum_{c, i, j} w[o, c, i, j] xpad[n, c, s p + d i, s q + d j] + b[o]
        dw[o, c, i, j] = sum_{n, p, q} gy[n, o, p, q] xpad[n, c, s p + d i, s q + d j]
        dx             = conv_transpose2d(gy, w)   (each gy value scattered back through the window it came from)
        db[o]          = sum_{n, p, q} gy[n, o, p, q]

    All three are GEMMs over im2col matrices: see minigrad/kernels/conv.py.
    """

    def __init__(self, stride, padding, dilation):
        self.stride, self.padding, self.dilation = stride, padding, dilation

    def forward(self, x, w, b=None):
        y, cols = _kernels.conv2d_forward(x, w, b, self.stride, self.padding, self.dilation)
        # cols (the im2col matrix) is reused by backward; release() frees it afterwards
        self.cols, self.x_shape, self.w, self.has_bias = cols, x.shape, w, b is not None
        return y

    def backward(self, gy):
        need = self.needs_input_grad
        gx, gw, gb = _kernels.conv2d_backward(
            gy, self.x_shape, self.w, self.cols, self.stride, self.padding, self.dilation,
            need_x=need[0], need_w=need[1], need_b=self.has_bias and need[2],
        )
        return (gx, gw, gb) if self.has_bias else (gx, gw)


class ConvTranspose2d(Function):
    """The gradient of conv2d w.r.t. its input, used as a layer (weight (C_in, C_out, kh, kw)).

    Its input x plays the role of conv2d's output gradient, so with the same weight w:

        y  = conv2d's dx formula applied to x (+ b)
        dx = conv2d(gy, w)                   (the forward of the conv it transposes)
        dw = X^T im2col(gy),  X = x as an (N*H*W, C_in) matrix
        db[c] = sum_{n, p, q} gy[n, c, p, q]
    """

    def __init__(self, stride, padding, output_padding, dilation):
        self.stride, self.padding, self.dilation = stride, padding, dilation
        self.output_padding = output_padding

    def forward(self, x, w, b=None):
        y = _kernels.conv_transpose2d_forward(x, w, b, self.stride, self.padding, self.output_padding,
                                              self.dilation)
        self.x, self.w, self.has_bias = x, w, b is not None
        return y

    def backward(self, gy):
        need = self.needs_input_grad
        gx, gw, gb = _kernels.conv_transpose2d_backward(
            gy, self.x, self.w, self.stride, self.padding, self.output_padding, self.dilation,
            need[0], need[1], self.has_bias and need[2],
        )
        return (gx, gw, gb) if self.has_bias else (gx, gw)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation as ``torch.nn.functional.conv2d`` (groups=1 only).

    Output size per spatial dim: floor((H + 2p - d (k - 1) - 1) / s) + 1.
    """
    op = "conv2d"
    if groups != 1:
        raise NotImplementedError(f"{op}: groups={groups} is not supported (only groups=1)")
    input, weight, bias = _as_tensor(input), _as_tensor(weight), _as_tensor(bias)
    stride, padding, dilation = _hyper(op, stride, padding, dilation)
    _check_tensors(op, input, weight, bias, "(O, C, kh, kw)", in_dim=1)
    for i, axis in enumerate("HW"):
        size = input.shape[2 + i] + 2 * padding[i] - dilation[i] * (weight.shape[2 + i] - 1) - 1
        if size < 0:
            raise ValueError(
                f"{op}: input {tuple(input.shape)} with padding {padding} is smaller than the dilated kernel "
                f"(weight {tuple(weight.shape)}, dilation {dilation}) along {axis}"
            )
    args = (input, weight) if bias is None else (input, weight, bias)
    return Conv2d(stride, padding, dilation)(*args)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 2-D convolution as ``torch.nn.functional.conv_transpose2d`` (groups=1 only).

    Output size per spatial dim: (H - 1) s - 2p + d (k - 1) + output_padding + 1.
    """
    op = "conv_transpose2d"
    if groups != 1:
        raise NotImplementedError(f"{op}: groups={groups} is not supported (only groups=1)")
    input, weight, bias = _as_tensor(input), _as_tensor(weight), _as_tensor(bias)
    stride, padding, dilation = _hyper(op, stride, padding, dilation)
    output_padding = _pair(output_padding, "output_padding", op)
    for i in range(2):
        if not 0 <= output_padding[i] < max(stride[i], dilation[i]):
            raise ValueError(
                f"{op}: output_padding {output_padding} must be non-negative and smaller than either "
                f"stride {stride} or dilation {dilation}"
            )
    _check_tensors(op, input, weight, bias, "(C_in, C_out, kh, kw)", in_dim=0)
    for i, axis in enumerate("HW"):
        size = ((input.shape[2 + i] - 1) * stride[i] - 2 * padding[i] + dilation[i] * (weight.shape[2 + i] - 1)
                + output_padding[i] + 1)
        if size < 1:
            raise ValueError(
                f"{op}: output size along {axis} would be {size} for input {tuple(input.shape)}, weight "
                f"{tuple(weight.shape)}, stride {stride}, padding {padding}, dilation {dilation}"
            )
    args = (input, weight) if bias is None else (input, weight, bias)
    return ConvTranspose2d(stride, padding, output_padding, dilation)(*args)
