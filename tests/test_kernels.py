"""Raw-array conv kernels (minigrad.kernels) against independent references.

References: minigrad.kernels.reference, the definition of a convolution (and of a
transposed convolution as a scatter) summed one kernel tap at a time and itself
checked here against hand-computed values and its adjointness; central finite
differences; and exact linear-algebra identities (adjointness of im2col/col2im,
conv2d's input gradient == conv_transpose2d forward).
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minigrad.backend import as_numpy, to_device
from minigrad.kernels import (
    col2im,
    conv2d_backward,
    conv2d_forward,
    conv_output_size,
    conv_transpose2d_backward,
    conv_transpose2d_forward,
    conv_transpose_output_size,
    im2col,
)
from minigrad.kernels.im2col import phase_grid_to_nchw
from minigrad.kernels.reference import conv2d_reference, conv_transpose2d_reference

fixture_ok = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
pairs = st.tuples


# ----------------------------------------------------------------- problems


@st.composite
def conv_configs(draw, max_side=7):
    """Small convolution problems: sizes, hyper-parameters and a data seed.
    Kernels and images may be odd and non-square; the output is at least 1x1."""
    kh, kw = draw(pairs(st.integers(1, 3), st.integers(1, 3)))
    stride = draw(pairs(st.integers(1, 3), st.integers(1, 3)))
    padding = draw(pairs(st.integers(0, 2), st.integers(0, 2)))
    dilation = draw(pairs(st.integers(1, 2), st.integers(1, 2)))
    # smallest input with a positive output: in + 2p >= d(k-1) + 1
    lo_h = max(1, dilation[0] * (kh - 1) + 1 - 2 * padding[0])
    lo_w = max(1, dilation[1] * (kw - 1) + 1 - 2 * padding[1])
    H = draw(st.integers(lo_h, max(lo_h, max_side)))
    W = draw(st.integers(lo_w, max(lo_w, max_side)))
    N, C, O = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    bias, seed = draw(st.booleans()), draw(st.integers(0, 2**32 - 1))
    sizes = dict(N=N, C=C, O=O, H=H, W=W, k=(kh, kw))
    return dict(sizes, stride=stride, padding=padding, dilation=dilation, bias=bias, seed=seed)


@st.composite
def transpose_configs(draw, max_side=5):
    """Small transposed-convolution problems, output_padding < max(stride, dilation)."""
    kh, kw = draw(pairs(st.integers(1, 3), st.integers(1, 3)))
    stride = draw(pairs(st.integers(1, 3), st.integers(1, 3)))
    padding = draw(pairs(st.integers(0, 2), st.integers(0, 2)))
    dilation = draw(pairs(st.integers(1, 2), st.integers(1, 2)))
    op = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
    H, W = draw(st.integers(1, max_side)), draw(st.integers(1, max_side))
    out = [
        conv_transpose_output_size(n, k, s, p, o, d)
        for n, k, s, p, o, d in zip((H, W), (kh, kw), stride, padding, op, dilation)
    ]
    if min(out) <= 0:  # padding eats the whole output: make the input bigger instead
        H, W = H + 2 * padding[0] + 1, W + 2 * padding[1] + 1
    N, Cin, Cout = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    bias, seed = draw(st.booleans()), draw(st.integers(0, 2**32 - 1))
    sizes = dict(N=N, Cin=Cin, Cout=Cout, H=H, W=W, k=(kh, kw))
    return dict(sizes, stride=stride, padding=padding, output_padding=op, dilation=dilation, bias=bias, seed=seed)


def _data(cfg, c_in, w_lead, n_bias):
    """x (N, c_in, H, W), w (*w_lead, kh, kw), b (n_bias,) or None, from the config's seed."""
    rng = np.random.default_rng(cfg["seed"])
    x = rng.standard_normal((cfg["N"], c_in, cfg["H"], cfg["W"]))
    w = rng.standard_normal(w_lead + cfg["k"])
    b = rng.standard_normal(n_bias) if cfg["bias"] else None
    return x, w, b


def conv_data(cfg):
    return _data(cfg, cfg["C"], (cfg["O"], cfg["C"]), cfg["O"])


def transpose_data(cfg):
    return _data(cfg, cfg["Cin"], (cfg["Cin"], cfg["Cout"]), cfg["Cout"])


def dev(a, device):
    return None if a is None else to_device(a, device)


def hp(cfg):
    return cfg["stride"], cfg["padding"], cfg["dilation"]


# ----------------------------------------------------------------- output sizes


