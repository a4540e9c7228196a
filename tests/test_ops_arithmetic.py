"""Arithmetic ops (+ - * / neg pow @): forward against NumPy, backward by finite differences.

Inputs are float64 hypothesis arrays with small shapes (sides <= 3) so that
gradcheck's two forward passes per element stay cheap.
"""

import operator

import numpy as np
import pytest
from helpers import check, leaf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad.testing import arrays, broadcastable_shapes, positive_arrays, shapes

# `device` is a constant string, so sharing it across hypothesis examples is safe
fixture_ok = settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large]
)


# --- elementwise binary ops, with broadcasting -------------------------------------------------

BINARY = [
    (operator.add, np.add, arrays),
    (operator.sub, np.subtract, arrays),
    (operator.mul, np.multiply, arrays),
    (operator.truediv, np.divide, positive_arrays),  # denominator away from 0
    (mg.add, np.add, arrays),
    (mg.sub, np.subtract, arrays),
    (mg.mul, np.multiply, arrays),
    (mg.div, np.divide, positive_arrays),
]


@pytest.mark.parametrize("op, ref, second", BINARY, ids=lambda v: getattr(v, "__name__", ""))
@fixture_ok
@given(pair=broadcastable_shapes(max_side=3), data=st.data())
def test_binary_op_broadcasting(device, op, ref, second, pair, data):
    a = data.draw(arrays(pair[0]), label="a")
    b = data.draw(second(pair[1]), label="b")
    check(op, ref, [a, b], device)


@fixture_ok
@given(x=arrays(shapes(max_side=3)))
def test_neg(device, x):
    check(operator.neg, np.negative, [x], device)
    check(mg.neg, np.negative, [x], device)


@pytest.mark.parametrize("c", [2, 3, -1, 0.5, -1.5, 1.7])
@fixture_ok
@given(data=st.data(), shape=shapes(max_side=3))
def test_pow_scalar_exponent(device, c, data, shape):
    # integer powers are defined everywhere, fractional ones only for x > 0
    x = data.draw(arrays(shape, avoid=(0,)) if c in (2, 3) else positive_arrays(shape))
    check(lambda t: t**c, lambda a: a**c, [x], device)


@fixture_ok
@given(pair=broadcastable_shapes(max_side=3), data=st.data())
def test_pow_tensor_exponent(device, pair, data):
    base = data.draw(positive_arrays(pair[0], low=0.2, high=2.5), label="base")
    expo = data.draw(arrays(pair[1]), label="exponent")
    check(operator.pow, np.power, [base, expo], device)
    check(mg.pow, np.power, [base, expo], device)


# --- matmul ----------------------------------------------------------------------------------


@st.composite
def matmul_shapes(draw):
    """Operand shapes for 1-D, 2-D and batched products (batch dims broadcast)."""
    n, k, m = (draw(st.integers(1, 3)) for _ in range(3))
    kind = draw(st.sampled_from(["vv", "vm", "mv", "mm", "batched", "v-batched", "batched-v"]))
    ba, bb = draw(broadcastable_shapes(min_dims=1, max_dims=2, max_side=3))
    return {
        "vv": ((k,), (k,)),
        "vm": ((k,), (k, m)),
        "mv": ((n, k), (k,)),
        "mm": ((n, k), (k, m)),
        "batched": (ba + (n, k), bb + (k, m)),
        "v-batched": ((k,), bb + (k, m)),
        "batched-v": (ba + (n, k), (k,)),
    }[kind]


@fixture_ok
@given(pair=matmul_shapes(), data=st.data())
def test_matmul(device, pair, data):
    a = data.draw(arrays(pair[0]), label="a")
    b = data.draw(arrays(pair[1]), label="b")
    check(operator.matmul, np.matmul, [a, b], device)
    check(mg.matmul, np.matmul, [a, b], device)


