"""minigrad.nn.functional: forward against NumPy references (minigrad.kernels.reference and closed forms),
backward by finite differences (float64 gradcheck), and the error messages."""

import numpy as np
import pytest
from helpers import bce_call, bce_with_logits_call, class_case, conv_case, leaf, linear_case, loss_case, with_affine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.kernels.reference import conv2d_reference, conv_transpose2d_reference
from minigrad.testing import arrays

# `device` is a constant string, so sharing it across hypothesis examples is safe
fixture_ok = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

REDUCTIONS = ["mean", "sum", "none"]


def const(a, device, dtype=mg.float64):
    return mg.tensor(np.asarray(a), dtype=dtype, device=device)


def reduce_ref(l, reduction):
    return {"mean": np.mean, "sum": np.sum, "none": lambda a: a}[reduction](l)


# --- linear -----------------------------------------------------------------------------


@fixture_ok
@given(case=linear_case())
def test_linear_forward_and_gradcheck(device, case):
    x, w, b = case
    bias = b is not None
    ref = x @ w.T + (b if bias else 0)
    args = [leaf(x, device), leaf(w, device)] + ([leaf(b, device)] if bias else [])
    y = F.linear(*args)
    assert y.shape == ref.shape
    np.testing.assert_allclose(y.numpy(), ref, rtol=1e-12, atol=1e-12)
    assert mg.gradcheck(F.linear, args)


def test_linear_grads_closed_form(device):
    # dW = gy^T x, db = sum gy, dx = gy W for gy = ones
    x = leaf([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], device)
    w = leaf([[1.0, -1.0]], device)
    b = leaf([0.5], device)
    F.linear(x, w, b).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [[9.0, 12.0]])
    np.testing.assert_allclose(b.grad.numpy(), [3.0])
    np.testing.assert_allclose(x.grad.numpy(), [[1.0, -1.0]] * 3)


def test_linear_float32_stays_float32(device):
    x = mg.randn(4, 3, device=device, requires_grad=True)
    w = mg.randn(2, 3, device=device, requires_grad=True)
    b = mg.randn(2, device=device, requires_grad=True)
    y = F.linear(x, w, b)
    y.sum().backward()
    assert y.dtype == np.float32 and w.grad.dtype == np.float32 and x.grad.dtype == np.float32


def test_linear_errors_name_shapes():
    with pytest.raises(ValueError, match=r"Linear.*\(4, 3\).*\(2, 5\)"):
        F.linear(mg.randn(4, 3), mg.randn(2, 5))
    with pytest.raises(ValueError, match="dtypes differ"):
        F.linear(mg.randn(4, 3, dtype=mg.float64), mg.randn(2, 3))


# --- conv2d / conv_transpose2d -----------------------------------------------------------


def _conv_arg(pair, as_int):
    return pair[0] if as_int and pair[0] == pair[1] else pair


@fixture_ok
@given(case=conv_case(), as_int=st.booleans())
def test_conv2d_forward_and_gradcheck(device, case, as_int):
    x, w, b, s, p, _, d = case
    ref = conv2d_reference(x, w, b, s, p, d)
    s_, p_, d_ = (_conv_arg(v, as_int) for v in (s, p, d))
    args = [leaf(x, device), leaf(w, device)] + ([leaf(b, device)] if b is not None else [])

    def fn(*a):
        return F.conv2d(a[0], a[1], a[2] if len(a) > 2 else None, stride=s_, padding=p_, dilation=d_)

    y = fn(*args)
    assert y.shape == ref.shape
    np.testing.assert_allclose(y.numpy(), ref, rtol=1e-10, atol=1e-10)
    assert mg.gradcheck(fn, args)


@fixture_ok
@given(case=conv_case(transpose=True), as_int=st.booleans())
def test_conv_transpose2d_forward_and_gradcheck(device, case, as_int):
    x, w, b, s, p, op, d = case
    ref = conv_transpose2d_reference(x, w, b, s, p, op, d)
    s_, p_, op_, d_ = (_conv_arg(v, as_int) for v in (s, p, op, d))
    args = [leaf(x, device), leaf(w, device)] + ([leaf(b, device)] if b is not None else [])

    def fn(*a):
        return F.conv_transpose2d(
            a[0], a[1], a[2] if len(a) > 2 else None, stride=s_, padding=p_, output_padding=op_, dilation=d_
        )

    y = fn(*args)
    assert y.shape == ref.shape
    np.testing.assert_allclose(y.numpy(), ref, rtol=1e-10, atol=1e-10)
    assert mg.gradcheck(fn, args)


