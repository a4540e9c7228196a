"""``python -m gan train``: its flags, the run's settings (a new run, a preset, or --resume), and the run."""

from __future__ import annotations

import errno
import json
import os
import re
import sys
from pathlib import Path

from gan.cli.shared import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    flag_spelling,
    require_device,
    require_writable,
    spoken,
    use_threads,
)
from gan.cli.train_options import add_arguments as add_arguments  # the command's flags
from gan.config import ConfigError
from gan.data import DataError
from gan.presets import DEFAULT as DEFAULT_PRESET
from gan.presets import PRESETS
from gan.run.checkpoint import CheckpointError
from gan.run.errors import (
    AlreadyTrained,
    AverageKept,
    ForeignCheckpoint,
    NotAFolder,
    RunExists,
    RunFolderError,
    SettingsFixed,
    UnreadableCheckpoint,
)
from gan.run.folder import default_outdir
from gan.run.lock import RunLocked
from gan.run.resume import claim_run_folder, new_config, require_new_run_folder, resume_config

SUMMARY = "train a GAN (Algorithm 1 of Goodfellow et al. 2014) and write samples, curves, checkpoints"


def _recorded_threads(outdir):
    """The thread count in a run's config.json, or None."""
    try:
        return json.loads((Path(outdir) / "config.json").read_text()).get("threads")
    except (OSError, ValueError, AttributeError):
        return None


def _train_config(p, args):
    """A validated TrainConfig (and the loaded checkpoint when resuming); usage errors exit 2."""
    given = {
        key: value
        for key, value in vars(args).items()
        if key not in ("command", "func", "resume", "threads") and value is not None
    }
    state = None
    implicit = args.resume is None and "model" not in given and "preset" not in given  # the default recipe
    if implicit:
        given["preset"] = DEFAULT_PRESET
    require_device(p, given.get("device"))  # before a checkpoint is loaded onto it
    if given.get("data_dir") is not None:  # stored in the run's config: must still work from another folder
        if _is_symlink_loop(given["data_dir"]):  # resolve() raised a RuntimeError for it, and says nothing since 3.13
            p.exit(
                EXIT_FAILURE,
                f"{p.prog}: error: --data-dir {given['data_dir']}: a loop of symbolic links (it leads back to "
                f"itself), not a data directory\n",
            )
        given["data_dir"] = str(Path(given["data_dir"]).resolve())
    flag = "--outdir" if args.resume is None else "--resume"
    try:
        if args.resume is not None:
            cfg, state = resume_config(args.resume, given)
            require_writable(p, "--resume", args.resume, args.resume)
        else:
            cfg = new_config(given)
            if cfg.outdir is not None:
                require_new_run_folder(cfg.outdir)
                require_writable(p, "--outdir", Path(cfg.outdir), Path(cfg.outdir))
        cfg.validate()
    except (RunFolderError, ConfigError) as e:
        message = _usage_message(e, flag)
        if isinstance(e, ConfigError) and args.resume is None:
            message += _preset_note(message, given.get("preset"), given)
            if implicit:
                message += (
                    f" (without --model or --preset, train runs --preset {DEFAULT_PRESET}; --model mlp is the "
                    "fully connected GAN)"
                )
        p.error(message)
    if cfg.tensorboard is not None:
        from gan.training import tensorboard

        if not tensorboard.available():
            p.error(f"--tensorboard needs the optional package tensorboardX: {tensorboard.INSTALL_HINT}")
        if cfg.tensorboard:  # stored in the run's config: must still work from another folder
            cfg.tensorboard = str(Path(cfg.tensorboard).resolve())
    require_device(p, cfg.device)  # also a device that came from a resumed run's config
    if cfg.outdir is None:  # claimed last, so that a usage error leaves no empty folder behind
        require_writable(p, "--outdir", "(default runs/)", "runs")
        cfg.outdir = default_outdir(cfg.model)
    return cfg, state


def _is_symlink_loop(path) -> bool:
    try:
        os.stat(path)  # follows every link: ELOOP when they lead back to themselves
    except OSError as e:
        return e.errno == errno.ELOOP
    return False


def _preset_note(message, preset, given):
    """' (the preset P sets --a x and --b y; ...)' for the flags a ConfigError names that the preset set and
    the user did not give, else '': the user is told where a setting they never typed came from."""
    if preset is None:
        return ""
    named = dict.fromkeys(flag.replace("-", "_") for flag in re.findall(r"--([a-z0-9][a-z0-9-]*)", message))
    made = [
        f"--{key.replace('_', '-')} {PRESETS[preset][key]}" for key in named if key in set(PRESETS[preset]) - set(given)
    ]
    if not made:
        return ""
    return f" (the preset {preset} sets {' and '.join(made)}; a flag given explicitly overrides it)"


