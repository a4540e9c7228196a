"""Raw-array kernels (NumPy or CuPy in, same out): no Tensors, no autograd.

The autograd Functions in minigrad.nn wrap these.
"""
from minigrad.kernels.conv import (
    conv2d_backward,
    conv2d_forward,
    conv_transpose2d_backward,
    conv_transpose2d_forward,
)
from minigrad.kernels.im2col import col2im, conv_output_size, conv_transpose_output_size, im2col

__all__ = [
    "col2im",
    "conv2d_backward",
    "conv2d_forward",
    "conv_output_size",
    "conv_transpose2d_backward",
    "conv_transpose2d_forward",
    "conv_transpose_output_size",
    "im2col",
]
