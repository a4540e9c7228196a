"""``python -m gan train``: its flags, the run's settings (a new run, a preset, or --resume), and the run."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from gan.cli.shared import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    add_threads_argument,
    require_device,
    require_writable,
    use_threads,
)
from gan.config import D_LOSSES, LOSSES, NOISES, OPTIMIZERS, RESUMABLE, UPDATES, ConfigError, TrainConfig
from gan.data import DataError
from gan.models import D_NORMS, IMAGE_SIZES, MODELS
from gan.presets import PRESETS
from gan.presets import describe as describe_preset
from gan.run.checkpoint import FILENAME as CHECKPOINT_FILE
from gan.run.checkpoint import CheckpointError, load_checkpoint

SUMMARY = "train a GAN (Algorithm 1 of Goodfellow et al. 2014) and write samples, curves, checkpoints"
_DEFAULTS = TrainConfig()


def _recorded_threads(outdir):
    """The thread count in a run's config.json, or None."""
    try:
        return json.loads((Path(outdir) / "config.json").read_text()).get("threads")
    except (OSError, ValueError, AttributeError):
        return None


def add_arguments(p):
    d = _DEFAULTS
    # Every default is None here and filled from TrainConfig later, so that with --resume we can
    # tell which settings the user set explicitly.
    p.add_argument(
        "--preset",
        choices=tuple(PRESETS),
        help="start from a named set of settings; any flag given "
        "explicitly still wins, and the preset is recorded in config.json. "
        + " ".join(describe_preset(name) for name in PRESETS),
    )
    m = p.add_argument_group("model")
    m.add_argument(
        "--model",
        choices=MODELS,
        help=f"architecture (default {d.model}): mlp = fully connected "
        "nets (LeakyReLU, tanh), dcgan28 = a DCGAN for 28x28 (InfoGAN's MNIST nets at half width), "
        "dcgan64 = Radford et al.'s 64x64 DCGAN, goodfellow2014 = the paper's own nets "
        "(maxout D with dropout, sigmoid G, images in [0, 1])",
    )
    m.add_argument("--latent-dim", type=int, help=f"noise dimension (default {d.latent_dim})")
    m.add_argument(
        "--noise",
        choices=NOISES,
        help=f"noise distribution: normal N(0, 1), uniform U(-1, 1) or "
        f"uniform_sqrt3 U(-sqrt 3, sqrt 3) (default {d.noise})",
    )
    m.add_argument("--width", type=float, help=f"multiplier of every hidden layer size (default {d.width})")
    m.add_argument("--dropout", type=float, help=f"dropout probability in the mlp discriminator (default {d.dropout})")
    m.add_argument(
        "--d-norm",
        choices=D_NORMS,
        help="normalisation in the dcgan28 discriminator: batch (BatchNorm), layer (LayerNorm per sample) or none "
        "(default: layer with --loss wgan-gp, none with --spectral-norm or --r1, else batch)",
    )
    m.add_argument(
        "--spectral-norm",
        action="store_true",
        default=None,
        help="spectral normalisation (nn.utils.spectral_norm) of every conv and linear layer of the discriminator",
    )
    m.add_argument(
        "--conditional",
        action="store_true",
        default=None,
        help="learn p(x | digit): the label enters G (one-hot beside z) and D (one-hot beside the image for the "
        "MLPs, a projection discriminator for dcgan28); grids show one row per digit (mlp, dcgan28, "
        "goodfellow2014; MNIST-style data with labels)",
    )
    t_ema = "decay of an exponential moving average of G's weights; grids, scores and `sample` use the average "
    m.add_argument(
        "--ema", type=float, help=t_ema + "(default 0.999 for dcgan28, else 0 = off; may be switched on when resuming)"
    )
    m.add_argument("--channels", type=int, choices=(1, 3), help=f"image channels: 1 gray, 3 RGB (default {d.channels})")
    m.add_argument(
        "--image-size",
        type=int,
        help=f"image side; fixed by the model: "
        f"{', '.join(f'{k} {v}' for k, v in IMAGE_SIZES.items())} (default: the model's)",
    )
    t = p.add_argument_group("training (Algorithm 1 of Goodfellow et al. 2014)")
    t.add_argument(
        "--epochs", type=int, help=f"total epochs to train (default {d.epochs}; with --resume, the new total)"
    )
    t.add_argument("--batch-size", type=int, help="minibatch size m (default 64 for dcgan28, else 128)")
    t.add_argument(
        "--k", type=int, help="discriminator steps per generator step (default 1; n_critic 5 with --loss wgan-gp)"
    )
    t.add_argument(
        "--loss",
        choices=LOSSES,
        help="the game: nonsaturating = D by BCE, G minimises -log D(G(z)); "
        "minimax = G minimises log(1 - D(G(z))) as in the value function; hinge = D minimises "
        "mean relu(1 - D(x)) + mean relu(1 + D(G(z))), G minimises -mean D(G(z)) (SN-GAN); wgan-gp = a critic, "
        "mean D(G(z)) - mean D(x) plus the gradient penalty, Adam(1e-4, betas (0, 0.9)) and --k 5 unless given "
        f"(Gulrajani et al. 2017) (default {d.loss})",
    )
    t.add_argument(
        "--gp-lambda",
        type=float,
        metavar="LAMBDA",
        help="weight of WGAN-GP's penalty LAMBDA * mean (||grad D(x_hat)|| - 1)^2 (default 10 with --loss wgan-gp)",
    )
    t.add_argument(
        "--r1",
        type=float,
        metavar="GAMMA",
        help="add R1, GAMMA/2 * mean ||grad_x D(x)||^2 on real images, to the discriminator loss "
        f"(Mescheder et al. 2018; any loss and model) (default {d.r1} = off)",
    )
    t.add_argument(
        "--r1-every",
        type=int,
        metavar="N",
        help=f"apply R1 every N discriminator steps, scaled by N (lazy regularisation) (default {d.r1_every})",
    )
    t.add_argument(
        "--label-smoothing",
        type=float,
        help=f"one-sided label smoothing s: real targets 1 - s, fake targets 0 (default {d.label_smoothing})",
    )
    t.add_argument(
        "--updates",
        choices=UPDATES,
        help="alternating = Algorithm 1 (k D steps, then a G step on "
        "fresh noise); simultaneous = both gradients from one forward pass, both players step together "
        f"(the released code; needs --k 1) (default {d.updates})",
    )
    t.add_argument(
        "--d-loss",
        choices=D_LOSSES,
        help="discriminator cost: sum = BCE(D(x), 1) + BCE(D(G(z)), 0), "
        f"mean = half of it (the released code's) (default {d.d_loss})",
    )
    t.add_argument("--optimizer", choices=OPTIMIZERS, help=f"optimizer of both players (default {d.optimizer})")
    t.add_argument("--lr", type=float, help="learning rate for both players (default 2e-4; 1e-4 with --loss wgan-gp)")
    t.add_argument(
        "--lr-g",
        type=float,
        help="the generator's learning rate (default: --lr if given, else 1e-3 for dcgan28, else --lr)",
    )
    t.add_argument(
        "--lr-d",
        type=float,
        help="the discriminator's learning rate (default: --lr if given, else 2e-4 for dcgan28, else --lr)",
    )
    t.add_argument(
        "--lr-decay",
        type=float,
        metavar="D",
        help=f"divide the learning rate by D after every iteration (default {d.lr_decay} = constant)",
    )
    t.add_argument("--min-lr", type=float, help=f"floor of the decayed learning rate (default {d.min_lr})")
    t.add_argument("--beta1", type=float, help="Adam beta1 (default 0.5; 0 with --loss wgan-gp)")
    t.add_argument("--beta2", type=float, help="Adam beta2 (default 0.999; 0.9 with --loss wgan-gp)")
    t.add_argument(
        "--momentum", type=float, help=f"SGD momentum (at epoch 1 with --final-momentum) (default {d.momentum})"
    )
    t.add_argument(
        "--final-momentum",
        type=float,
        help="SGD momentum rises linearly from --momentum at epoch 1 "
        "to this at epoch --momentum-saturate, flat after (default: constant momentum)",
    )
    t.add_argument(
        "--momentum-saturate",
        type=int,
        metavar="EPOCH",
        help=f"the epoch at which --final-momentum is reached (default {d.momentum_saturate})",
    )
    t.add_argument(
        "--seed",
        type=int,
        help=f"seed of weights, noise and data order; runs are reproducible bit for bit on the CPU (default {d.seed})",
    )
    t.add_argument("--device", choices=("cpu", "cuda"), help=f"where to train (default {d.device})")
    io = p.add_argument_group("data and output")
    io.add_argument(
        "--data-dir",
        metavar="DIR",
        help="MNIST-style IDX files (gzipped or not) or a folder of "
        "images (default: the MNIST bundled with the package)",
    )
    io.add_argument("--limit", type=int, metavar="N", help="use only the first N training images (quick runs)")
    io.add_argument("--outdir", metavar="DIR", help="output directory (default runs/<model>-<YYYYmmdd-HHMMSS>)")
    io.add_argument(
        "--resume",
        metavar="OUTDIR",
        help="continue the run in OUTDIR from its checkpoint; its "
        f"settings are kept, only {', '.join('--' + r.replace('_', '-') for r in RESUMABLE)} may change",
    )
    io.add_argument(
        "--log-every", type=int, metavar="N", help=f"write a metrics record every N steps (default {d.log_every})"
    )
    io.add_argument(
        "--eval-every",
        type=int,
        metavar="N",
        help=f"evaluate the generator every N epochs (default {d.eval_every} = off)",
    )
    io.add_argument("--quiet", action="store_true", default=None, help="no progress bar and no per-epoch lines")
    io.add_argument(
        "--detect-anomaly",
        action="store_true",
        default=None,
        help="check every op's output and gradient for nan/inf (minigrad.autograd.detect_anomaly): "
        "a divergence then names the op and the line that made it; slower",
    )
    io.add_argument(
        "--tensorboard",
        nargs="?",
        const="",
        metavar="DIR",
        help="also log to TensorBoard event files in DIR (default: the run's tb/): every logged number, the epoch "
        "grids, weight and gradient histograms, learning rates and the settings; needs the optional extra "
        "(pip install -e '.[tensorboard]'); may be switched on when resuming. View: tensorboard --logdir DIR",
    )
    add_threads_argument(io)


