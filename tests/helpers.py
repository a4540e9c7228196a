"""Helpers shared by the tests: float64 leaves, the forward-plus-gradcheck check, the loss, linear and conv case
strategies, the second-order check, a normalisation's affine step, the tiny training run's flags and the arrays of
its checkpoint."""

import numpy as np
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.testing import arrays

# a tiny mlp run: width 0.1, 128 images in batches of 32, quiet (the tests add --data-dir, --outdir, ...)
TINY_TRAIN_FLAGS = ("--width", "0.1", "--batch-size", "32", "--limit", "128", "--quiet")


def run_arrays(run_dir) -> dict:
    """{"generator.NAME" / "discriminator.NAME": array} of a run's checkpoint (parameters and buffers)."""
    from gan.run.checkpoint import load_checkpoint

    state = load_checkpoint(run_dir)
    return {f"{who}.{k}": v.numpy() for who in ("generator", "discriminator") for k, v in state[who].items()}


def assert_same_arrays(a: dict, b: dict) -> None:
    """The two runs' arrays are the same names and the same bits."""
    assert a.keys() == b.keys()
    for key in a:
        assert np.array_equal(a[key], b[key]), key


def leaf(a, device, dtype=mg.float64, requires_grad=True):
    """A leaf tensor holding ``a`` on ``device`` (float64 by default, so gradcheck can use it)."""
    return mg.tensor(np.asarray(a), dtype=dtype, device=device, requires_grad=requires_grad)


def check(op, ref, inputs, device, rtol=1e-10):
    """op's forward equals the NumPy reference (values, shape, float64 dtype); its backward passes gradcheck."""
    xs = [leaf(a, device) for a in inputs]
    out = op(*xs)
    expected = np.asarray(ref(*inputs))
    assert out.device == device
    assert out.shape == expected.shape
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.numpy(), expected, rtol=rtol, atol=1e-12)
    assert mg.gradcheck(op, xs)


@st.composite
def loss_case(draw, low=-2.0, high=2.0):
    """(input, target, weight or None) for the pointwise losses; targets in [0.01, 0.99], so finite-difference
    steps stay inside [0, 1]."""
    shape = draw(st.tuples(st.integers(1, 3), st.integers(1, 3)))
    x = draw(arrays(shape, low=low, high=high))
    t = draw(arrays(shape, low=0.01, high=0.99))
    w = (
        draw(arrays(draw(st.sampled_from([shape, (shape[1],), (1, 1)])), low=0.2, high=2.0))
        if draw(st.booleans())
        else None
    )
    return x, t, w


def const(a, device):
    return mg.tensor(a, dtype=mg.float64, device=device)


def second_order(fn, xs):
    """fn's create_graph gradients equal its first-order ones (for one fixed cotangent), and pass gradgradcheck."""
    outs = fn(*xs)
    outs = outs if isinstance(outs, tuple) else (outs,)
    rng = np.random.default_rng(7)
    u = [rng.standard_normal(o.shape) for o in outs]
    device = xs[0].device
    plain = mg.autograd.grad(fn(*xs), xs, [const(a, device) for a in u])
    recorded = mg.autograd.grad(fn(*xs), xs, [leaf(a, device) for a in u], create_graph=True)
    for i, (p, r) in enumerate(zip(plain, recorded)):
        assert r.requires_grad, f"input {i}: the create_graph gradient carries no graph"
        assert r.shape == xs[i].shape and r.dtype == np.float64
        np.testing.assert_allclose(
            r.detach().numpy(),
            p.numpy(),
            rtol=1e-10,
            atol=1e-12,
            err_msg=f"input {i}: create_graph gradient differs from the first-order one",
        )
    assert mg.gradgradcheck(fn, xs)


@st.composite
def linear_case(draw, max_lead=3, max_features=4):
    """(x, weight, bias or None) of a linear layer: 0-2 leading dims of 1..max_lead, 1..max_features in and out."""
    lead = tuple(draw(st.lists(st.integers(1, max_lead), max_size=2)))
    n_in, n_out = draw(st.integers(1, max_features)), draw(st.integers(1, max_features))
    x, w = draw(arrays(lead + (n_in,))), draw(arrays((n_out, n_in)))
    return x, w, draw(arrays((n_out,))) if draw(st.booleans()) else None


