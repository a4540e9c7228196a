"""minigrad.testing: the hypothesis strategies produce what they promise."""

import numpy as np
from hypothesis import find, given
from hypothesis import strategies as st

import minigrad as mg
from minigrad.testing import arrays, broadcastable_shapes, positive_arrays, shapes, tensors


@given(shape=shapes(min_dims=1, max_dims=3, min_side=2, max_side=4))
def test_shapes_respect_bounds(shape):
    assert isinstance(shape, tuple)
    assert 1 <= len(shape) <= 3
    assert all(2 <= n <= 4 for n in shape)


@given(pair=broadcastable_shapes(max_dims=3, max_side=4))
def test_broadcastable_shapes_broadcast(pair):
    a, b = pair
    out = np.broadcast_shapes(a, b)  # raises if they do not broadcast
    assert len(a) <= 3 and len(b) <= 3
    assert all(1 <= n <= 4 for n in a + b)
    assert len(out) == max(len(a), len(b))


def test_broadcastable_shapes_cover_real_broadcasting():
    # not only equal shapes: stretched size-1 axes, and missing leading axes on either side
    find(broadcastable_shapes(), lambda p: len(p[0]) == len(p[1]) and p[0] != p[1])
    find(broadcastable_shapes(), lambda p: len(p[0]) < len(p[1]))
    find(broadcastable_shapes(), lambda p: len(p[0]) > len(p[1]))


@given(shape=shapes(max_side=4), data=st.data())
def test_arrays_shape_dtype_and_range(shape, data):
    a = data.draw(arrays(shape, low=-1.5, high=0.5))
    assert a.shape == shape and a.dtype == np.float64
    assert np.all((a >= -1.5) & (a <= 0.5))
    b = data.draw(arrays(shapes(max_side=2), dtype=np.float32))  # a strategy of shapes works too
    assert b.dtype == np.float32


@given(a=arrays(shapes(max_side=4), avoid=(0.0,)))
def test_avoid_keeps_distance_from_a_point(a):
    assert np.all(np.abs(a) >= 1e-2)


@given(a=arrays(shapes(max_side=4), avoid=(-1.0, 0.5), min_gap=0.05))
def test_avoid_keeps_distance_from_several_points(a):
    assert np.all(np.abs(a + 1.0) >= 0.05) and np.all(np.abs(a - 0.5) >= 0.05)


@given(a=arrays(shapes(max_side=4), distinct=True))
def test_distinct_gives_distinct_values_in_range(a):
    assert np.unique(a).size == a.size
    if a.size > 1:
        assert np.min(np.diff(np.sort(a, axis=None))) > 1e-3  # far apart compared with gradcheck's eps
    assert np.all((a >= -2.0 - 1e-12) & (a <= 2.0 + 1e-12))


@given(a=arrays(shapes(max_side=4), distinct=True, avoid=(0.0,)))
def test_distinct_and_avoid_together(a):
    assert np.unique(a).size == a.size
    assert np.all(np.abs(a) >= 1e-2)


@given(a=positive_arrays(shapes(max_side=4)))
def test_positive_arrays_stay_away_from_zero(a):
    assert np.all(a >= 0.1) and np.all(a <= 3.0)


@given(t=tensors(shapes(max_side=3)))
def test_tensors_are_float64_leaves(t):
    assert isinstance(t, mg.Tensor)
    assert t.dtype == np.float64 and t.requires_grad and t.is_leaf
    assert np.all(np.abs(t.numpy()) <= 2.0)
