"""TrainConfig: every setting of a GAN run, its defaults, and the checks that make it consistent.

The CLI, ``config.json`` and the checkpoint all go through this one dataclass, so a run can be
described, saved, compared and resumed from one flat dict.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from gan.models import CONDITIONAL_MODELS, D_NORMS, IMAGE_SIZES, MODELS

# nonsaturating / minimax: the BCE game on logits; hinge and wgan-gp: an unbounded critic (gan/losses.py)
LOSSES = ("nonsaturating", "minimax", "hinge", "wgan-gp")
CRITIC_LOSSES = ("hinge", "wgan-gp")  # D outputs an unbounded critic value f, not a logit
NOISES = ("normal", "uniform", "uniform_sqrt3")
DEVICES = ("cpu", "cuda")
OPTIMIZERS = ("adam", "sgd")
UPDATES = ("alternating", "simultaneous")
D_LOSSES = ("sum", "mean")
# Settings that may change when a run is resumed: they do not alter what the earlier epochs did.
RESUMABLE = ("epochs", "device", "quiet", "log_every", "eval_every", "ema", "detect_anomaly", "tensorboard")


def recipe_defaults(model: str, loss: str) -> dict:
    """The settings a run gets unless they are given.

    Every model: Adam(2e-4, betas (0.5, 0.999)), k = 1, batch 128 (Radford et al.), no EMA.
    dcgan28: batch 64, two time-scales (G 1e-3, D 2e-4, InfoGAN's MNIST rates) and an EMA of G (0.999): the
    recipe that learned fastest per minute on a CPU (benchmarks/README.md, "dcgan28 recipes").
    --loss wgan-gp: Gulrajani et al.'s Adam(1e-4, betas (0, 0.9)) for both players and 5 critic steps per
    generator step.
    """
    defaults: dict = dict(lr=2e-4, beta1=0.5, beta2=0.999, k=1, batch_size=128, ema=0.0, lr_g=None, lr_d=None)
    if model == "dcgan28":
        defaults.update(batch_size=64, lr_g=1e-3, lr_d=2e-4, ema=0.999)
    if loss == "wgan-gp":
        defaults.update(lr=1e-4, beta1=0.0, beta2=0.9, k=5, lr_g=None, lr_d=None)
    return defaults


class ConfigError(ValueError):
    """An impossible combination of settings (the CLI reports it as a usage error)."""


@dataclass
class TrainConfig:
    model: str = "mlp"
    epochs: int = 15  # enough for the mlp to draw recognisable digits
    batch_size: int | None = None  # None: the model's and loss's default (recipe_defaults), filled in by validate()
    lr: float | None = None  # these four too
    beta1: float | None = None
    beta2: float | None = None
    k: int | None = None  # discriminator steps per generator step (Algorithm 1)
    lr_g: float | None = None  # each player's learning rate (None: lr)
    lr_d: float | None = None
    loss: str = "nonsaturating"
    noise: str = "normal"
    latent_dim: int = 100
    label_smoothing: float = 0.0  # one-sided: real target = 1 - s, fake target stays 0
    dropout: float = 0.0
    ema: float | None = None  # decay of the EMA of G's weights used for samples and scores (0: off; e.g. 0.999)
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
    eval_every: int = 0  # evaluate every N epochs (0: off); see gan.training.trainer.train's `evaluator`
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
    d_norm: str | None = None  # dcgan28 D's normalisation: batch, layer or none (None: by loss, see validate)
    gp_lambda: float | None = None  # WGAN-GP's penalty weight (None: 10 with --loss wgan-gp)
    r1: float = 0.0  # R1 penalty gamma (0: off)
    r1_every: int = 1  # apply R1 every N discriminator steps, scaled by N (lazy regularisation)
    spectral_norm: bool = False  # spectral normalisation of every conv and linear layer of D
    tensorboard: str | None = None  # TensorBoard event files: a folder, "" for the run's tb/, None: none
    conditional: bool = False  # p(x | digit): G(z, y) and D(x, y) with the data's labels (gan/conditional_models.py)

    def validate(self) -> TrainConfig:
        """Fill in derived defaults and raise ConfigError on anything impossible; returns self."""

        def need(cond, msg):
            if not cond:
                raise ConfigError(msg)

        need(self.model in MODELS, f"--model must be one of {', '.join(MODELS)}, got {self.model!r}")
        need(self.loss in LOSSES, f"--loss must be one of {', '.join(LOSSES)}, got {self.loss!r}")
        recipe = recipe_defaults(self.model, self.loss)
        lr_given = self.lr is not None  # --lr sets both players, over the recipe's per-player rates
        for key in ("lr", "beta1", "beta2", "k", "batch_size", "ema"):
            if getattr(self, key) is None:
                setattr(self, key, recipe[key])
        for key in ("lr_g", "lr_d"):
            if getattr(self, key) is None:
                setattr(self, key, self.lr if lr_given or recipe[key] is None else recipe[key])
        self._validate_penalties(need)
        need(self.noise in NOISES, f"--noise must be one of {', '.join(NOISES)}, got {self.noise!r}")
        need(self.device in DEVICES, f"--device must be one of {', '.join(DEVICES)}, got {self.device!r}")
        need(self.epochs >= 1, f"--epochs must be at least 1, got {self.epochs}")
        need(self.batch_size >= 1, f"--batch-size must be at least 1, got {self.batch_size}")
        need(self.k >= 1, f"--k (discriminator steps per generator step) must be at least 1, got {self.k}")
        for flag, lr in (("--lr", self.lr), ("--lr-g", self.lr_g), ("--lr-d", self.lr_d)):
            need(lr > 0 and math.isfinite(lr), f"{flag} must be a positive finite number, got {lr}")
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
        need(
            not self.conditional or self.model in CONDITIONAL_MODELS,
            f"--conditional is an option of --model {', '.join(CONDITIONAL_MODELS)}, not of {self.model}",
        )
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
        need(
            0 <= self.min_lr <= min(self.lr_g, self.lr_d),
            f"--min-lr must be in [0, the smaller learning rate], got {self.min_lr}",
        )
        return self

    def _validate_penalties(self, need) -> None:
        """The loss's, penalties' and D normalisation's settings (and their defaults)."""
        critic = self.loss in CRITIC_LOSSES
        need(
            not (critic and self.label_smoothing),
            f"--label-smoothing applies to the BCE losses, not to --loss {self.loss}",
        )
        need(not (critic and self.d_loss != "sum"), f"--d-loss applies to the BCE losses, not to --loss {self.loss}")
        if self.loss == "wgan-gp":
            self.gp_lambda = 10.0 if self.gp_lambda is None else self.gp_lambda
            need(
                self.gp_lambda >= 0 and math.isfinite(self.gp_lambda),
                f"--gp-lambda must be non-negative and finite, got {self.gp_lambda}",
            )
        else:
            need(self.gp_lambda is None, f"--gp-lambda is a setting of --loss wgan-gp, not of --loss {self.loss}")
        need(self.r1 >= 0 and math.isfinite(self.r1), f"--r1 (gamma) must be non-negative and finite, got {self.r1}")
        need(self.r1_every >= 1, f"--r1-every must be at least 1, got {self.r1_every}")
        need(
            self.updates == "alternating" or (self.loss != "wgan-gp" and not self.r1),
            "--updates simultaneous takes no gradient penalty (--loss wgan-gp, --r1): use --updates alternating",
        )
        if self.model == "dcgan28":
            if self.d_norm is None:
                self.d_norm = (
                    "layer" if self.loss == "wgan-gp" else "none" if self.spectral_norm or self.r1 else "batch"
                )
            need(self.d_norm in D_NORMS, f"--d-norm must be one of {', '.join(D_NORMS)}, got {self.d_norm!r}")
        else:
            need(self.d_norm is None, f"--d-norm is a setting of --model dcgan28, not of --model {self.model}")
        # the penalties need each sample's own input gradient; BatchNorm in D mixes the samples of a batch
        batch_norm_d = self.d_norm == "batch" or self.model == "dcgan64"
        need(
            not (batch_norm_d and (self.loss == "wgan-gp" or self.r1 > 0)),
            "--loss wgan-gp and --r1 penalise each sample's input gradient, and BatchNorm mixes the samples of a "
            "batch: " + ("use --d-norm layer or none" if self.model == "dcgan28" else "dcgan64's discriminator has it"),
        )

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