def test_conv_only_input_needs_grad(device):
    # weight without grad (e.g. a frozen discriminator): input grad still right
    x = leaf(np.random.default_rng(0).standard_normal((1, 2, 5, 5)), device)
    w = const(np.random.default_rng(1).standard_normal((3, 2, 3, 3)), device)
    assert mg.gradcheck(lambda a: F.conv2d(a, w, None, 2, 1), [x])
    wt = const(np.random.default_rng(2).standard_normal((2, 3, 4, 4)), device)
    assert mg.gradcheck(lambda a: F.conv_transpose2d(a, wt, None, 2, 1), [x])


def test_conv_im2col_buffer_released_after_backward():
    x = mg.randn(2, 3, 8, 8, requires_grad=True)
    w = mg.randn(4, 3, 3, 3, requires_grad=True)
    y = F.conv2d(x, w, padding=1)
    fn = y.grad_fn
    saved_shapes = [tuple(v.shape) for kind, v in fn._saved if kind == "constant"]
    assert (2 * 8 * 8, 3 * 3 * 3) in saved_shapes  # the im2col buffer, kept for the weight gradient
    y.sum().backward()
    assert "_saved" not in fn.__dict__


def test_conv_errors_name_op_and_shapes():
    w = mg.randn(4, 3, 3, 3)
    with pytest.raises(ValueError, match=r"conv2d: expected a 4-D input.*\(3, 8, 8\)"):
        F.conv2d(mg.randn(3, 8, 8), w)
    with pytest.raises(ValueError, match=r"conv2d: input of shape \(1, 2, 8, 8\) has 2 channels.*\(4, 3, 3, 3\)"):
        F.conv2d(mg.randn(1, 2, 8, 8), w)
    with pytest.raises(ValueError, match="conv2d: .*smaller than the dilated kernel"):
        F.conv2d(mg.randn(1, 3, 2, 2), w)
    with pytest.raises(ValueError, match="conv2d: stride must be positive"):
        F.conv2d(mg.randn(1, 3, 8, 8), w, stride=0)
    with pytest.raises(ValueError, match=r"conv2d: bias must have shape \(4,\)"):
        F.conv2d(mg.randn(1, 3, 8, 8), w, mg.randn(3))
    wt = mg.randn(3, 4, 3, 3)
    with pytest.raises(ValueError, match=r"conv_transpose2d: input of shape \(1, 4, 8, 8\) has 4 channels"):
        F.conv_transpose2d(mg.randn(1, 4, 8, 8), wt)
    with pytest.raises(ValueError, match="conv_transpose2d: output_padding"):
        F.conv_transpose2d(mg.randn(1, 3, 8, 8), wt, stride=2, output_padding=2)
    with pytest.raises(ValueError, match="conv_transpose2d: stride must be an int or a pair"):
        F.conv_transpose2d(mg.randn(1, 3, 8, 8), wt, stride=(1, 2, 3))


# The argument checks of both convolutions live in the functional layer (the kernels trust them): the kernel
# tests' error cases, through the calls a user makes.


def test_bad_output_padding_raises():
    x, w = np.zeros((1, 2, 3, 3)), np.zeros((2, 3, 3, 3))
    with pytest.raises(ValueError, match=r"conv_transpose2d.*output_padding \(2, 0\).*stride \(2, 2\)"):
        F.conv_transpose2d(x, w, None, stride=(2, 2), padding=(0, 0), output_padding=(2, 0), dilation=(1, 1))
    with pytest.raises(ValueError, match="conv_transpose2d.*output_padding"):
        F.conv_transpose2d(x, w, None, stride=(1, 1), padding=(0, 0), output_padding=(0, 1), dilation=(1, 1))
    # allowed when smaller than the dilation, even if not smaller than the stride
    y = F.conv_transpose2d(x, w, None, stride=(1, 1), padding=(0, 0), output_padding=(1, 1), dilation=(2, 2))
    assert y.shape == (1, 3, 8, 8)


