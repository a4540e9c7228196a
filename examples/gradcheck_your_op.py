"""How to write your own differentiable op and property-test its gradient.

    python examples/gradcheck_your_op.py

1. Subclass minigrad.Function: forward on raw arrays (numpy or cupy: get the
   module with get_array_module so the op runs on both), declare what backward
   reads with save_for_backward, and write backward with operators (and other
   Functions' ``forward_or_record``) so the same formula runs on arrays and,
   under create_graph=True, on Tensors. Run it with ``Swish.apply(x, beta=...)``.
2. Check it with minigrad.gradcheck (first order) and minigrad.gradgradcheck
   (second order) on float64 inputs.
3. Let hypothesis draw the shapes and values (minigrad.testing strategies).
"""

from hypothesis import given, settings

import minigrad as mg
from minigrad.autograd import sum_to
from minigrad.ops.activations import Sigmoid
from minigrad.testing import arrays, broadcastable_shapes


class Swish(mg.Function):
    """y = x * sigmoid(beta x) ;  dy/dx = s + beta x s (1 - s), with s = sigmoid(beta x)."""

    def __init__(self, beta=1.0):
        self.beta = beta

    def forward(self, x):
        self.save_for_backward(x)
        return x * Sigmoid().forward(self.beta * x)

    def backward(self, gy):
        (x,) = self.saved_values  # an array, or the input Tensor under create_graph
        beta = self.beta
        s = Sigmoid().forward_or_record(beta * x)  # on arrays: just sigmoid; on Tensors: recorded
        return gy * (s + beta * x * s * (1 - s))


class BadHypot(mg.Function):
    """y = sqrt(a^2 + b^2) with a deliberately wrong gradient for b (forgets to divide by y)."""

    def forward(self, a, b):
        y = mg.get_array_module(a).sqrt(a * a + b * b)
        self.save_for_backward(a, b, y)
        return y

    def backward(self, gy):
        a, b, y = self.saved_values
        return sum_to(gy * a / y, a.shape), sum_to(gy * b, b.shape)  # bug: should be gy * b / y


def swish(x, beta=1.0):
    return Swish.apply(x, beta=beta)


# 2. one gradcheck by hand
x = mg.randn(3, 4, dtype=mg.float64, requires_grad=True)
print("swish gradcheck:", mg.gradcheck(lambda x: swish(x, beta=1.5), [x]))
print("swish gradgradcheck:", mg.gradgradcheck(lambda x: swish(x, beta=1.5), [x]))

# gradcheck pinpoints the wrong input and elements of a buggy op
a = mg.rand(2, 3, dtype=mg.float64, requires_grad=True)
b = mg.rand(2, 3, dtype=mg.float64, requires_grad=True)
try:
    mg.gradcheck(lambda a, b: BadHypot()(a + 1, b + 1), [a, b])
except mg.GradcheckError as err:
    print("caught the bug:\n" + str(err))


# 3. a property-based test: any pair of broadcastable shapes, any values
@settings(max_examples=25, deadline=None)
@given(shapes=broadcastable_shapes(max_dims=3, max_side=3), data=arrays((3,)))
def test_swish_times_other(shapes, data):
    sa, sb = shapes
    a = mg.randn(*sa, dtype=mg.float64, requires_grad=True)
    b = mg.randn(*sb, dtype=mg.float64, requires_grad=True)
    assert mg.gradcheck(lambda a, b: swish(a) * b, [a, b])


test_swish_times_other()
print("property test passed for 25 drawn shape pairs")
