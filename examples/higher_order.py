"""Gradients of gradients: Newton's method, a Hessian-vector product, and the WGAN-GP gradient penalty.

    python examples/higher_order.py

``minigrad.autograd.grad(..., create_graph=True)`` returns gradients that are
themselves recorded in the graph, so they can be differentiated again:

1. Newton's method on f(x) = x^4 - 3 x^2 + x, with f'' from autograd.
2. A Hessian-vector product H v of an MLP loss (the gradient of <grad L, v>),
   checked against central differences of gradients, (g(w + eps v) - g(w - eps v)) / 2 eps.
3. The WGAN-GP penalty lambda (||grad_x D(x_hat)||_2 - 1)^2 of a small conv critic,
   and its gradient with respect to the critic's weights (a double backward
   through conv2d, LeakyReLU and Linear), checked by central differences on one weight.
"""

import numpy as np

import minigrad as mg
from minigrad import nn
from minigrad.autograd import grad

mg.manual_seed(0)

# 1. Newton's method: x <- x - f'(x) / f''(x)
print("1. Newton's method on f(x) = x^4 - 3x^2 + x")
x = mg.tensor(2.0, dtype=mg.float64, requires_grad=True)
for it in range(6):
    f = x**4 - 3 * x**2 + x
    (df,) = grad(f, x, create_graph=True)  # f'(x) = 4x^3 - 6x + 1, still in the graph
    (d2f,) = grad(df, x)  # f''(x) = 12x^2 - 6
    with mg.no_grad():
        x -= df / d2f
    print(f"   step {it + 1}: x = {x.item():.12f}   f'(x) = {df.item():+.3e}")
closed = 4 * x.item() ** 3 - 6 * x.item() + 1
assert abs(closed) < 1e-10, closed
print(f"   converged: f'(x) = {closed:.1e} by the closed form")

# 2. Hessian-vector product of an MLP loss
print("2. Hessian-vector product of an MLP loss")
net = nn.Sequential(nn.Linear(5, 16), nn.Tanh(), nn.Linear(16, 1)).double()
inputs, targets = mg.randn(32, 5, dtype=mg.float64), mg.randn(32, 1, dtype=mg.float64)
params = list(net.parameters())


def loss_fn():
    return ((net(inputs) - targets) ** 2).mean()


vs = [mg.randn(*p.shape, dtype=mg.float64) for p in params]
grads = grad(loss_fn(), params, create_graph=True)
dot = sum((g * v).sum() for g, v in zip(grads, vs))
hvp = grad(dot, params)  # H v, one double backward


def flat_grad():
    return np.concatenate([g.numpy().ravel() for g in grad(loss_fn(), params)])


eps = 1e-6
with mg.no_grad():
    for p, v in zip(params, vs):
        p += eps * v
g_plus = flat_grad()
with mg.no_grad():
    for p, v in zip(params, vs):
        p -= 2 * eps * v
g_minus = flat_grad()
with mg.no_grad():
    for p, v in zip(params, vs):
        p += eps * v
numeric = (g_plus - g_minus) / (2 * eps)
analytic = np.concatenate([h.numpy().ravel() for h in hvp])
rel = np.abs(analytic - numeric).max() / np.abs(numeric).max()
print(f"   |Hv| = {np.linalg.norm(analytic):.6f}, max relative difference to finite differences {rel:.1e}")
assert rel < 1e-6, rel

# 3. The WGAN-GP gradient penalty of a conv critic
print("3. WGAN-GP penalty of a small conv critic")
critic = nn.Sequential(
    nn.Conv2d(1, 4, 4, 2, 1),
    nn.LeakyReLU(0.2),
    nn.Conv2d(4, 8, 4, 2, 1),
    nn.LeakyReLU(0.2),
    nn.Flatten(),
    nn.Linear(8 * 2 * 2, 1),
).double()
real, fake = mg.randn(6, 1, 8, 8, dtype=mg.float64), mg.randn(6, 1, 8, 8, dtype=mg.float64)
alpha = mg.rand(6, 1, 1, 1, dtype=mg.float64)
x_hat = (alpha * real + (1 - alpha) * fake).requires_grad_()


def penalty(lam=10.0):
    score = critic(x_hat).sum()  # each sample's score depends on it alone
    (g,) = grad(score, x_hat, create_graph=True)  # d score / d x_hat, per sample
    norm = (g.reshape(6, -1) ** 2).sum(1).add(1e-12).sqrt()  # the 1e-12 keeps d norm finite at g = 0
    return lam * ((norm - 1) ** 2).mean()


gp = penalty()
critic.zero_grad()
gp.backward()  # through the gradient: a double backward
w = critic[0].weight
analytic = w.grad.numpy()[1, 0, 2, 3]


def penalty_at(delta):
    """The penalty with conv1.weight[1, 0, 2, 3] moved by delta (the penalty itself needs grad mode)."""
    with mg.no_grad():
        w[1, 0, 2, 3] += delta
    value = penalty().item()
    with mg.no_grad():
        w[1, 0, 2, 3] -= delta
    return value


numeric = (penalty_at(eps) - penalty_at(-eps)) / (2 * eps)
print(
    f"   penalty {gp.item():.6f}; d penalty / d conv1.weight[1,0,2,3]: analytic {analytic:.8f}, numeric {numeric:.8f}"
)
assert abs(analytic - numeric) < 1e-6 * max(1.0, abs(numeric)), (analytic, numeric)
print("all three checks passed")
