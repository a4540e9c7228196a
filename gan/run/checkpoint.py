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
     'epoch_sums': running sums of the unfinished epoch (for its summary), 'seconds': time trained,
     'scalers': {'d': GradScaler state_dict, 'g': ..., 'skipped_d': steps skipped, 'skipped_g': ...} (only with --amp)}
"""

from __future__ import annotations

import json
from pathlib import Path

import minigrad
from gan.config import ConfigError, TrainConfig
from gan.models import build_models
from minigrad.serialization import SerializationError

FORMAT = "gan-checkpoint"
VERSION = 1
FILENAME = "checkpoint.npz"


class CheckpointError(ValueError):
    """A checkpoint is missing, unreadable, or not a GAN checkpoint; ``config_error``: the ConfigError of a
    saved config that is not valid, whose settings ``message(spell)`` spells (see ConfigError.message)."""

    def __init__(self, text: str, config_error: ConfigError | None = None):
        self.text, self.config_error = text, config_error
        super().__init__(self.message())

    def message(self, spell=None) -> str:
        return self.text if self.config_error is None else f"{self.text} ({self.config_error.message(spell)})"


def checkpoint_path(path) -> Path:
    """A run directory -> its checkpoint file; a file path is returned as is."""
    path = Path(path)
    return path / FILENAME if path.is_dir() else path


def save_checkpoint(
    path,
    *,
    config: dict,
    G,
    D,
    opt_g,
    opt_d,
    epoch: int,
    batch: int,
    step: int,
    fixed_noise,
    epoch_sums: dict,
    seconds: float,
    ema=None,
    schedulers=(),
    scalers=None,
) -> Path:
    state = {
        "format": FORMAT,
        "version": VERSION,
        "minigrad_version": minigrad.__version__,
        "config": json.dumps(config),
        "generator": G.state_dict(),
        "discriminator": D.state_dict(),
        "opt_g": opt_g.state_dict(),
        "opt_d": opt_d.state_dict(),
        "epoch": int(epoch),
        "batch": int(batch),
        "step": int(step),
        "rng_state": json.dumps(minigrad.backend.get_rng_state()),
        "fixed_noise": fixed_noise,
        "epoch_sums": {key: float(value) for key, value in epoch_sums.items()},
        "seconds": float(seconds),
    }
    if schedulers:
        state["schedulers"] = [s.state_dict() for s in schedulers]
    if scalers is not None:  # --amp: gan.training.mixed_precision.MixedPrecision.state_dict()
        state["scalers"] = scalers
    if ema is not None:  # a gan.training.ema.GeneratorEMA
        state["generator_ema"] = ema.average.state_dict()
        state["ema_updates"] = int(ema.updates)
    minigrad.save(state, path)
    return Path(path)


def load_checkpoint(path, map_location=None) -> dict:
    """Read a checkpoint (a file, or a run directory holding checkpoint.npz).

    Returns the saved dict with 'config' and 'rng_state' decoded from JSON. Its content is checked,
    not only its bytes: every entry present with its type, the config valid, the fixed noise of the
    config's shape; CheckpointError (one line) otherwise. Whether the weights fit the models is
    checked as they are loaded (``load_weights``).
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
    _check_entries(path, state)
    for key in ("config", "rng_state"):
        try:
            state[key] = json.loads(state[key])
        except ValueError as e:
            raise CheckpointError(f"{path}: its '{key}' entry is not valid JSON ({e})") from None
        if not isinstance(state[key], dict):
            raise CheckpointError(f"{path}: its '{key}' entry is not a JSON object")
    try:
        cfg = TrainConfig.from_dict(state["config"]).validate()
    except ConfigError as e:
        raise CheckpointError(f"{path}: its config is not valid", config_error=e) from None
    except TypeError as e:
        raise CheckpointError(f"{path}: its config is not valid ({e})") from None
    if tuple(state["fixed_noise"].shape) != (GRID_SIZE, cfg.latent_dim):
        raise CheckpointError(
            f"{path}: its fixed_noise has shape {tuple(state['fixed_noise'].shape)}, not "
            f"({GRID_SIZE}, {cfg.latent_dim}) as its config says"
        )
    return state


GRID_SIZE = 64  # rows of fixed_noise: the 8 x 8 sample grid drawn each epoch
_ENTRIES: dict[str, type | tuple[type, ...]] = {  # entry -> the type it must have
    "config": str,
    "rng_state": str,
    "generator": dict,
    "discriminator": dict,
    "opt_g": dict,
    "opt_d": dict,
    "epoch": int,
    "batch": int,
    "step": int,
    "fixed_noise": minigrad.Tensor,
    "epoch_sums": dict,
    "seconds": (int, float),
}


def _check_entries(path, state):
    entries = dict(_ENTRIES, **({"generator_ema": dict, "ema_updates": int} if "generator_ema" in state else {}))
    if "scalers" in state:
        entries["scalers"] = dict
    for key, kind in entries.items():
        if key not in state:
            raise CheckpointError(f"{path}: the checkpoint has no '{key}' entry")
        value = state[key]
        if not isinstance(value, kind) or isinstance(value, bool):
            names = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
            raise CheckpointError(f"{path}: its '{key}' entry is a {type(value).__name__}, not a {names}")


def load_weights(target, state: dict, key: str) -> None:
    """``target.load_state_dict(state[key])`` (a model or an optimizer); CheckpointError, one line, when the
    saved weights do not fit it (other shapes or names than the model its config builds)."""
    try:
        target.load_state_dict(state[key])
    except (RuntimeError, ValueError, KeyError, TypeError, IndexError) as e:
        detail = "; ".join(line.strip() for line in str(e).splitlines() if line.strip())
        raise CheckpointError(f"its '{key}' does not fit the model its config builds ({detail})") from None


def load_generator(checkpoint, device: str = "cpu", raw: bool = False):
    """(G, config, checkpoint state, averaged): the generator of a checkpoint (or run folder) on ``device``.

    A run trained with an EMA is represented by its averaged generator (averaged True) unless ``raw``.
    Raises CheckpointError when the checkpoint cannot be read or its weights do not fit its config's model.
    """
    state = load_checkpoint(checkpoint, map_location=device)
    cfg = TrainConfig.from_dict(state["config"])
    G, _ = build_models(cfg.model, cfg.latent_dim, cfg.channels, cfg.width, conditional=cfg.conditional)
    G.to(device)
    averaged = not raw and "generator_ema" in state
    load_weights(G, state, "generator_ema" if averaged else "generator")
    return G, cfg, state, averaged
