"""Second derivatives of every op, functional and layer: gradgradcheck over hypothesis-drawn float64 inputs.

Each case checks two things with ``second_order``:

* the gradients recorded with ``create_graph=True`` (the backward formulas run on Tensors) equal the first-order
  ones (the same formulas on raw arrays, which gradcheck checks against finite differences elsewhere): gradgradcheck
  alone only checks that the recorded gradient is differentiated consistently, not that it is the gradient;
* ``minigrad.gradgradcheck``: the backward of that recorded gradient against central differences of it, w.r.t.
  every input and the output cotangent.

Piecewise-linear ops (relu, abs, max, clamp, ...) have no second derivative away from their kinks, so they are
checked inside a product such as ``relu(x) * x``, whose second derivative runs through their backward's backward.
Inputs keep away from kinks and ties as the first-order tests do. Sizes are tiny: gradgradcheck evaluates the
first gradients twice per element of every input and cotangent.
"""

import numpy as np
import pytest
from helpers import (
    bce_call,
    bce_with_logits_call,
    class_case,
    const,
    conv_case,
    leaf,
    linear_case,
    loss_case,
    second_order,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.testing import arrays, broadcastable_shapes, positive_arrays, shapes

SUPPRESS = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large]
# `device` is a constant string, so sharing it across hypothesis examples is safe
few = settings(max_examples=6, suppress_health_check=SUPPRESS)
fewer = settings(max_examples=4, suppress_health_check=SUPPRESS)

small = shapes(max_dims=3, max_side=3)
pairs = broadcastable_shapes(max_dims=3, max_side=3)
REDUCTIONS = ["mean", "sum", "none"]


def off_grid(a, offset):
    """a snapped to multiples of 0.2, plus ``offset``: two arrays with offsets 0 and 0.1 never come within 0.1."""
    return np.round(a * 5) / 5 + offset


# --- arithmetic --------------------------------------------------------------------------------------------------


BINARY = {
    "add": (lambda a, b: a + b, arrays),
    "sub": (lambda a, b: a - b, arrays),
    "rsub": (lambda a, b: 1.5 - a * b, arrays),
    "mul": (lambda a, b: a * b, arrays),
    "div": (lambda a, b: a / b, positive_arrays),  # denominator away from 0
    "pow_tensor_exponent": (lambda a, b: b**a, lambda s: positive_arrays(s, low=0.3, high=2.5)),
}


@pytest.mark.parametrize("name", list(BINARY))
@few
@given(shape=pairs, data=st.data())
def test_binary_arithmetic_broadcasting(device, name, shape, data):
    op, second = BINARY[name]
    a = data.draw(arrays(shape[0]), label="a")
    b = data.draw(second(shape[1]), label="b")
    second_order(op, [leaf(a, device), leaf(b, device)])


@few
@given(x=arrays(small))
def test_neg(device, x):
    second_order(lambda t: -t, [leaf(x, device)])
    second_order(lambda t: (-t) * t, [leaf(x, device)])


@pytest.mark.parametrize("c", [2, 3, 4, -1, 0.5, -1.5])
@few
@given(data=st.data(), shape=small)
def test_pow_scalar_exponent(device, c, data, shape):
    # integer powers are defined everywhere, fractional ones for x > 0
    x = data.draw(arrays(shape) if c in (2, 3, 4) else positive_arrays(shape, low=0.3))
    second_order(lambda t: t**c, [leaf(x, device)])


@few
@given(shape=pairs, data=st.data())
def test_pow_tensor_base_and_exponent(device, shape, data):
    base = data.draw(positive_arrays(shape[0], low=0.3, high=2.5), label="base")
    expo = data.draw(arrays(shape[1]), label="exponent")
    second_order(lambda a, b: a**b, [leaf(base, device), leaf(expo, device)])


# --- pointwise -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["exp", "log", "sqrt"])
@few
@given(data=st.data(), shape=small)
def test_smooth_pointwise(device, name, data, shape):
    x = data.draw(arrays(shape) if name == "exp" else positive_arrays(shape, low=0.2))
    second_order(getattr(mg, name), [leaf(x, device)])


