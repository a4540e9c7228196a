"""``python -m gan train``: its flags, the run's settings (a new run, a preset, or --resume), and the run."""

from __future__ import annotations

import json
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
from gan.run.checkpoint import CheckpointError
from gan.run.errors import (
    AlreadyTrained,
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
    require_device(p, given.get("device"))  # before a checkpoint is loaded onto it
    if given.get("data_dir") is not None:  # stored in the run's config: must still work from another folder
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
        p.error(_usage_message(e, flag))
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


def _usage_message(e, flag) -> str:
    """The one-line usage error of a run that cannot start as asked, in flags (``flag``: --outdir or --resume)."""
    if isinstance(e, ConfigError):
        return e.message(flag_spelling)
    where = f"{flag} {e.folder}"
    if isinstance(e, SettingsFixed):
        return (
            f"{', '.join(map(flag_spelling, e.fields))} cannot be changed when resuming: the run's settings come from "
            f"its checkpoint (only {', '.join(map(flag_spelling, e.resumable))} may)"
        )
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
        return (
            f"{where}: its checkpoint's settings differ from its config.json ({', '.join(e.diffs)}): the checkpoint "
            f"comes from another run"
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