def test_output_size_formulas():
    assert conv_output_size(28, 4, 2, 1, 1) == 14
    assert conv_output_size(4, 4, 1, 0, 1) == 1
    assert conv_output_size(7, 3, 2, 0, 2) == 2  # (7 - 4 - 1) // 2 + 1
    assert conv_transpose_output_size(7, 4, 2, 1, 0, 1) == 14
    assert conv_transpose_output_size(1, 4, 1, 0, 0, 1) == 4
    assert conv_transpose_output_size(3, 3, 2, 1, 1, 1) == 6


# ----------------------------------------------------------------- the reference itself


def test_reference_conv2d_by_hand():
    """2x2 ones at stride 2 sum the 2x2 blocks of a 4x4 ramp; padding 1 at stride 3 sees the corners."""
    x, w = np.arange(16.0).reshape(1, 1, 4, 4), np.ones((1, 1, 2, 2))
    np.testing.assert_array_equal(conv2d_reference(x, w, None, (2, 2), (0, 0), (1, 1))[0, 0], [[10, 18], [42, 50]])
    np.testing.assert_array_equal(
        conv2d_reference(x, w, np.array([1.0]), (3, 3), (1, 1), (1, 1))[0, 0], [[1, 6], [21, 51]]
    )
    # dilation 3: the four corners of the image, 0 + 3 + 12 + 15
    np.testing.assert_array_equal(conv2d_reference(x, w, None, (1, 1), (0, 0), (3, 3)), [[[[30]]]])


@fixture_ok
@given(cfg=transpose_configs())
def test_reference_conv_transpose2d_is_adjoint_of_reference_conv2d(cfg):
    """<conv_transpose2d(x, w), y> == <x, conv2d(y, w)>: the transposed reference is the conv2d reference's adjoint."""
    x, w, _ = transpose_data(cfg)
    s, p, d = hp(cfg)
    out = conv_transpose2d_reference(x, w, None, s, p, cfg["output_padding"], d)
    y = np.random.default_rng(cfg["seed"] + 1).standard_normal(out.shape)
    back = conv2d_reference(y, w, None, s, p, d)[:, :, : x.shape[2], : x.shape[3]]
    assert back.shape == x.shape
    np.testing.assert_allclose(np.sum(out * y), np.sum(x * back), rtol=1e-10, atol=1e-10)


# ----------------------------------------------------------------- forward vs the reference


@fixture_ok
@given(cfg=conv_configs())
def test_conv2d_forward_matches_reference(cfg, device):
    x, w, b = conv_data(cfg)
    y, cols = conv2d_forward(dev(x, device), dev(w, device), dev(b, device), *hp(cfg))
    ref = conv2d_reference(x, w, b, *hp(cfg))
    assert y.shape == ref.shape
    np.testing.assert_allclose(as_numpy(y), ref, rtol=1e-10, atol=1e-10)
    # cols is the im2col buffer of x: (N*OH*OW, kh*kw*C)
    assert cols.shape == (ref.shape[0] * ref.shape[2] * ref.shape[3], cfg["k"][0] * cfg["k"][1] * cfg["C"])


@fixture_ok
@given(cfg=transpose_configs())
def test_conv_transpose2d_forward_matches_reference(cfg, device):
    x, w, b = transpose_data(cfg)
    s, p, d = hp(cfg)
    op = cfg["output_padding"]
    y = conv_transpose2d_forward(dev(x, device), dev(w, device), dev(b, device), s, p, op, d)
    ref = conv_transpose2d_reference(x, w, b, s, p, op, d)
    assert y.shape == ref.shape
    np.testing.assert_allclose(as_numpy(y), ref, rtol=1e-10, atol=1e-10)