def _train_config(p, args):
    """A validated TrainConfig (and the loaded checkpoint when resuming); usage errors exit 2."""
    given = {
        key: value
        for key, value in vars(args).items()
        if key not in ("command", "func", "resume", "threads") and value is not None
    }
    state = None
    require_device(p, given.get("device"))  # before a checkpoint is loaded onto it
    if given.get("data_dir") is not None:  # stored in the run's config: must still work from another folder
        given["data_dir"] = str(Path(given["data_dir"]).resolve())
    if args.resume is not None:
        if not Path(args.resume).is_dir():
            p.error(f"--resume {args.resume}: not a directory")
        fixed = sorted(set(given) - set(RESUMABLE))
        if fixed:
            names = ", ".join("--" + f.replace("_", "-") for f in fixed)
            p.error(
                f"{names} cannot be changed when resuming: the run's settings come from its checkpoint "
                f"(only {', '.join('--' + r.replace('_', '-') for r in RESUMABLE)} may)"
            )
        try:
            state = load_checkpoint(args.resume, map_location=given.get("device"))
            cfg = TrainConfig.from_dict(state["config"])
        except (CheckpointError, ConfigError, RuntimeError) as e:
            p.error(f"--resume {args.resume}: {e}")
        _require_matching_config(p, args.resume, state["config"])
        if "epochs" in given and given["epochs"] <= state["epoch"]:
            p.error(
                f"--epochs {given['epochs']}: {args.resume} has already trained {state['epoch']} epochs; "
                f"give a larger --epochs to continue it"
            )
        for key, value in given.items():
            setattr(cfg, key, value)
        cfg.quiet = bool(args.quiet)  # belongs to this invocation, not to the run
        cfg.outdir = str(args.resume)
        require_writable(p, "--resume", args.resume, args.resume)
    else:
        preset = given.get("preset")
        cfg = TrainConfig(**(dict(PRESETS[preset], **given) if preset else given))  # explicit flags win
        if cfg.outdir is not None:
            out = Path(cfg.outdir)
            if out.exists() and not out.is_dir():
                p.error(f"--outdir {out} exists and is not a directory")
            _require_no_run(p, out)
            require_writable(p, "--outdir", out, out)
        # (a folder with a config.json but no checkpoint is a run that stopped before its first one: start over)
    try:
        cfg.validate()
    except ConfigError as e:
        p.error(str(e))
    if cfg.tensorboard is not None:
        from gan.training import tensorboard

        if not tensorboard.available():
            p.error(f"--tensorboard needs the optional package tensorboardX: {tensorboard.INSTALL_HINT}")
        if cfg.tensorboard:  # stored in the run's config: must still work from another folder
            cfg.tensorboard = str(Path(cfg.tensorboard).resolve())
    require_device(p, cfg.device)  # also a device that came from a resumed run's config
    if cfg.outdir is None:  # claimed last, so that a usage error leaves no empty folder behind
        from gan.training.trainer import default_outdir

        require_writable(p, "--outdir", "(default runs/)", "runs")
        cfg.outdir = default_outdir(cfg.model)
    return cfg, state


