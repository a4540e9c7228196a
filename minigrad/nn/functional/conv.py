"""conv2d and conv_transpose2d: Functions around the im2col kernels.

The arithmetic lives in ``minigrad.kernels.conv`` (raw arrays, one GEMM per
pass); this file checks arguments, keeps what backward needs, and lets the
engine free the im2col buffer once backward has used it.
"""

from __future__ import annotations

from typing import Any, TypeAlias

from minigrad.amp import autocast_mode
from minigrad.autograd import Function, is_tensor
from minigrad.autograd.function import Array, Grad
from minigrad.kernels import conv as _kernels
from minigrad.kernels.im2col import conv_output_size, conv_transpose_output_size
from minigrad.tensor import Tensor

IntPair: TypeAlias = "int | tuple[int, ...]"  # a stride, padding or dilation: one int for both dims, or a pair


def int_pair(value: Any, name: str, op: str) -> tuple[int, ...]:
    """An int or a pair of ints -> (int, int); ValueError naming ``op`` and ``name`` otherwise."""
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


def _conv_arguments(
    op: str,
    input: Any,
    weight: Any,
    bias: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    groups: int,
    output_padding: Any = None,
) -> tuple[Any, ...]:
    """Every check of a conv2d (or, with ``output_padding``, conv_transpose2d) call, made once, here.

    Returns (input, weight, bias, stride, padding, dilation, output_padding) as Tensors and (int, int) pairs;
    the kernels in minigrad/kernels/conv.py trust them.
    """
    transposed = output_padding is not None
    if groups != 1:
        raise NotImplementedError(f"{op}: groups={groups} is not supported (only groups=1)")
    input, weight, bias = _as_tensor(input), _as_tensor(weight), _as_tensor(bias)
    stride, padding, dilation = (
        int_pair(stride, "stride", op),
        int_pair(padding, "padding", op),
        int_pair(dilation, "dilation", op),
    )
    if min(stride) < 1:
        raise ValueError(f"{op}: stride must be positive, got {stride}")
    if min(padding) < 0:
        raise ValueError(f"{op}: padding must be non-negative, got {padding}")
    if min(dilation) < 1:
        raise ValueError(f"{op}: dilation must be positive, got {dilation}")
    if transposed:
        output_padding = int_pair(output_padding, "output_padding", op)
        for i in range(2):
            if not 0 <= output_padding[i] < max(stride[i], dilation[i]):
                raise ValueError(
                    f"{op}: output_padding {output_padding} must be non-negative and smaller than either "
                    f"stride {stride} or dilation {dilation}"
                )
        _check_tensors(op, input, weight, bias, "(C_in, C_out, kh, kw)", in_dim=0)
    else:
        _check_tensors(op, input, weight, bias, "(O, C, kh, kw)", in_dim=1)
    for i, axis in enumerate("HW"):
        n, k, s, p, d = input.shape[2 + i], weight.shape[2 + i], stride[i], padding[i], dilation[i]
        if transposed:
            size = conv_transpose_output_size(n, k, s, p, output_padding[i], d)
            if size < 1:
                raise ValueError(
                    f"{op}: output size along {axis} would be {size} for input {tuple(input.shape)}, weight "
                    f"{tuple(weight.shape)}, stride {stride}, padding {padding}, dilation {dilation}"
                )
        elif conv_output_size(n, k, s, p, d) < 1:
            raise ValueError(
                f"{op}: input {tuple(input.shape)} with padding {padding} is too small: smaller than the dilated "
                f"kernel (weight {tuple(weight.shape)}, dilation {dilation}) along {axis}"
            )
    return input, weight, bias, stride, padding, dilation, output_padding


def _check_tensors(op: str, x: Tensor, weight: Tensor, bias: Tensor | None, w_layout: str, in_dim: int) -> None:
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
    dtypes = {
        autocast_mode.seen_dtype(t, "lower") for t in (x, weight, bias) if t is not None
    }  # as the op will see them
    if len(dtypes) > 1:
        raise ValueError(
            f"{op}: dtypes differ (input {x.dtype}, weight {weight.dtype}"
            + (f", bias {bias.dtype}" if bias is not None else "")
            + ")"
        )
    if min(weight.shape[2:]) < 1:
        raise ValueError(f"{op}: kernel_size must be a pair of integers >= 1, got {tuple(weight.shape[2:])}")


