"""Higher-order autograd, PyTorch's semantics: ``autograd.grad`` and ``backward(create_graph=True)``, checked
against closed forms and finite differences; the saved-value version rules; gradgradcheck's report."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.autograd import Function, grad, raw
from minigrad.testing import arrays

few = settings(max_examples=8, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def leaf(values, device):
    return mg.tensor(values, dtype=mg.float64, device=device, requires_grad=True)


def const(values, device):
    return mg.tensor(values, dtype=mg.float64, device=device)


# --- grad: what it returns and what it leaves alone ---------------------------------------------------------------


def test_grad_returns_a_tuple_and_leaves_grad_untouched(device):
    x, w = leaf([1.0, 2.0, -3.0], device), leaf([0.5, -1.0, 2.0], device)
    previous = const([7.0, 7.0, 7.0], device)
    x.grad = previous
    y = (x**3 * w).sum()
    result = grad(y, x)
    assert isinstance(result, tuple) and len(result) == 1
    np.testing.assert_allclose(result[0].numpy(), 3 * x.numpy() ** 2 * w.numpy())
    assert x.grad is previous and np.all(previous.numpy() == 7.0)  # .grad untouched
    assert w.grad is None  # nor another leaf of the graph
    gx, gw = grad((x**3 * w).sum(), [x, w])  # a list of inputs: a tuple, in order
    np.testing.assert_allclose(gw.numpy(), x.numpy() ** 3)


def test_allow_unused(device):
    x, z = leaf([1.0, 2.0], device), leaf([3.0], device)
    with pytest.raises(RuntimeError, match=r"grad: inputs\[1\] \(shape \(1,\)\) was not used .*allow_unused=True"):
        grad((x * x).sum(), [x, z])
    gx, gz = grad((x * x).sum(), [x, z], allow_unused=True)
    np.testing.assert_allclose(gx.numpy(), [2.0, 4.0])
    assert gz is None


def test_empty_inputs_are_refused_as_pytorch(device):
    x = leaf([1.0, 2.0], device)
    y = (x * x).sum()
    with pytest.raises(RuntimeError, match=r"`inputs` argument to `grad\(\)` cannot be empty"):
        grad(y, [])
    with pytest.raises(RuntimeError, match=r"`inputs` argument to `backward\(\)` cannot be empty"):
        y.backward(inputs=[])
    assert x.grad is None  # refused before anything ran
    y.backward(inputs=[x])  # the graph is still whole
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])


def test_no_accumulation_across_calls(device):
    x = leaf([1.0, -2.0], device)
    y = (x * x).sum()
    (g1,) = grad(y, x, retain_graph=True)
    (g2,) = grad(y, x)
    np.testing.assert_allclose(g1.numpy(), [2.0, -4.0])
    np.testing.assert_allclose(g2.numpy(), [2.0, -4.0])  # 2x again, not 4x
    assert x.grad is None


def test_create_graph_off_gives_constants_on_gives_differentiable_gradients(device):
    x = leaf([0.5, -1.5], device)
    (g,) = grad((x**3).sum(), x)
    assert not g.requires_grad and g.grad_fn is None
    (g,) = grad((x**3).sum(), x, create_graph=True)
    assert g.requires_grad and g.grad_fn is not None
    np.testing.assert_allclose(g.numpy(), 3 * x.numpy() ** 2)
    (gg,) = grad(g.sum(), x)
    np.testing.assert_allclose(gg.numpy(), 6 * x.numpy())
    assert not gg.requires_grad


def test_retain_graph_defaults_to_create_graph(device):
    x = leaf([0.5, -1.5], device)
    y = (x**3).sum()
    grad(y, x, create_graph=True)
    (g,) = grad(y, x)  # retained by create_graph=True
    np.testing.assert_allclose(g.numpy(), 3 * x.numpy() ** 2)
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        grad(y, x)  # the plain call freed it
    y = (x**3).sum()
    y.backward(create_graph=True)
    y.backward(create_graph=True)  # retained again: works, and accumulates
    np.testing.assert_allclose(x.grad.numpy(), 2 * 3 * x.numpy() ** 2)
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_create_graph_without_retain_graph_frees_the_first_graph(device):
    """As PyTorch: the new graph still reads the first one's saved values (exp's output), which are gone."""
    x = leaf([0.5, 1.0], device)
    (g,) = grad(x.exp().sum(), x, create_graph=True, retain_graph=False)
    with pytest.raises(RuntimeError, match="through Exp a second time"):
        grad(g.sum(), x)
    (g,) = grad((x**3).sum(), x, create_graph=True, retain_graph=False)  # reads only the leaf x: fine
    np.testing.assert_allclose(grad(g.sum(), x)[0].numpy(), 6 * x.numpy())


def test_backward_create_graph_puts_a_graph_in_grad(device):
    x = leaf([0.5, -1.5, 2.0], device)
    (x**3).sum().backward(create_graph=True)
    assert x.grad.requires_grad and x.grad.grad_fn is not None
    np.testing.assert_allclose(x.grad.numpy(), 3 * x.numpy() ** 2)
    (second,) = grad(x.grad.sum(), x)
    np.testing.assert_allclose(second.numpy(), 6 * x.numpy())


def test_grad_outputs_that_require_grad(device):
    x, u = leaf([1.0, -2.0, 3.0], device), leaf([0.5, 2.0, -1.0], device)
    (g,) = grad(x**2, x, grad_outputs=u, create_graph=True)  # u^T J = 2 x u
    np.testing.assert_allclose(g.numpy(), 2 * x.numpy() * u.numpy())
    gx, gu = grad(g.sum(), [x, u])
    np.testing.assert_allclose(gx.numpy(), 2 * u.numpy())
    np.testing.assert_allclose(gu.numpy(), 2 * x.numpy())
    (g,) = grad([x**2], [x], grad_outputs=[u], create_graph=True)  # lists work as tuples do
    np.testing.assert_allclose(grad(g.sum(), u)[0].numpy(), 2 * x.numpy())


def test_grad_with_respect_to_a_non_leaf(device):
    x = leaf([1.0, -2.0], device)
    h = x * 3
    y = (h**2).sum()
    gh, gx = grad(y, [h, x], retain_graph=True)
    np.testing.assert_allclose(gh.numpy(), 2 * h.numpy())
    np.testing.assert_allclose(gx.numpy(), 18 * x.numpy())
    (gh,) = grad(y, h, create_graph=True)  # 2 h = 6 x: d sum / dx = 6
    np.testing.assert_allclose(grad(gh.sum(), x)[0].numpy(), [6.0, 6.0])
    assert x.grad is None and h.grad is None


# --- third derivatives against closed forms ------------------------------------------------------------------------


def derivatives(f, x, n):
    """[f'(x), f''(x), ..., f^(n)(x)] elementwise, each the gradient of the sum of the one before."""
    out, y = [], f(x)
    for _ in range(n):
        (y,) = grad(y.sum(), x, create_graph=True)
        out.append(y.detach().numpy())
    return out


def _gauss(t):
    return (-(t * t) / 2).exp()


def _tanh_derivatives(x):
    s = np.tanh(x)
    return [1 - s**2, -2 * s * (1 - s**2), (6 * s**2 - 2) * (1 - s**2), (16 * s - 24 * s**3) * (1 - s**2)]


def _sigmoid_derivatives(x):
    s = 1 / (1 + np.exp(-x))
    d1 = s * (1 - s)
    return [d1, d1 * (1 - 2 * s), d1 * (1 - 6 * s + 6 * s**2), d1 * (1 - 2 * s) * (1 - 12 * s + 12 * s**2)]


CLOSED_FORMS = {
    # f, and [f', f'', f''', f''''] as functions of x
    "x**4": (lambda t: t**4, lambda x: [4 * x**3, 12 * x**2, 24 * x, 24 + 0 * x]),
    "exp(2x)": (lambda t: (2 * t).exp(), lambda x: [2**k * np.exp(2 * x) for k in (1, 2, 3, 4)]),
    # e^(-x^2/2): derivatives are (-1)^n He_n(x) e^(-x^2/2), He the probabilists' Hermite polynomials
    "gauss": (_gauss, lambda x: [g * np.exp(-(x**2) / 2) for g in (-x, x**2 - 1, 3 * x - x**3, x**4 - 6 * x**2 + 3)]),
    "tanh": (lambda t: t.tanh(), _tanh_derivatives),
    "sigmoid": (lambda t: t.sigmoid(), _sigmoid_derivatives),
    "log": (lambda t: t.log(), lambda x: [1 / x, -1 / x**2, 2 / x**3, -6 / x**4]),
}


@pytest.mark.parametrize("name", list(CLOSED_FORMS))
@few
@given(x=arrays(st.tuples(st.integers(1, 3)), low=-2.0, high=2.0))
def test_derivatives_up_to_fourth_order_match_closed_forms(device, name, x):
    f, closed = CLOSED_FORMS[name]
    if name == "log":
        x = np.abs(x) + 0.5
    got = derivatives(f, leaf(x, device), 4)
    for order, (g, want) in enumerate(zip(got, closed(x)), start=1):
        np.testing.assert_allclose(g, want, rtol=1e-9, atol=1e-9, err_msg=f"{name}: derivative of order {order}")


# --- gradients constant in x: they stay in the graph with a zero derivative, as PyTorch's ------------------------

AWAY_FROM_KINKS = [-1.3, -0.4, 0.7, 1.6]  # no zeros, no ties, none at the clamp bounds +-0.5
PIECEWISE_LINEAR = {
    # f (summed before differentiating) and its first derivative, elementwise, as a function of x
    "relu": (F.relu, lambda x: (x > 0) * 1.0),
    "leaky_relu": (lambda t: F.leaky_relu(t, 0.2), lambda x: np.where(x > 0, 1.0, 0.2)),
    "leaky_relu_negative_slope": (lambda t: F.leaky_relu(t, -0.3), lambda x: np.where(x > 0, 1.0, -0.3)),
    "abs": (lambda t: t.abs(), np.sign),
    "clamp": (lambda t: t.clamp(-0.5, 0.5), lambda x: (np.abs(x) < 0.5) * 1.0),
    "maximum": (lambda t: mg.maximum(t, t * 0.5), lambda x: np.where(x > 0, 1.0, 0.5)),
    "minimum": (lambda t: mg.minimum(t, mg.tensor(0.0, dtype=t.dtype, device=t.device)), lambda x: (x < 0) * 1.0),
    "amax": (lambda t: t.reshape(2, 2).amax(dim=1), lambda x: np.array([0.0, 1.0, 0.0, 1.0])),
    "max_dim": (lambda t: t.reshape(2, 2).max(dim=0).values, lambda x: np.array([0.0, 0.0, 1.0, 1.0])),
    "min_all": (lambda t: t.min(), lambda x: np.array([1.0, 0.0, 0.0, 0.0])),
    "x**1": (lambda t: t**1, np.ones_like),
}


@pytest.mark.parametrize("name", list(PIECEWISE_LINEAR))
def test_second_derivative_of_a_piecewise_linear_op_is_zero_not_an_error(device, name):
    f, first = PIECEWISE_LINEAR[name]
    x = leaf(AWAY_FROM_KINKS, device)
    (g,) = grad(f(x).sum(), x, create_graph=True)
    np.testing.assert_array_equal(g.numpy(), first(np.array(AWAY_FROM_KINKS)))
    assert g.requires_grad  # as in PyTorch: the gradient reads x, so it is a function of x
    (h,) = grad(g.sum(), x)
    np.testing.assert_array_equal(h.numpy(), np.zeros(4))


def test_derivatives_of_a_polynomial_past_its_degree_are_zero(device):
    x = leaf(AWAY_FROM_KINKS + [0.0], device)
    got = derivatives(lambda t: t**3, x, 4)
    want = [3 * x.numpy() ** 2, 6 * x.numpy(), np.full(5, 6.0), np.zeros(5)]
    for order, (g, w) in enumerate(zip(got, want), start=1):
        np.testing.assert_allclose(g, w, rtol=1e-12, err_msg=f"x**3: derivative of order {order}")
    (d,) = grad((x**0).sum(), x)  # x^0 = 1 everywhere: dx = 0, also at x = 0 (not 0 * 0^-1 = nan)
    np.testing.assert_array_equal(d.numpy(), np.zeros(5))


def test_the_input_hessian_of_a_relu_network_is_zero(device):
    """f(x) = sum_i v . relu(W2 relu(W1 x_i + b1) + b2) and a Maxout layer on top: piecewise linear in x, so the
    input Hessian is 0 at every x off the kinks, while its input gradient depends on the weights."""
    rng = np.random.default_rng(4)
    mg.manual_seed(4)
    net = (
        mg.nn.Sequential(
            mg.nn.Linear(3, 5), mg.nn.ReLU(), mg.nn.Linear(5, 4), mg.nn.LeakyReLU(0.2), mg.nn.Maxout(4, 2, 3)
        )
        .double()
        .to(device)
    )
    x = leaf(rng.standard_normal((6, 3)), device)
    (g,) = grad(net(x).sum(), x, create_graph=True)
    assert g.requires_grad
    (hv,) = grad((g * const(rng.standard_normal((6, 3)), device)).sum(), x)  # a Hessian-vector product
    np.testing.assert_array_equal(hv.numpy(), np.zeros((6, 3)))
    eps = 1e-6  # the gradient itself against central differences
    numeric = np.zeros((6, 3))
    for i in np.ndindex(6, 3):
        d = np.zeros((6, 3))
        d[i] = eps
        with mg.no_grad():
            up, down = (net(const(x.numpy() + s * d, device)).sum().item() for s in (1, -1))
        numeric[i] = (up - down) / (2 * eps)
    np.testing.assert_allclose(g.detach().numpy(), numeric, rtol=1e-6, atol=1e-8)


THIRD_ORDER = {
    # f and its input shapes: layers whose recorded backward is built from other Functions
    "linear_tanh": (lambda x, w: F.linear(x, w).tanh(), [(2, 3), (2, 3)]),
    "conv2d": (lambda x, w: F.conv2d(x, w, stride=2, padding=1).tanh(), [(1, 1, 4, 4), (2, 1, 3, 3)]),
    "conv2d_one_window": (lambda x, w: F.conv2d(x, w).tanh(), [(2, 1, 2, 2), (2, 1, 2, 2)]),
    "conv_transpose2d": (
        lambda x, w: F.conv_transpose2d(x, w, output_padding=1, dilation=2).tanh(),
        [(1, 1, 2, 2), (1, 1, 2, 2)],
    ),
    "batch_norm": (lambda x, w: F.batch_norm(x, None, None, w, None, training=True).tanh(), [(3, 2), (2,)]),
    "cross_entropy": (lambda x: F.cross_entropy(x, mg.tensor([0, 2], device=x.device)), [(2, 3)]),
    "std": (lambda x: x.std(1), [(2, 3)]),
}


@pytest.mark.parametrize("name", list(THIRD_ORDER))
def test_third_derivatives_pass_gradgradcheck(device, name):
    """gradgradcheck of a gradient is a check of third derivatives."""
    f, shapes = THIRD_ORDER[name]
    rng = np.random.default_rng(0)
    xs = [leaf(rng.standard_normal(s), device) for s in shapes]
    if name == "batch_norm":
        xs[0] = leaf(np.array([[0.3, -1.2], [1.5, 0.2], [-0.7, 0.9]]), device)  # a spread in each channel

    def first_grad(*a):
        y = f(*a)
        return grad(y, list(a), const(np.random.default_rng(1).standard_normal(y.shape), device), create_graph=True)

    assert mg.gradgradcheck(first_grad, xs)


def test_create_graph_keeps_float32_at_every_order(device):
    """No Python-scalar or constant in a recorded backward widens float32: every tensor of the gradients' graph,
    and the second derivatives, are float32."""
    mg.manual_seed(0)
    x = mg.randn(2, 1, 6, 6, device=device, requires_grad=True)
    w = mg.randn(2, 1, 3, 3, device=device, requires_grad=True)
    gamma = mg.ones(2, device=device, requires_grad=True)
    h = F.batch_norm(F.conv2d(x, w, stride=2, padding=1), None, None, gamma, None, training=True)
    h = F.conv_transpose2d(F.leaky_relu(h, 0.2), mg.randn(2, 2, 2, 2, device=device), stride=2)
    h = F.linear(h.var(1).sigmoid().log_softmax(1), mg.randn(3, 6, device=device))
    y = (
        F.cross_entropy(h.reshape(-1, 3), mg.tensor([0, 1] * 6, device=device))
        + (h**2).mean().sqrt()
        + F.binary_cross_entropy_with_logits(h, mg.ones(h.shape, device=device) * 0.3)
        + F.binary_cross_entropy(h.sigmoid(), mg.ones(h.shape, device=device) * 0.2)
        + h.std()
        + (h.softplus() / 2.0).exp().mean()
        + h.sigmoid().pow(h.tanh()).sum()
        + mg.maximum(h, h * 0.5).sum()
    )
    grads = grad(y, [x, w, gamma], create_graph=True)
    seen, stack, widened = set(), list(grads), []
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        if t.dtype.kind == "f" and t.dtype != np.float32:
            widened.append((t.grad_fn.name if t.grad_fn else "leaf", t.dtype))
        if t.grad_fn is not None:
            stack.extend(t.grad_fn.inputs)
    assert len(seen) > 100 and widened == []
    second = grad(sum((g * g).sum() for g in grads), [x, w, gamma])
    assert all(g.dtype == np.float32 for g in second)


# --- Hessian-vector product and the WGAN-GP penalty -------------------------------------------------------------


def _mlp_loss(params, x, t):
    w1, b1, w2, b2 = params
    return F.mse_loss(F.linear(F.linear(x, w1, b1).tanh(), w2, b2), t)


def test_hessian_vector_product_of_an_mlp_loss_matches_finite_differences_of_gradients(device):
    rng = np.random.default_rng(1)
    x, t = const(rng.standard_normal((5, 3)), device), const(rng.standard_normal((5, 2)), device)
    arrays_ = [rng.standard_normal(s) * 0.7 for s in [(4, 3), (4,), (2, 4), (2,)]]
    params = [leaf(a, device) for a in arrays_]
    v = [rng.standard_normal(a.shape) for a in arrays_]
    g = grad(_mlp_loss(params, x, t), params, create_graph=True)
    gv = sum((gi * const(vi, device)).sum() for gi, vi in zip(g, v))
    hv = grad(gv, params)
    eps = 1e-6

    def grads_at(sign):
        shifted = [leaf(a + sign * eps * vi, device) for a, vi in zip(arrays_, v)]
        return [gi.numpy() for gi in grad(_mlp_loss(shifted, x, t), shifted)]

    numeric = [(p - m) / (2 * eps) for p, m in zip(grads_at(1), grads_at(-1))]
    for h, n in zip(hv, numeric):
        np.testing.assert_allclose(h.numpy(), n, rtol=1e-6, atol=1e-8)


def _critic(device):
    mg.manual_seed(3)
    return (
        mg.nn.Sequential(
            mg.nn.Conv2d(1, 2, 4, stride=2, padding=1),
            mg.nn.LeakyReLU(0.2),
            mg.nn.Conv2d(2, 1, 4),  # 4x4 -> 1x1: the one-window conv of a DCGAN critic
        )
        .double()
        .to(device)
    )


def _gradient_penalty(critic, x_hat, create_graph):
    """(||grad_x D(x_hat)|| - 1)^2, averaged over the batch (Gulrajani et al. 2017)."""
    (gx,) = grad(critic(x_hat).sum(), x_hat, create_graph=create_graph)
    norms = (gx.reshape(x_hat.shape[0], -1) ** 2).sum(axis=1).sqrt()
    return ((norms - 1) ** 2).mean()


def test_wgan_gp_penalty_gradient_matches_central_differences(device):
    critic = _critic(device)
    x_hat = leaf(np.random.default_rng(2).standard_normal((2, 1, 8, 8)), device)
    params = list(critic.parameters())
    penalty = _gradient_penalty(critic, x_hat, create_graph=True)
    analytic = grad(penalty, params, allow_unused=True)  # the last bias moves D, not its x-gradient
    assert analytic[-1] is None
    eps = 1e-6
    for p, a in zip(params, analytic):
        flat = p.data.reshape(-1)
        numeric = np.zeros(flat.size)
        for j in range(flat.size):
            orig = float(flat[j])
            values = []
            for shift in (eps, -eps):
                flat[j] = orig + shift
                values.append(_gradient_penalty(critic, x_hat, create_graph=False).item())
            flat[j] = orig
            numeric[j] = (values[0] - values[1]) / (2 * eps)
        expected = np.zeros(p.shape) if a is None else a.numpy()
        np.testing.assert_allclose(expected.reshape(-1), numeric, rtol=1e-5, atol=1e-8)
    # through backward: the same numbers land in .grad
    _gradient_penalty(critic, x_hat, create_graph=True).backward()
    np.testing.assert_allclose(params[0].grad.numpy(), analytic[0].numpy(), rtol=1e-12)


# --- version counters: exactly what a Function saved is checked -----------------------------------------------------


@pytest.mark.parametrize(
    "name, f",
    [
        ("add", lambda x: (x + 1).sum()),
        ("sub_neg", lambda x: (-(x - 2)).sum()),
        ("shape", lambda x: mg.cat([x.reshape(3, 1)[1:], x.expand(2, 3).T[1:]], 1).sum()),
        ("exp", lambda x: x.exp().sum()),  # Exp saves its output, not its input
        ("tanh", lambda x: x.tanh().sum()),
    ],
)
def test_writing_an_input_that_was_not_saved_is_allowed(device, name, f):
    values = np.array([0.5, -1.0, 2.0])
    x = leaf(values, device)
    y = f(x)
    with mg.no_grad():
        x += 1
    y.backward()  # PyTorch runs it: the gradient does not read x
    ref = leaf(values, device)
    f(ref).backward()  # the same graph on the original values
    np.testing.assert_allclose(x.grad.numpy(), ref.grad.numpy())


@pytest.mark.parametrize(
    "f, op",
    [
        (lambda x: (x * x).sum(), "Mul"),
        (lambda x: x.log().sum(), "Log"),
        (lambda x: (x**3).sum(), "PowScalar"),
        (lambda x: x @ x, "MatMul"),
    ],
)
def test_writing_a_saved_input_is_refused_naming_the_op_and_the_input(device, f, op):
    x = leaf([0.5, 1.0, 2.0], device)
    y = f(x)
    with mg.no_grad():
        x += 1
    with pytest.raises(RuntimeError, match=rf"input 0 of {op} \(shape \(3,\), dtype float64\) was modified in place"):
        y.backward()
    y = f(x)  # create_graph walks the same check
    with mg.no_grad():
        x.mul_(2.0)
    with pytest.raises(RuntimeError, match=rf"input 0 of {op}"):
        grad(y, x, create_graph=True)


def test_writing_a_saved_output_is_refused(device):
    x = leaf([0.5, -1.0], device)
    y = x.exp()
    with mg.no_grad():
        y += 1
    with pytest.raises(RuntimeError, match=r"its output of Exp \(shape \(2,\).*modified in place"):
        y.sum().backward()


def test_batch_norm_running_statistics_bump_their_version(device):
    bn = mg.nn.BatchNorm1d(2).double().to(device)
    x = const(np.random.default_rng(0).standard_normal((4, 2)), device)
    buffers = [bn.running_mean, bn.running_var, bn.num_batches_tracked]

    def versions():
        return [b._version for b in buffers]

    v0 = versions()
    bn(x)  # training forward: updated in place
    v1 = versions()
    assert all(b > a for a, b in zip(v0, v1))
    bn.eval()
    bn(x)  # eval forward: read only
    assert versions() == v1
    bn.reset_running_stats()
    v2 = versions()
    assert all(b > a for a, b in zip(v1, v2))
    np.testing.assert_array_equal(bn.running_mean.numpy(), [0.0, 0.0])
    rm, rv = const([0.0, 0.0], device), const([1.0, 1.0], device)  # the functional form bumps them too
    F.batch_norm(x, rm, rv, training=True)
    assert rm._version > 0 and rv._version > 0


# --- gradgradcheck reports a wrong second derivative -----------------------------------------------------------


class _Cube(Function):
    """y = x^3; the subclasses' backward formulas are right at first order only."""

    def forward(self, x):
        self.save_for_backward(x)
        return x**3


class _CubeDetachedBackward(_Cube):
    """dx = 3 x^2 gy, but x read as a constant: its second derivative is lost."""

    def backward(self, gy):
        (x,) = self.saved_values
        return gy * (3 * raw(x) ** 2)


class _CubeDetachedGradOutput(_Cube):
    """A backward that reads gy as a constant: wrong in the grad_output direction only."""

    def backward(self, gy):
        (x,) = self.saved_values
        return raw(gy) * (3 * x * x)


def test_gradgradcheck_names_the_op_the_input_and_the_indices():
    x = leaf([0.5, -1.0, 2.0], "cpu")
    assert mg.gradcheck(lambda t: _CubeDetachedBackward()(t), [x])  # first order is right
    with pytest.raises(
        mg.GradcheckError,
        match=r"(?s)gradgradcheck failed for the first gradients of .*"
        r"\(output from _CubeDetachedBackward\): input 0 \(shape \(3,\)\).*"
        r"index \(\d,\): analytic",
    ):
        mg.gradgradcheck(lambda t: _CubeDetachedBackward()(t), [x])
    assert mg.gradgradcheck(lambda t: _CubeDetachedBackward()(t), [x], raise_exception=False) is False
    with pytest.raises(mg.GradcheckError, match=r"grad_output 0 \(shape \(3,\)\)"):
        mg.gradgradcheck(lambda t: _CubeDetachedGradOutput()(t), [x])
    assert mg.gradgradcheck(lambda t: t**3, [x])  # the library's own cube passes


def test_a_penalty_backward_does_not_walk_the_forward_graph_with_zeros(device):
    """The zero derivative of a piecewise-linear gradient goes where a grad() (or backward(inputs=...)) asks for it;
    an all-leaves backward, as a WGAN-GP or R1 step's, skips it, so it never backpropagates zeros through D's
    forward graph (2 extra conv backwards per step on a 2-conv critic)."""
    from minigrad.autograd import engine

    mg.manual_seed(0)
    critic = (
        mg.nn.Sequential(mg.nn.Conv2d(1, 2, 4, 2, 1), mg.nn.LeakyReLU(0.2), mg.nn.Conv2d(2, 1, 4), mg.nn.Flatten())
        .double()
        .to(device)
    )
    x = leaf(np.random.default_rng(0).standard_normal((3, 1, 8, 8)), device)
    (g,) = grad(critic(x).sum(), x, create_graph=True)
    penalty = (g * g).sum()
    visited = []
    engine._node_observers.append(lambda fn, out, gy, gxs: visited.append(fn.name))
    try:
        penalty.backward()
    finally:
        engine._node_observers.pop()
    assert "Conv2d" not in visited and "LeakyReLU" not in visited, visited  # only the gradient's graph
    assert all(p.grad is not None for p in critic.parameters() if p.ndim > 1)  # the weights got theirs
    h = x.detach().requires_grad_()
    (g,) = grad(F.leaky_relu(h, 0.2).sum(), h, create_graph=True)
    g.sum().backward(inputs=[h])  # asked for: the zero arrives
    np.testing.assert_array_equal(h.grad.numpy(), np.zeros(h.shape))
