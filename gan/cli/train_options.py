"""The flags of ``python -m gan train``: one per TrainConfig field, typed by the field, with help texts whose
defaults come from TrainConfig and config.recipe_defaults (so that they cannot drift from what a run gets)."""

from __future__ import annotations

import argparse
import dataclasses

from gan.cli.recipe_help import number, recipe_help
from gan.cli.shared import add_threads_argument, flag_spelling
from gan.config import CHOICES, LOSSES, RESUMABLE, TrainConfig, default_d_norm, recipe_defaults
from gan.models import D_NORMS, IMAGE_SIZES, MODELS
from gan.presets import DEFAULT as DEFAULT_PRESET
from gan.presets import PRESETS
from gan.presets import describe as describe_preset

# field -> int or float, from TrainConfig's annotations ("int | None" -> int); other fields take strings
_TYPES = {
    f.name: {"int": int, "float": float}[str(f.type).split(" ")[0]]
    for f in dataclasses.fields(TrainConfig)
    if str(f.type).split(" ")[0] in ("int", "float")
}


def option(group, field: str, **kwargs) -> None:
    """The flag of TrainConfig ``field`` (--batch-size for batch_size), typed by the field unless an action says
    otherwise, its choices those of config.CHOICES."""
    if field in _TYPES and "action" not in kwargs:
        kwargs.setdefault("type", _TYPES[field])
    if field in CHOICES:
        kwargs.setdefault("choices", CHOICES[field])
    group.add_argument(flag_spelling(field), **kwargs)