def _as_tensor(t: Any) -> Tensor | None:
    return t if isinstance(t, Tensor) or t is None else Tensor(t)


class Conv2d(Function):
    """y[n, o] = sum_c x[n, c] (*) w[o, c] + b[o]  (cross-correlation, PyTorch layout (O, C, kh, kw)).

    With s the stride, d the dilation and xpad the zero-padded input:

        y[n, o, p, q]  = sum_{c, i, j} w[o, c, i, j] xpad[n, c, s p + d i, s q + d j] + b[o]
        dx             = conv_transpose2d(gy, w)   (each gy value scattered back through the window it came from)
        dw             = conv2d_weight(x, gy):  dw[o, c, i, j] = sum_{n, p, q} gy[n, o, p, q] xpad[n, c, s p + d i, ...]
        db[o]          = sum_{n, p, q} gy[n, o, p, q]

    The three are the family Conv2d, ConvTranspose2d, Conv2dWeight: the gradients of each are the others,
    so a convolution is differentiable to any order. On raw arrays (first-order backward) the same three
    formulas run as one kernel call (minigrad/kernels/conv.py) that shares gy's layout copy and reuses the
    forward's im2col buffer; with ``create_graph=True`` they run as the recorded Functions.
    """

    autocast_policy = "lower"  # PyTorch autocasts conv2d to float16

    def __init__(self, stride: tuple[int, ...], padding: tuple[int, ...], dilation: tuple[int, ...]) -> None:
        self.stride, self.padding, self.dilation = stride, padding, dilation

    def forward(self, x: Array, w: Array, b: Array = None) -> Array:
        y, cols = _kernels.conv2d_forward(x, w, b, self.stride, self.padding, self.dilation)
        self.has_bias = b is not None
        self.save_for_backward(x, w, cols)  # cols: the im2col buffer, reused by the first-order kernel
        return y

    def backward(self, gy: Grad) -> tuple[Grad | None, ...]:
        x, w, cols = self.saved_values
        need = self.needs_input_grad
        need_b = self.has_bias and need[2]
        if is_tensor(gy):
            out_pad = _output_padding(x.shape, gy.shape, w.shape, self)
            gx = ConvTranspose2d(self.stride, self.padding, out_pad, self.dilation)(gy, w) if need[0] else None
            gw = Conv2dWeight(w.shape[2:], self.stride, self.padding, self.dilation)(x, gy) if need[1] else None
            gb = gy.sum(axis=(0, 2, 3)) if need_b else None
        else:
            gx, gw, gb = _kernels.conv2d_backward(
                gy,
                x.shape,
                w,
                cols,
                self.stride,
                self.padding,
                self.dilation,
                need_x=need[0],
                need_w=need[1],
                need_b=need_b,
            )
        return (gx, gw, gb) if self.has_bias else (gx, gw)


class ConvTranspose2d(Function):
    """The gradient of conv2d w.r.t. its input, used as a layer (weight (C_in, C_out, kh, kw)).

    Its input x plays the role of conv2d's output gradient, so with the same weight w:

        y  = conv2d's dx formula applied to x (+ b)
        dx = conv2d(gy, w)                   (the forward of the conv it transposes)
        dw = conv2d_weight(gy, x)            (x in the role of conv2d's output gradient)
        db[c] = sum_{n, p, q} gy[n, c, p, q]

    On raw arrays one kernel call computes all three, sharing im2col(gy).
    """

    autocast_policy = "lower"  # PyTorch autocasts conv_transpose2d to float16

    def __init__(
        self,
        stride: tuple[int, ...],
        padding: tuple[int, ...],
        output_padding: tuple[int, ...],
        dilation: tuple[int, ...],
    ) -> None:
        self.stride, self.padding, self.dilation = stride, padding, dilation
        self.output_padding = output_padding

    def forward(self, x: Array, w: Array, b: Array = None) -> Array:
        y = _kernels.conv_transpose2d_forward(x, w, b, self.stride, self.padding, self.output_padding, self.dilation)
        self.has_bias = b is not None
        self.save_for_backward(x, w)
        return y

    def backward(self, gy: Grad) -> tuple[Grad | None, ...]:
        x, w = self.saved_values
        need = self.needs_input_grad
        need_b = self.has_bias and need[2]
        if is_tensor(gy):
            gx = _crop(Conv2d(self.stride, self.padding, self.dilation)(gy, w), x.shape) if need[0] else None
            gw = Conv2dWeight(w.shape[2:], self.stride, self.padding, self.dilation)(gy, x) if need[1] else None
            gb = gy.sum(axis=(0, 2, 3)) if need_b else None
        else:
            gx, gw, gb = _kernels.conv_transpose2d_backward(
                gy, x, w, self.stride, self.padding, self.output_padding, self.dilation, need[0], need[1], need_b
            )
        return (gx, gw, gb) if self.has_bias else (gx, gw)