def test_channel_mismatch_raises():
    with pytest.raises(ValueError, match=r"conv2d.*3 channels.*\(4, 2, 3, 3\)"):
        F.conv2d(np.zeros((1, 3, 5, 5)), np.zeros((4, 2, 3, 3)), None, (1, 1), (0, 0), (1, 1))
    with pytest.raises(ValueError, match=r"conv_transpose2d.*3 channels.*\(2, 4, 3, 3\)"):
        F.conv_transpose2d(
            np.zeros((1, 3, 5, 5)),
            np.zeros((2, 4, 3, 3)),
            None,
            stride=(1, 1),
            padding=(0, 0),
            output_padding=(0, 0),
            dilation=(1, 1),
        )


def test_other_bad_shapes_raise():
    x, w = np.zeros((1, 2, 5, 5)), np.zeros((4, 2, 3, 3))
    with pytest.raises(ValueError, match=r"conv2d.*bias.*\(4,\)"):
        F.conv2d(x, w, np.zeros(3), (1, 1), (0, 0), (1, 1))
    with pytest.raises(ValueError, match=r"conv2d.*too small"):
        F.conv2d(np.zeros((1, 2, 2, 2)), w, None, (1, 1), (0, 0), (1, 1))
    with pytest.raises(ValueError, match=r"conv2d.*\(N, C, H, W\)"):
        F.conv2d(np.zeros((2, 5, 5)), w, None, (1, 1), (0, 0), (1, 1))
    with pytest.raises(ValueError, match=r"conv2d.*kernel_size must be a pair of integers >= 1"):
        F.conv2d(x, np.zeros((4, 2, 0, 3)), None, (1, 1), (0, 0), (1, 1))
    # a wrong-shaped output gradient is stopped by backward before any convolution sees it
    y = F.conv2d(mg.tensor(x, requires_grad=True), mg.tensor(w))
    with pytest.raises(ValueError, match=r"gradient has shape \(1, 4, 2, 2\)"):
        y.backward(np.zeros((1, 4, 2, 2)))
    y = F.conv_transpose2d(mg.tensor(x, requires_grad=True), mg.tensor(np.zeros((2, 4, 3, 3))))
    with pytest.raises(ValueError, match=r"gradient has shape"):
        y.backward(np.zeros((1, 4, 2, 2)))


# --- batch_norm ---------------------------------------------------------------------------


def bn_ref(x, w, b, eps, mean=None, var=None):
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    if mean is None:
        mean, var = x.mean(axis=axes), x.var(axis=axes)
    return with_affine((x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps), w, b, shape)


@st.composite
def bn_case(draw):
    four_d = draw(st.booleans())
    c = draw(st.integers(1, 3))
    shape = (draw(st.integers(2, 4)), c) + ((draw(st.integers(1, 3)), draw(st.integers(1, 3))) if four_d else ())
    # spread values apart: a near-zero batch variance makes finite differences meaningless
    x = draw(arrays(shape, distinct=True, min_gap=0.05))
    affine = draw(st.booleans())
    w = draw(arrays((c,), low=0.5, high=2.0)) if affine else None
    b = draw(arrays((c,))) if affine else None
    return x, w, b


@fixture_ok
@given(case=bn_case())
def test_batch_norm_training_forward_and_gradcheck(device, case):
    x, w, b = case
    args = [leaf(x, device)] + ([leaf(w, device), leaf(b, device)] if w is not None else [])

    def fn(*a):
        return F.batch_norm(a[0], None, None, *(a[1:] if len(a) > 1 else (None, None)), training=True)

    y = fn(*args)
    np.testing.assert_allclose(y.numpy(), bn_ref(x, w, b, 1e-5), rtol=1e-9, atol=1e-9)
    assert mg.gradcheck(fn, args)