@few
@given(x=arrays(small, avoid=(0,)))
def test_abs(device, x):
    second_order(lambda t: t.abs() * t, [leaf(x, device)])
    second_order(lambda t: abs(t).tanh(), [leaf(x, device)])


@pytest.mark.parametrize("op", [mg.maximum, mg.minimum])
@few
@given(shape=pairs, data=st.data())
def test_maximum_minimum(device, op, shape, data):
    a = off_grid(data.draw(arrays(shape[0]), label="a"), 0.0)  # no ties: |a - b| >= 0.1 everywhere
    b = off_grid(data.draw(arrays(shape[1]), label="b"), 0.1)
    second_order(lambda s, t: op(s, t) * s * t, [leaf(a, device), leaf(b, device)])


@few
@given(shape=pairs, data=st.data())
def test_where(device, shape, data):
    out_shape = np.broadcast_shapes(*shape)
    cond = data.draw(st.lists(st.booleans(), min_size=int(np.prod(out_shape)), max_size=int(np.prod(out_shape))))
    cond = np.array(cond, dtype=bool).reshape(out_shape)
    a = data.draw(arrays(shape[0]), label="a")
    b = data.draw(arrays(shape[1]), label="b")
    second_order(lambda s, t: mg.where(cond, s * s, t.exp()), [leaf(a, device), leaf(b, device)])


@pytest.mark.parametrize("lo, hi", [(-0.5, 0.7), (None, 0.3), (-0.2, None)])
@few
@given(shape=small, data=st.data())
def test_clamp(device, lo, hi, shape, data):
    x = data.draw(arrays(shape, avoid=tuple(v for v in (lo, hi) if v is not None)))
    second_order(lambda t: t.clamp(lo, hi) * t, [leaf(x, device)])


# --- reductions ------------------------------------------------------------------------------------------------------


@st.composite
def axis_case(draw, min_dims=0):
    """A small shape and an axis argument for it: None, an int (negative too) or a tuple."""
    shape = draw(shapes(min_dims=min_dims, max_dims=3, max_side=3))
    nd = len(shape)
    kind = draw(st.sampled_from(["none", "int", "tuple"]) if nd else st.just("none"))
    if kind == "none":
        axis = None
    elif kind == "int":
        axis = draw(st.integers(-nd, nd - 1))
    else:
        axis = tuple(draw(st.lists(st.integers(0, nd - 1), min_size=1, max_size=nd, unique=True)))
    return shape, axis, draw(st.booleans())


@pytest.mark.parametrize("name", ["sum", "mean"])
@few
@given(case=axis_case(), data=st.data())
def test_sum_mean(device, name, case, data):
    shape, axis, keep = case
    x = data.draw(arrays(shape))
    second_order(lambda t: getattr(t, name)(axis=axis, keepdims=keep) ** 2, [leaf(x, device)])
    second_order(lambda t: getattr(mg, name)(t, dim=axis, keepdim=keep), [leaf(x, device)])


@pytest.mark.parametrize("name", ["max", "min"])
@few
@given(case=axis_case(min_dims=1), data=st.data())
def test_max_min_values_and_indices(device, name, case, data):
    shape, _, keep = case
    x = data.draw(arrays(shape, distinct=True, min_gap=0.05))
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    values, indices = getattr(leaf(x, device), name)(dim=dim, keepdim=keep)
    ref = getattr(np, "arg" + name)(x, axis=dim)
    np.testing.assert_array_equal(indices.numpy(), np.expand_dims(ref, dim) if keep else ref)
    second_order(lambda t: getattr(t, name)(dim, keep).values ** 2, [leaf(x, device)])
    second_order(lambda t: getattr(mg, name)(t) * t, [leaf(x, device)])  # over everything: the values alone