class Conv2dWeight(Function):
    """gw = conv2d_weight(x, g): the weight gradient of conv2d, as an op of its own (bilinear in x and g).

        gw[o, c, i, j] = sum_{n, p, q} g[n, o, p, q] xpad[n, c, s p + d i, s q + d j]
        dx = conv_transpose2d(g, ggw),   dg = conv2d(x, ggw)      (ggw: the gradient of gw)

    It appears in a graph only under ``create_graph=True`` (gradient penalties, Hessian-vector products).
    """

    def __init__(
        self, kernel_size: tuple[int, ...], stride: tuple[int, ...], padding: tuple[int, ...], dilation: tuple[int, ...]
    ) -> None:
        self.kernel_size = tuple(kernel_size)
        self.stride, self.padding, self.dilation = stride, padding, dilation

    def forward(self, x: Array, g: Array) -> Array:
        self.save_for_backward(x, g)
        return _kernels.conv2d_weight(x, g, self.kernel_size, self.stride, self.padding, self.dilation)

    def backward(self, ggw: Grad) -> tuple[Grad | None, ...]:
        x, g = self.saved_values
        need = self.needs_input_grad
        gx = (
            ConvTranspose2d(
                self.stride, self.padding, _output_padding(x.shape, g.shape, ggw.shape, self), self.dilation
            ).forward_or_record(g, ggw)
            if need[0]
            else None
        )
        # g may have fewer windows than conv2d(x) (conv_transpose2d's weight gradient with output_padding >= stride)
        gg = (
            _crop(Conv2d(self.stride, self.padding, self.dilation).forward_or_record(x, ggw), g.shape)
            if need[1]
            else None
        )
        return gx, gg


def _output_padding(
    x_shape: tuple[int, ...], y_shape: tuple[int, ...], w_shape: tuple[int, ...], conv: Conv2d | Conv2dWeight
) -> tuple[int, ...]:
    """The output_padding that makes conv_transpose2d of a (.., OH, OW) gradient come out at x's (H, W):
    the rows and columns conv2d's floor dropped."""
    return tuple(
        int(n - conv_transpose_output_size(o, k, s, p, 0, d))
        for n, o, k, s, p, d in zip(x_shape[2:], y_shape[2:], w_shape[2:], conv.stride, conv.padding, conv.dilation)
    )


def _crop(g: Grad, shape: tuple[int, ...]) -> Grad:
    """g cut to ``shape`` on its last two axes (conv2d of a transposed conv's gradient may see more windows)."""
    if tuple(g.shape) == tuple(shape):
        return g
    return g[:, :, : shape[2], : shape[3]]


def conv2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: IntPair = 1,
    padding: IntPair = 0,
    dilation: IntPair = 1,
    groups: int = 1,
) -> Tensor:
    """2-D cross-correlation as ``torch.nn.functional.conv2d`` (groups=1 only).

    Output size per spatial dim: floor((H + 2p - d (k - 1) - 1) / s) + 1.
    """
    input, weight, bias, s, p, d, _ = _conv_arguments("conv2d", input, weight, bias, stride, padding, dilation, groups)
    args = (input, weight) if bias is None else (input, weight, bias)
    return Conv2d(s, p, d)(*args)


def conv_transpose2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: IntPair = 1,
    padding: IntPair = 0,
    output_padding: IntPair = 0,
    groups: int = 1,
    dilation: IntPair = 1,
) -> Tensor:
    """Transposed 2-D convolution as ``torch.nn.functional.conv_transpose2d`` (groups=1 only).

    Output size per spatial dim: (H - 1) s - 2p + d (k - 1) + output_padding + 1.
    """
    input, weight, bias, s, p, d, op = _conv_arguments(
        "conv_transpose2d", input, weight, bias, stride, padding, dilation, groups, output_padding
    )
    args = (input, weight) if bias is None else (input, weight, bias)
    return ConvTranspose2d(s, p, op, d)(*args)