@st.composite
def conv_case(draw, transpose=False, kernel=(3, 3), stride=3, padding=2, spread=3, channels=3):
    """(x, weight, bias or None, stride, padding, output_padding, dilation) of a conv2d (or conv_transpose2d):
    kernel sides up to ``kernel``, stride up to ``stride``, padding up to ``padding``, dilation 1..2, an
    output_padding below stride or dilation, and an input 0..``spread`` pixels above the smallest that gives a
    valid output; 1..``channels`` channels in and out."""
    k = draw(st.tuples(st.integers(1, kernel[0]), st.integers(1, kernel[1])))
    s = draw(st.tuples(st.integers(1, stride), st.integers(1, stride)))
    d = draw(st.tuples(st.integers(1, 2), st.integers(1, 2)))
    p = draw(st.tuples(st.integers(0, padding), st.integers(0, padding)))
    op = (0, 0)
    if transpose:
        op = tuple(draw(st.integers(0, max(s[i], d[i]) - 1)) for i in range(2))  # op >= stride when d > s
        # output size (H-1)s - 2p + d(k-1) + op + 1 must be >= 1
        lo = [max(1, -(-(2 * p[i] - d[i] * (k[i] - 1) - op[i]) // s[i]) + 1) for i in range(2)]
    else:
        lo = [max(1, d[i] * (k[i] - 1) + 1 - 2 * p[i]) for i in range(2)]
    hw = tuple(draw(st.integers(lo[i], lo[i] + spread)) for i in range(2))
    n, c_in, c_out = draw(st.integers(1, 2)), draw(st.integers(1, channels)), draw(st.integers(1, channels))
    x = draw(arrays((n, c_in) + hw))
    w = draw(arrays(((c_in, c_out) if transpose else (c_out, c_in)) + k))
    b = draw(arrays((c_out,))) if draw(st.booleans()) else None
    return x, w, b, s, p, op, d


def with_affine(y, w, b, shape):
    """y * w + b with the parameters reshaped to ``shape`` (a None parameter is left out): the affine step of a
    normalisation's reference."""
    if w is not None:
        y = y * w.reshape(shape)
    if b is not None:
        y = y + b.reshape(shape)
    return y


@st.composite
def class_case(draw, max_n=4, max_classes=4):
    """(logits (n, c), integer targets with one ignored (-100) sample when n > 1 at random, class weight or None)."""
    n, c = draw(st.integers(1, max_n)), draw(st.integers(2, max_classes))
    x = draw(arrays((n, c), low=-3, high=3))
    t = np.array(draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)), dtype=np.int64)
    w = draw(arrays((c,), low=0.2, high=2.0)) if draw(st.booleans()) else None
    if draw(st.booleans()) and n > 1:
        t[0] = -100  # one ignored sample
    return x, t, w


def bce_call(p, t, w, device, reduction):
    """(fn, leaves): F.binary_cross_entropy as a function of the leaves of p, t and the weight (None: left out)."""
    args = [leaf(p, device), leaf(t, device)] + ([leaf(w, device)] if w is not None else [])

    def fn(*a):
        return F.binary_cross_entropy(a[0], a[1], a[2] if len(a) > 2 else None, reduction=reduction)

    return fn, args


def bce_with_logits_call(x, t, w, pw, device, reduction):
    """(fn, leaves): F.binary_cross_entropy_with_logits as a function of the leaves of x, t and the given weight
    and pos_weight (None: left out), for gradcheck."""
    args = [leaf(x, device), leaf(t, device)]
    args += [leaf(w, device)] if w is not None else []
    args += [leaf(pw, device)] if pw is not None else []

    def fn(*a):
        rest = list(a[2:])
        wt = rest.pop(0) if w is not None else None
        pwt = rest.pop(0) if pw is not None else None
        return F.binary_cross_entropy_with_logits(a[0], a[1], wt, reduction=reduction, pos_weight=pwt)

    return fn, args
