"""TrainConfig: every setting of a GAN run, its defaults, and the checks that make it consistent.

The CLI, ``config.json`` and the checkpoint all go through this one dataclass, so a run can be
described, saved, compared and resumed from one flat dict.
"""

from __future__ import annotations

import dataclasses
import math
import string
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
# field -> its possible values (d_norm's: models.D_NORMS, a setting of dcgan28 only)
CHOICES = {
    "model": MODELS,
    "loss": LOSSES,
    "noise": NOISES,
    "device": DEVICES,
    "updates": UPDATES,
    "d_loss": D_LOSSES,
    "optimizer": OPTIMIZERS,
}
# Settings that may change when a run is resumed: they do not alter what the earlier epochs did.
RESUMABLE = (
    "epochs",
    "device",
    "quiet",
    "log_every",
    "eval_every",
    "final_scores",
    "ema",
    "detect_anomaly",
    "tensorboard",
)


def recipe_defaults(model: str, loss: str) -> dict:
    """The settings a run gets unless they are given.

    Every model: Adam(2e-4, betas (0.5, 0.999)), k = 1, batch 128 (Radford et al.), no EMA.
    dcgan28: batch 64, two time-scales (G 1e-3, D 2e-4, InfoGAN's MNIST rates) and an EMA of G (0.999): the
    recipe that learned fastest per minute on a CPU (benchmarks/README.md, "dcgan28 recipes").
    --loss wgan-gp: Gulrajani et al.'s Adam(1e-4, betas (0, 0.9)) for both players, 5 critic steps per
    generator step, and a gradient penalty of weight 10 (None: no penalty to weigh).
    lr_g, lr_d None: the players' rates are lr (TrainConfig.fill_defaults).
    """
    defaults: dict = dict(
        lr=2e-4, beta1=0.5, beta2=0.999, k=1, batch_size=128, ema=0.0, lr_g=None, lr_d=None, gp_lambda=None
    )
    if model == "dcgan28":
        defaults.update(batch_size=64, lr_g=1e-3, lr_d=2e-4, ema=0.999)
    if loss == "wgan-gp":
        defaults.update(lr=1e-4, beta1=0.0, beta2=0.9, k=5, lr_g=None, lr_d=None, gp_lambda=10.0)
    return defaults


def default_d_norm(model: str, loss: str, spectral_norm: bool = False, r1: float = 0.0) -> str | None:
    """dcgan28's D normalisation unless given: LayerNorm under WGAN-GP's penalty (BatchNorm would mix the samples
    whose input gradients it penalises), none beside spectral norm or R1, else BatchNorm (None: other models)."""
    if model != "dcgan28":
        return None
    return "layer" if loss == "wgan-gp" else "none" if spectral_norm or r1 else "batch"


class ConfigError(ValueError):
    """An impossible combination of settings.

    Its message names each setting by its TrainConfig field (``epochs must be at least 1, got 0``); ``fields``
    lists them, and ``message(spell)`` names them another way: the CLI spells them as its flags (``--epochs must
    be at least 1, got 0``). In ``template``, ``{field}`` is a setting's name, ``{field.value}`` its value,
    ``{field=}`` the setting with the config's value and ``{field=text}`` the setting with the value ``text``;
    ``{0}``, ``{1}``, ... are ``args``. Without ``config`` the template is the message as it stands.
    """

    def __init__(self, template: str, *args, config: TrainConfig | None = None):
        self.template, self.format_args = template, args
        self.values = None if config is None else config.to_dict()
        names = [] if config is None else [field for _, field, _, _ in string.Formatter().parse(template) if field]
        self.fields = tuple(dict.fromkeys(n.partition("=")[0].partition(".")[0] for n in names if not n.isdigit()))
        super().__init__(self.message())

    def message(self, spell=None) -> str:
        """The message with each setting spelled by ``spell(field)`` and ``spell(field, value)`` (default:
        ``python_spelling``, as in ``str(error)``)."""
        if self.values is None:
            return self.template
        return _Spelled(spell or python_spelling, self.values).format(self.template, *self.format_args)


def python_spelling(field: str, *value) -> str:
    """A setting as a Python caller writes it: ``epochs``, or with a value ``model='mlp'``."""
    return f"{field}={value[0]!r}" if value else field


class _Named:
    """A setting in a template: formats as its spelled name; ``.value`` is its value."""

    def __init__(self, text: str, value):
        self.text, self.value = text, value

    def __format__(self, spec: str) -> str:
        return format(self.text, spec)


class _Spelled(string.Formatter):
    """str.format whose named fields are settings, spelled by ``spell``."""

    def __init__(self, spell, values: dict):
        self.spell, self.values = spell, values

    def get_value(self, key, args, kwargs):
        if isinstance(key, int):
            return args[key]
        field, eq, text = key.partition("=")
        if eq:
            return self.spell(field, text if text else self.values[field])
        return _Named(self.spell(field), self.values[field])