@fixture_ok
@given(case=bn_case(), data=st.data())
def test_batch_norm_eval_forward_and_gradcheck(device, case, data):
    x, w, b = case
    c = x.shape[1]
    rm = data.draw(arrays((c,)))
    rv = data.draw(arrays((c,), low=0.2, high=3.0))
    rm_t, rv_t = const(rm, device), const(rv, device)
    args = [leaf(x, device)] + ([leaf(w, device), leaf(b, device)] if w is not None else [])

    def fn(*a):
        return F.batch_norm(a[0], rm_t, rv_t, *(a[1:] if len(a) > 1 else (None, None)), training=False)

    y = fn(*args)
    np.testing.assert_allclose(y.numpy(), bn_ref(x, w, b, 1e-5, rm, rv), rtol=1e-9, atol=1e-9)
    assert mg.gradcheck(fn, args)
    np.testing.assert_array_equal(rm_t.numpy(), rm)  # eval never touches the running stats
    np.testing.assert_array_equal(rv_t.numpy(), rv)


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 2, 5)])
def test_batch_norm_running_stats_update(device, shape):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32) * 3 + 1
    rm0 = rng.standard_normal(3).astype(np.float32)
    rv0 = rng.uniform(0.5, 2, 3).astype(np.float32)
    rm, rv = const(rm0, device, mg.float32), const(rv0, device, mg.float32)
    F.batch_norm(const(x, device, mg.float32), rm, rv, None, None, training=True, momentum=0.3)
    axes = (0,) + tuple(range(2, len(shape)))
    np.testing.assert_allclose(rm.numpy(), 0.7 * rm0 + 0.3 * x.mean(axis=axes), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(rv.numpy(), 0.7 * rv0 + 0.3 * x.var(axis=axes, ddof=1), rtol=1e-5, atol=1e-6)
    assert rm.dtype == np.float32 and rv.dtype == np.float32
    # raw arrays work as running stats too
    rm_arr = rm0.copy()
    F.batch_norm(mg.tensor(x), rm_arr, rv0.copy(), training=True, momentum=0.3)
    np.testing.assert_allclose(rm_arr, 0.7 * rm0 + 0.3 * x.mean(axis=axes), rtol=1e-5, atol=1e-6)


def test_batch_norm_errors():
    with pytest.raises(ValueError, match=r"batch_norm: running_mean must have shape \(3,\)"):
        F.batch_norm(mg.randn(4, 3), mg.zeros(2), mg.ones(3), training=True)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.batch_norm(mg.randn(1, 3), None, None, training=True)
    with pytest.raises(ValueError, match="must be given when training=False"):
        F.batch_norm(mg.randn(4, 3), None, None, training=False)


# --- dropout --------------------------------------------------------------------------------


def _seeded_dropout(p, seed=3):
    def fn(x):
        mg.manual_seed(seed)  # the same mask on every call, so finite differences see one function
        return F.dropout(x, p)

    return fn


@fixture_ok
@given(x=arrays(st.tuples(st.integers(1, 4), st.integers(1, 5)), avoid=(0,)), p=st.sampled_from([0.2, 0.5, 0.8]))
def test_dropout_grad_is_mask_times_scale(device, x, p):
    fn = _seeded_dropout(p)
    t = leaf(x, device)
    y = fn(t)
    mask = y.numpy() / x  # x has no zeros, so this recovers mask * scale
    assert np.all(np.isclose(mask, 0) | np.isclose(mask, 1 / (1 - p)))
    y.backward(mg.ones_like(y))
    np.testing.assert_allclose(t.grad.numpy(), mask, rtol=1e-12)
    assert mg.gradcheck(fn, [leaf(x, device)])


def test_dropout_statistics_float32_and_modes(device):
    x = mg.ones(200_000, device=device)
    for p in (0.1, 0.5):
        y = F.dropout(x, p)
        a = y.numpy()
        assert y.dtype == np.float32
        assert abs((a == 0).mean() - p) < 0.01  # ~p zeroed (std ~0.0011)
        assert abs(a.mean() - 1.0) < 0.01  # inverted scaling preserves the mean
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    assert np.all(F.dropout(x, 1.0).numpy() == 0)
    with pytest.raises(ValueError, match="dropout: probability has to be between 0 and 1"):
        F.dropout(x, 1.5)


def test_dropout_reproducible_with_manual_seed(device):
    x = mg.ones(100, device=device)
    mg.manual_seed(7)
    a = F.dropout(x, 0.5).numpy()
    mg.manual_seed(7)
    np.testing.assert_array_equal(F.dropout(x, 0.5).numpy(), a)


# --- activations and shapes -------------------------------------------------------------------


@fixture_ok
@given(x=arrays(st.tuples(st.integers(1, 3), st.integers(1, 4)), avoid=(0,)))
def test_activations_gradcheck(device, x):
    for fn, ref in [
        (lambda t: F.leaky_relu(t, 0.2), np.where(x > 0, x, 0.2 * x)),
        (F.relu, np.maximum(x, 0)),
        (F.sigmoid, 1 / (1 + np.exp(-x))),
        (F.tanh, np.tanh(x)),
        (lambda t: F.softmax(t, 1), np.exp(x) / np.exp(x).sum(1, keepdims=True)),
        (lambda t: F.log_softmax(t, 1), x - np.log(np.exp(x).sum(1, keepdims=True))),
    ]:
        t = leaf(x, device)
        np.testing.assert_allclose(fn(t).numpy(), ref, rtol=1e-10, atol=1e-12)
        assert mg.gradcheck(fn, [t])


def test_leaky_relu_is_one_function():
    y = F.leaky_relu(mg.randn(3, requires_grad=True), 0.2)
    assert y.grad_fn.name == "LeakyReLU"


def test_flatten_unflatten():
    x = mg.randn(2, 3, 4, 5, requires_grad=True)
    assert F.flatten(x).shape == (2, 60)
    assert F.flatten(x, 0, 1).shape == (6, 4, 5)
    assert F.unflatten(F.flatten(x), 1, (3, -1, 5)).shape == (2, 3, 4, 5)
    with pytest.raises(ValueError, match="unflatten"):
        F.unflatten(x, 1, (2, 2))


# --- losses -------------------------------------------------------------------------------------


def bce_ref(p, t, w=None):
    l = -(t * np.maximum(np.log(p), -100) + (1 - t) * np.maximum(np.log(1 - p), -100))
    return l if w is None else l * w


def bce_logits_ref(x, t, w=None, pw=None):
    log_sig, log_1m_sig = -np.logaddexp(0, -x), -np.logaddexp(0, x)
    pw = 1 if pw is None else pw
    l = -(pw * t * log_sig + (1 - t) * log_1m_sig)
    return l if w is None else l * w


@pytest.mark.parametrize("reduction", REDUCTIONS)
@fixture_ok
@given(case=loss_case(low=0.05, high=0.95))
def test_binary_cross_entropy(device, reduction, case):
    p, t, w = case
    fn, args = bce_call(p, t, w, device, reduction)

    np.testing.assert_allclose(fn(*args).numpy(), reduce_ref(bce_ref(p, t, w), reduction), rtol=1e-10)
    assert fn(*args).grad_fn.name == "BinaryCrossEntropy"
    assert mg.gradcheck(fn, args)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@fixture_ok
@given(case=loss_case(), pos_weight=st.one_of(st.none(), arrays((1,), low=0.3, high=3.0)))
def test_binary_cross_entropy_with_logits(device, reduction, case, pos_weight):
    x, t, w = case
    pw = None if pos_weight is None else np.broadcast_to(pos_weight, (x.shape[1],)).copy()
    fn, args = bce_with_logits_call(x, t, w, pw, device, reduction)

    ref = reduce_ref(bce_logits_ref(x, t, w, pw), reduction)
    np.testing.assert_allclose(fn(*args).numpy(), ref, rtol=1e-10, atol=1e-12)
    assert mg.gradcheck(fn, args)


def test_bce_with_logits_stable_at_1e4_float32(device):
    x = mg.tensor([1e4, -1e4, 1e4, -1e4, 0.0], device=device, requires_grad=True)
    t = mg.tensor([0.0, 1.0, 1.0, 0.0, 1.0], device=device)
    loss = F.binary_cross_entropy_with_logits(x, t, reduction="none")
    assert loss.dtype == np.float32
    np.testing.assert_allclose(loss.numpy(), [1e4, 1e4, 0.0, 0.0, np.log(2)], rtol=1e-6)
    loss.sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.numpy(), [1.0, -1.0, 0.0, 0.0, -0.5], atol=1e-7)  # sigmoid(x) - t
    assert loss.grad_fn.name == "BinaryCrossEntropyWithLogits"


