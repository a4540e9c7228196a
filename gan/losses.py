"""The GAN losses on the discriminator's outputs l: logits (D(x) = sigmoid(l)) for the BCE game, where they are
stable, and unbounded critic values for the hinge and Wasserstein losses.

Small functions so tests can check their gradients against the formulas. ``d_loss_for`` and ``g_loss_for``
pick the pair that ``--loss`` names.
"""

from __future__ import annotations

import minigrad
import minigrad.nn.functional as F
from gan.config import CRITIC_LOSSES


def discriminator_loss(real_logits, fake_logits, real_target: float = 1.0, reduction: str = "sum"):
    """L_D = BCE(l_real, t) + BCE(l_fake, 0), t = 1 - label smoothing; each BCE a batch mean.

    With t = 1 this is -[mean log D(x) + mean log(1 - D(G(z)))], minus the paper's V(D, G).
    reduction "mean" halves it: 0.5 (BCE + BCE), the cost of the released code (it matters for SGD).
    """
    real_t = minigrad.full_like(real_logits, real_target)
    loss = F.binary_cross_entropy_with_logits(real_logits, real_t) + F.binary_cross_entropy_with_logits(
        fake_logits, minigrad.zeros_like(fake_logits)
    )
    if reduction == "mean":
        return loss * 0.5
    if reduction != "sum":
        raise ValueError(f"discriminator_loss: reduction must be 'sum' or 'mean', got {reduction!r}")
    return loss


def nonsaturating_loss(fake_logits):
    """L_G = -mean log D(G(z)) = mean softplus(-l);  dL/dl_i = -(1 - sigmoid(l_i)) / N.

    Strong gradients early on, when D rejects the fakes (sigmoid(l) near 0).
    """
    return F.binary_cross_entropy_with_logits(fake_logits, minigrad.ones_like(fake_logits))


def minimax_loss(fake_logits):
    """L_G = mean log(1 - D(G(z))) = -mean softplus(l);  dL/dl_i = -sigmoid(l_i) / N.

    The game's value as written; saturates (vanishing gradient) when D rejects the fakes.
    """
    return -F.binary_cross_entropy_with_logits(fake_logits, minigrad.zeros_like(fake_logits))


def hinge_discriminator_loss(real_out, fake_out):
    """L_D = mean relu(1 - l_real) + mean relu(1 + l_fake) (Lim & Ye 2017; SN-GAN, BigGAN).

    Only samples inside the margin (l_real < 1, l_fake > -1) give D a gradient."""
    return F.relu(1.0 - real_out).mean() + F.relu(1.0 + fake_out).mean()


def wasserstein_critic_loss(real_out, fake_out):
    """L_D = mean f(G(z)) - mean f(x): minus the critic's estimate of the Wasserstein-1 distance
    (Arjovsky et al. 2017); WGAN-GP adds the gradient penalty (gan.penalties)."""
    return fake_out.mean() - real_out.mean()


def critic_generator_loss(fake_out):
    """L_G = -mean f(G(z)): the generator loss of the hinge and Wasserstein games."""
    return -fake_out.mean()


def d_loss_for(kind: str, real_out, fake_out, real_target: float = 1.0, reduction: str = "sum"):
    """The discriminator loss of ``--loss kind``: BCE for nonsaturating / minimax, hinge, or Wasserstein."""
    if kind in ("nonsaturating", "minimax"):
        return discriminator_loss(real_out, fake_out, real_target, reduction)
    if kind == "hinge":
        return hinge_discriminator_loss(real_out, fake_out)
    if kind == "wgan-gp":
        return wasserstein_critic_loss(real_out, fake_out)
    raise ValueError(f"d_loss_for: unknown loss {kind!r}")


def g_loss_for(kind: str, fake_out):
    """The generator loss of ``--loss kind``."""
    if kind in CRITIC_LOSSES:
        return critic_generator_loss(fake_out)
    return generator_loss(fake_out, kind)


def generator_loss(fake_logits, kind: str = "nonsaturating"):
    if kind == "nonsaturating":
        return nonsaturating_loss(fake_logits)
    if kind == "minimax":
        return minimax_loss(fake_logits)
    raise ValueError(f"generator_loss: kind must be 'nonsaturating' or 'minimax', got {kind!r}")
