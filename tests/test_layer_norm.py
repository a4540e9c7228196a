"""nn.LayerNorm and F.layer_norm: forward against a per-sample NumPy loop, float64 gradcheck and gradgradcheck over
hypothesis-drawn shapes (affine, weight only, none), the module's parameters and repr, and the error messages."""

import numpy as np
import pytest
from helpers import leaf, second_order, with_affine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn
from minigrad.testing import arrays

# `device` is a constant string, so sharing it across hypothesis examples is safe
few = settings(max_examples=8, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def ln_ref(x, k, w, b, eps=1e-5):
    """Each sample (the last k dims) normalised on its own: (v - mean) / sqrt(mean((v - mean)^2) + eps)."""
    lead, norm = x.shape[: x.ndim - k], x.shape[x.ndim - k :]
    out = np.empty_like(x)
    for idx in np.ndindex(*lead):
        v = x[idx]
        mean = v.sum() / v.size
        var = ((v - mean) ** 2).sum() / v.size  # biased
        out[idx] = (v - mean) / np.sqrt(var + eps)
    return with_affine(out, w, b, norm)


@st.composite
def ln_case(draw):
    """(x, normalized_shape, weight or None, bias or None): 0-2 leading dims, 1-2 normalised dims of >= 2 values."""
    lead = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    norm = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=2).filter(lambda s: np.prod(s) >= 2)))
    # spread values apart: a near-zero variance makes finite differences meaningless
    x = draw(arrays(lead + norm, distinct=True, min_gap=0.1))
    affine = draw(st.sampled_from(["both", "weight", "none"]))
    w = draw(arrays(norm, low=0.5, high=2.0)) if affine != "none" else None
    b = draw(arrays(norm)) if affine == "both" else None
    return x, norm, w, b


def _ln(norm, w, b, **kwargs):
    """F.layer_norm as a function of (x, *the given parameters), for gradcheck."""

    def fn(x, *params):
        ps = list(params)
        wt = ps.pop(0) if w is not None else None
        bt = ps.pop(0) if b is not None else None
        return F.layer_norm(x, norm, wt, bt, **kwargs)

    return fn


def _args(x, w, b, device):
    return [leaf(x, device)] + [leaf(v, device) for v in (w, b) if v is not None]


@few
@given(case=ln_case())
def test_layer_norm_forward_and_gradcheck(device, case):
    x, norm, w, b = case
    fn = _ln(norm, w, b)
    args = _args(x, w, b, device)
    y = fn(*args)
    assert y.shape == x.shape and y.dtype == np.float64 and y.device == device
    np.testing.assert_allclose(y.numpy(), ln_ref(x, len(norm), w, b), rtol=1e-10, atol=1e-12)
    assert mg.gradcheck(fn, args)


@few
@given(case=ln_case())
def test_layer_norm_second_order(device, case):
    x, norm, w, b = case
    second_order(_ln(norm, w, b), _args(x, w, b, device))


def test_layer_norm_eps_and_int_normalized_shape(device):
    x = np.array([[0.0, 0.1, 0.3], [1.0, -1.0, 2.0]])
    y = F.layer_norm(leaf(x, device), 3, eps=0.5)  # an int is a 1-tuple; eps inside the square root
    np.testing.assert_allclose(y.numpy(), ln_ref(x, 1, None, None, eps=0.5), rtol=1e-12)
    assert mg.gradcheck(lambda t: F.layer_norm(t, [3], eps=0.5), [leaf(x, device)])


def test_layer_norm_float32_stays_float32(device):
    x = mg.randn(4, 5, device=device)
    m = nn.LayerNorm(5, device=device)
    y = m(x)
    assert y.dtype == np.float32 and m.weight.dtype == np.float32
    np.testing.assert_allclose(y.numpy(), ln_ref(x.numpy().astype(np.float64), 1, None, None), rtol=1e-5, atol=1e-5)


def test_module_parameters_state_dict_and_repr():
    m = nn.LayerNorm((2, 3))
    assert [n for n, _ in m.named_parameters()] == ["weight", "bias"]
    assert list(m.state_dict()) == ["weight", "bias"]
    np.testing.assert_array_equal(m.weight.numpy(), np.ones((2, 3), np.float32))
    np.testing.assert_array_equal(m.bias.numpy(), np.zeros((2, 3), np.float32))
    assert repr(m) == "LayerNorm((2, 3), eps=1e-05, elementwise_affine=True)"
    assert repr(nn.LayerNorm(4, eps=1e-3)) == "LayerNorm((4,), eps=0.001, elementwise_affine=True)"
    assert nn.LayerNorm(4).normalized_shape == (4,)

    no_bias = nn.LayerNorm(3, bias=False)
    assert no_bias.bias is None and list(no_bias.state_dict()) == ["weight"]

    plain = nn.LayerNorm(3, elementwise_affine=False)
    assert plain.weight is None and plain.bias is None
    assert list(plain.parameters()) == [] and list(plain.state_dict()) == []
    assert repr(plain) == "LayerNorm((3,), eps=1e-05, elementwise_affine=False)"