@pytest.mark.parametrize("fn", [F.binary_cross_entropy, F.binary_cross_entropy_with_logits])
@pytest.mark.parametrize("bad", [1.5, -0.25, float("nan")])
def test_bce_refuses_targets_outside_0_1(fn, bad):
    p = mg.tensor([0.2, 0.7, 0.5])
    t = mg.tensor([0.0, 1.0, bad])
    with pytest.raises(ValueError, match=f"{fn.__name__}: all elements of target should be between 0 and 1"):
        fn(p, t)
    fn(p, mg.tensor([0.0, 1.0, 0.5]))  # both ends are fine


def test_bce_log_clamped_at_minus_100(device):
    p = mg.tensor([0.0, 1.0, 0.0, 1.0], device=device, requires_grad=True)
    t = mg.tensor([1.0, 0.0, 0.0, 1.0], device=device)
    loss = F.binary_cross_entropy(p, t, reduction="none")
    np.testing.assert_allclose(loss.numpy(), [100.0, 100.0, 0.0, 0.0])
    loss.sum().backward()
    assert np.all(np.isfinite(p.grad.numpy()))
    assert F.binary_cross_entropy(p, t).item() == pytest.approx(50.0)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@fixture_ok
@given(case=loss_case())
def test_mse_loss(device, reduction, case):
    x, t, _ = case
    args = [leaf(x, device), leaf(t, device)]

    def fn(a, b):
        return F.mse_loss(a, b, reduction=reduction)

    np.testing.assert_allclose(fn(*args).numpy(), reduce_ref((x - t) ** 2, reduction), rtol=1e-12)
    assert mg.gradcheck(fn, args)