@pytest.mark.parametrize("name", ["amax", "amin"])
@few
@given(case=axis_case(), data=st.data())
def test_amax_amin(device, name, case, data):
    shape, axis, keep = case
    x = data.draw(arrays(shape, distinct=True, min_gap=0.05))
    second_order(lambda t: getattr(t, name)(axis, keep).tanh(), [leaf(x, device)])


@pytest.mark.parametrize("name", ["var", "std"])
@few
@given(case=axis_case(min_dims=1), correction=st.sampled_from([0, 1]), data=st.data())
def test_var_std(device, name, case, correction, data):
    shape, axis, keep = case
    axes = range(len(shape)) if axis is None else ((axis,) if isinstance(axis, int) else axis)
    count = int(np.prod([shape[a] for a in axes]))
    if count - correction < 1 or count < 2:
        shape = (3,) + tuple(shape[1:])  # something to average: at least 2 values per output
        axis = 0
    x = data.draw(arrays(shape, distinct=True, min_gap=0.1))  # std needs a spread away from 0
    second_order(lambda t: getattr(t, name)(dim=axis, keepdim=keep, correction=correction), [leaf(x, device)])


# --- shape ops and indexing ---------------------------------------------------------------------------------------


@few
@given(shape=small, data=st.data())
def test_reshape_flatten_squeeze_unsqueeze(device, shape, data):
    x = data.draw(arrays(shape))
    nd = len(shape)
    second_order(lambda t: t.reshape(tuple(reversed(shape))) ** 2, [leaf(x, device)])
    second_order(lambda t: t.view(-1) ** 2, [leaf(x, device)])
    if nd:
        start = data.draw(st.integers(-nd, nd - 1))
        end = data.draw(st.integers(start % nd, nd - 1))
        second_order(lambda t: t.flatten(start, end) ** 2, [leaf(x, device)])
    d = data.draw(st.integers(-nd - 1, nd))
    second_order(lambda t: t.unsqueeze(d).squeeze(d) ** 2, [leaf(x, device)])
    second_order(lambda t: t.unsqueeze(d).squeeze() ** 2, [leaf(x, device)])


@few
@given(shape=pairs, data=st.data())
def test_expand(device, shape, data):
    small_shape = min(shape, key=len)
    target = np.broadcast_shapes(*shape)
    x = data.draw(arrays(small_shape))
    second_order(lambda t: t.expand(*target) ** 2, [leaf(x, device)])


@st.composite
def slice_key(draw, shape):
    """One slice per axis (steps of 1, 2, -1); at least one element selected per axis."""
    key = []
    for n in shape:
        step = draw(st.sampled_from([1, 2, -1]))
        start = draw(st.integers(0, n - 1))
        key.append(slice(start, None, step))
    return tuple(key)


@few
@given(shape=shapes(min_dims=1, max_dims=3, max_side=3), data=st.data())
def test_getitem_slices(device, shape, data):
    x = data.draw(arrays(shape))
    key = data.draw(slice_key(shape))
    second_order(lambda t: t[key] ** 2, [leaf(x, device)])
    second_order(lambda t: t[0] * t[-1], [leaf(x, device)])


@few
@given(shape=shapes(min_dims=1, max_dims=3, max_side=3), data=st.data())
def test_getitem_repeated_integer_indices(device, shape, data):
    x = data.draw(arrays(shape))
    n = shape[0]
    # repeats guaranteed: the same index at least twice, so the gradient must accumulate
    idx = data.draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=4))
    idx = idx + idx[:1]
    second_order(lambda t: t[idx] ** 2, [leaf(x, device)])
    if len(shape) >= 2:
        m = shape[1]
        cols = data.draw(st.lists(st.integers(0, m - 1), min_size=len(idx), max_size=len(idx)))
        second_order(lambda t: t[idx, cols].exp(), [leaf(x, device)])  # paired arrays: repeated pairs
        second_order(lambda t: t[:, cols + cols[:1]] ** 3, [leaf(x, device)])  # a slice then a repeated list