@dataclass
class TrainConfig:
    model: str = "mlp"
    epochs: int = 15  # enough for the mlp to draw recognisable digits
    batch_size: int | None = (
        None  # None: the model's and loss's default (recipe_defaults), filled in by fill_defaults()
    )
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
    final_scores: bool = False  # evaluate the last epoch too, and lead the end message with its scores
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
    d_norm: str | None = None  # dcgan28 D's normalisation: batch, layer or none (None: by loss, see fill_defaults)
    gp_lambda: float | None = None  # WGAN-GP's penalty weight (None: 10 with --loss wgan-gp)
    r1: float = 0.0  # R1 penalty gamma (0: off)
    r1_every: int = 1  # apply R1 every N discriminator steps, scaled by N (lazy regularisation)
    spectral_norm: bool = False  # spectral normalisation of every conv and linear layer of D
    amp: bool = False  # mixed precision: forwards under minigrad.amp.autocast, one GradScaler per player
    tensorboard: str | None = None  # TensorBoard event files: a folder, "" for the run's tb/, None: none
    conditional: bool = False  # p(x | digit): G(z, y) and D(x, y) with the data's labels (gan/conditional_models.py)

    def validate(self) -> TrainConfig:
        """``fill_defaults()`` then ``check()``: a complete, consistent config (self), or ConfigError."""
        return self.fill_defaults().check()

    def fill_defaults(self) -> TrainConfig:
        """Set every setting left None that has a default by model and loss (recipe_defaults, the model's image
        size, WGAN-GP's penalty weight, dcgan28's D normalisation); returns self. Given settings are kept."""
        recipe = recipe_defaults(self.model, self.loss)
        lr_given = self.lr is not None  # lr sets both players, over the recipe's per-player rates
        for key in ("lr", "beta1", "beta2", "k", "batch_size", "ema"):
            if getattr(self, key) is None:
                setattr(self, key, recipe[key])
        for key in ("lr_g", "lr_d"):
            if getattr(self, key) is None:
                setattr(self, key, self.lr if lr_given or recipe[key] is None else recipe[key])
        if self.image_size is None:
            self.image_size = IMAGE_SIZES.get(self.model)
        if self.gp_lambda is None:
            self.gp_lambda = recipe["gp_lambda"]
        if self.d_norm is None:
            self.d_norm = default_d_norm(self.model, self.loss, self.spectral_norm, self.r1)
        return self

    def check(self) -> TrainConfig:
        """Raise ConfigError on the first impossible setting or combination (after fill_defaults); returns self."""

        def need(cond, template, *args):
            if not cond:
                raise ConfigError(template, *args, config=self)

        def need_choice(field):
            choices = CHOICES[field]
            need(
                getattr(self, field) in choices,
                f"{{{field}}} must be one of {{0}}, got {{{field}.value!r}}",
                ", ".join(choices),
            )

        need_choice("model")
        need_choice("loss")
        missing = [
            key
            for key in ("lr", "beta1", "beta2", "k", "batch_size", "ema", "lr_g", "lr_d")
            if getattr(self, key) is None
        ]
        need(not missing, "{0} not set: call fill_defaults() first", ", ".join(missing))
        # for the type checker: set, as just checked
        assert self.lr is not None and self.lr_g is not None and self.lr_d is not None and self.ema is not None
        assert self.beta1 is not None and self.beta2 is not None and self.k is not None and self.batch_size is not None
        self._check_penalties(need)
        need_choice("noise")
        need_choice("device")
        need(self.epochs >= 1, "{epochs} must be at least 1, got {epochs.value}")
        need(self.batch_size >= 1, "{batch_size} must be at least 1, got {batch_size.value}")
        need(self.k >= 1, "{k} (discriminator steps per generator step) must be at least 1, got {k.value}")
        for key in ("lr", "lr_g", "lr_d"):
            lr = getattr(self, key)
            need(lr > 0 and math.isfinite(lr), f"{{{key}}} must be a positive finite number, got {{{key}.value}}")
        need(
            0 <= self.beta1 < 1 and 0 <= self.beta2 < 1,
            "{beta1} and {beta2} must be in [0, 1), got {beta1.value} and {beta2.value}",
        )
        need(self.latent_dim >= 1, "{latent_dim} must be at least 1, got {latent_dim.value}")
        need(0 <= self.label_smoothing < 1, "{label_smoothing} must be in [0, 1), got {label_smoothing.value}")
        need(0 <= self.dropout < 1, "{dropout} must be in [0, 1), got {dropout.value}")
        need(
            not self.dropout or self.model == "mlp", "{dropout} applies to the mlp discriminator only, not to {model=}"
        )
        need(self.ema == 0 or 0 < self.ema < 1, "{ema} must be 0 (off) or in (0, 1), got {ema.value}")
        need(0 < self.width <= 64, "{width} (a multiplier of every layer's size) must be in (0, 64], got {width.value}")
        need(self.seed >= 0, "{seed} must be a non-negative integer, got {seed.value}")
        need(
            not self.conditional or self.model in CONDITIONAL_MODELS,
            "{conditional} is an option of {model} {0}, not of {model.value}",
            ", ".join(CONDITIONAL_MODELS),
        )
        need(self.channels in (1, 3), "{channels} must be 1 (gray) or 3 (RGB), got {channels.value}")
        size = IMAGE_SIZES[self.model]
        need(self.image_size == size, "{model=} makes {0}x{0} images; {image_size=} is not possible", size)
        need(self.limit is None or self.limit >= 1, "{limit} must be at least 1, got {limit.value}")
        need(
            self.limit is None or self.limit >= self.batch_size * self.k,
            "{limit=} images make no full iteration of {k=} batches of {batch_size=}",
        )
        need(self.log_every >= 1, "{log_every} must be at least 1, got {log_every.value}")
        need(self.eval_every >= 0, "{eval_every} must be 0 (off) or positive, got {eval_every.value}")
        need_choice("updates")
        need(
            self.updates == "alternating" or self.k == 1,
            "{updates=simultaneous} takes both steps from one forward pass: {k} must be 1, got {k.value}",
        )
        need_choice("d_loss")
        need_choice("optimizer")
        need(0 <= self.momentum < 1, "{momentum} must be in [0, 1), got {momentum.value}")
        need(
            self.final_momentum is None or 0 <= self.final_momentum < 1,
            "{final_momentum} must be in [0, 1), got {final_momentum.value}",
        )
        need(
            self.optimizer == "sgd" or (self.momentum == 0 and self.final_momentum is None),
            "{momentum} and {final_momentum} are settings of {optimizer=sgd}",
        )
        need(self.momentum_saturate >= 1, "{momentum_saturate} must be at least 1, got {momentum_saturate.value}")
        need(
            self.lr_decay >= 1 and math.isfinite(self.lr_decay),
            "{lr_decay} (the divisor of the learning rate per iteration) must be >= 1, got {lr_decay.value}",
        )
        need(
            0 <= self.min_lr <= min(self.lr_g, self.lr_d),
            "{min_lr} must be in [0, the smaller learning rate], got {min_lr.value}",
        )
        return self

    def iteration(self) -> tuple[int, int]:
        """(batch_size, k) of a filled config: an iteration takes k minibatches of batch_size images."""
        if self.batch_size is None or self.k is None:
            raise ConfigError("{batch_size} and {k} are not set: call fill_defaults() first", config=self)
        return self.batch_size, self.k

    def _check_penalties(self, need) -> None:
        """The loss's, penalties' and D normalisation's settings."""
        critic = self.loss in CRITIC_LOSSES
        need(not (critic and self.label_smoothing), "{label_smoothing} applies to the BCE losses, not to {loss=}")
        need(not (critic and self.d_loss != "sum"), "{d_loss} applies to the BCE losses, not to {loss=}")
        if self.loss == "wgan-gp":
            need(
                self.gp_lambda is not None and self.gp_lambda >= 0 and math.isfinite(self.gp_lambda),
                "{gp_lambda} must be non-negative and finite, got {gp_lambda.value}",
            )
        else:
            need(self.gp_lambda is None, "{gp_lambda} is a setting of {loss=wgan-gp}, not of {loss=}")
        need(self.r1 >= 0 and math.isfinite(self.r1), "{r1} (gamma) must be non-negative and finite, got {r1.value}")
        need(self.r1_every >= 1, "{r1_every} must be at least 1, got {r1_every.value}")
        need(
            self.r1 > 0 or self.r1_every == 1,
            "{r1_every=} sets how often {r1} applies, but {r1} is off: give {r1=GAMMA} too",
        )
        need(
            self.updates == "alternating" or (self.loss != "wgan-gp" and not self.r1),
            "{updates=simultaneous} takes no gradient penalty ({loss=wgan-gp}, {r1}): use {updates=alternating}",
        )
        if self.model == "dcgan28":
            need(self.d_norm in D_NORMS, "{d_norm} must be one of {0}, got {d_norm.value!r}", ", ".join(D_NORMS))
        else:
            need(self.d_norm is None, "{d_norm} is a setting of {model=dcgan28}, not of {model=}")
        # the penalties need each sample's own input gradient; BatchNorm in D mixes the samples of a batch
        batch_norm_d = self.d_norm == "batch" or self.model == "dcgan64"
        need(
            not (batch_norm_d and (self.loss == "wgan-gp" or self.r1 > 0)),
            "{loss=wgan-gp} and {r1} penalise each sample's input gradient, and BatchNorm mixes the samples of a "
            "batch: " + ("use {d_norm} layer or none" if self.model == "dcgan28" else "dcgan64's discriminator has it"),
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
