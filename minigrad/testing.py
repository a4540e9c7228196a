"""Hypothesis strategies for property-based gradient tests.

    from hypothesis import given
    from minigrad.testing import arrays, shapes
    import minigrad

    @given(arrays(shapes()))
    def test_tanh_grad(x):
        assert minigrad.gradcheck(minigrad.tanh, [minigrad.tensor(x, requires_grad=True)])

Needs ``hypothesis`` (the ``dev`` extra).
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from minigrad.creation import tensor as _tensor


def shapes(min_dims=0, max_dims=3, min_side=1, max_side=4):
    """Array shapes, e.g. (), (3,), (2, 1, 4)."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


@st.composite
def broadcastable_shapes(draw, min_dims=0, max_dims=3, min_side=1, max_side=4):
    """A pair of shapes that broadcast together (sizes of 1, missing leading axes)."""
    shape = draw(shapes(min_dims, max_dims, min_side, max_side))
    other = draw(
        hnp.broadcastable_shapes(shape, min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)
    )
    if draw(st.booleans()):
        shape, other = other, shape
    return shape, other


@st.composite
def arrays(draw, shape, low=-2.0, high=2.0, avoid=(), min_gap=1e-2, dtype=np.float64, distinct=False):
    """Float arrays in [low, high] kept ``min_gap`` away from each point in ``avoid``.

    Finite differences lie at kinks (relu at 0, |x| at 0) and at ties (max of
    equal values): pass ``avoid=(0,)`` or ``distinct=True`` to keep clear.
    ``shape`` may be a tuple or a strategy of shapes.
    """
    if not isinstance(shape, tuple):
        shape = draw(shape)
    elements = st.floats(low, high, allow_nan=False, allow_infinity=False, width=64)
    a = draw(hnp.arrays(np.float64, shape, elements=elements))
    if distinct and a.size > 1:
        # spread ties apart: rank order plus a gap keeps values distinct
        order = np.argsort(a, axis=None, kind="stable")
        bump = np.empty(a.size)
        bump[order] = np.arange(a.size) * min_gap * 2
        a = a + bump.reshape(a.shape)
        if a.max() > high:  # squeeze back into [low, high], keeping the order
            a = low + (a - a.min()) * ((high - low) / (a.max() - a.min()))
    for p in avoid:
        # push (p - 2 gap, p + 2 gap) out to at least ``min_gap`` from p; the map is
        # increasing, so distinct values stay distinct
        near = np.abs(a - p) < 2 * min_gap
        side = np.where(a >= p, 1.0, -1.0)
        a = np.where(near, p + side * (min_gap + np.abs(a - p) / 2), a)
    return a.astype(dtype)


def tensors(shape, requires_grad=True, **kwargs):
    """Strategy of float64 leaf tensors drawn by ``arrays``."""
    return arrays(shape, **kwargs).map(lambda a: _tensor(a, dtype=np.float64, requires_grad=requires_grad))


def positive_arrays(shape, low=0.1, high=3.0, dtype=np.float64):
    """Arrays bounded away from zero: for log, sqrt, division and pow."""
    return arrays(shape, low=low, high=high, dtype=dtype)
