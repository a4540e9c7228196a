"""Shape ops (reshape/view, transpose/permute/T, flatten, squeeze/unsqueeze,
expand/broadcast_to, getitem, cat, stack, pad): forward against NumPy, backward
by finite differences."""

import numpy as np
import pytest
from helpers import leaf, second_order
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from minigrad.testing import arrays, broadcastable_shapes, shapes

# `device` is a constant string, so sharing it across hypothesis examples is safe
fixture_ok = settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large]
)

small = shapes(max_side=3)


def check(op, ref, inputs, device):
    """op's forward equals the NumPy reference exactly; its backward passes gradcheck."""
    xs = [leaf(a, device) for a in inputs]
    out = op(*xs)
    expected = np.asarray(ref(*inputs))
    assert out.shape == expected.shape
    np.testing.assert_array_equal(out.numpy(), expected)
    assert mg.gradcheck(op, xs)


# --- reshape, transpose, flatten, squeeze ------------------------------------------------------


@fixture_ok
@given(shape=small, data=st.data())
def test_reshape_and_view(device, shape, data):
    x = data.draw(arrays(shape))
    n = x.size
    target = data.draw(st.sampled_from([(n,), (-1,), (1, n), (n, 1), (-1, 1), shape[::-1], (1,) + shape]))
    check(lambda t: t.reshape(target), lambda a: a.reshape(target), [x], device)
    check(lambda t: t.view(*target), lambda a: a.reshape(target), [x], device)
    check(lambda t: mg.reshape(t, target), lambda a: a.reshape(target), [x], device)


def test_reshape_incompatible_shape_is_clear(device):
    with pytest.raises(ValueError, match="reshape") as e:
        mg.ones(2, 3, device=device).reshape(4, 2)
    assert "(2, 3)" in str(e.value) and "(4, 2)" in str(e.value)


@fixture_ok
@given(shape=shapes(min_dims=1, max_dims=3, max_side=3), data=st.data())
def test_transpose_permute_T(device, shape, data):
    x = data.draw(arrays(shape))
    nd = len(shape)
    d0, d1 = data.draw(st.integers(-nd, nd - 1)), data.draw(st.integers(-nd, nd - 1))
    perm = data.draw(st.permutations(range(nd)))
    check(lambda t: t.transpose(d0, d1), lambda a: np.swapaxes(a, d0, d1), [x], device)
    check(lambda t: mg.permute(t, *perm), lambda a: np.transpose(a, perm), [x], device)
    check(lambda t: t.permute(perm), lambda a: np.transpose(a, perm), [x], device)
    check(lambda t: t.T, lambda a: a.T, [x], device)
    # and twice differentiable (create_graph gradients equal the first-order ones; gradgradcheck)
    second_order(lambda t: t.transpose(d0, d1) ** 2, [leaf(x, device)])
    second_order(lambda t: t.permute(*perm) * t.permute(*perm).exp(), [leaf(x, device)])
    if nd == 2:
        second_order(lambda t: t.T @ t, [leaf(x, device)])


@fixture_ok
@given(shape=shapes(min_dims=1, max_dims=3, max_side=3), data=st.data())
def test_flatten(device, shape, data):
    x = data.draw(arrays(shape))
    nd = len(shape)
    s = data.draw(st.integers(0, nd - 1))
    e = data.draw(st.integers(s, nd - 1))
    expected = shape[:s] + (int(np.prod(shape[s : e + 1])),) + shape[e + 1 :]
    check(lambda t: t.flatten(s, e), lambda a: a.reshape(expected), [x], device)
    check(lambda t: mg.flatten(t, s - nd, e - nd), lambda a: a.reshape(expected), [x], device)
    check(lambda t: t.flatten(), lambda a: a.ravel(), [x], device)


@fixture_ok
@given(shape=shapes(min_dims=1, max_dims=3, min_side=1, max_side=2), data=st.data())
def test_squeeze_unsqueeze(device, shape, data):
    x = data.draw(arrays(shape))
    nd = len(shape)
    d = data.draw(st.integers(-nd, nd - 1))
    squeezed = (lambda a: np.squeeze(a, d)) if shape[d] == 1 else (lambda a: a)  # non-1 dims stay
    check(lambda t: t.squeeze(), np.squeeze, [x], device)
    check(lambda t: t.squeeze(d), squeezed, [x], device)
    check(lambda t: mg.squeeze(t, d), squeezed, [x], device)
    u = data.draw(st.integers(-nd - 1, nd))
    check(lambda t: t.unsqueeze(u), lambda a: np.expand_dims(a, u), [x], device)
    check(lambda t: mg.unsqueeze(t, u), lambda a: np.expand_dims(a, u), [x], device)


