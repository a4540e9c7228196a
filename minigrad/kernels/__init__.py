"""Raw-array kernels (NumPy or CuPy in, same out): no Tensors, no autograd.

The autograd Functions in minigrad.nn.functional wrap these and check their arguments first; the kernels trust
them. ``reference`` holds the short loop definitions of both convolutions that the tests hold the fast kernels to.
"""

from minigrad.kernels.conv import conv2d_backward, conv2d_forward, conv_transpose2d_backward, conv_transpose2d_forward
from minigrad.kernels.im2col import col2im, conv_output_size, conv_transpose_output_size, im2col
from minigrad.kernels.reference import conv2d_reference, conv_transpose2d_reference

__all__ = [
    "col2im",
    "conv2d_backward",
    "conv2d_forward",
    "conv2d_reference",
    "conv_output_size",
    "conv_transpose2d_backward",
    "conv_transpose2d_forward",
    "conv_transpose2d_reference",
    "conv_transpose_output_size",
    "im2col",
]