def test_matmul_closed_form_grads(device):
    # d sum(A @ B) / dA = 1 B^T (row sums of B), d/dB = A^T 1 (column sums of A)
    a = np.arange(6.0).reshape(2, 3)
    b = np.arange(12.0).reshape(3, 4) - 5
    A, B = leaf(a, device), leaf(b, device)
    (A @ B).sum().backward()
    np.testing.assert_allclose(A.grad.numpy(), np.ones((2, 4)) @ b.T)
    np.testing.assert_allclose(B.grad.numpy(), a.T @ np.ones((2, 4)))


def test_matmul_float32_stays_float32(device):
    a = mg.randn(2, 3, device=device)
    b = mg.randn(3, 4, device=device)
    assert (a @ b).dtype == np.float32


def test_matmul_shape_mismatch_names_matmul_and_shapes(device):
    a = mg.ones(2, 3, device=device)
    b = mg.ones(4, 2, device=device)
    with pytest.raises(ValueError, match="(?i)matmul") as e:
        a @ b
    assert "(2, 3)" in str(e.value) and "(4, 2)" in str(e.value)


# --- reflected operators and dtypes ----------------------------------------------------------

A = np.array([0.5, 1.0, 2.0])
REFLECTED = [  # (expression, value, closed-form derivative), all with x = A
    ("2 - x", lambda x: 2 - x, 2 - A, -np.ones(3)),
    ("2.5 + x", lambda x: 2.5 + x, 2.5 + A, np.ones(3)),
    ("3 * x", lambda x: 3 * x, 3 * A, 3 * np.ones(3)),
    ("1 / x", lambda x: 1 / x, 1 / A, -1 / A**2),
    ("2 ** x", lambda x: 2**x, 2**A, 2**A * np.log(2)),
    ("x ** 2", lambda x: x**2, A**2, 2 * A),
    ("x - 1", lambda x: x - 1, A - 1, np.ones(3)),
    ("x / 4", lambda x: x / 4, A / 4, np.ones(3) / 4),
    ("np + x", lambda x: np.array([1.0, 2.0, 3.0]) + x, A + [1, 2, 3], np.ones(3)),
    ("np - x", lambda x: np.array([1.0, 2.0, 3.0]) - x, [1, 2, 3] - A, -np.ones(3)),
    ("np * x", lambda x: np.array([1.0, 2.0, 3.0]) * x, A * [1, 2, 3], np.array([1.0, 2.0, 3.0])),
    ("np / x", lambda x: np.array([1.0, 2.0, 3.0]) / x, [1, 2, 3] / A, -np.array([1.0, 2.0, 3.0]) / A**2),
]


@pytest.mark.parametrize("name, f, value, deriv", REFLECTED, ids=[r[0] for r in REFLECTED])
def test_reflected_operators(device, name, f, value, deriv):
    x = leaf(A, device)
    y = f(x)
    assert isinstance(y, mg.Tensor), f"{name} did not produce a Tensor"
    np.testing.assert_allclose(y.numpy(), value, rtol=1e-12)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), deriv, rtol=1e-12)
    assert mg.gradcheck(f, [leaf(A, device)])


def test_numpy_array_matmul_tensor(device):
    a = np.arange(6.0).reshape(2, 3)
    x = leaf(np.ones((3, 2)), device)
    y = a @ x
    assert isinstance(y, mg.Tensor)
    np.testing.assert_allclose(y.numpy(), a @ np.ones((3, 2)))


SCALAR_EXPRS = [
    lambda x: x + 2,
    lambda x: 2 + x,
    lambda x: x - 1.5,
    lambda x: 1.5 - x,
    lambda x: x * 3,
    lambda x: 0.1 * x,
    lambda x: x / 7,
    lambda x: 7 / x,
    lambda x: x**2,
    lambda x: x**0.5,
    lambda x: 2**x,
    lambda x: 2.0**x,
    lambda x: -x,
    lambda x: mg.maximum(x, 0.5),
    lambda x: mg.where(x > 1, x, 0.0),
]


