"""Conv2d and ConvTranspose2d layers (groups=1)."""

from __future__ import annotations

from typing import Any

from minigrad.nn import init
from minigrad.nn.functional.conv import conv2d, conv_transpose2d, int_pair
from minigrad.nn.module import Module
from minigrad.nn.parameter import add_weight_and_bias
from minigrad.tensor import Tensor

IntPair = int | tuple[int, int]  # a size given once for both spatial dims, or as (height, width)


class _ConvNd(Module):
    """Shared parameters, initialisation and repr of the 2-D convolutions."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: IntPair,
        stride: IntPair,
        padding: IntPair,
        dilation: IntPair,
        output_padding: IntPair,
        groups: int,
        bias: bool,
        padding_mode: str,
        weight_shape: tuple[int, int],
        device: str | None,
        dtype: Any,
    ) -> None:
        super().__init__()
        op = type(self).__name__
        if groups != 1:
            raise NotImplementedError(f"{op}: groups={groups} is not supported (only groups=1)")
        if padding_mode != "zeros":
            raise NotImplementedError(f"{op}: padding_mode={padding_mode!r} is not supported (only 'zeros')")
        if in_channels <= 0 or out_channels <= 0:
            raise ValueError(f"{op}: channels must be positive, got in={in_channels}, out={out_channels}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = int_pair(kernel_size, "kernel_size", op)
        self.stride = int_pair(stride, "stride", op)
        self.padding = int_pair(padding, "padding", op)
        self.dilation = int_pair(dilation, "dilation", op)
        self.output_padding = int_pair(output_padding, "output_padding", op)
        self.groups, self.padding_mode = groups, padding_mode
        add_weight_and_bias(self, (*weight_shape, *self.kernel_size), out_channels, bias, device, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.default_layer_init_(self.weight, self.bias)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.output_padding != (0, 0):
            s += f", output_padding={self.output_padding}"
        if self.bias is None:
            s += ", bias=False"
        return s


class Conv2d(_ConvNd):
    """2-D cross-correlation over (N, C_in, H, W); weight (C_out, C_in, kh, kw)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: IntPair,
        stride: IntPair = 1,
        padding: IntPair = 0,
        dilation: IntPair = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device: str | None = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            0,
            groups,
            bias,
            padding_mode,
            (out_channels, in_channels),
            device,
            dtype,
        )

    def forward(self, input: Tensor) -> Tensor:
        return conv2d(input, self.weight, self.bias, self.stride, self.padding, self.dilation)


class ConvTranspose2d(_ConvNd):
    """Transposed convolution (the gradient of Conv2d w.r.t. its input); weight (C_in, C_out, kh, kw).

    H_out = (H - 1) stride - 2 padding + dilation (k - 1) + output_padding + 1.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: IntPair,
        stride: IntPair = 1,
        padding: IntPair = 0,
        output_padding: IntPair = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: IntPair = 1,
        padding_mode: str = "zeros",
        device: str | None = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            output_padding,
            groups,
            bias,
            padding_mode,
            (in_channels, out_channels),
            device,
            dtype,
        )

    def forward(self, input: Tensor) -> Tensor:
        return conv_transpose2d(
            input, self.weight, self.bias, self.stride, self.padding, self.output_padding, 1, self.dilation
        )
