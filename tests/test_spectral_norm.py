"""nn.utils.spectral_norm and remove_spectral_norm: the weight against W / sigma_max from an SVD after enough power
iterations, one power iteration against its formula, the gradient w.r.t. weight_orig against central differences with
u and v fixed, second order (gradgradcheck, a gradient penalty), state_dict keys and a bit-for-bit resume, eval mode,
removal and the error messages."""

import numpy as np
import pytest
from helpers import leaf, second_order

import minigrad as mg
from minigrad import nn
from minigrad.nn.utils import remove_spectral_norm, spectral_norm

# (layer, input shape, the weight axis that is the matrix's rows: dim 1 for ConvTranspose2d's (C_in, C_out, kh, kw))
LAYERS = {
    "linear": (lambda device: nn.Linear(5, 4, device=device, dtype=mg.float64), (3, 5), 0),
    "conv2d": (lambda device: nn.Conv2d(2, 3, 2, device=device, dtype=mg.float64), (2, 2, 3, 3), 0),
    "conv_transpose2d": (lambda device: nn.ConvTranspose2d(3, 2, 2, device=device, dtype=mg.float64), (2, 3, 2, 2), 1),
}


def as_matrix(w, dim):
    return np.moveaxis(w, dim, 0).reshape(w.shape[dim], -1)


def sigma_max(w, dim):
    return np.linalg.svd(as_matrix(w, dim), compute_uv=False)[0]


def normalize(a):
    return a / np.linalg.norm(a)


def sn_layer(name, device, **kwargs):
    make, in_shape, dim = LAYERS[name]
    m = spectral_norm(make(device), **kwargs)
    return m, leaf(np.random.default_rng(1).standard_normal(in_shape), device, requires_grad=False), dim


@pytest.mark.parametrize("name", list(LAYERS))
@pytest.mark.parametrize("per_call, calls", [(1, 50), (50, 1)])
def test_weight_converges_to_w_over_sigma_max(device, name, per_call, calls):
    m, x, dim = sn_layer(name, device, n_power_iterations=per_call)
    for _ in range(calls):
        m(x)
    w = m.weight_orig.numpy()
    np.testing.assert_allclose(m.weight.detach().numpy(), w / sigma_max(w, dim), rtol=1e-8)
    np.testing.assert_allclose(np.linalg.svd(as_matrix(m.weight.detach().numpy(), dim), compute_uv=False)[0], 1.0)
    # u is the top left singular vector (up to sign)
    top = np.linalg.svd(as_matrix(w, dim))[0][:, 0]
    np.testing.assert_allclose(np.abs(m.weight_u.numpy() @ top), 1.0, rtol=1e-8)
    if dim != 0:  # the default dim matters: the other reshape has another largest singular value
        assert abs(sigma_max(w, 0) - sigma_max(w, dim)) > 1e-3


def test_one_power_iteration_and_eval_mode(device):
    m, x, _ = sn_layer("linear", device)
    w = m.weight_orig.numpy()
    u0, v0 = m.weight_u.numpy().copy(), m.weight_v.numpy().copy()
    np.testing.assert_allclose(np.linalg.norm(u0), 1.0)
    np.testing.assert_allclose(np.linalg.norm(v0), 1.0)
    m(x)  # training: v = normalize(W^T u), u = normalize(W v), then sigma = u^T W v
    v1 = normalize(w.T @ u0)
    u1 = normalize(w @ v1)
    np.testing.assert_allclose(m.weight_v.numpy(), v1, rtol=1e-12)
    np.testing.assert_allclose(m.weight_u.numpy(), u1, rtol=1e-12)
    np.testing.assert_allclose(m.weight.detach().numpy(), w / (u1 @ w @ v1), rtol=1e-12)

    m.eval()
    w_before = m.weight.detach().numpy()
    u_trained, v_trained = m.weight_u.numpy().copy(), m.weight_v.numpy().copy()
    m.weight_orig.data *= 2  # eval reads the stored u and v as they are: sigma doubles, the weight stays
    y = m(x)
    np.testing.assert_array_equal(m.weight_u.numpy(), u_trained)  # no iteration in eval mode
    np.testing.assert_array_equal(m.weight_v.numpy(), v_trained)
    np.testing.assert_allclose(m.weight.detach().numpy(), w_before, rtol=1e-12)
    np.testing.assert_allclose(y.numpy(), x.numpy() @ w_before.T + m.bias.numpy(), rtol=1e-12)