def test_power_of_two_planes_match_reference():
    """8x8 planes take the cache-friendly transposing copy in to_channels_last."""
    rng = np.random.default_rng(1)
    x, w, b = rng.standard_normal((2, 3, 8, 8)), rng.standard_normal((4, 3, 4, 4)), rng.standard_normal(4)
    y, _ = conv2d_forward(x, w, b, (2, 2), (1, 1), (1, 1))
    np.testing.assert_allclose(y, conv2d_reference(x, w, b, (2, 2), (1, 1), (1, 1)), rtol=1e-10, atol=1e-10)
    wt = rng.standard_normal((3, 4, 4, 4))
    y = conv_transpose2d_forward(x, wt, b, (2, 2), (1, 1), (0, 0), (1, 1))
    ref = conv_transpose2d_reference(x, wt, b, (2, 2), (1, 1), (0, 0), (1, 1))
    np.testing.assert_allclose(y, ref, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize(
    "H,k,stride,padding,output_padding",
    [
        (7, 4, 2, 1, 0),  # dcgan28 G: 7x7 -> 14x14 (central taps write whole phase blocks)
        (7, 4, 2, 1, 1),  # odd output: the phase grid is cropped
        (5, 3, 2, 1, 0),  # kernel not a multiple of the stride
        (1, 4, 1, 0, 0),  # dcgan64's first layer: 1x1 -> 4x4
        (4, 4, 3, 2, 2),  # stride 3, output padding
    ],
)
def test_dcgan_shaped_transpose_and_input_grad_match_reference(H, k, stride, padding, output_padding):
    """The phase-grid col2im behind conv_transpose2d's forward and conv2d's input gradient."""
    rng = np.random.default_rng(H * 100 + k * 10 + stride)
    s, p, op, d = (stride, stride), (padding, padding), (output_padding, output_padding), (1, 1)
    x, w, b = rng.standard_normal((2, 5, H, H)), rng.standard_normal((5, 3, k, k)), rng.standard_normal(3)
    y = conv_transpose2d_forward(x, w, b, s, p, op, d)
    np.testing.assert_allclose(y, conv_transpose2d_reference(x, w, b, s, p, op, d), rtol=1e-10, atol=1e-10)
    # conv2d's input gradient from the conv whose output has x's shape is the same scatter without bias
    gy = rng.standard_normal(x.shape)
    gx, _, _ = conv2d_backward(gy, y.shape, w, None, s, p, d, need_w=False, need_b=False)
    np.testing.assert_allclose(gx, conv_transpose2d_reference(gy, w, None, s, p, op, d), rtol=1e-10, atol=1e-10)


# ----------------------------------------------------------------- gradients vs finite differences


@pytest.mark.parametrize("k,stride", [((4, 4), (1, 1)), ((3, 2), (2, 3))])
def test_one_window_layers_match_reference_and_finite_differences(k, stride, device):
    """A kernel covering the whole unpadded image (DCGAN's 4x4 -> 1x1 and 1x1 -> 4x4 layers) takes the
    matrix-product path: forward against the loops, every gradient against central differences."""
    rng = np.random.default_rng(k[0] * 10 + k[1])
    s, p, d = stride, (0, 0), (1, 1)
    x = rng.standard_normal((2, 3) + k + (2,))[..., 0]  # a strided, non-contiguous input
    w, b = rng.standard_normal((4, 3) + k), rng.standard_normal(4)
    y, cols = conv2d_forward(dev(x, device), dev(w, device), dev(b, device), s, p, d)
    assert y.shape == (2, 4, 1, 1)
    np.testing.assert_allclose(as_numpy(y), conv2d_reference(x, w, b, s, p, d), rtol=1e-10, atol=1e-10)
    cot = rng.standard_normal(y.shape)
    got = conv2d_backward(dev(cot, device), x.shape, dev(w, device), cols, s, p, d)
    loss = lambda: float(np.sum(conv2d_reference(x, w, b, s, p, d) * cot))  # noqa: E731
    for g, arr in zip(got, (x, w, b)):
        np.testing.assert_allclose(as_numpy(g), numeric_grad(loss, arr), rtol=1e-6, atol=1e-7)

    xt, wt = rng.standard_normal((2, 4, 1, 1)), rng.standard_normal((4, 3) + k)
    y = conv_transpose2d_forward(dev(xt, device), dev(wt, device), dev(b[:3], device), s, p, (0, 0), d)
    ref = conv_transpose2d_reference(xt, wt, b[:3], s, p, (0, 0), d)
    assert y.shape == (2, 3) + k
    np.testing.assert_allclose(as_numpy(y), ref, rtol=1e-10, atol=1e-10)
    cot = rng.standard_normal(y.shape)
    got = conv_transpose2d_backward(dev(cot, device), dev(xt, device), dev(wt, device), s, p, (0, 0), d)
    bt = b[:3].copy()
    loss = lambda: float(np.sum(conv_transpose2d_reference(xt, wt, bt, s, p, (0, 0), d) * cot))  # noqa: E731
    for g, arr in zip(got, (xt, wt, bt)):
        np.testing.assert_allclose(as_numpy(g), numeric_grad(loss, arr), rtol=1e-6, atol=1e-7)


def numeric_grad(f, a, eps=1e-6):
    """Central differences of the scalar f() w.r.t. every entry of ``a`` (changed in place)."""
    g = np.zeros_like(a)
    for idx in np.ndindex(a.shape):
        old = a[idx]
        a[idx] = old + eps
        fp = f()
        a[idx] = old - eps
        fm = f()
        a[idx] = old
        g[idx] = (fp - fm) / (2 * eps)
    return g


def _with_bias(cfg, data):
    """(x, w, b, stride, padding, dilation) of ``cfg`` with a bias."""
    cfg["bias"] = True
    return (*data(cfg), *hp(cfg))


def _cotangent(cfg, shape):
    """The seeded output gradient of a backward check: loss = <y, cotangent>."""
    return np.random.default_rng(cfg["seed"] + 1).standard_normal(shape)


@fixture_ok
@given(cfg=conv_configs(max_side=5))
def test_conv2d_backward_matches_finite_differences(cfg, device):
    x, w, b, s, p, d = _with_bias(cfg, conv_data)
    y, cols = conv2d_forward(dev(x, device), dev(w, device), dev(b, device), s, p, d)
    cot = _cotangent(cfg, y.shape)
    gx, gw, gb = conv2d_backward(dev(cot, device), x.shape, dev(w, device), cols, s, p, d)

    def loss():  # <y, cot>, evaluated with the NumPy kernels
        return float(np.sum(conv2d_forward(x, w, b, s, p, d)[0] * cot))

    for got, arr in ((gx, x), (gw, w), (gb, b)):
        np.testing.assert_allclose(as_numpy(got), numeric_grad(loss, arr), rtol=1e-6, atol=1e-7)


@fixture_ok
@given(cfg=transpose_configs(max_side=4))
def test_conv_transpose2d_backward_matches_finite_differences(cfg, device):
    x, w, b, s, p, d = _with_bias(cfg, transpose_data)
    op = cfg["output_padding"]
    y = conv_transpose2d_forward(x, w, b, s, p, op, d)
    cot = _cotangent(cfg, y.shape)
    gx, gw, gb = conv_transpose2d_backward(
        dev(cot, device), dev(x, device), dev(w, device), s, p, op, d, True, True, True
    )

    def loss():
        return float(np.sum(conv_transpose2d_forward(x, w, b, s, p, op, d) * cot))

    for got, arr in ((gx, x), (gw, w), (gb, b)):
        np.testing.assert_allclose(as_numpy(got), numeric_grad(loss, arr), rtol=1e-6, atol=1e-7)


def test_backward_returns_none_for_grads_not_needed():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 3, 6, 5)), rng.standard_normal((4, 3, 3, 2))
    y, cols = conv2d_forward(x, w, None, (1, 2), (1, 0), (1, 1))
    gy = rng.standard_normal(y.shape)
    full = conv2d_backward(gy, x.shape, w, cols, (1, 2), (1, 0), (1, 1))
    gx, gw, gb = conv2d_backward(gy, x.shape, w, None, (1, 2), (1, 0), (1, 1), need_w=False, need_b=False)
    assert gw is None and gb is None
    np.testing.assert_array_equal(gx, full[0])
    gx, gw, gb = conv2d_backward(gy, x.shape, w, cols, (1, 2), (1, 0), (1, 1), need_x=False)
    assert gx is None
    np.testing.assert_array_equal(gw, full[1])
    wt = rng.standard_normal((3, 4, 3, 3))
    gy = rng.standard_normal(conv_transpose2d_forward(x, wt, None, (2, 2), (1, 1), (1, 0), (1, 1)).shape)
    gx, gw, gb = conv_transpose2d_backward(gy, x, wt, (2, 2), (1, 1), (1, 0), (1, 1), False, True, False)
    assert gx is None and gb is None and gw.shape == wt.shape


