"""``python -m gan``: train a GAN on MNIST, and draw samples from a trained one.

    python -m gan train                          # the paper's MLP GAN, default settings
    python -m gan train --model dcgan28 --epochs 5 --outdir runs/dc
    python -m gan train --resume runs/dc --epochs 10
    python -m gan sample --checkpoint runs/dc --n 1000 --out samples.npy --grid samples.png
    python -m gan plot runs/dc --from-epoch 3

``main(argv)`` returns the exit code: 0 success, 1 a failure at run time (bad data, divergence),
2 bad command-line input, 130 interrupted by Ctrl-C (after writing a checkpoint).
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np

import minigrad
from gan.checkpoint import FILENAME as CHECKPOINT_FILE
from gan.checkpoint import CheckpointError, checkpoint_path, load_checkpoint, load_weights
from gan.config import D_LOSSES, LOSSES, NOISES, OPTIMIZERS, RESUMABLE, UPDATES, ConfigError, TrainConfig
from gan.data import DataError
from gan.models import D_NORMS, IMAGE_SIZES, MODELS, build_models
from gan.presets import PRESETS
from gan.presets import describe as describe_preset
from minigrad.atomic_write import atomic_write

EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 1, 2, 130
_DEFAULTS = TrainConfig()


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line, ``prog: error: message``, exit code 2."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _int_at_least(low, what):
    """An argparse ``type``: an integer >= low, else a usage error saying ``expected <what>``."""

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < low:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return value

    return parse


_positive_int = _int_at_least(1, "a positive integer")
_non_negative_int = _int_at_least(0, "a non-negative integer")


def _require_writable(p, flag, value, folder):
    """A usage error unless files can be written in ``folder`` (for ``flag value``)."""
    from gan.writable import unwritable_reason

    reason = unwritable_reason(folder)
    if reason:
        p.error(f"{flag} {value}: cannot write there: {reason}")


def _require_device(p, device):
    """A usage error for --device cuda on a machine without CUDA."""
    if device == "cuda" and not minigrad.cuda.is_available():
        p.error("--device cuda requested but CUDA is not available (install CuPy: pip install 'minigrad[gpu]')")


def _add_threads_argument(p, use="matrix products and optimizer updates"):
    p.add_argument(
        "--threads",
        type=_positive_int,
        metavar="N",
        help=f"CPU threads for {use} (default: as many as the cores other processes leave idle, measured at "
        "start; at least 1)",
    )


def _use_threads(requested, previous=None):
    """Set minigrad's CPU threads: --threads N, else the idle-core policy (and, when resuming, at most the
    run's own count, so that on a quiet machine the continuation is the same bit for bit); returns the count."""
    from minigrad import threads

    n = requested
    if n is None:
        n = threads.recommended_num_threads()
        if isinstance(previous, int) and previous >= 1:
            n = min(n, previous)
    with warnings.catch_warnings():  # an unknown BLAS: the optimizer threads are still set
        warnings.simplefilter("ignore", RuntimeWarning)
        threads.set_num_threads(n)
    return n


def _recorded_threads(outdir):
    """The thread count in a run's config.json, or None."""
    try:
        return json.loads((Path(outdir) / "config.json").read_text()).get("threads")
    except (OSError, ValueError, AttributeError):
        return None


# --- train ------------------------------------------------------------------------------------


def _add_train_arguments(p):
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
    _add_threads_argument(io)


def _train_config(p, args):
    """A validated TrainConfig (and the loaded checkpoint when resuming); usage errors exit 2."""
    given = {
        key: value
        for key, value in vars(args).items()
        if key not in ("command", "func", "resume", "threads") and value is not None
    }
    state = None
    _require_device(p, given.get("device"))  # before a checkpoint is loaded onto it
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
        _require_writable(p, "--resume", args.resume, args.resume)
    else:
        preset = given.get("preset")
        cfg = TrainConfig(**(dict(PRESETS[preset], **given) if preset else given))  # explicit flags win
        if cfg.outdir is not None:
            out = Path(cfg.outdir)
            if out.exists() and not out.is_dir():
                p.error(f"--outdir {out} exists and is not a directory")
            _require_no_run(p, out)
            _require_writable(p, "--outdir", out, out)
        # (a folder with a config.json but no checkpoint is a run that stopped before its first one: start over)
    try:
        cfg.validate()
    except ConfigError as e:
        p.error(str(e))
    _require_device(p, cfg.device)  # also a device that came from a resumed run's config
    if cfg.outdir is None:  # claimed last, so that a usage error leaves no empty folder behind
        from gan.train import default_outdir

        _require_writable(p, "--outdir", "(default runs/)", "runs")
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
    from gan.runlock import RunLock, RunLocked

    lock = RunLock(cfg.outdir)
    try:
        lock.acquire()
    except RunLocked as e:
        p.error(f"{'--resume' if resuming else '--outdir'} {cfg.outdir}: {e}")
    if not resuming and (Path(cfg.outdir) / CHECKPOINT_FILE).exists():  # a run that finished since the check
        lock.release()
        _require_no_run(p, cfg.outdir)
    return lock