def test_module_forward_uses_its_parameters(device):
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((2, 4, 3)), rng.uniform(0.5, 2, 3), rng.standard_normal(3)
    m = nn.LayerNorm(3, eps=1e-3, device=device, dtype=mg.float64)
    m.load_state_dict({"weight": w, "bias": b})
    xt = leaf(x, device)
    m(xt).sum().backward()
    np.testing.assert_allclose(m(xt).numpy(), ln_ref(x, 1, w, b, eps=1e-3), rtol=1e-10)
    # the gradients of a sum: dbias = number of samples, dweight = sum of xhat (0 per sample, so 0 in total)
    np.testing.assert_allclose(m.bias.grad.numpy(), np.full(3, 8.0))
    np.testing.assert_allclose(m.weight.grad.numpy(), ln_ref(x, 1, None, None, 1e-3).sum(axis=(0, 1)), atol=1e-12)
    # eval changes nothing: no running statistics
    np.testing.assert_array_equal(m.eval()(xt).numpy(), m.train()(xt).numpy())


def test_errors():
    with pytest.raises(
        ValueError,
        match=r"layer_norm: normalized_shape \(4,\) expects input of shape \(\*, 4\), got input of shape \(2, 3\)",
    ):
        F.layer_norm(mg.randn(2, 3), 4)
    with pytest.raises(
        ValueError, match=r"normalized_shape \(2, 3\) expects input of shape \(\*, 2, 3\), got input of shape \(3,\)"
    ):
        F.layer_norm(mg.randn(3), (2, 3))
    with pytest.raises(ValueError, match=r"expects input of shape \(\*, 3\), got input of shape \(5, 4\)"):
        nn.LayerNorm(3)(mg.randn(5, 4))
    with pytest.raises(ValueError, match=r"layer_norm: weight must have shape normalized_shape \(3,\), got \(2,\)"):
        F.layer_norm(mg.randn(2, 3), 3, weight=mg.ones(2))
    with pytest.raises(ValueError, match=r"layer_norm: bias dtype float64 differs from input dtype float32"):
        F.layer_norm(mg.randn(2, 3), 3, bias=mg.zeros(3, dtype=mg.float64))
    with pytest.raises(ValueError, match="normalized_shape must be non-empty"):
        nn.LayerNorm(())
    with pytest.raises(TypeError, match=r"LayerNorm: normalized_shape must be an int or a sequence of ints, got 2.5"):
        nn.LayerNorm(2.5)


def test_zero_size_normalized_shape_gives_an_empty_output_as_pytorch(device):
    x = mg.randn(2, 0, device=device, requires_grad=True)
    y = F.layer_norm(x, 0)
    assert tuple(y.shape) == (2, 0)
    y.sum().backward()
    assert tuple(x.grad.shape) == (2, 0)
    m = nn.LayerNorm([3, 0]).to(device)
    x = mg.randn(4, 3, 0, device=device, requires_grad=True)
    y = m(x)
    assert tuple(y.shape) == (4, 3, 0) and y.dtype == mg.float32
    y.sum().backward()
    assert tuple(x.grad.shape) == (4, 3, 0) and tuple(m.weight.grad.shape) == (3, 0)
    assert tuple(m.bias.grad.shape) == (3, 0)
    assert tuple(F.layer_norm(mg.randn(0, 3, device=device), 3).shape) == (0, 3)  # no rows: fine too


@pytest.mark.parametrize("dtype", [mg.int64, mg.int32, mg.uint8, mg.bool_])
def test_non_floating_input_is_refused_as_pytorch(dtype):
    x = mg.tensor([[1, 0, 1]], dtype=dtype)
    with pytest.raises(ValueError, match=rf"layer_norm: input must be floating point, got dtype {np.dtype(dtype)}"):
        F.layer_norm(x, 3)
    with pytest.raises(ValueError, match="layer_norm: input must be floating point"):
        nn.LayerNorm(3)(x)