def _usage_message(e, flag) -> str:
    """The one-line usage error of a run that cannot start as asked, in flags (``flag``: --outdir or --resume)."""
    if isinstance(e, ConfigError):
        return e.message(flag_spelling)
    where = f"{flag} {e.folder}"
    if isinstance(e, SettingsFixed):
        fields, may = (", ".join(map(flag_spelling, names)) for names in (e.fields, e.resumable))
        return f"{fields} cannot be changed when resuming: the run's settings come from its checkpoint (only {may} may)"
    if isinstance(e, AlreadyTrained):
        return (
            f"--epochs {e.epochs}: {e.folder} has already trained {e.trained} epochs; give a larger --epochs to "
            f"continue it"
        )
    if isinstance(e, RunExists):
        return f"{where} already holds a run; continue it with --resume {e.folder} or choose another --outdir"
    if isinstance(e, UnreadableCheckpoint):
        return f"{where}: {spoken(e.cause)}"
    if isinstance(e, ForeignCheckpoint):
        diffs = ", ".join(e.diffs)
        return (
            f"{where}: its checkpoint's settings differ from its config.json ({diffs}): the checkpoint comes from "
            f"another run"
        )
    if isinstance(e, AverageKept):
        return (
            f"--ema 0: {e.folder} keeps an average of its generator (--ema {e.decay}, {e.updates} updates) that "
            f"--ema 0 would drop from its checkpoint; resume without --ema to keep it (sample --raw draws from the "
            f"last iterate), or start a new run"
        )
    if isinstance(e, NotAFolder) and flag == "--outdir":
        return f"{where} exists and is not a directory"
    return f"{where}: {e.reason}"


def run(p, args):
    cfg, state = _train_config(p, args)
    if state is not None and state["epoch"] >= cfg.epochs:  # nothing to train: say so, load nothing
        print(
            f"{cfg.outdir} is finished: it has trained all {cfg.epochs} of its epochs; to train it longer, "
            f"give the new total: --resume {cfg.outdir} --epochs {cfg.epochs + 10}"
        )
        return 0
    flag = "--outdir" if state is None else "--resume"
    try:
        lock = claim_run_folder(cfg.outdir, resuming=state is not None)
    except RunLocked as e:
        p.error(f"{flag} {cfg.outdir}: {e}")
    except RunExists as e:
        p.error(_usage_message(e, flag))
    try:
        return _train_locked(p, args, cfg, state)
    finally:
        lock.release()


# What to run for better pictures than the default recipe's, with the figures measured on the 2-core CPU
# this project is developed on (docs/results.md).
BETTER_RECIPES = (
    ("--model dcgan28 --epochs 5", "InfoGAN's nets at half width, ~14 min: FID 17.7, IS 9.05, 223 nats"),
    ("--model mlp --dropout 0.3 --ema 0.999 --epochs 90", "the fully connected GAN, ~19 min: 247 nats, FID 17.4"),
    ("--preset goodfellow2014 --epochs 620", "the paper's own recipe, ~6 h: 205 nats, FID 19.0 (Table 1: 225)"),
)


def _scores_line(record) -> str:
    """The last epoch's scores beside Table 1's Parzen log-likelihoods ('' when the epoch was not scored)."""
    if "parzen_ll" not in record and "fid" not in record:
        return ""
    from gan.evaluation.evaluate import PAPER_TABLE_1

    parts = []
    if "parzen_ll" in record:
        paper = ", ".join(f"{name} {ll} +- {se}" for name, ll, se in reversed(PAPER_TABLE_1))
        parts.append(f"Parzen LL {record['parzen_ll']:.1f} +- {record['parzen_se']:.1f} nats (Table 1: {paper})")
    if "fid" in record:
        parts.append(f"FID {record['fid']:.1f}, IS {record['inception_score']:.2f}, {record['modes_covered']}/10 modes")
    return f"scores of epoch {record['epoch']}: " + "; ".join(parts) + "\n"


def _next_steps(cfg, record=None) -> str:
    """What a finished run prints: its scores (when its last epoch was scored), where it is, the commands that
    use it, and after the default recipe, the longer ones that draw better digits."""
    out = cfg.outdir
    better = ""
    if cfg.preset == DEFAULT_PRESET:
        better = "for better pictures (times on a 2-core CPU):\n" + "".join(
            f"      python -m gan train {flags}     # {what}\n" for flags, what in BETTER_RECIPES
        )
    return (
        _scores_line(record or {})
        + f"done: {cfg.epochs} epochs in {out}/ (samples/epoch_{cfg.epochs:03d}.png, losses.png, checkpoint.npz)\n"
        + better
        + f"next: python -m gan sample --checkpoint {out} --n 1000 --out samples.npy --grid samples.png\n"
        f"      python -m gan evaluate --checkpoint {out}     # Parzen LL, FID, IS -> {out}/eval.json\n"
        f"      python -m gan train --resume {out} --epochs {cfg.epochs + 10}     # train it longer"
    )


def _train_locked(p, args, cfg, state):
    from gan.run.errors import TrainingDiverged, TrainingInterrupted, TrainingWriteError
    from gan.training.trainer import train

    use_threads(args.threads, _recorded_threads(cfg.outdir) if state is not None else None)
    evaluator = None
    if cfg.eval_every or cfg.final_scores:
        from gan.evaluation.evaluate import make_evaluator

        evaluator = make_evaluator(
            cfg.latent_dim, cfg.noise, cfg.device, trained_on=cfg.limit, conditional=cfg.conditional
        )
    try:
        record = train(cfg, resume=state, evaluator=evaluator)
        if not cfg.quiet:
            print(_next_steps(cfg, record))
    except DataError as e:
        where = f"--data-dir {cfg.data_dir}: " if cfg.data_dir is not None else ""
        print(f"{p.prog}: error: {where}{e}", file=sys.stderr)
        return EXIT_FAILURE
    except ConfigError as e:  # found only once the data is loaded (e.g. too few images)
        print(f"{p.prog}: error: {spoken(e)}", file=sys.stderr)
        return EXIT_USAGE
    except CheckpointError as e:  # weights that do not fit the config's models, found as they are loaded
        print(f"{p.prog}: error: --resume {cfg.outdir}: {spoken(e)}", file=sys.stderr)
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
