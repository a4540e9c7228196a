"""Activations: forward against closed forms in NumPy, backward by finite
differences, and numerical stability in float32 for |x| up to 1e4."""

import numpy as np
import pytest
from helpers import leaf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad.testing import arrays, shapes

# `device` is a constant string, so sharing it across hypothesis examples is safe
fixture_ok = settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large]
)

small = shapes(max_side=3)


def check(op, ref, x, device):
    t = leaf(x, device)
    out = op(t)
    expected = np.asarray(ref(x))
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10, atol=1e-12)
    assert mg.gradcheck(op, [t])


# closed forms, fine in float64 for |x| <= 2
ELEMENTWISE = [
    ("relu", mg.relu, lambda t: t.relu(), lambda a: np.where(a > 0, a, 0.0)),
    ("leaky_relu", mg.leaky_relu, lambda t: t.leaky_relu(), lambda a: np.where(a > 0, a, 0.01 * a)),
    (
        "leaky_relu_0.2",
        lambda t: mg.leaky_relu(t, 0.2),
        lambda t: t.leaky_relu(negative_slope=0.2),
        lambda a: np.where(a > 0, a, 0.2 * a),
    ),
    ("sigmoid", mg.sigmoid, lambda t: t.sigmoid(), lambda a: 1 / (1 + np.exp(-a))),
    ("tanh", mg.tanh, lambda t: t.tanh(), lambda a: (np.exp(a) - np.exp(-a)) / (np.exp(a) + np.exp(-a))),
    ("softplus", mg.softplus, lambda t: t.softplus(), lambda a: np.log(1 + np.exp(a))),
    ("logsigmoid", mg.logsigmoid, mg.logsigmoid, lambda a: np.log(1 / (1 + np.exp(-a)))),
]


@pytest.mark.parametrize("name, fn, method, ref", ELEMENTWISE, ids=[e[0] for e in ELEMENTWISE])
@fixture_ok
@given(x=arrays(small, avoid=(0,)))  # relu/leaky_relu have a kink at 0
def test_elementwise_activation(device, name, fn, method, ref, x):
    check(fn, ref, x, device)
    check(method, ref, x, device)


def softmax_ref(a, axis):
    e = np.exp(a)
    return e / e.sum(axis=axis, keepdims=True)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@fixture_ok
@given(shape=shapes(min_dims=1, max_dims=3, max_side=3), data=st.data())
def test_softmax_log_softmax(device, name, shape, data):
    x = data.draw(arrays(shape))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    if name == "softmax":
        ref = softmax_ref(x, axis)
    else:
        ref = np.log(softmax_ref(x, axis))
    check(lambda t: getattr(mg, name)(t, axis), lambda a: ref, x, device)
    check(lambda t: getattr(t, name)(dim=axis), lambda a: ref, x, device)


def test_softmax_rows_sum_to_one_and_default_axis_is_last(device):
    x = mg.randn(3, 4, device=device)
    s = mg.softmax(x)
    np.testing.assert_allclose(s.numpy().sum(axis=-1), np.ones(3), rtol=1e-6)


def test_relu_grad_closed_form(device):
    x = leaf([-1.0, 2.0, -3.0, 4.0], device)
    mg.leaky_relu(x, 0.1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.1, 1.0, 0.1, 1.0])


# --- stability in float32 ----------------------------------------------------------------------

BIG = np.array([-1e4, -1e3, -100.0, -20.0, -1.0, 0.0, 1.0, 20.0, 100.0, 1e3, 1e4])


def _softplus64(a):  # log(1 + e^a), stable: logaddexp
    return np.logaddexp(0.0, a)


STABLE = [  # (name, fn, float64 reference, its derivative)
    ("sigmoid", mg.sigmoid, lambda a: np.exp(-_softplus64(-a)), lambda a: np.exp(-_softplus64(-a) - _softplus64(a))),
    ("softplus", mg.softplus, _softplus64, lambda a: np.exp(-_softplus64(-a))),
    ("logsigmoid", mg.logsigmoid, lambda a: -_softplus64(-a), lambda a: np.exp(-_softplus64(a))),
    ("tanh", mg.tanh, np.tanh, lambda a: 1 - np.tanh(a) ** 2),
]


@pytest.mark.parametrize("name, fn, ref, deriv", STABLE, ids=[s[0] for s in STABLE])
def test_elementwise_stable_in_float32(device, name, fn, ref, deriv):
    x = mg.tensor(BIG, dtype=mg.float32, device=device, requires_grad=True)
    y = fn(x)
    assert y.dtype == np.float32
    assert np.all(np.isfinite(y.numpy())), y
    np.testing.assert_allclose(y.numpy(), ref(BIG), rtol=1e-6, atol=1e-7)
    y.sum().backward()
    assert np.all(np.isfinite(x.grad.numpy()))
    np.testing.assert_allclose(x.grad.numpy(), deriv(BIG), rtol=1e-5, atol=1e-7)


def _log_softmax64(a, axis=-1):
    return a - np.logaddexp.reduce(a, axis=axis, keepdims=True)


@pytest.mark.parametrize("scale", [1.0, 100.0, 1e4])
def test_softmax_log_softmax_stable_in_float32(device, scale):
    rows = np.array([[1.0, 0.0, -1.0], [1.0, 1.0, -1.0], [-1.0, -1.0, -1.0], [0.5, -0.25, 1.0]]) * scale
    x = mg.tensor(rows, dtype=mg.float32, device=device, requires_grad=True)
    ls = mg.log_softmax(x, dim=1)
    s = mg.softmax(x, dim=1)
    assert s.dtype == ls.dtype == np.float32
    assert np.all(np.isfinite(ls.numpy())) and np.all(np.isfinite(s.numpy()))
    np.testing.assert_allclose(ls.numpy(), _log_softmax64(rows), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(s.numpy(), np.exp(_log_softmax64(rows)), rtol=1e-6, atol=1e-7)
    # gradients stay finite too: d sum(w * log_softmax) / dx = w - softmax * sum(w)
    w = np.array([1.0, 2.0, -1.0], dtype=np.float32)
    (ls * mg.tensor(w, device=device)).sum().backward()
    g = x.grad.numpy()
    assert np.all(np.isfinite(g))
    np.testing.assert_allclose(g, w - np.exp(_log_softmax64(rows)) * w.sum(), rtol=1e-5, atol=1e-6)
