"""The GAN losses on the discriminator's logits l (D(x) = sigmoid(l)), where they are stable.

Small functions so tests can check their gradients against the formulas.
"""

from __future__ import annotations

import minigrad
import minigrad.nn.functional as F


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


def generator_loss(fake_logits, kind: str = "nonsaturating"):
    if kind == "nonsaturating":
        return nonsaturating_loss(fake_logits)
    if kind == "minimax":
        return minimax_loss(fake_logits)
    raise ValueError(f"generator_loss: kind must be 'nonsaturating' or 'minimax', got {kind!r}")