@few
@given(shape=shapes(min_dims=1, max_dims=3, max_side=3), k=st.integers(1, 3), data=st.data())
def test_cat_stack(device, shape, k, data):
    nd = len(shape)
    dim = data.draw(st.integers(-nd, nd - 1))
    cat_shapes = [
        tuple(data.draw(st.integers(1, 3)) if i == dim % nd else n for i, n in enumerate(shape)) for _ in range(k)
    ]
    xs = [leaf(data.draw(arrays(s)), device) for s in cat_shapes]
    second_order(lambda *ts: mg.cat(list(ts), dim) ** 2, xs)
    sdim = data.draw(st.integers(-nd - 1, nd))
    ys = [leaf(data.draw(arrays(shape)), device) for _ in range(k)]
    second_order(lambda *ts: mg.stack(list(ts), sdim).tanh(), ys)


@few
@given(shape=shapes(min_dims=1, max_dims=3, max_side=3), data=st.data())
def test_pad(device, shape, data):
    x = data.draw(arrays(shape))
    n_axes = data.draw(st.integers(1, len(shape)))
    widths = tuple(data.draw(st.lists(st.integers(0, 2), min_size=2 * n_axes, max_size=2 * n_axes)))
    value = data.draw(st.sampled_from([0.0, 1.5]))
    second_order(lambda t: mg.pad(t, widths, value=value) ** 2, [leaf(x, device)])


# --- matmul --------------------------------------------------------------------------------------------------------


@st.composite
def matmul_shapes(draw):
    """Operand shapes covering 1-D @ 1-D, 1-D @ N-D, N-D @ 1-D, 2-D @ 2-D and batched broadcasting."""
    n, k, m = (draw(st.integers(1, 3)) for _ in range(3))
    kind = draw(st.sampled_from(["1d1d", "1dNd", "Nd1d", "2d2d", "batched"]))
    if kind == "1d1d":
        return (k,), (k,)
    if kind == "2d2d":
        return (n, k), (k, m)
    batch_a, batch_b = draw(broadcastable_shapes(min_dims=0, max_dims=2, max_side=2))
    if kind == "1dNd":
        return (k,), batch_b + (k, m)
    if kind == "Nd1d":
        return batch_a + (n, k), (k,)
    return batch_a + (n, k), batch_b + (k, m)


@fewer
@given(shapes_=matmul_shapes(), data=st.data())
def test_matmul(device, shapes_, data):
    a = data.draw(arrays(shapes_[0]), label="a")
    b = data.draw(arrays(shapes_[1]), label="b")
    second_order(lambda s, t: s @ t, [leaf(a, device), leaf(b, device)])
    second_order(lambda s: s @ const(b, device), [leaf(a, device)])  # one operand constant


# --- activations ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "softplus", "logsigmoid"])
@few
@given(x=arrays(small, low=-3.0, high=3.0))
def test_smooth_activations(device, name, x):
    second_order(getattr(F, name), [leaf(x, device)])


@pytest.mark.parametrize("slope", [None, 0.01, 0.2, 1.5, -0.3])  # None: relu
@few
@given(x=arrays(small, avoid=(0,)))
def test_relu_leaky_relu(device, slope, x):
    def act(t):
        return F.relu(t) if slope is None else F.leaky_relu(t, slope)

    second_order(lambda t: act(t) * t, [leaf(x, device)])
    second_order(lambda t: act(t).tanh(), [leaf(x, device)])


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@few
@given(shape=shapes(min_dims=1, max_dims=3, max_side=3), data=st.data())
def test_softmax_log_softmax(device, name, shape, data):
    x = data.draw(arrays(shape, low=-3.0, high=3.0))
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    second_order(lambda t: getattr(F, name)(t, dim), [leaf(x, device)])


# --- losses --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
@fewer
@given(case=loss_case(low=0.05, high=0.95))
def test_binary_cross_entropy(device, reduction, case):
    p, t, w = case
    second_order(*bce_call(p, t, w, device, reduction))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@fewer