def add_arguments(p):
    d, w = TrainConfig(), recipe_defaults(MODELS[0], "wgan-gp")
    # Every default is None here and filled from TrainConfig later, so that with --resume we can
    # tell which settings the user set explicitly.
    p.add_argument(
        "--preset",
        choices=tuple(PRESETS),
        help="start from a named set of settings; any flag given "
        f"explicitly still wins, and the preset is recorded in config.json (default {DEFAULT_PRESET} when "
        "--model is not given either). " + " ".join(describe_preset(name) for name in PRESETS),
    )
    m = p.add_argument_group("model")
    option(
        m,
        "model",
        help=f"architecture (without --model or --preset: {PRESETS[DEFAULT_PRESET]['model']}, through --preset "
        f"{DEFAULT_PRESET}; with --model and no --preset every setting has its own default, as listed): "
        "mlp = fully connected "
        "nets (LeakyReLU, tanh; the paper's Algorithm 1 with Adam), dcgan28 = a DCGAN for 28x28 "
        "(InfoGAN's MNIST nets at half width), "
        "dcgan64 = Radford et al.'s 64x64 DCGAN, goodfellow2014 = the paper's own nets "
        "(maxout D with dropout, sigmoid G, images in [0, 1])",
    )
    option(m, "latent_dim", help=f"noise dimension (default {d.latent_dim})")
    option(
        m,
        "noise",
        help=f"noise distribution: normal N(0, 1), uniform U(-1, 1) or "
        f"uniform_sqrt3 U(-sqrt 3, sqrt 3) (default {d.noise})",
    )
    option(m, "width", help=f"multiplier of every hidden layer size (default {d.width})")
    option(m, "dropout", help=f"dropout probability in the mlp discriminator (default {d.dropout})")
    option(
        m,
        "d_norm",
        choices=D_NORMS,
        help="normalisation in the dcgan28 discriminator: batch (BatchNorm), layer (LayerNorm per sample) or none "
        f"(default: {default_d_norm('dcgan28', 'wgan-gp')} with --loss wgan-gp, "
        f"{default_d_norm('dcgan28', LOSSES[0], spectral_norm=True)} with --spectral-norm or --r1, "
        f"else {default_d_norm('dcgan28', LOSSES[0])})",
    )
    option(
        m,
        "spectral_norm",
        action="store_true",
        default=None,
        help="spectral normalisation (nn.utils.spectral_norm) of every conv and linear layer of the discriminator",
    )
    option(
        m,
        "conditional",
        action="store_true",
        default=None,
        help="learn p(x | digit): the label enters G (one-hot beside z) and D (one-hot beside the image for the "
        "MLPs, a projection discriminator for dcgan28); grids show one row per digit (mlp, dcgan28, "
        "goodfellow2014; MNIST-style data with labels)",
    )
    t_ema = "decay of an exponential moving average of G's weights; grids, scores and `sample` use the average "
    option(m, "ema", help=t_ema + f"({recipe_help('ema')}; 0 = off; may be switched on when resuming)")
    option(m, "channels", choices=(1, 3), help=f"image channels: 1 gray, 3 RGB (default {d.channels})")
    option(
        m,
        "image_size",
        help=f"image side; fixed by the model: "
        f"{', '.join(f'{k} {v}' for k, v in IMAGE_SIZES.items())} (default: the model's)",
    )
    t = p.add_argument_group("training (Algorithm 1 of Goodfellow et al. 2014)")
    option(
        t,
        "epochs",
        help=f"total epochs to train (default {d.epochs}; {PRESETS[DEFAULT_PRESET]['epochs']} with --preset "
        f"{DEFAULT_PRESET}; with --resume, the new total)",
    )
    for field, what in (("batch_size", "minibatch size m"), ("k", "discriminator steps per generator step, n_critic")):
        option(t, field, help=f"{what} ({recipe_help(field)})")
    option(
        t,
        "loss",
        help="the game: nonsaturating = D by BCE, G minimises -log D(G(z)); "
        "minimax = G minimises log(1 - D(G(z))) as in the value function; hinge = D minimises "
        "mean relu(1 - D(x)) + mean relu(1 + D(G(z))), G minimises -mean D(G(z)) (SN-GAN); wgan-gp = a critic, "
        "mean D(G(z)) - mean D(x) plus the gradient penalty, "
        f"Adam({number(w['lr'])}, betas ({number(w['beta1'])}, {number(w['beta2'])})) and --k {w['k']} unless given "
        f"(Gulrajani et al. 2017) (default {d.loss})",
    )
    option(
        t,
        "gp_lambda",
        metavar="LAMBDA",
        help=f"weight of WGAN-GP's penalty LAMBDA * mean (||grad D(x_hat)|| - 1)^2 "
        f"(default {number(w['gp_lambda'])} with --loss wgan-gp)",
    )
    option(
        t,
        "r1",
        metavar="GAMMA",
        help="add R1, GAMMA/2 * mean ||grad_x D(x)||^2 on real images, to the discriminator loss "
        f"(Mescheder et al. 2018; any loss and model) (default {d.r1} = off)",
    )
    option(
        t,
        "r1_every",
        metavar="N",
        help=f"apply R1 every N discriminator steps, scaled by N (lazy regularisation) (default {d.r1_every})",
    )
    option(
        t,
        "label_smoothing",
        help=f"one-sided label smoothing s: real targets 1 - s, fake targets 0 (default {d.label_smoothing})",
    )
    option(
        t,
        "updates",
        help="alternating = Algorithm 1 (k D steps, then a G step on "
        "fresh noise); simultaneous = both gradients from one forward pass, both players step together "
        f"(the released code; needs --k 1) (default {d.updates})",
    )
    option(
        t,
        "d_loss",
        help="discriminator cost: sum = BCE(D(x), 1) + BCE(D(G(z)), 0), "
        f"mean = half of it (the released code's) (default {d.d_loss})",
    )
    option(
        t,
        "amp",
        action="store_true",
        default=None,
        help="mixed precision (minigrad.amp): forwards and losses under autocast (matmuls and convolutions in "
        "float16), float32 master weights, one GradScaler per player; its scales and skipped steps go into "
        "metrics.jsonl",
    )
    option(t, "optimizer", help=f"optimizer of both players (default {d.optimizer})")
    option(t, "lr", help=f"learning rate for both players ({recipe_help('lr')})")
    option(t, "lr_g", help=f"the generator's learning rate ({recipe_help('lr_g', '--lr')} unless --lr is given)")
    option(t, "lr_d", help=f"the discriminator's learning rate ({recipe_help('lr_d', '--lr')} unless --lr is given)")
    option(
        t,
        "lr_decay",
        metavar="D",
        help=f"divide the learning rate by D after every iteration (default {d.lr_decay} = constant)",
    )
    option(t, "min_lr", help=f"floor of the decayed learning rate (default {d.min_lr})")
    for field in ("beta1", "beta2"):
        option(t, field, help=f"Adam {field} ({recipe_help(field)})")
    option(t, "momentum", help=f"SGD momentum (at epoch 1 with --final-momentum) (default {d.momentum})")
    option(
        t,
        "final_momentum",
        help="SGD momentum rises linearly from --momentum at epoch 1 "
        "to this at epoch --momentum-saturate, flat after (default: constant momentum)",
    )
    option(
        t,
        "momentum_saturate",
        metavar="EPOCH",
        help=f"the epoch at which --final-momentum is reached (default {d.momentum_saturate})",
    )
    option(
        t,
        "seed",
        help=f"seed of weights, noise and data order; runs are reproducible bit for bit on the CPU (default {d.seed})",
    )
    option(t, "device", help=f"where to train (default {d.device})")
    io = p.add_argument_group("data and output")
    option(
        io,
        "data_dir",
        metavar="DIR",
        help="MNIST-style IDX files (gzipped or not) or a folder of "
        "images (default: the MNIST bundled with the package)",
    )
    option(io, "limit", metavar="N", help="use only the first N training images (quick runs)")
    option(io, "outdir", metavar="DIR", help="output directory (default runs/<model>-<YYYYmmdd-HHMMSS>)")
    io.add_argument(
        "--resume",
        metavar="OUTDIR",
        help="continue the run in OUTDIR from its checkpoint; its "
        f"settings are kept, only {', '.join('--' + r.replace('_', '-') for r in RESUMABLE)} may change",
    )
    option(io, "log_every", metavar="N", help=f"write a metrics record every N steps (default {d.log_every})")
    option(io, "eval_every", metavar="N", help=f"evaluate the generator every N epochs (default {d.eval_every} = off)")
    option(
        io,
        "final_scores",
        action=argparse.BooleanOptionalAction,
        help="score the last epoch too (Parzen LL, FID, IS, modes on 10,000 samples) and start the end message "
        f"with its scores beside Table 1's (off unless given; on with --preset {DEFAULT_PRESET})",
    )
    option(io, "quiet", action="store_true", default=None, help="no progress bar and no per-epoch lines")
    option(
        io,
        "detect_anomaly",
        action="store_true",
        default=None,
        help="check every op's output and gradient for nan/inf (minigrad.autograd.detect_anomaly): "
        "a divergence then names the op and the line that made it; slower",
    )
    option(
        io,
        "tensorboard",
        nargs="?",
        const="",
        metavar="DIR",
        help="also log to TensorBoard event files in DIR (default: the run's tb/): every logged number, the epoch "
        "grids, weight and gradient histograms, learning rates and the settings; needs the optional extra "
        "(pip install -e '.[tensorboard]'); may be switched on when resuming. View: tensorboard --logdir DIR",
    )
    add_threads_argument(io)