# --- expand ------------------------------------------------------------------------------------


@fixture_ok
@given(pair=broadcastable_shapes(max_side=3), data=st.data())
def test_expand_broadcast_to(device, pair, data):
    x = data.draw(arrays(pair[0]))
    target = np.broadcast_shapes(*pair)
    check(lambda t: t.expand(*target), lambda a: np.broadcast_to(a, target), [x], device)
    check(lambda t: t.broadcast_to(target), lambda a: np.broadcast_to(a, target), [x], device)
    check(lambda t: mg.expand(t, target), lambda a: np.broadcast_to(a, target), [x], device)
    # -1 keeps a dimension as it is
    lead = len(target) - len(pair[0])
    keep = tuple(-1 if i >= lead and pair[0][i - lead] == n else n for i, n in enumerate(target))
    check(lambda t: t.expand(keep), lambda a: np.broadcast_to(a, target), [x], device)


def test_expand_closed_form_grad(device):
    x = leaf([[1.0], [2.0]], device)
    x.expand(2, 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[3.0], [3.0]])


def test_expand_incompatible_is_clear(device):
    with pytest.raises(ValueError, match="expand"):
        mg.ones(2, 3, device=device).expand(4, 3)


# --- getitem -----------------------------------------------------------------------------------


@fixture_ok
@given(shape=shapes(min_dims=1, max_dims=3, max_side=3), data=st.data())
def test_getitem_basic(device, shape, data):
    x = data.draw(arrays(shape))
    key = data.draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True), label="key")
    check(lambda t: t[key], lambda a: a[key], [x], device)


@fixture_ok
@given(shape=shapes(min_dims=1, max_dims=3, max_side=3), data=st.data())
def test_getitem_integer_arrays(device, shape, data):
    # integer arrays may repeat an index: its gradient must accumulate
    x = data.draw(arrays(shape))
    key = data.draw(
        hnp.integer_array_indices(shape, result_shape=hnp.array_shapes(max_dims=2, max_side=4)), label="key"
    )
    check(lambda t: t[key], lambda a: a[key], [x], device)


def test_getitem_repeated_indices_accumulate(device):
    x = leaf([10.0, 20.0, 30.0, 40.0], device)
    y = x[[0, 0, 2]]
    np.testing.assert_array_equal(y.numpy(), [10.0, 10.0, 30.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 0.0, 1.0, 0.0])


def test_getitem_mixed_array_and_slice(device):
    a = np.arange(12.0).reshape(3, 4)
    x = leaf(a, device)
    y = x[[0, 0, 2], 1:3]
    np.testing.assert_array_equal(y.numpy(), a[[0, 0, 2], 1:3])
    y.sum().backward()
    expected = np.zeros((3, 4))
    expected[0, 1:3] = 2
    expected[2, 1:3] = 1
    np.testing.assert_array_equal(x.grad.numpy(), expected)
    assert mg.gradcheck(lambda t: t[[0, 0, 2], 1:3] * t[[1], :2].sum(), [leaf(a, device)])


def test_getitem_with_tensor_index(device):
    x = leaf([1.0, 2.0, 3.0], device)
    idx = mg.tensor([2, 2], device=device)
    x[idx].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 2.0])


# --- cat, stack, pad ---------------------------------------------------------------------------


@fixture_ok
@given(shape=shapes(min_dims=1, max_dims=3, max_side=3), n=st.integers(1, 3), data=st.data())
def test_cat(device, shape, n, data):
    nd = len(shape)
    dim = data.draw(st.integers(-nd, nd - 1), label="dim")
    sizes = data.draw(st.lists(st.integers(1, 3), min_size=n, max_size=n), label="sizes")
    parts = [data.draw(arrays(shape[: dim % nd] + (k,) + shape[dim % nd + 1 :])) for k in sizes]
    check(lambda *ts: mg.cat(ts, dim), lambda *a: np.concatenate(a, axis=dim), parts, device)
    check(lambda *ts: mg.cat(list(ts), axis=dim), lambda *a: np.concatenate(a, axis=dim), parts, device)