@given(case=loss_case(), pos_weight=st.one_of(st.none(), arrays((1,), low=0.3, high=3.0)))
def test_binary_cross_entropy_with_logits(device, reduction, case, pos_weight):
    x, t, w = case
    pw = None if pos_weight is None else np.broadcast_to(pos_weight, (x.shape[1],)) * np.linspace(1, 1.5, x.shape[1])
    fn, args = bce_with_logits_call(x, t, w, pw, device, reduction)

    second_order(fn, args)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@fewer
@given(case=loss_case())
def test_mse_loss(device, reduction, case):
    x, t, _ = case
    second_order(lambda a, b: F.mse_loss(a, b, reduction=reduction), [leaf(x, device), leaf(t, device)])


@pytest.mark.parametrize("loss", ["cross_entropy", "nll_loss"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@fewer
@given(case=class_case(max_n=3, max_classes=3))
def test_class_losses(device, loss, reduction, case):
    x, t, w = case
    tt = mg.tensor(t, device=device)
    wt = None if w is None else const(w, device)
    fn = getattr(F, loss)
    second_order(lambda a: fn(a, tt, weight=wt, reduction=reduction), [leaf(x, device)])
    if loss == "nll_loss":  # nll is linear in its input: through log_softmax its second derivative is softmax's
        second_order(lambda a: fn(F.log_softmax(a, 1), tt, weight=wt, reduction=reduction), [leaf(x, device)])


# --- layers --------------------------------------------------------------------------------------------------------


@few
@given(case=linear_case(max_lead=2, max_features=3))
def test_linear(device, case):
    x, w, b = case
    args = [leaf(x, device), leaf(w, device)] + ([leaf(b, device)] if b is not None else [])
    second_order(lambda *a: F.linear(*a), args)


def small_conv_case(transpose=False):
    """conv_case at second-order sizes: a kernel up to 3 x 2, stride and padding up to 2 and 1, 1-2 channels."""
    return conv_case(transpose, kernel=(3, 2), stride=2, padding=1, spread=2, channels=2)


def _conv_args(x, w, b, device):
    return [leaf(x, device), leaf(w, device)] + ([leaf(b, device)] if b is not None else [])


@few
@given(case=small_conv_case())
def test_conv2d(device, case):
    x, w, b, s, p, _, d = case
    second_order(
        lambda *a: F.conv2d(a[0], a[1], a[2] if len(a) > 2 else None, stride=s, padding=p, dilation=d),
        _conv_args(x, w, b, device),
    )


@few
@given(case=small_conv_case(transpose=True))
def test_conv_transpose2d(device, case):
    x, w, b, s, p, op, d = case

    def fn(*a):
        return F.conv_transpose2d(
            a[0], a[1], a[2] if len(a) > 2 else None, stride=s, padding=p, output_padding=op, dilation=d
        )

    second_order(fn, _conv_args(x, w, b, device))


@pytest.mark.parametrize("stride, output_padding, dilation", [(1, 1, 2), ((1, 2), (1, 0), (2, 1))])
def test_conv_transpose2d_output_padding_at_least_stride(device, stride, output_padding, dilation):
    """output_padding >= stride (allowed when dilation > stride): conv2d of the output gradient sees more
    windows than the input has; every recorded gradient is cropped back (this failed with a broadcast error)."""
    rng = np.random.default_rng(0)
    args = _conv_args(
        rng.standard_normal((1, 2, 2, 3)), rng.standard_normal((2, 1, 2, 2)), rng.standard_normal(1), device
    )
    second_order(
        lambda x, w, b: F.conv_transpose2d(x, w, b, stride=stride, output_padding=output_padding, dilation=dilation),
        args,
    )


@fewer
@given(
    n=st.integers(1, 2),
    c_in=st.integers(1, 2),
    c_out=st.integers(1, 2),
    k=st.integers(1, 3),
    bias=st.booleans(),
    data=st.data(),
)
def test_conv_one_window(device, n, c_in, c_out, k, bias, data):
    """The kernel's one window is the whole image (a DCGAN critic's last layer / generator's first): the kernels'
    Linear shortcut, in conv2d, conv_transpose2d and the weight gradient of both."""
    b = data.draw(arrays((c_out,))) if bias else None
    x = data.draw(arrays((n, c_in, k, k)))
    w = data.draw(arrays((c_out, c_in, k, k)))
    second_order(lambda *a: F.conv2d(*a), _conv_args(x, w, b, device))
    z = data.draw(arrays((n, c_in, 1, 1)))
    wt = data.draw(arrays((c_in, c_out, k, k)))
    second_order(lambda *a: F.conv_transpose2d(*a), _conv_args(z, wt, b, device))


@st.composite
def bn_case(draw):
    c = draw(st.integers(1, 2))
    spatial = draw(st.sampled_from([(), (1, 1), (2, 1), (1, 2)]))
    shape = (draw(st.integers(2, 3)), c) + spatial
    # spread values apart: a near-zero batch variance makes finite differences meaningless
    x = draw(arrays(shape, distinct=True, min_gap=0.1))
    affine = draw(st.sampled_from(["both", "weight", "none"]))
    w = draw(arrays((c,), low=0.5, high=2.0)) if affine != "none" else None
    b = draw(arrays((c,))) if affine == "both" else None
    return x, w, b


def _bn_args(x, w, b, device):
    return [leaf(x, device)] + [leaf(v, device) for v in (w, b) if v is not None]


def _bn(w, b, **kwargs):
    def fn(x, *params):
        ps = list(params)
        wt = ps.pop(0) if w is not None else None
        bt = ps.pop(0) if b is not None else None
        return F.batch_norm(x, weight=wt, bias=bt, **kwargs)

    return fn


@few
@given(case=bn_case())
def test_batch_norm_training(device, case):
    x, w, b = case
    second_order(_bn(w, b, running_mean=None, running_var=None, training=True), _bn_args(x, w, b, device))


@few
@given(case=bn_case(), data=st.data())
def test_batch_norm_eval(device, case, data):
    x, w, b = case
    c = x.shape[1]
    rm, rv = const(data.draw(arrays((c,))), device), const(data.draw(arrays((c,), low=0.2, high=3.0)), device)
    bn = _bn(w, b, running_mean=rm, running_var=rv, training=False)
    # eval batch norm is affine in x: a product makes its second derivative w.r.t. x non-zero
    second_order(lambda *a: bn(*a) * a[0], _bn_args(x, w, b, device))


def test_batch_norm_eval_create_graph_uses_the_statistics_of_its_forward(device):
    """Running statistics updated between an eval forward and its backward (a training step in between) do not
    reach that backward: create_graph gradients equal the first-order ones (they used the new statistics)."""
    rng = np.random.default_rng(0)
    x, w = leaf(rng.standard_normal((4, 2)), device), leaf(rng.uniform(0.5, 2, 2), device)
    rm, rv = const([0.1, 0.2], device), const([0.5, 2.0], device)
    u = const(rng.standard_normal((4, 2)), device)
    y = F.batch_norm(x, rm, rv, w, None, training=False)
    F.batch_norm(const(rng.standard_normal((4, 2)) * 5 + 3, device), rm, rv, training=True, momentum=0.9)
    plain = mg.autograd.grad(y, [x, w], u, retain_graph=True)
    recorded = mg.autograd.grad(y, [x, w], u, create_graph=True)
    for p, r in zip(plain, recorded):
        np.testing.assert_allclose(r.detach().numpy(), p.numpy(), rtol=1e-12)
    # and they are the closed form with the forward's statistics: dx = u w / sqrt(var + eps)
    np.testing.assert_allclose(plain[0].numpy(), u.numpy() * w.numpy() / np.sqrt(np.array([0.5, 2.0]) + 1e-5))


@pytest.mark.parametrize("p", [0.3, 0.6])
@few
@given(x=arrays(small))
def test_dropout_fixed_seed(device, p, x):
    def fn(t):
        mg.manual_seed(11)  # the same mask on every call: a constant of the function
        return F.dropout(t, p) * t

    second_order(fn, [leaf(x, device)])
    second_order(lambda t: F.dropout(t, p, training=False) * t, [leaf(x, device)])