def _run_train(p, args):
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
    from gan.run_errors import TrainingDiverged, TrainingInterrupted, TrainingWriteError
    from gan.train import train

    _use_threads(args.threads, _recorded_threads(cfg.outdir) if state is not None else None)
    evaluator = None
    if cfg.eval_every:
        from gan.evaluation import make_evaluator

        evaluator = make_evaluator(cfg.latent_dim, cfg.noise, cfg.device, trained_on=cfg.limit)
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


# --- sample -----------------------------------------------------------------------------------


def _add_sample_arguments(p):
    p.add_argument(
        "--checkpoint", required=True, metavar="PATH", help="a checkpoint.npz, or a run directory holding one"
    )
    p.add_argument("--n", type=_positive_int, required=True, help="number of images")
    p.add_argument(
        "--out",
        required=True,
        metavar="FILE.npy",
        help="output: float32 images in [0, 1], shape (N, H, W) for gray, (N, C, H, W) for RGB",
    )
    p.add_argument("--grid", metavar="FILE.png", help="also save the first (up to 64) images as an 8x8 grid")
    p.add_argument("--seed", type=_non_negative_int, default=0, help="seed of the noise (default 0)")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu", help="where to run the generator (default cpu)")
    p.add_argument("--batch-size", type=_positive_int, default=500, help="images per forward pass (default 500)")
    p.add_argument("--raw", action="store_true", help="use the last generator iterate, not its --ema average")
    _add_threads_argument(p)


def _load_generator(p, checkpoint, device, raw=False):
    """(G, config, checkpoint state, averaged) from a checkpoint; a usage error if it cannot be read.

    A run trained with --ema is represented by its averaged generator (averaged True) unless ``raw``.
    """
    try:
        state = load_checkpoint(checkpoint, map_location=device)
        cfg = TrainConfig.from_dict(state["config"])
    except (CheckpointError, ConfigError) as e:
        p.error(f"--checkpoint {checkpoint}: {e}")
    G, _ = build_models(cfg.model, cfg.latent_dim, cfg.channels, cfg.width)
    G.to(device)
    averaged = not raw and "generator_ema" in state
    try:
        load_weights(G, state, "generator_ema" if averaged else "generator")
    except CheckpointError as e:
        p.error(f"--checkpoint {checkpoint}: {e}")
    return G, cfg, state, averaged


