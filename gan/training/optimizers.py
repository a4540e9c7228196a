"""The players' optimizers and their schedules, built from a TrainConfig.

* ``--optimizer adam``: Adam(lr, betas) for both players (Radford et al.'s settings by default;
  ``--lr-g`` / ``--lr-d`` give each player its own rate, e.g. two time-scales).
* ``--optimizer sgd``: SGD with momentum for both players. With ``--lr-decay d`` (and ``--min-lr``)
  a ``LambdaLR`` stepped after every iteration makes lr_t = max(lr / d^t, min_lr) (pylearn2's
  ExponentialDecay); with ``--final-momentum`` the momentum of epoch e (1-based) is

      m_e = m_1 + (m_final - m_1) * clip((e - 1) / (saturate - 1), 0, 1)

  (pylearn2's MomentumAdjustor with start 1), written into ``param_groups[i]['momentum']`` at the
  start of every epoch.
"""

from __future__ import annotations

import minigrad
from minigrad.optim.lr_scheduler import LambdaLR


class DecayWithFloor:
    """lr_lambda(t) = max(decay^-t, floor): callable object, so its settings go into the scheduler's state_dict."""

    def __init__(self, decay: float, floor: float = 0.0):
        self.decay, self.floor = float(decay), float(floor)

    def __call__(self, t: int) -> float:
        return max(self.decay**-t, self.floor)


def build_optimizers(cfg, G, D):
    """(opt_g, opt_d, schedulers): schedulers is a list to step after every iteration (empty if none)."""
    opt_g: minigrad.optim.Optimizer
    opt_d: minigrad.optim.Optimizer
    if cfg.optimizer == "adam":
        betas = (cfg.beta1, cfg.beta2)
        opt_g = minigrad.optim.Adam(G.parameters(), lr=cfg.lr_g, betas=betas)
        opt_d = minigrad.optim.Adam(D.parameters(), lr=cfg.lr_d, betas=betas)
    else:
        opt_g = minigrad.optim.SGD(G.parameters(), lr=cfg.lr_g, momentum=cfg.momentum)
        opt_d = minigrad.optim.SGD(D.parameters(), lr=cfg.lr_d, momentum=cfg.momentum)
    schedulers = []
    if cfg.lr_decay != 1.0 or cfg.min_lr:
        schedulers = [
            LambdaLR(opt, DecayWithFloor(cfg.lr_decay, cfg.min_lr / lr))
            for opt, lr in ((opt_g, cfg.lr_g), (opt_d, cfg.lr_d))
        ]
    return opt_g, opt_d, schedulers


def momentum_at(cfg, epoch: int) -> float:
    """The momentum of (1-based) epoch ``epoch``: cfg.momentum, rising linearly to cfg.final_momentum."""
    if cfg.final_momentum is None:
        return cfg.momentum
    alpha = min(max((epoch - 1) / max(cfg.momentum_saturate - 1, 1), 0.0), 1.0)
    return cfg.momentum + (cfg.final_momentum - cfg.momentum) * alpha


def set_momentum(optimizers, momentum: float) -> None:
    """Write ``momentum`` into every parameter group (as a PyTorch user would)."""
    for opt in optimizers:
        for group in opt.param_groups:
            group["momentum"] = momentum
