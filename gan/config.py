"""TrainConfig: every setting of a GAN run, its defaults, and the checks that make it consistent.

The CLI, ``config.json`` and the checkpoint all go through this one dataclass, so a run can be
described, saved, compared and resumed from one flat dict.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from gan.models import IMAGE_SIZES, MODELS

LOSSES = ("nonsaturating", "minimax")
NOISES = ("normal", "uniform", "uniform_sqrt3")
DEVICES = ("cpu", "cuda")
OPTIMIZERS = ("adam", "sgd")
UPDATES = ("alternating", "simultaneous")
D_LOSSES = ("sum", "mean")
# Settings that may change when a run is resumed: they do not alter what the earlier epochs did.
RESUMABLE = ("epochs", "device", "quiet", "log_every", "eval_every", "ema", "detect_anomaly")


class ConfigError(ValueError):
    """An impossible combination of settings (the CLI reports it as a usage error)."""


@dataclass
class TrainConfig:
    model: str = "mlp"
    epochs: int = 15  # enough for the mlp to draw recognisable digits
    batch_size: int = 128
    lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    k: int = 1  # discriminator steps per generator step (Algorithm 1)
    loss: str = "nonsaturating"
    noise: str = "normal"
    latent_dim: int = 100
    label_smoothing: float = 0.0  # one-sided: real target = 1 - s, fake target stays 0
    dropout: float = 0.0
    ema: float = 0.0  # decay of the EMA of G's weights used for samples and scores (0: off; e.g. 0.999)
    width: float = 1.0
    channels: int = 1
    image_size: int | None = None  # None: the model's size (28, or 64 for dcgan64)
    data_dir: str | None = None  # None: the bundled MNIST
    limit: int | None = None  # use only the first N training images
    seed: int = 0
    device: str = "cpu"
    outdir: str | None = None
    log_every: int = 100
    quiet: bool = False
    eval_every: int = 0  # evaluate every N epochs (0: off); see gan.train.train's `evaluator`
    detect_anomaly: bool = False  # run under minigrad.autograd.detect_anomaly: a nan/inf names the op that made it
    preset: str | None = None  # the --preset the settings came from (gan.presets), for the record
    updates: str = "alternating"  # Algorithm 1's D then G steps, or both from one forward pass (simultaneous)
    d_loss: str = "sum"  # BCE(D(x), 1) + BCE(D(G(z)), 0), or half of it ("mean", the released code's cost)
    optimizer: str = "adam"
    momentum: float = 0.0  # SGD momentum (at epoch 1 when final_momentum is set)
    final_momentum: float | None = None  # SGD momentum rises linearly to this at epoch momentum_saturate
    momentum_saturate: int = 250
    lr_decay: float = 1.0  # the learning rate is divided by this after every iteration (1: constant) ...
    min_lr: float = 0.0  # ... but not below min_lr

    def validate(self) -> TrainConfig:
        """Fill in derived defaults and raise ConfigError on anything impossible; returns self."""

        def need(cond, msg):
            if not cond:
                raise ConfigError(msg)

        need(self.model in MODELS, f"--model must be one of {', '.join(MODELS)}, got {self.model!r}")
        need(self.loss in LOSSES, f"--loss must be one of {', '.join(LOSSES)}, got {self.loss!r}")
        need(self.noise in NOISES, f"--noise must be one of {', '.join(NOISES)}, got {self.noise!r}")
        need(self.device in DEVICES, f"--device must be one of {', '.join(DEVICES)}, got {self.device!r}")
        need(self.epochs >= 1, f"--epochs must be at least 1, got {self.epochs}")
        need(self.batch_size >= 1, f"--batch-size must be at least 1, got {self.batch_size}")
        need(self.k >= 1, f"--k (discriminator steps per generator step) must be at least 1, got {self.k}")
        need(self.lr > 0 and math.isfinite(self.lr), f"--lr must be a positive finite number, got {self.lr}")
        need(
            0 <= self.beta1 < 1 and 0 <= self.beta2 < 1,
            f"--beta1 and --beta2 must be in [0, 1), got {self.beta1} and {self.beta2}",
        )
        need(self.latent_dim >= 1, f"--latent-dim must be at least 1, got {self.latent_dim}")
        need(0 <= self.label_smoothing < 1, f"--label-smoothing must be in [0, 1), got {self.label_smoothing}")
        need(0 <= self.dropout < 1, f"--dropout must be in [0, 1), got {self.dropout}")
        need(
            not self.dropout or self.model == "mlp",
            f"--dropout applies to the mlp discriminator only, not to --model {self.model}",
        )
        need(self.ema == 0 or 0 < self.ema < 1, f"--ema must be 0 (off) or in (0, 1), got {self.ema}")
        need(0 < self.width <= 64, f"--width (a multiplier of every layer's size) must be in (0, 64], got {self.width}")
        need(self.seed >= 0, f"--seed must be a non-negative integer, got {self.seed}")
        need(self.channels in (1, 3), f"--channels must be 1 (gray) or 3 (RGB), got {self.channels}")
        size = IMAGE_SIZES[self.model]
        if self.image_size is None:
            self.image_size = size
        need(
            self.image_size == size,
            f"--model {self.model} makes {size}x{size} images; --image-size {self.image_size} is not possible",
        )
        need(self.limit is None or self.limit >= 1, f"--limit must be at least 1, got {self.limit}")
        need(
            self.limit is None or self.limit >= self.batch_size * self.k,
            f"--limit {self.limit} images make no full iteration of --k {self.k} batches of --batch-size "
            f"{self.batch_size}",
        )
        need(self.log_every >= 1, f"--log-every must be at least 1, got {self.log_every}")
        need(self.eval_every >= 0, f"--eval-every must be 0 (off) or positive, got {self.eval_every}")
        need(self.updates in UPDATES, f"--updates must be one of {', '.join(UPDATES)}, got {self.updates!r}")
        need(
            self.updates == "alternating" or self.k == 1,
            f"--updates simultaneous takes both steps from one forward pass: --k must be 1, got {self.k}",
        )
        need(self.d_loss in D_LOSSES, f"--d-loss must be one of {', '.join(D_LOSSES)}, got {self.d_loss!r}")
        need(
            self.optimizer in OPTIMIZERS, f"--optimizer must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}"
        )
        need(0 <= self.momentum < 1, f"--momentum must be in [0, 1), got {self.momentum}")
        need(
            self.final_momentum is None or 0 <= self.final_momentum < 1,
            f"--final-momentum must be in [0, 1), got {self.final_momentum}",
        )
        need(
            self.optimizer == "sgd" or (self.momentum == 0 and self.final_momentum is None),
            "--momentum and --final-momentum are settings of --optimizer sgd",
        )
        need(self.momentum_saturate >= 1, f"--momentum-saturate must be at least 1, got {self.momentum_saturate}")
        need(
            self.lr_decay >= 1 and math.isfinite(self.lr_decay),
            f"--lr-decay (the divisor of the learning rate per iteration) must be >= 1, got {self.lr_decay}",
        )
        need(0 <= self.min_lr <= self.lr, f"--min-lr must be in [0, --lr], got {self.min_lr}")
        return self

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        """Rebuild from to_dict()'s output; unknown keys (written by a newer version) are an error."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ConfigError(f"unknown settings {unknown} in a saved config")
        return cls(**d)