def test_cat_mismatch_names_cat(device):
    with pytest.raises(ValueError, match="cat") as e:
        mg.cat([mg.ones(2, 3, device=device), mg.ones(3, 4, device=device)], dim=0)
    assert "(2, 3)" in str(e.value) and "(3, 4)" in str(e.value)


@pytest.mark.parametrize(
    "op,call",
    [
        ("cat", lambda x: mg.cat([x, x], dim=2)),
        ("unsqueeze", lambda x: x.unsqueeze(3)),
        ("unsqueeze", lambda x: x.unsqueeze(-4)),
        ("transpose", lambda x: x.transpose(0, 2)),
        ("permute", lambda x: x.permute(0, 5)),
        ("squeeze", lambda x: x.squeeze(2)),
        ("flatten", lambda x: x.flatten(2)),
    ],
)
def test_out_of_range_dim_raises_naming_the_op(op, call):
    """PyTorch's rule: dim must lie in [-ndim, ndim) (ndim + 1 for unsqueeze); nothing wraps around."""
    with pytest.raises(IndexError, match=rf"{op}: dimension out of range .*\[-\d, \d\]"):
        call(mg.zeros(2, 3))


def test_in_range_negative_dims_match_numpy():
    x = mg.zeros(2, 3, 4)
    assert x.unsqueeze(-1).shape == (2, 3, 4, 1) and x.unsqueeze(-4).shape == (1, 2, 3, 4)
    assert x.permute(-1, 0, 1).shape == (4, 2, 3) and x.transpose(-1, -3).shape == (4, 3, 2)
    assert mg.cat([x, x], dim=-3).shape == (4, 3, 4) and x.flatten(-2).shape == (2, 12)
    with pytest.raises(ValueError, match="flatten: start_dim"):
        x.flatten(2, 1)


@fixture_ok
@given(shape=shapes(min_dims=0, max_dims=2, max_side=3), n=st.integers(1, 3), data=st.data())
def test_stack(device, shape, n, data):
    nd = len(shape)
    dim = data.draw(st.integers(-nd - 1, nd), label="dim")
    parts = [data.draw(arrays(shape)) for _ in range(n)]
    check(lambda *ts: mg.stack(ts, dim), lambda *a: np.stack(a, axis=dim), parts, device)


def test_stack_mismatch_is_clear(device):
    with pytest.raises(ValueError, match="stack"):
        mg.stack([mg.ones(2, device=device), mg.ones(3, device=device)])


def padded_reference(a, pad, value):
    """Constant padding built by hand: fill, then copy ``a`` into the interior."""
    n = len(pad) // 2
    before = [0] * (a.ndim - n) + [pad[2 * i] for i in reversed(range(n))]
    after = [0] * (a.ndim - n) + [pad[2 * i + 1] for i in reversed(range(n))]
    out = np.full([s + b + e for s, b, e in zip(a.shape, before, after)], value, dtype=a.dtype)
    out[tuple(slice(b, b + s) for b, s in zip(before, a.shape))] = a
    return out


@fixture_ok
@given(shape=shapes(min_dims=1, max_dims=3, max_side=3), data=st.data())
def test_pad_constant(device, shape, data):
    x = data.draw(arrays(shape))
    n = data.draw(st.integers(1, len(shape)), label="padded axes")
    pad = tuple(data.draw(st.lists(st.integers(0, 2), min_size=2 * n, max_size=2 * n), label="pad"))
    value = data.draw(st.sampled_from([0.0, -1.5]), label="value")
    check(lambda t: mg.pad(t, pad, value=value), lambda a: padded_reference(a, pad, value), [x], device)


def test_pad_pytorch_order(device):
    # (left, right) pads the LAST axis, (top, bottom) the one before it
    x = mg.ones(1, 2, device=device)
    assert mg.pad(x, (1, 2)).shape == (1, 5)
    assert mg.pad(x, (1, 2, 3, 0)).shape == (4, 5)
    np.testing.assert_array_equal(mg.pad(x, (1, 0)).numpy(), [[0.0, 1.0, 1.0]])
