"""The Python API: train, resume and evaluate a GAN as ``python -m gan`` does, without the command line.

    import gan

    gan.train(model="dcgan28", epochs=5, outdir="runs/dc")   # or gan.train(gan.TrainConfig(model="dcgan28", ...))
    gan.resume("runs/dc", epochs=10)                          # train it on to 10 epochs in all
    scores = gan.evaluate("runs/dc")                          # Parzen log-likelihood, FID, Inception Score, modes

Errors are exceptions: ConfigError names the TrainConfig fields at fault; a folder that cannot hold the run asked
for raises a gan.run.errors.RunFolderError (NotAFolder, RunExists, SettingsFixed, UnreadableCheckpoint,
ForeignCheckpoint, AlreadyTrained), one that another live run holds gan.run.lock.RunLocked; a run that stops
raises TrainingDiverged, TrainingWriteError or TrainingInterrupted (gan.run.errors). Unlike the CLI, the API leaves
minigrad's thread count as it finds it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from gan.config import TrainConfig
from gan.evaluation.evaluate import evaluate_generator, make_evaluator
from gan.evaluation.scores import PAPER_SIGMA_GRID
from gan.run.checkpoint import load_generator
from gan.run.folder import default_outdir
from gan.run.resume import claim_run_folder, new_config, require_new_run_folder, resume_config
from gan.training.trainer import Trainer


def train(config: TrainConfig | None = None, /, *, evaluator=None, stdout=None, **settings) -> dict:
    """Train a new run; returns its last epoch record (losses, D outputs, times, and scores when evaluated).

    ``config``: a TrainConfig (not modified), or ``settings``: its fields as keywords, where ``preset`` fills the
    settings not given from gan.presets. Without ``outdir`` the run goes to runs/<model>-<date-time>.
    ``evaluator``: callable(G, epoch) -> scores, called every ``eval_every`` epochs and at the last with
    ``final_scores`` (default: the CLI's, Parzen
    window, FID, Inception Score and modes). ``stdout``: where progress lines go (default sys.stdout).
    """
    if config is not None and settings:
        raise TypeError("train() takes a TrainConfig or settings as keywords, not both")
    cfg = dataclasses.replace(config) if config is not None else new_config(settings)
    if cfg.data_dir is not None:  # stored in the run's config: must still work from another folder
        cfg.data_dir = str(Path(cfg.data_dir).resolve())
    cfg.validate()
    if cfg.outdir is None:
        cfg.outdir = default_outdir(cfg.model)
    else:
        require_new_run_folder(cfg.outdir)
    return _run(cfg, None, evaluator, stdout)


def resume(run_dir, /, *, evaluator=None, stdout=None, **changes) -> dict:
    """Continue the run in ``run_dir`` from its checkpoint; returns the last epoch record ({} when it had already
    trained all its epochs).

    ``changes``: the settings a resumed run may change (gan.config.RESUMABLE: epochs, the new total; device;
    quiet; log_every; eval_every; ema; detect_anomaly); the others come from its checkpoint. The continuation is
    the same as an uninterrupted run, bit for bit on the CPU.
    """
    cfg, state = resume_config(run_dir, changes)
    cfg.validate()
    if state["epoch"] >= cfg.epochs:
        return {}
    return _run(cfg, state, evaluator, stdout)


def evaluate(
    checkpoint,
    /,
    *,
    n=10000,
    seed=1234,
    device="cpu",
    raw=False,
    parzen=True,
    classifier=True,
    valid_size=1000,
    sigma_grid=PAPER_SIGMA_GRID,
    log=print,
) -> dict:
    """The scores of a checkpoint's (or run folder's) generator: n samples, the paper's Parzen-window
    log-likelihood (sigma chosen on ``valid_size`` validation images from ``sigma_grid``, "LO:HI:N", default the
    paper's) unless not ``parzen``, and the classifier's
    FID, Inception Score and modes unless not ``classifier``. A run trained with an EMA is scored by its weight
    average unless ``raw``. ``python -m gan evaluate --checkpoint`` computes the same numbers.
    """
    G, cfg, state, _ = load_generator(checkpoint, device, raw)
    scoring = dict(parzen=parzen, classifier=classifier, valid_size=valid_size, parzen_samples=n, sigma_grid=sigma_grid)
    return evaluate_generator(G, cfg, state["epoch"], n=n, seed=seed, device=device, log=log, **scoring)


def _run(cfg: TrainConfig, state: dict | None, evaluator, stdout) -> dict:
    """Train cfg (from the checkpoint ``state`` when resuming) in its folder, locked against a second run."""
    if evaluator is None and (cfg.eval_every or cfg.final_scores):
        evaluator = make_evaluator(cfg.latent_dim, cfg.noise, cfg.device, trained_on=cfg.limit)
    lock = claim_run_folder(cfg.outdir, resuming=state is not None)
    try:
        return Trainer(cfg, resume=state, evaluator=evaluator, stdout=stdout).run()
    finally:
        lock.release()