# ----------------------------------------------------------------- identities


@fixture_ok
@given(cfg=conv_configs())
def test_conv2d_input_grad_is_conv_transpose2d_forward(cfg, device):
    x, w, _ = conv_data(cfg)
    s, p, d = hp(cfg)
    y, cols = conv2d_forward(dev(x, device), dev(w, device), None, s, p, d)
    gy = np.random.default_rng(cfg["seed"] + 1).standard_normal(y.shape)
    gx, _, _ = conv2d_backward(dev(gy, device), x.shape, dev(w, device), cols, s, p, d, need_w=False, need_b=False)
    # the rows and columns that conv2d's floor dropped come back as output_padding
    op = tuple(
        n - conv_transpose_output_size(o, k, si, pi, 0, di)
        for n, o, k, si, pi, di in zip(x.shape[2:], y.shape[2:], cfg["k"], s, p, d)
    )
    yt = conv_transpose2d_forward(dev(gy, device), dev(w, device), None, s, p, op, d)
    assert yt.shape == x.shape
    np.testing.assert_allclose(as_numpy(gx), as_numpy(yt), rtol=1e-12, atol=1e-12)


@fixture_ok
@given(cfg=conv_configs())
def test_col2im_is_adjoint_of_im2col(cfg, device):
    """<im2col(x), c> == <x, col2im(c)> for random x and c."""
    x, _, _ = conv_data(cfg)
    hparams = (cfg["k"],) + hp(cfg)
    cols = im2col(dev(x, device), *hparams)
    c = np.random.default_rng(cfg["seed"] + 1).standard_normal(cols.shape)
    back = col2im(dev(c, device), x.shape, *hparams)
    assert back.shape == x.shape
    lhs = float(np.sum(as_numpy(cols) * c))
    rhs = float(np.sum(x * as_numpy(back)))
    np.testing.assert_allclose(lhs, rhs, rtol=1e-10, atol=1e-10)


