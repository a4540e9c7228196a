"""End to end: small models built from minigrad.nn reach near-zero training loss.

If the layers' forward or backward were wrong, gradient descent would stall
far from zero; these are integration checks on top of the per-op gradchecks.
"""

import numpy as np

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn, optim


def quadrant_data(n=64, seed=0):
    """XOR of the signs of two coordinates, kept away from the axes (a nonlinear task)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.2, 1.0, size=(n, 2)) * rng.choice([-1.0, 1.0], size=(n, 2))
    y = (x[:, 0] * x[:, 1] > 0).astype(np.float32).reshape(n, 1)
    return mg.tensor(x, dtype=mg.float32), mg.tensor(y)


def test_mlp_fits_with_hand_written_sgd():
    # regression of y = sin(3 x1) x2 (variance ~0.2) with a hand-written momentum-SGD update
    rng = np.random.default_rng(0)
    xn = rng.uniform(-1, 1, size=(64, 2))
    x = mg.tensor(xn, dtype=mg.float32)
    target = mg.tensor(np.sin(3 * xn[:, :1]) * xn[:, 1:], dtype=mg.float32)
    model = nn.Sequential(nn.Linear(2, 32), nn.Tanh(), nn.Linear(32, 32), nn.LeakyReLU(0.2), nn.Linear(32, 1))
    velocity = [np.zeros_like(p.data) for p in model.parameters()]
    for _ in range(800):
        loss = F.mse_loss(model(x), target)
        model.zero_grad()
        loss.backward()
        for p, v in zip(model.parameters(), velocity):
            v *= 0.9
            v += p.grad.data
            p.data -= 0.1 * v
    assert loss.item() < 0.005
    assert all(p.dtype == np.float32 for p in model.parameters())


def _fit_with_adam(model, loss_fn, steps, lr=1e-2):
    """``steps`` Adam steps on ``loss_fn()``; returns the last loss."""
    opt = optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        loss = loss_fn()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return loss.item()


def test_mlp_fits_with_adam_and_bce_with_logits():
    x, y = quadrant_data(seed=1)
    model = nn.Sequential(
        nn.Linear(2, 32), nn.LeakyReLU(0.2), nn.Dropout(0.1), nn.Linear(32, 32), nn.LeakyReLU(0.2), nn.Linear(32, 1)
    )
    _fit_with_adam(model, lambda: F.binary_cross_entropy_with_logits(model(x), y), steps=300)
    model.eval()
    with mg.no_grad():
        final = F.binary_cross_entropy_with_logits(model(x), y).item()
        acc = ((model(x).numpy() > 0) == (y.numpy() > 0.5)).mean()
    assert final < 0.05 and acc == 1.0


def test_small_cnn_fits_a_batch():
    rng = np.random.default_rng(2)
    x = mg.tensor(rng.standard_normal((16, 1, 8, 8)), dtype=mg.float32)
    labels = mg.tensor(rng.integers(0, 4, size=16))  # memorise random labels
    model = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1),
        nn.BatchNorm2d(8),
        nn.LeakyReLU(0.2),
        nn.Conv2d(8, 8, 3, stride=2, padding=1),
        nn.BatchNorm2d(8),
        nn.LeakyReLU(0.2),
        nn.Flatten(),
        nn.Linear(8 * 4 * 4, 4),
    )
    assert _fit_with_adam(model, lambda: F.cross_entropy(model(x), labels), steps=60) < 0.05
    assert model[1].num_batches_tracked.item() == 60