def central_differences(f, w, eps=1e-6):
    """d f() / d w for a scalar function f of the array w (perturbed in place), by central differences."""
    out = np.zeros(w.shape)
    for idx in np.ndindex(*w.shape):
        orig = float(w[idx])
        w[idx] = orig + eps
        plus = float(f().item())
        w[idx] = orig - eps
        minus = float(f().item())
        w[idx] = orig
        out[idx] = (plus - minus) / (2 * eps)
    return out


@pytest.mark.parametrize("name", list(LAYERS))
def test_gradient_wrt_weight_orig_against_finite_differences(device, name):
    m, x, _ = sn_layer(name, device)
    m(x)
    m(x)
    c = np.random.default_rng(2).standard_normal(m(x).shape)
    # training forward: one more power iteration, then the gradient with the new u and v as constants
    (m(x) * mg.tensor(c, device=device)).sum().backward()
    analytic = m.weight_orig.grad.numpy()
    m.eval()  # u and v as the last training forward left them
    numeric = central_differences(lambda: (m(x) * mg.tensor(c, device=device)).sum(), m.weight_orig.data)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)


def test_second_order_through_a_spectral_norm_linear(device):
    m = spectral_norm(nn.Linear(3, 2, device=device, dtype=mg.float64))
    x = leaf(np.random.default_rng(3).standard_normal((2, 3)), device)
    m(x)
    m.eval()  # u and v fixed: the function of (x, weight_orig, bias) that gradgradcheck perturbs
    second_order(lambda t, w, b: m(t).tanh(), [x, m.weight_orig, m.bias])


def test_gradient_penalty_in_training_mode(device):
    """A WGAN-GP step: the critic called twice in training mode (two power iterations, the buffers written in place
    in between), then a penalty on grad_x of one call, differentiated w.r.t. weight_orig: against central
    differences of the same penalty with the second call's u and v fixed."""
    m = spectral_norm(nn.Linear(3, 2, device=device, dtype=mg.float64))
    rng = np.random.default_rng(4)
    real, x = leaf(rng.standard_normal((2, 3)), device, requires_grad=False), leaf(rng.standard_normal((2, 3)), device)

    def penalty():
        (gx,) = mg.autograd.grad(m(x).tanh().sum(), [x], create_graph=True)
        return (gx * gx).sum()

    critic_real = m(real).sum()
    u1, v1 = m.weight_u.numpy().copy(), m.weight_v.numpy().copy()
    pen = penalty()
    assert not np.array_equal(m.weight_u.numpy(), u1)
    (critic_real + pen).backward()
    analytic = m.weight_orig.grad.numpy()
    m.eval()
    numeric = central_differences(penalty, m.weight_orig.data)  # with the second call's u and v
    with mg.no_grad():
        m.weight_u.copy_(u1)
        m.weight_v.copy_(v1)
    numeric += central_differences(lambda: m(real).sum(), m.weight_orig.data)  # with the first call's
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)


def test_state_dict_keys_and_buffers():
    lin = spectral_norm(nn.Linear(4, 3))
    assert list(lin.state_dict()) == ["bias", "weight_orig", "weight_u", "weight_v"]
    assert [n for n, _ in lin.named_parameters()] == ["bias", "weight_orig"]
    assert lin.weight_u.shape == (3,) and lin.weight_v.shape == (4,)
    assert lin.weight_u.dtype == np.float32 and not lin.weight_u.requires_grad
    # until the first forward, `weight` is weight_orig's memory (initialisers write through it, as in PyTorch)
    assert np.shares_memory(lin.weight.data, lin.weight_orig.data) and not isinstance(lin.weight, nn.Parameter)
    assert lin(mg.randn(2, 4)).dtype == np.float32
    conv_t = spectral_norm(nn.ConvTranspose2d(2, 5, 3))  # weight (2, 5, 3, 3): rows along dim 1
    assert conv_t.weight_u.shape == (5,) and conv_t.weight_v.shape == (18,)
    conv = spectral_norm(nn.Conv2d(2, 5, 3))
    assert conv.weight_u.shape == (5,) and conv.weight_v.shape == (18,)


def _critic():
    return nn.Sequential(spectral_norm(nn.Linear(3, 4)), nn.LeakyReLU(0.2), spectral_norm(nn.Linear(4, 1)))