@pytest.mark.parametrize("f", SCALAR_EXPRS)
def test_float32_stays_float32_with_python_scalars(device, f):
    x = mg.tensor([0.5, 1.0, 2.0], device=device, requires_grad=True)
    assert x.dtype == np.float32
    y = f(x)
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32


@pytest.mark.parametrize("op", [operator.add, operator.sub, operator.mul, operator.truediv])
def test_float32_and_float64_promote_like_numpy(device, op):
    a = mg.tensor([1.0, 2.0], dtype=mg.float32, device=device, requires_grad=True)
    b = mg.tensor([3.0, 4.0], dtype=mg.float64, device=device, requires_grad=True)
    y = op(a, b)
    assert y.dtype == np.result_type(np.float32, np.float64) == np.float64
    y.sum().backward()
    assert a.grad.dtype == np.float32  # each grad has its input's dtype
    assert b.grad.dtype == np.float64
    expected = op(np.array([1.0, 2.0], np.float32), np.array([3.0, 4.0]))
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-7)


def test_mixed_float_widths_widen_and_grads_keep_each_input_dtype(device):
    a = mg.randn(2, 3, device=device, requires_grad=True)
    b = mg.randn(2, 3, dtype=mg.float64, device=device, requires_grad=True)
    y = a * b
    assert y.dtype == np.float64
    y.sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    np.testing.assert_allclose(a.grad.numpy(), b.numpy(), rtol=1e-6)


def test_matmul_of_different_dtypes_raises_like_pytorch(device):
    a = mg.randn(2, 3, device=device)
    with pytest.raises(ValueError, match=r"matmul: dtypes differ \(float32 and float64"):
        a @ mg.randn(3, 2, dtype=mg.float64, device=device)


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "pow", "maximum", "minimum"])
def test_float_tensor_with_integer_tensor_keeps_the_float_dtype(device, op):
    """PyTorch's promotion: float32 with int64 (or bool) is float32; NumPy's would be float64."""
    x = mg.tensor([1.5, 2.0, 3.0], device=device, requires_grad=True)
    k = mg.tensor([1, 2, 3], device=device)
    fn = getattr(mg, op)
    np_op = {
        "add": np.add,
        "sub": np.subtract,
        "mul": np.multiply,
        "div": np.true_divide,
        "pow": np.power,
        "maximum": np.maximum,
        "minimum": np.minimum,
    }[op]
    y = fn(x, k)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.numpy(), np_op(x.numpy(), k.numpy()), rtol=1e-6)
    assert fn(k, x).dtype == np.float32
    fn(x, k).sum().backward()
    assert x.grad.dtype == np.float32


def test_numpy_float64_array_promotes_float32_tensor(device):
    x = mg.tensor([1.0, 2.0], device=device, requires_grad=True)
    y = np.array([0.5, 0.25]) + x  # NumPy: float64 array + float32 array -> float64
    assert y.dtype == np.float64
    y.sum().backward()
    assert x.grad.dtype == np.float32


# --- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "op, name",
    [
        (operator.add, "Add"),
        (operator.sub, "Sub"),
        (operator.mul, "Mul"),
        (operator.truediv, "Div"),
        (operator.pow, "Pow"),
        (mg.maximum, "Maximum"),
    ],
)
def test_broadcast_mismatch_names_op_and_shapes(device, op, name):
    a = mg.ones(2, 3, device=device)
    b = mg.ones(4, device=device)
    with pytest.raises(ValueError, match=name) as e:
        op(a, b)
    assert "(2, 3)" in str(e.value) and "(4,)" in str(e.value)


@pytest.mark.skipif(not mg.cuda.is_available(), reason="needs a GPU")
def test_mixing_devices_names_both_devices():
    a = mg.ones(2, device="cpu")
    b = mg.ones(2, device="cuda")
    for op in (operator.add, operator.mul, operator.matmul):
        with pytest.raises(RuntimeError) as e:
            op(a, b)
        assert "cpu" in str(e.value) and "cuda" in str(e.value)
