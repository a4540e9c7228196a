"""Reductions (sum, mean, max, min, var, std): forward against NumPy over every axis
spelling (None, int, tuple, negative, keepdims/keepdim, axis/dim), backward by
finite differences."""

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


@st.composite
def reduction_args(draw, min_dims=1):
    """(shape, axis, keepdims) with axis None, an int or a tuple, possibly negative."""
    shape = draw(shapes(min_dims=min_dims, max_dims=3, max_side=3))
    nd = len(shape)
    kind = draw(st.sampled_from(["none", "int", "tuple"]))
    if kind == "none":
        axis = None
    elif kind == "int":
        axis = draw(st.integers(-nd, nd - 1))
    else:
        picked = draw(st.lists(st.integers(0, nd - 1), min_size=1, max_size=nd, unique=True))
        axis = tuple(a - nd if draw(st.booleans()) else a for a in picked)  # mix negative axes in
    return shape, axis, draw(st.booleans())


def call(name, x, axis, keepdims, spelling, **kw):
    """Call a reduction by method or function, with the NumPy or the PyTorch keywords."""
    if spelling == "method-numpy":
        return getattr(x, name)(axis=axis, keepdims=keepdims, **kw)
    if spelling == "method-torch":
        return getattr(x, name)(dim=axis, keepdim=keepdims, **kw)
    if spelling == "function-numpy":
        return getattr(mg, name)(x, axis=axis, keepdims=keepdims, **kw)
    return getattr(mg, name)(x, dim=axis, keepdim=keepdims, **kw)


SPELLINGS = st.sampled_from(["method-numpy", "method-torch", "function-numpy", "function-torch"])


def n_reduced(shape, axis):
    if axis is None:
        return int(np.prod(shape))
    axes = (axis,) if isinstance(axis, int) else axis
    return int(np.prod([shape[a] for a in axes]))


def values(out):
    """max/min along one int dim return (values, indices), as in PyTorch: the values."""
    return out.values if isinstance(out, tuple) else out


def check(name, x_np, axis, keepdims, spelling, device, ref, **kw):
    x = leaf(x_np, device)
    out = values(call(name, x, axis, keepdims, spelling, **kw))
    expected = np.asarray(ref(x_np))
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10, atol=1e-12)
    assert mg.gradcheck(lambda t: values(call(name, t, axis, keepdims, spelling, **kw)), [x])


@pytest.mark.parametrize("name, ref", [("sum", np.sum), ("mean", np.mean)])
@fixture_ok
@given(args=reduction_args(), spelling=SPELLINGS, data=st.data())
def test_sum_mean(device, name, ref, args, spelling, data):
    shape, axis, keep = args
    x = data.draw(arrays(shape))
    check(name, x, axis, keep, spelling, device, lambda a: ref(a, axis=axis, keepdims=keep))


@pytest.mark.parametrize(
    "name, ref, argref",
    [("max", np.max, np.argmax), ("min", np.min, np.argmin), ("amax", np.max, None), ("amin", np.min, None)],
)
@fixture_ok
@given(args=reduction_args(), spelling=SPELLINGS, data=st.data())
def test_max_min(device, name, ref, argref, args, spelling, data):
    shape, axis, keep = args
    x = data.draw(arrays(shape, distinct=True))  # ties make max non-differentiable
    check(name, x, axis, keep, spelling, device, lambda a: ref(a, axis=axis, keepdims=keep))
    out = call(name, leaf(x, device), axis, keep, spelling)
    if argref is not None and isinstance(axis, int):  # PyTorch's max(x, dim): (values, indices)
        assert out.indices.dtype == np.int64 and not out.indices.requires_grad
        np.testing.assert_array_equal(out.indices.numpy(), argref(x, axis=axis, keepdims=keep))
    else:
        assert isinstance(out, mg.Tensor)


def test_max_min_with_a_tensor_are_elementwise(device):
    a, b = leaf([1.0, 5.0, -2.0], device), leaf([3.0, 4.0, -1.0], device)
    np.testing.assert_array_equal(mg.max(a, b).numpy(), [3.0, 5.0, -1.0])
    np.testing.assert_array_equal(a.min(b).numpy(), [1.0, 4.0, -2.0])


@pytest.mark.parametrize("name, ref", [("var", np.var), ("std", np.std)])
@pytest.mark.parametrize("unbiased", [True, False])
@fixture_ok
@given(args=reduction_args(), spelling=SPELLINGS, data=st.data())
def test_var_std(device, name, ref, unbiased, args, spelling, data):
    shape, axis, keep = args
    if unbiased and n_reduced(shape, axis) < 2:
        return  # n - 1 = 0: undefined
    x = data.draw(arrays(shape, distinct=True))  # std has an infinite slope at zero spread
    ddof = 1 if unbiased else 0
    check(
        name, x, axis, keep, spelling, device, lambda a: ref(a, axis=axis, keepdims=keep, ddof=ddof), unbiased=unbiased
    )


@pytest.mark.parametrize("name, ref", [("sum", np.sum), ("mean", np.mean), ("max", np.max), ("min", np.min)])
def test_reduce_0d_tensor(device, name, ref):
    for axis in (None, 0, -1):  # dim 0 / -1 of a 0-d tensor is allowed, as in PyTorch
        x = leaf(np.array(1.5), device)
        y = values(getattr(x, name)(axis))
        assert y.shape == ()
        assert y.item() == ref(np.array(1.5))
        y.backward()
        assert x.grad.item() == 1.0


def test_sum_mean_closed_form_grads(device):
    x = leaf(np.arange(6.0).reshape(2, 3), device)
    x.sum(axis=1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((2, 3)))
    x.grad = None
    x.mean(dim=0, keepdim=True).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full((2, 3), 0.5))


def test_max_splits_gradient_among_ties(device):
    x = leaf([1.0, 3.0, 3.0, 2.0], device)
    x.max().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.5, 0.5, 0.0])


def test_var_closed_form(device):
    # var of [1, 2, 3, 4]: mean 2.5, squared deviations sum to 5
    x = leaf([1.0, 2.0, 3.0, 4.0], device)
    assert np.isclose(x.var().item(), 5 / 3)
    assert np.isclose(x.var(unbiased=False).item(), 5 / 4)
    x.var().backward()  # d/dx_i = 2 (x_i - m) / (n - 1)
    np.testing.assert_allclose(x.grad.numpy(), 2 * (np.array([1, 2, 3, 4]) - 2.5) / 3)


def test_float32_reductions_stay_float32(device):
    x = mg.randn(3, 4, device=device, requires_grad=True)
    for name in ("sum", "mean", "max", "min", "var", "std"):
        y = values(getattr(x, name)(dim=1))
        assert y.dtype == np.float32, name
        y.sum().backward()
        assert x.grad.dtype == np.float32


def test_axis_out_of_range_is_clear(device):
    with pytest.raises(ValueError, match="axis 2"):
        mg.ones(2, 3, device=device).sum(axis=2)


def test_var_over_one_element_gives_nan_gradients_as_pytorch():
    x = mg.randn(3, 1, dtype=mg.float64, requires_grad=True)
    with np.errstate(all="ignore"):
        x.var(1).sum().backward()
    assert np.isnan(x.grad.numpy()).all()
