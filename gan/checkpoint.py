"""Checkpoints of a GAN run: everything needed to continue it bit for bit, in one ``.npz`` file.

Layout (written with ``minigrad.save``, atomically, so a crash never leaves half a file)::

    {'format': 'gan-checkpoint', 'version': 1,
     'config': JSON string of TrainConfig.to_dict(),
     'generator': state_dict, 'discriminator': state_dict,
     'generator_ema': state_dict of the averaged generator (only with --ema), 'ema_updates': its count,
     'opt_g': optimizer state_dict, 'opt_d': optimizer state_dict,
     'schedulers': the learning-rate schedulers' state_dicts (G's, D's; only with --lr-decay/--min-lr),
     'epoch': epochs completed, 'batch': next batch within that epoch (0 at epoch boundaries),
     'step': generator steps done, 'rng_state': JSON string of minigrad.backend.get_rng_state(),
     'fixed_noise': the (64, latent_dim) noise of the sample grids,
     'epoch_sums': running sums of the unfinished epoch (for its summary), 'seconds': time trained}
"""
from __future__ import annotations

import json
from pathlib import Path

import minigrad
from minigrad.serialization import SerializationError

FORMAT = "gan-checkpoint"
VERSION = 1
FILENAME = "checkpoint.npz"


class CheckpointError(ValueError):
    """A checkpoint is missing, unreadable, or not a GAN checkpoint."""


def checkpoint_path(path) -> Path:
    """A run directory -> its checkpoint file; a file path is returned as is."""
    path = Path(path)
    return path / FILENAME if path.is_dir() else path


def save_checkpoint(path, *, config: dict, G, D, opt_g, opt_d, epoch: int, batch: int, step: int,
                    fixed_noise, epoch_sums: dict, seconds: float, ema=None, schedulers=()) -> Path:
    state = {
        "format": FORMAT, "version": VERSION, "minigrad_version": minigrad.__version__,
        "config": json.dumps(config),
        "generator": G.state_dict(), "discriminator": D.state_dict(),
        "opt_g": opt_g.state_dict(), "opt_d": opt_d.state_dict(),
        "epoch": int(epoch), "batch": int(batch), "step": int(step),
        "rng_state": json.dumps(minigrad.backend.get_rng_state()),
        "fixed_noise": fixed_noise,
        "epoch_sums": {key: float(value) for key, value in epoch_sums.items()},
        "seconds": float(seconds),
    }
    if schedulers:
        state["schedulers"] = [s.state_dict() for s in schedulers]
    if ema is not None:  # a gan.ema.GeneratorEMA
        state["generator_ema"] = ema.average.state_dict()
        state["ema_updates"] = int(ema.updates)
    minigrad.save(state, path)
    return Path(path)


def load_checkpoint(path, map_location=None) -> dict:
    """Read a checkpoint (a file, or a run directory holding checkpoint.npz).

    Returns the saved dict with 'config' and 'rng_state' decoded from JSON.
    """
    path = checkpoint_path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        state = minigrad.load(path, map_location=map_location)
    except SerializationError as e:
        raise CheckpointError(str(e)) from e
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path} is a minigrad file but not a GAN checkpoint")
    if state.get("version") != VERSION:
        raise CheckpointError(f"{path} has checkpoint version {state.get('version')!r}; this code reads {VERSION}")
    state["config"] = json.loads(state["config"])
    state["rng_state"] = json.loads(state["rng_state"])
    return state