def _run_sample(p, args):
    from gan import plots
    from gan.sampling import generate, sample_noise

    _require_device(p, args.device)
    if not str(args.out).endswith(".npy"):
        p.error(f"--out {args.out}: the file name must end in .npy")
    _require_writable(p, "--out", args.out, Path(args.out).parent)
    if args.grid:
        _require_writable(p, "--grid", args.grid, Path(args.grid).parent)
    _use_threads(args.threads)
    G, cfg, state, _ = _load_generator(p, args.checkpoint, args.device, raw=args.raw)
    minigrad.manual_seed(args.seed)
    z = sample_noise(args.n, cfg.latent_dim, cfg.noise, args.device)
    images = generate(G, z, args.batch_size)  # (N, C, H, W) float32 in [0, 1]
    out = Path(args.out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        np.save(out, images[:, 0] if images.shape[1] == 1 else images)
    except OSError as e:
        p.error(f"--out {out}: {e.strerror or e}")
    if args.grid:
        try:
            plots.save_grid(images[:64], args.grid, nrow=8)
        except OSError as e:
            p.error(f"--grid {args.grid}: {e.strerror or e}")
    print(
        f"wrote {args.n} samples of shape {images.shape[1:]} from {checkpoint_path(args.checkpoint)} "
        f"(epoch {state['epoch']}) to {out}" + (f" and a grid to {args.grid}" if args.grid else "")
    )
    return 0


# --- evaluate ---------------------------------------------------------------------------------


def _add_evaluate_arguments(p):
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--checkpoint", metavar="PATH", help="score the generator of a checkpoint (or run directory)")
    src.add_argument(
        "--samples",
        metavar="FILE.npy",
        help="score images from a .npy file: (N, H, W) or (N, C, H, W) in [0, 1], as written by `sample`",
    )
    src.add_argument(
        "--reference",
        action="store_true",
        help="score 10,000 real MNIST training images instead (the real-data row: the FID floor and the IS ceiling)",
    )
    p.add_argument(
        "--n",
        type=_positive_int,
        default=10000,
        help="samples to draw from a checkpoint; also the Parzen window size (default 10000, the paper's)",
    )
    p.add_argument(
        "--valid-size",
        type=_positive_int,
        default=1000,
        help="validation images for choosing sigma (MNIST train 50,000 on; default 1000, the paper's)",
    )
    p.add_argument("--no-parzen", action="store_true", help="skip the Parzen-window log-likelihood")
    p.add_argument("--no-classifier", action="store_true", help="skip FID, Inception Score and modes")
    p.add_argument(
        "--seed", type=_non_negative_int, default=1234, help="seed of the noise for --checkpoint (default 1234)"
    )
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu", help="where to compute (default cpu)")
    p.add_argument(
        "--raw",
        action="store_true",
        help="with --checkpoint of an --ema run: score the last generator iterate, not the average",
    )
    p.add_argument(
        "--out",
        metavar="FILE.json",
        help="where to write the scores (default: eval.json beside the "
        "checkpoint or samples file, or ./eval.json; eval_raw.json for --raw of an --ema run)",
    )
    _add_threads_argument(p)


def _run_evaluate(p, args):
    from gan import evaluation

    _require_device(p, args.device)
    if args.no_parzen and args.no_classifier:
        p.error("--no-parzen and --no-classifier together leave nothing to score")
    if args.out:
        _require_writable(p, "--out", args.out, Path(args.out).parent)
    _use_threads(args.threads)
    kwargs = dict(
        parzen=not args.no_parzen,
        classifier=not args.no_classifier,
        valid_size=args.valid_size,
        parzen_samples=args.n,
        device=args.device,
    )
    if args.checkpoint:
        G, cfg, state, averaged = _load_generator(p, args.checkpoint, args.device, raw=args.raw)
        evaluate = evaluation.make_evaluator(
            cfg.latent_dim,
            cfg.noise,
            args.device,
            n=args.n,
            seed=args.seed,
            trained_on=cfg.limit,
            **{k: v for k, v in kwargs.items() if k != "device"},
        )
        name = f"{cfg.model}{' EMA' if averaged else ''} (epoch {state['epoch']})"
        try:
            scores = evaluate(G, state["epoch"])
        except ValueError as e:  # e.g. a diverged generator's NaN images
            p.error(f"--checkpoint {args.checkpoint}: {e}")
        # the last iterate's scores must not overwrite the average's
        default_out = checkpoint_path(args.checkpoint).parent / (
            "eval_raw.json" if args.raw and "generator_ema" in state else "eval.json"
        )
    elif args.samples:
        try:
            images = np.load(args.samples, allow_pickle=False)
        except (OSError, ValueError) as e:
            p.error(f"--samples {args.samples}: cannot read it as a .npy array ({e})")
        try:
            scores = evaluation.evaluate_samples(images, **kwargs)
        except ValueError as e:
            p.error(f"--samples {args.samples}: {e}")
        name, default_out = Path(args.samples).stem, Path(args.samples).with_name("eval.json")
    else:
        name, scores = "real MNIST (train[:10000])", evaluation.reference_scores(**kwargs)
        default_out = Path("eval.json")
    print(evaluation.format_table([(name, scores)]))
    out = Path(args.out) if args.out else default_out
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(out, lambda f: f.write(json.dumps({"name": name, **scores}, indent=2) + "\n"), text=True)
    except OSError as e:
        p.error(f"--out {out}: {e.strerror or e}")
    print(f"wrote {out}")
    return 0


# --- plot -------------------------------------------------------------------------------------


def _add_plot_arguments(p):
    p.add_argument("run", metavar="RUN", help="a run directory (its metrics.jsonl and config.json)")
    p.add_argument(
        "--from-epoch",
        type=_positive_int,
        default=1,
        metavar="N",
        help="draw epochs N on (the first epochs' low scores flatten a long run's curve; default 1)",
    )
    p.add_argument("--scores", metavar="FILE.png", help="where to draw the score curves (default RUN/scores.png)")
    p.add_argument("--losses", metavar="FILE.png", help="where to draw the loss curves (default RUN/losses.png)")
    p.add_argument(
        "--real",
        action="store_true",
        help="add real MNIST's scores as lines (computed as `evaluate --reference` does, in about 15 s)",
    )
    _add_threads_argument(p, use="the --real scores (drawing alone uses one)")


def _run_plot(p, args):
    from gan import run_curves
    from gan.runlog import CONFIG_FILE, METRICS_FILE, read_metrics

    run = Path(args.run)
    if not (run / METRICS_FILE).is_file():
        p.error(f"RUN {args.run}: no {METRICS_FILE} there (not a run directory?)")

    def warn(message):
        print(f"warning: {message}", file=sys.stderr)

    try:
        config = json.loads((run / CONFIG_FILE).read_text())
        problem = None if isinstance(config, dict) else "not a JSON object"
    except (OSError, ValueError) as e:
        problem = getattr(e, "strerror", None) or str(e)
    if problem:  # titles say "?", and D's outputs are drawn as probabilities
        warn(f"{run / CONFIG_FILE}: cannot read the run's settings ({problem}); drawing without them")
        config = {}
    records = read_metrics(run / METRICS_FILE, warn=warn)
    if not records:
        p.error(f"RUN {args.run}: {run / METRICS_FILE} holds no records yet")
    last = max(r["epoch"] for r in records)
    records = [r for r in records if r["epoch"] >= args.from_epoch]
    if not records:
        p.error(
            f"--from-epoch {args.from_epoch}: {run / METRICS_FILE} has no records of epoch {args.from_epoch} "
            f"or later (its last epoch is {last})"
        )
    outputs = {"--losses": Path(args.losses or run / "losses.png"), "--scores": Path(args.scores or run / "scores.png")}
    for flag, path in outputs.items():
        _require_writable(p, flag, path, path.parent)
    references = {}
    if args.real:
        from gan import evaluation

        _use_threads(args.threads)
        real = evaluation.reference_scores()
        references = {
            key: [(real[key], f"real MNIST: {real[key]:.3g}")] for key in ("parzen_ll", "fid", "inception_score")
        }
    losses, drawn = run_curves.draw(records, config, outputs["--losses"], outputs["--scores"], references)
    print(f"wrote {losses}")
    if drawn is None:
        print(f"no scores from epoch {args.from_epoch} on (train with --eval-every N to score the run)")
    else:
        print(f"wrote {drawn}")
    return 0


# --- entry point ------------------------------------------------------------------------------

# name -> (one-line help, add_arguments, run)
SUBCOMMANDS = {
    "train": (
        "train a GAN (Algorithm 1 of Goodfellow et al. 2014) and write samples, curves, checkpoints",
        _add_train_arguments,
        _run_train,
    ),
    "sample": ("draw images from a trained generator into a .npy file", _add_sample_arguments, _run_sample),
    "evaluate": (
        "score a generator: Parzen-window log-likelihood (the paper's Table 1), classifier FID, "
        "Inception Score and modes",
        _add_evaluate_arguments,
        _run_evaluate,
    ),
    "plot": (
        "redraw a run's loss and score curves from its metrics.jsonl (e.g. from a later epoch on)",
        _add_plot_arguments,
        _run_plot,
    ),
}


def build_parser():
    parser = _Parser(prog="python -m gan", description="GANs on MNIST with minigrad.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    subparsers = {}
    for name, (summary, add_arguments, run) in SUBCOMMANDS.items():
        sp = sub.add_parser(name, help=summary, description=summary)
        add_arguments(sp)
        sp.set_defaults(func=run)
        subparsers[name] = sp
    return parser, subparsers


def main(argv=None) -> int:
    # the CLI opts in to minigrad's speed switches (a library import changes nothing outside the library);
    # each command sets the thread count (--threads, or the shared-CPU policy) once its arguments are checked
    minigrad.allocator.keep_freed_memory()
    parser, subparsers = build_parser()
    args = parser.parse_args(argv)
    return int(args.func(subparsers[args.command], args) or 0)