def _require_matching_config(p, folder, config):
    """A usage error when the folder's config.json describes another run than its checkpoint's config."""
    try:
        recorded = json.loads((Path(folder) / "config.json").read_text())
    except (OSError, ValueError):
        return  # missing or damaged: it is rewritten from the checkpoint
    if not isinstance(recorded, dict):
        return
    ignore = set(RESUMABLE) | {"outdir"}
    diffs = [
        f"{key} {config.get(key)!r} vs {recorded.get(key)!r}"
        for key in sorted(config)
        if key not in ignore and key in recorded and recorded[key] != config.get(key)
    ]
    if diffs:
        p.error(
            f"--resume {folder}: its checkpoint's settings differ from its config.json ({', '.join(diffs)}): "
            f"the checkpoint comes from another run"
        )


def _require_no_run(p, out):
    if (Path(out) / CHECKPOINT_FILE).exists():
        p.error(f"--outdir {out} already holds a run; continue it with --resume {out} or choose another --outdir")


def _lock_outdir(p, cfg, resuming):
    """The run's folder, locked against a second live run (a usage error when another holds it)."""
    from gan.run.lock import RunLock, RunLocked

    lock = RunLock(cfg.outdir)
    try:
        lock.acquire()
    except RunLocked as e:
        p.error(f"{'--resume' if resuming else '--outdir'} {cfg.outdir}: {e}")
    if not resuming and (Path(cfg.outdir) / CHECKPOINT_FILE).exists():  # a run that finished since the check
        lock.release()
        _require_no_run(p, cfg.outdir)
    return lock