def nll_ref(logp, t, w, reduction):
    valid = t != -100
    tt = np.where(valid, t, 0)
    c = valid * (1.0 if w is None else w[tt])
    l = -logp[np.arange(len(t)), tt] * c
    return {"mean": l.sum() / c.sum(), "sum": l.sum(), "none": l}[reduction]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@fixture_ok
@given(case=class_case())
def test_cross_entropy_and_nll(device, reduction, case):
    x, t, w = case
    logp = x - np.log(np.exp(x).sum(1, keepdims=True))
    wt = None if w is None else const(w, device)
    tt = mg.tensor(t, device=device)
    ref = nll_ref(logp, t, w, reduction)

    def ce(a):
        return F.cross_entropy(a, tt, weight=wt, reduction=reduction)

    def nll(a):
        return F.nll_loss(a, tt, weight=wt, reduction=reduction)

    np.testing.assert_allclose(ce(leaf(x, device)).numpy(), ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(nll(leaf(logp, device)).numpy(), ref, rtol=1e-10, atol=1e-12)
    assert mg.gradcheck(ce, [leaf(x, device)])
    assert mg.gradcheck(nll, [leaf(logp, device)])


def test_cross_entropy_stable_for_large_logits(device):
    x = mg.tensor([[1e4, 0.0, -1e4]], device=device, requires_grad=True)
    loss = F.cross_entropy(x, mg.tensor([1], device=device))
    assert loss.item() == pytest.approx(1e4)
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), [[1.0, -1.0, 0.0]], atol=1e-6)


def test_loss_errors_name_loss_and_shapes():
    x = mg.rand(4, 1)
    for fn in (F.binary_cross_entropy, F.binary_cross_entropy_with_logits, F.mse_loss):
        name = fn.__name__
        with pytest.raises(ValueError, match=rf"{name}: target shape \(4,\) differs from input shape \(4, 1\)"):
            fn(x, mg.rand(4))
        with pytest.raises(ValueError, match=rf"{name}: reduction must be"):
            fn(x, mg.rand(4, 1), reduction="avg")
    with pytest.raises(ValueError, match=r"cross_entropy: target shape \(4, 1\) does not match input shape \(4, 3\)"):
        F.cross_entropy(mg.randn(4, 3), mg.zeros(4, 1, dtype=mg.int64))
    with pytest.raises(ValueError, match="nll_loss: target must hold integer class indices"):
        F.nll_loss(mg.randn(4, 3), mg.zeros(4))
    with pytest.raises(ValueError, match=r"cross_entropy: target class indices must lie in \[0, 3\)"):
        F.cross_entropy(mg.randn(2, 3), mg.tensor([0, 3]))
    with pytest.raises(ValueError, match="binary_cross_entropy: all elements of input should be between 0 and 1"):
        F.binary_cross_entropy(mg.tensor([1.5]), mg.tensor([1.0]))
    for fn in (F.cross_entropy, F.nll_loss):
        with pytest.raises(ValueError, match=rf"{fn.__name__}: input must be floating point, got dtype int64"):
            fn(mg.tensor([[1, 2]]), mg.tensor([0]))


def test_loss_targets_cast_to_input_dtype():
    # a float64 NumPy target must not upcast a float32 loss
    x = mg.randn(3, 2, requires_grad=True)
    loss = F.mse_loss(x, np.zeros((3, 2)))
    loss.backward()
    assert loss.dtype == np.float32 and x.grad.dtype == np.float32
