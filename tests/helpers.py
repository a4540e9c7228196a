"""Helpers shared by the tests: float64 leaves, the forward-plus-gradcheck check, the loss-case strategy, the
second-order check, the tiny training run's flags and the arrays of its checkpoint."""

import numpy as np
from hypothesis import strategies as st

import minigrad as mg
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