def test_im2col_layout():
    """Documented layout: cols[(n, oh, ow), (i, j, c)] = x_padded[n, c, oh*s + i*d, ow*s + j*d]."""
    x = np.arange(2 * 2 * 4 * 5, dtype=np.float64).reshape(2, 2, 4, 5) + 1
    k, s, p, d = (2, 3), (2, 1), (1, 0), (1, 2)
    cols = im2col(x, k, s, p, d)
    xp_ = np.pad(x, ((0, 0), (0, 0), (1, 1), (0, 0)))
    OH, OW = conv_output_size(4, 2, 2, 1, 1), conv_output_size(5, 3, 1, 0, 2)
    ref = np.zeros((2, OH, OW, 2, 3, 2))
    for n in range(2):
        for oh in range(OH):
            for ow in range(OW):
                for i in range(2):
                    for j in range(3):
                        for c in range(2):
                            ref[n, oh, ow, i, j, c] = xp_[n, c, oh * 2 + i, ow + j * 2]
    np.testing.assert_array_equal(cols, ref.reshape(2 * OH * OW, 6 * 2))


# ----------------------------------------------------------------- dtypes


def test_float32_stays_float32(device):
    rng = np.random.default_rng(0)
    x = dev(rng.standard_normal((2, 3, 8, 8)).astype(np.float32), device)
    w = dev(rng.standard_normal((4, 3, 4, 4)).astype(np.float32), device)
    b = dev(rng.standard_normal(4).astype(np.float32), device)
    y, cols = conv2d_forward(x, w, b, (2, 2), (1, 1), (1, 1))
    assert y.dtype == cols.dtype == np.float32
    grads = conv2d_backward(y, x.shape, w, cols, (2, 2), (1, 1), (1, 1))
    assert all(g.dtype == np.float32 for g in grads)
    wt = dev(rng.standard_normal((3, 4, 4, 4)).astype(np.float32), device)
    yt = conv_transpose2d_forward(x, wt, b, (2, 2), (1, 1), (0, 0), (1, 1))
    assert yt.dtype == np.float32 and yt.shape == (2, 4, 16, 16)
    grads = conv_transpose2d_backward(yt, x, wt, (2, 2), (1, 1), (0, 0), (1, 1), True, True, True)
    assert all(g.dtype == np.float32 for g in grads)


# ----------------------------------------------------------------- errors


def test_col2im_checks_its_cols():
    """col2im is called on its own (not behind F.conv2d's checks): it names a cols / x_shape mismatch."""
    with pytest.raises(ValueError, match="col2im"):
        col2im(np.zeros((8, 18)), (1, 2, 5, 5), (3, 3), (1, 1), (0, 0), (1, 1))


@pytest.mark.parametrize("stride,in_hw", [((2, 2), (14, 14)), ((2, 2), (13, 15)), ((3, 2), (7, 6)), ((1, 1), (4, 5))])
@pytest.mark.parametrize("with_bias", [False, True])
def test_phase_grid_to_nchw_is_the_pixel_interleave(stride, in_hw, with_bias, device):
    """Pixel (m*sh + r, l*sw + t) of the image is acc[r, t, :, m, l] (+ bias), rows past the image cropped."""
    rng = np.random.default_rng(sum(in_hw))
    (sh, sw), (H, W), N, C = stride, in_hw, 2, 3
    acc = rng.standard_normal((sh, sw, N, -(-H // sh), -(-W // sw), C)).astype(np.float32)
    bias = rng.standard_normal(C).astype(np.float32) if with_bias else None
    expected = np.empty((N, C, H, W), np.float32)
    for h in range(H):
        for v in range(W):
            expected[:, :, h, v] = acc[h % sh, v % sw, :, h // sh, v // sw, :]
            if with_bias:
                expected[:, :, h, v] += bias
    out = phase_grid_to_nchw(dev(acc, device), (H, W), dev(bias, device))
    np.testing.assert_array_equal(as_numpy(out), expected)