def run(p, args):
    cfg, state = _train_config(p, args)
    if state is not None and state["epoch"] >= cfg.epochs:  # nothing to train: say so, load nothing
        print(
            f"{cfg.outdir} is finished: it has trained all {cfg.epochs} of its epochs; to train it longer, "
            f"give the new total: --resume {cfg.outdir} --epochs {cfg.epochs + 10}"
        )
        return 0
    lock = _lock_outdir(p, cfg, resuming=state is not None)
    try:
        return _train_locked(p, args, cfg, state)
    finally:
        lock.release()


def _next_steps(cfg) -> str:
    """What a finished run prints: where it is, and the commands that use it."""
    out = cfg.outdir
    return (
        f"done: {cfg.epochs} epochs in {out}/ (samples/, losses.png, checkpoint.npz)\n"
        f"next: python -m gan sample --checkpoint {out} --n 1000 --out samples.npy --grid samples.png\n"
        f"      python -m gan evaluate --checkpoint {out}     # Parzen LL, FID, IS -> {out}/eval.json\n"
        f"      python -m gan train --resume {out} --epochs {cfg.epochs + 10}     # train it longer"
    )


def _train_locked(p, args, cfg, state):
    from gan.run.errors import TrainingDiverged, TrainingInterrupted, TrainingWriteError
    from gan.training.trainer import train

    use_threads(args.threads, _recorded_threads(cfg.outdir) if state is not None else None)
    evaluator = None
    if cfg.eval_every:
        from gan.evaluation.evaluate import make_evaluator

        evaluator = make_evaluator(
            cfg.latent_dim, cfg.noise, cfg.device, trained_on=cfg.limit, conditional=cfg.conditional
        )
    try:
        train(cfg, resume=state, evaluator=evaluator)
        if not cfg.quiet:
            print(_next_steps(cfg))
    except DataError as e:
        where = f"--data-dir {cfg.data_dir}: " if cfg.data_dir is not None else ""
        print(f"{p.prog}: error: {where}{e}", file=sys.stderr)
        return EXIT_FAILURE
    except ConfigError as e:  # found only once the data is loaded (e.g. too few images)
        print(f"{p.prog}: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except CheckpointError as e:  # weights that do not fit the config's models, found as they are loaded
        print(f"{p.prog}: error: --resume {cfg.outdir}: {e}", file=sys.stderr)
        return EXIT_USAGE
    except (TrainingDiverged, TrainingWriteError) as e:
        print(f"{p.prog}: error: {e}", file=sys.stderr)
        return EXIT_FAILURE
    except TrainingInterrupted as e:
        print(f"{p.prog}: {e}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        print(f"{p.prog}: interrupted (no checkpoint written since the last epoch)", file=sys.stderr)
        return EXIT_INTERRUPTED
    return 0
