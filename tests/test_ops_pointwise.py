"""Elementwise math (exp, log, sqrt, abs, maximum, minimum, where, clamp):
forward against NumPy, backward by finite differences (float64, small shapes)."""

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

small = shapes(max_side=3)


UNARY = [
    ("exp", mg.exp, lambda t: t.exp(), np.exp, arrays),
    ("log", mg.log, lambda t: t.log(), np.log, positive_arrays),
    ("sqrt", mg.sqrt, lambda t: t.sqrt(), np.sqrt, positive_arrays),
    ("abs", mg.abs, lambda t: abs(t), np.abs, lambda s: arrays(s, avoid=(0,))),  # kink at 0
]


@pytest.mark.parametrize("name, fn, method, ref, draw", UNARY, ids=[u[0] for u in UNARY])
@fixture_ok
@given(shape=small, data=st.data())
def test_unary(device, name, fn, method, ref, draw, shape, data):
    x = data.draw(draw(shape))
    check(fn, ref, [x], device)
    check(method, ref, [x], device)


def test_abs_grad_is_sign(device):
    x = leaf([-2.0, 0.0, 3.0], device)
    mg.abs(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [-1.0, 0.0, 1.0])  # 0 at the kink, as in PyTorch


@st.composite
def distinct_pair(draw):
    """Two broadcastable arrays whose values are all distinct (no ties between a and b)."""
    sa, sb = draw(broadcastable_shapes(max_side=3))
    na, nb = int(np.prod(sa)), int(np.prod(sb))
    v = draw(arrays((na + nb,), distinct=True))
    return v[:na].reshape(sa), v[na:].reshape(sb)


@pytest.mark.parametrize(
    "fn, ref",
    [
        (mg.maximum, np.maximum),
        (mg.minimum, np.minimum),
        (lambda a, b: a.maximum(b), np.maximum),
        (lambda a, b: a.minimum(b), np.minimum),
    ],
)
@fixture_ok
@given(pair=distinct_pair())
def test_maximum_minimum(device, fn, ref, pair):
    check(fn, ref, list(pair), device)


@pytest.mark.parametrize("fn", [mg.maximum, mg.minimum])
def test_maximum_minimum_ties_split_gradient(device, fn):
    a = leaf([1.0, 2.0, 3.0], device)
    b = leaf([1.0, 0.0, 5.0], device)
    fn(a, b).sum().backward()
    win_a = [0.5, 1.0, 0.0] if fn is mg.maximum else [0.5, 0.0, 1.0]
    np.testing.assert_allclose(a.grad.numpy(), win_a)
    np.testing.assert_allclose(b.grad.numpy(), 1 - np.array(win_a))


@fixture_ok
@given(pair=broadcastable_shapes(max_side=3), data=st.data())
def test_where(device, pair, data):
    a = data.draw(arrays(pair[0]), label="a")
    b = data.draw(arrays(pair[1]), label="b")
    out_shape = np.broadcast_shapes(pair[0], pair[1])
    cond = data.draw(
        st.lists(st.booleans(), min_size=int(np.prod(out_shape)), max_size=int(np.prod(out_shape))), label="cond"
    )
    cond = np.array(cond, dtype=bool).reshape(out_shape)
    check(
        lambda x, y: mg.where(mg.tensor(cond, device=device), x, y), lambda x, y: np.where(cond, x, y), [a, b], device
    )


def test_where_with_scalar_and_closed_form_grad(device):
    x = leaf([-1.0, 2.0, -3.0], device)
    y = mg.where(x > 0, x, 0.0)
    np.testing.assert_array_equal(y.numpy(), [0.0, 2.0, 0.0])
    (y * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 3.0, 0.0])


@pytest.mark.parametrize("lo, hi", [(-0.5, 0.5), (-0.5, None), (None, 0.7), (1.0, 1.5)])
@fixture_ok
@given(shape=small, data=st.data())
def test_clamp(device, lo, hi, shape, data):
    kinks = tuple(v for v in (lo, hi) if v is not None)
    x = data.draw(arrays(shape, avoid=kinks))
    check(lambda t: mg.clamp(t, lo, hi), lambda a: np.clip(a, lo, hi), [x], device)
    check(lambda t: t.clamp(min=lo, max=hi), lambda a: np.clip(a, lo, hi), [x], device)


def test_clamp_needs_a_bound(device):
    with pytest.raises(ValueError, match="clamp"):
        mg.clamp(mg.ones(2, device=device))
