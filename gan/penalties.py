"""Gradient penalties on the discriminator: they differentiate D's input gradient, so they need
``minigrad.autograd.grad(..., create_graph=True)`` (a gradient of a gradient).

* WGAN-GP (Gulrajani et al. 2017): on random interpolates x_hat = a x + (1 - a) G(z), a ~ U(0, 1) per sample,

      GP = lambda * mean_i (||grad_x D(x_hat_i)||_2 - 1)^2.

* R1 (Mescheder et al. 2018): on real images only,

      R1 = gamma / 2 * mean_i ||grad_x D(x_i)||_2^2.

Both are per-sample gradients: the sum of D's outputs over the batch has, as its gradient w.r.t. sample i,
sample i's own gradient, as long as D treats the samples independently (no BatchNorm in training mode).
"""

from __future__ import annotations

import minigrad
from minigrad.autograd import grad

# Added to the squared norm before the square root: the norm's gradient g / ||g|| stays finite at g = 0.
NORM_EPS = 1e-12


def input_gradient(outputs, inputs):
    """grad_x sum_i D(x)_i, differentiable again (create_graph): sample i's row is dD(x_i)/dx_i."""
    (g,) = grad(outputs.sum(), inputs, create_graph=True)
    return g


def per_sample_squared_norm(g):
    """||g_i||^2 over every axis but the first: shape (N,)."""
    return (g * g).reshape(g.shape[0], -1).sum(dim=1)


def interpolate(real, fake):
    """a real + (1 - a) fake with a ~ U(0, 1), one a per sample (drawn from minigrad's RNG); requires grad."""
    shape = (real.shape[0],) + (1,) * (real.ndim - 1)
    a = minigrad.rand(*shape, dtype=real.dtype, device=real.device)
    return (fake.detach() + a * (real.detach() - fake.detach())).detach().requires_grad_()


def gradient_penalty(D, real, fake, weight: float = 10.0):
    """WGAN-GP's weight * mean (||grad D(x_hat)|| - 1)^2 on interpolates of ``real`` and ``fake``.

    Returns (penalty, mean gradient norm); the penalty is differentiable w.r.t. D's parameters.
    """
    x_hat = interpolate(real, fake)
    g = input_gradient(D(x_hat), x_hat)
    norm = (per_sample_squared_norm(g) + NORM_EPS).sqrt()
    return weight * ((norm - 1.0) ** 2).mean(), norm.detach().mean()


def r1_penalty(real_out, real, gamma: float):
    """R1's gamma / 2 * mean ||grad_x D(x)||^2, from D's outputs ``real_out`` on ``real`` (which requires grad)."""
    return (0.5 * gamma) * per_sample_squared_norm(input_gradient(real_out, real)).mean()
