"""minigrad: a small reverse-mode autograd engine on NumPy and CuPy.

>>> import minigrad as mg
>>> x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> y = (x ** 2).sum()
>>> y.backward()
>>> x.grad
tensor([2., 4., 6.], dtype=float32)
"""

from minigrad import allocator, amp, autograd, backend, cuda, nn, ops, optim, viz
from minigrad.amp import autocast
from minigrad.autograd import Function
from minigrad.backend import get_array_module, manual_seed
from minigrad.creation import (
    arange,
    as_tensor,
    bool_,
    double,
    empty,
    float16,
    float32,
    float64,
    from_numpy,
    full,
    full_like,
    get_default_dtype,
    half,
    int32,
    int64,
    linspace,
    long,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    set_default_dtype,
    tensor,
    uint8,
    zeros,
    zeros_like,
)
from minigrad.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from minigrad.gradcheck import GradcheckError, gradcheck, gradgradcheck
from minigrad.ops.activations import leaky_relu, log_softmax, logsigmoid, relu, sigmoid, softmax, softplus, tanh
from minigrad.ops.arithmetic import add, div, mul, neg, pow, sub
from minigrad.ops.matmul import matmul
from minigrad.ops.pointwise import abs, clamp, exp, log, maximum, minimum, sqrt, where
from minigrad.ops.reductions import amax, amin, max, mean, min, std, sum, var
from minigrad.ops.shape_ops import (
    broadcast_to,
    cat,
    concatenate,
    expand,
    flatten,
    getitem,
    pad,
    permute,
    reshape,
    squeeze,
    stack,
    transpose,
    unsqueeze,
)
from minigrad.serialization import load, save
from minigrad.tensor import Tensor, is_tensor
from minigrad.threads import get_num_threads, set_num_threads

clip = clamp
divide = div
multiply = mul

__version__ = "0.2.0"