def _train(model, steps, seed):
    opt = mg.optim.SGD(model.parameters(), lr=0.1)
    gen = np.random.default_rng(seed)
    for _ in range(steps):
        opt.zero_grad()
        (model(mg.tensor(gen.standard_normal((5, 3)), dtype=mg.float32)) ** 2).mean().backward()
        opt.step()


def test_state_dict_round_trip_resumes_bit_for_bit(tmp_path):
    mg.manual_seed(0)
    a = _critic()
    _train(a, 3, seed=10)
    mg.save(a.state_dict(), tmp_path / "critic.npz")
    mg.manual_seed(1)
    b = _critic()
    assert not np.array_equal(b[0].weight_u.numpy(), a[0].weight_u.numpy())
    b.load_state_dict(mg.load(tmp_path / "critic.npz"))
    _train(a, 2, seed=11)
    _train(b, 2, seed=11)
    sa, sb = a.state_dict(), b.state_dict()
    assert (
        list(sa)
        == list(sb)
        == [
            "0.bias",
            "0.weight_orig",
            "0.weight_u",
            "0.weight_v",
            "2.bias",
            "2.weight_orig",
            "2.weight_u",
            "2.weight_v",
        ]
    )
    for k in sa:
        np.testing.assert_array_equal(sa[k].numpy(), sb[k].numpy(), err_msg=k)


def test_remove_spectral_norm(device):
    m, x, _ = sn_layer("linear", device)
    m(x)
    expected = m.weight.detach().numpy()
    assert remove_spectral_norm(m) is m
    assert isinstance(m.weight, nn.Parameter) and m.weight.requires_grad
    assert list(m.state_dict()) == ["bias", "weight"]
    assert not hasattr(m, "weight_orig") and not hasattr(m, "weight_u")
    np.testing.assert_allclose(m.weight.numpy(), expected, rtol=1e-12)
    y = m(x)  # a plain Linear again: no hook rescales the weight
    np.testing.assert_array_equal(m.weight.numpy(), expected)
    np.testing.assert_allclose(y.numpy(), x.numpy() @ expected.T + m.bias.numpy(), rtol=1e-12)
    spectral_norm(m)  # and it can be applied again
    assert "weight_orig" in dict(m.named_parameters())


def test_errors():
    with pytest.raises(ValueError, match=r"spectral_norm \(Linear.weight2\): Linear has no parameter 'weight2'"):
        spectral_norm(nn.Linear(2, 2), name="weight2")
    with pytest.raises(ValueError, match=r"parameter 'bias' is None"):
        spectral_norm(nn.Linear(2, 2, bias=False), name="bias")
    m = spectral_norm(nn.Linear(2, 2))
    with pytest.raises(RuntimeError, match="cannot register two spectral_norm hooks on the same parameter 'weight'"):
        spectral_norm(m)
    with pytest.raises(ValueError, match="n_power_iterations must be positive, got 0"):
        spectral_norm(nn.Linear(2, 2), n_power_iterations=0)
    with pytest.raises(ValueError, match=r"dim 2 out of range for a weight of shape \(3, 2\)"):
        spectral_norm(nn.Linear(2, 3), dim=2)
    with pytest.raises(ValueError, match="remove_spectral_norm: spectral_norm of 'weight' not found in Linear"):
        remove_spectral_norm(nn.Linear(2, 2))
    with pytest.raises(TypeError, match="spectral_norm: expected a Module, got Tensor"):
        spectral_norm(mg.randn(2, 2))


@pytest.mark.parametrize("features", [(3, 0), (0, 3)])
def test_zero_size_weight_works_as_pytorch(device, features):
    """A (0, 3) or (3, 0) weight has no singular value: PyTorch's sigma is 0 and the weight stays empty, so
    Linear(3, 0) gives an empty output and Linear(0, 3) its bias."""
    m = spectral_norm(nn.Linear(*features)).double().to(device)
    x = leaf(np.ones((2, features[0])), device)
    y = m(x)
    assert tuple(y.shape) == (2, features[1])
    np.testing.assert_array_equal(y.detach().numpy(), np.broadcast_to(m.bias.detach().numpy(), (2, features[1])))
    y.sum().backward()
    assert tuple(m.weight_orig.grad.shape) == (features[1], features[0])
    assert tuple(x.grad.shape) == (2, features[0])
