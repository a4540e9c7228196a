"""gradcheck itself: it passes on right gradients and catches wrong ones,
with a report that says where."""

import numpy as np
import pytest

import minigrad as mg


def leaf(values, device, dtype=mg.float64):
    return mg.tensor(values, dtype=dtype, device=device, requires_grad=True)


class WrongSquare(mg.Function):
    """y = x^2 with a wrong backward: dx = x gy (misses the factor 2)."""

    def forward(self, x):
        self.x = x
        return x * x

    def backward(self, gy):
        return self.x * gy


class WrongSecondInput(mg.Function):
    """y = a * b, right for a, wrong for b (db = 2 a gy instead of a gy)."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, gy):
        return self.b * gy, 2 * self.a * gy


class RightOnlyForOnes(mg.Function):
    """y = 2x; the backward ignores gy, so it is right only when gy is all ones."""

    def forward(self, x):
        return 2 * x

    def backward(self, gy):
        return 2 * get_xp(gy).ones_like(gy)


class NanBackward(mg.Function):
    def forward(self, x):
        return x * 3

    def backward(self, gy):
        return gy * np.nan


def get_xp(a):
    return mg.get_array_module(a)


class WrongAtOne(mg.Function):
    """y = x^2 with a backward 5% off at one element: the smallest error gradcheck must still catch."""

    def forward(self, x):
        self.x = x
        return x * x

    def backward(self, gy):
        g = 2 * self.x * gy
        g[1, 0] *= 1.05
        return g


def test_catches_a_small_error_at_a_single_element(device):
    x = leaf([[1.0, 2.0], [3.0, -1.0]], device)
    with pytest.raises(mg.GradcheckError, match="1 of 4 elements differ") as e:
        mg.gradcheck(lambda t: WrongAtOne()(t), [x])
    assert "index (1, 0)" in str(e.value)


def test_passes_on_correct_ops(device):
    a = leaf([[0.5, -1.0, 2.0], [1.5, 0.3, -0.7]], device)
    b = leaf([0.2, 0.4, 0.9], device)
    assert mg.gradcheck(lambda x, y: (x * y).exp() @ y.sigmoid(), [a, b]) is True
    assert mg.gradcheck(lambda x: x.softmax(dim=0), a) is True  # a single Tensor is fine too


def test_passes_with_tuple_outputs_and_non_tensor_arguments(device):
    a = leaf([0.5, -1.0, 2.0], device)
    assert mg.gradcheck(lambda x, k: (x * k, (x**2).sum()), [a, 3.0])


def test_checks_only_inputs_that_require_grad(device):
    a = leaf([0.5, -1.0], device)
    c = mg.tensor([1.0, 2.0], dtype=mg.float32, device=device)  # float32 but not checked
    assert mg.gradcheck(lambda x, y: x * y, [a, c])


def test_catches_wrong_backward_and_reports_where(device):
    x = leaf([[1.0, 2.0], [3.0, -1.0]], device)
    with pytest.raises(mg.GradcheckError) as e:
        mg.gradcheck(lambda t: WrongSquare()(t), [x])
    msg = str(e.value)
    for part in ("WrongSquare", "input 0", "index", "analytic", "numeric"):
        assert part in msg, (part, msg)


def test_names_the_wrong_input(device):
    a = leaf([1.0, 2.0], device)
    b = leaf([3.0, 4.0], device)
    with pytest.raises(mg.GradcheckError) as e:
        mg.gradcheck(lambda x, y: WrongSecondInput()(x, y), [a, b])
    msg = str(e.value)
    assert "input 1" in msg and "input 0" not in msg
    assert isinstance(e.value, AssertionError)  # so a plain assert-style failure in pytest


def test_raise_exception_false_returns_false(device):
    x = leaf([1.0, 2.0], device)
    assert mg.gradcheck(lambda t: WrongSquare()(t), [x], raise_exception=False) is False
    assert mg.gradcheck(lambda t: t * t, [x], raise_exception=False) is True


def test_random_cotangent_catches_backward_right_only_for_ones(device):
    x = leaf([1.0, 2.0, 3.0], device)
    # with the all-ones cotangent of .sum() this backward looks right ...
    RightOnlyForOnes()(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0, 2.0])
    # ... but gradcheck probes a non-scalar output with a random cotangent
    with pytest.raises(mg.GradcheckError, match="RightOnlyForOnes"):
        mg.gradcheck(lambda t: RightOnlyForOnes()(t), [x])


def test_nan_gradient_fails(device):
    x = leaf([1.0, 2.0], device)
    with pytest.raises(mg.GradcheckError, match="nan"):
        mg.gradcheck(lambda t: NanBackward()(t), [x])


def test_refuses_float32_and_says_why(device):
    x = mg.tensor([1.0, 2.0], dtype=mg.float32, device=device, requires_grad=True)
    with pytest.raises(TypeError, match="float64") as e:
        mg.gradcheck(lambda t: t * t, [x])
    assert "float32" in str(e.value) and "round-off" in str(e.value)


def test_needs_an_input_that_requires_grad(device):
    with pytest.raises(ValueError, match="requires grad"):
        mg.gradcheck(lambda t: t * 2, [mg.ones(2, dtype=mg.float64, device=device)])


def test_leaves_inputs_unchanged(device):
    values = np.array([[0.5, -1.0, 2.0], [1.5, 0.3, -0.7]])
    x = leaf(values, device)
    y = mg.tensor(values, dtype=mg.float64, device=device).T.detach().requires_grad_()  # not contiguous
    s = leaf(np.array(0.7), device)  # 0-d
    assert mg.gradcheck(lambda a, b, c: (a * b.T * c).tanh(), [x, y, s])
    np.testing.assert_array_equal(x.numpy(), values)
    np.testing.assert_array_equal(y.numpy(), values.T)
    assert s.shape == () and s.item() == 0.7


def test_leaves_grad_as_it_found_it(device):
    """As torch.autograd.gradcheck: the inputs' .grad and that of a closure's leaf are left alone."""
    W = leaf([[1.0, 2.0], [3.0, 4.0]], device)
    b = leaf([0.5, -0.5], device)
    W.grad = mg.tensor([[3.0, 3.0], [3.0, 3.0]], dtype=mg.float64, device=device)  # accumulated before the check
    assert b.grad is None
    x = mg.tensor([0.1, 0.2], dtype=mg.float64, device=device)
    assert mg.gradcheck(lambda W: (x @ W + b).tanh(), [W])
    assert mg.gradgradcheck(lambda W: (x @ W + b).tanh(), [W])
    np.testing.assert_array_equal(W.grad.numpy(), [[3.0, 3.0], [3.0, 3.0]])
    assert b.grad is None  # a leaf fn closes over: not an input, so not touched either
