"""The settings of a run to start or to continue, checked against its folder; errors are gan.run.errors'.

A new run takes a preset's settings (if named) under the given ones; its folder must not be a file nor hold a
run already. A resumed run takes its checkpoint's settings, of which only RESUMABLE may change, and its folder's
config.json must describe the same run.
"""

from __future__ import annotations

import json
from pathlib import Path

from gan.config import RESUMABLE, ConfigError, TrainConfig
from gan.presets import PRESETS
from gan.run.checkpoint import FILENAME as CHECKPOINT_FILE
from gan.run.checkpoint import CheckpointError, load_checkpoint
from gan.run.errors import (
    AlreadyTrained,
    AverageKept,
    BlockedRunFile,
    ForeignCheckpoint,
    NotAFolder,
    RunExists,
    SettingsFixed,
    UnreadableCheckpoint,
)
from gan.run.folder import blocked_run_file
from gan.run.lock import RunLock
from gan.run.log import CONFIG_FILE


def new_config(settings: dict) -> TrainConfig:
    """A new run's TrainConfig: ``settings`` (TrainConfig fields) over those of ``settings['preset']`` if given.

    Not yet validated (``validate()`` fills the defaults and checks; the Trainer calls it).
    """
    preset = settings.get("preset")
    if preset is not None and preset not in PRESETS:
        raise ConfigError(
            "{preset} must be one of {0}, got {preset.value!r}", ", ".join(PRESETS), config=TrainConfig(preset=preset)
        )
    return TrainConfig(**(dict(PRESETS[preset], **settings) if preset else settings))  # explicit settings win


def require_new_run_folder(outdir) -> None:
    """NotAFolder when ``outdir`` is a file, RunExists when it holds a run's checkpoint, BlockedRunFile when a
    file of the run there is a folder. (A folder with a
    config.json but no checkpoint is a run that stopped before its first one: it starts over.)"""
    out = Path(outdir)
    if out.exists() and not out.is_dir():
        raise NotAFolder(out, "exists and is not a directory")
    if (out / CHECKPOINT_FILE).exists():
        raise RunExists(out)
    _require_run_files(out)


def claim_run_folder(outdir, resuming: bool) -> RunLock:
    """The run's folder, locked against a second live run (RunLocked when another holds it); a new run's folder
    that a run finished in since it was checked raises RunExists."""
    lock = RunLock(outdir).acquire()
    if not resuming and (Path(outdir) / CHECKPOINT_FILE).exists():
        lock.release()
        raise RunExists(outdir)
    return lock


def resume_config(folder, changes: dict | None = None) -> tuple[TrainConfig, dict]:
    """(config, checkpoint state) to continue the run in ``folder`` with ``changes`` (TrainConfig fields, only
    RESUMABLE ones); the state is loaded onto ``changes['device']`` if given.

    ``quiet`` belongs to the invocation, not to the run: it is False unless given. The config is not yet
    validated (the Trainer validates it). Raises NotAFolder, BlockedRunFile, SettingsFixed, UnreadableCheckpoint,
    ForeignCheckpoint, AverageKept or AlreadyTrained.
    """
    changes = dict(changes or {})
    if not Path(folder).is_dir():
        raise NotAFolder(folder, "not a directory")
    _require_run_files(folder)
    fixed = sorted(set(changes) - set(RESUMABLE))
    if fixed:
        raise SettingsFixed(folder, fixed, RESUMABLE)
    try:
        state = load_checkpoint(folder, map_location=changes.get("device"))
        cfg = TrainConfig.from_dict(state["config"])
    except (CheckpointError, ConfigError, RuntimeError) as e:
        raise UnreadableCheckpoint(folder, e) from e
    require_same_run(folder, state["config"])
    if changes.get("ema") == 0 and "generator_ema" in state:
        raise AverageKept(folder, state["config"]["ema"], int(state["ema_updates"]))
    if "epochs" in changes and changes["epochs"] <= state["epoch"]:
        raise AlreadyTrained(folder, changes["epochs"], state["epoch"])
    for key, value in changes.items():
        setattr(cfg, key, value)
    cfg.quiet = bool(changes.get("quiet"))
    cfg.outdir = str(folder)
    return cfg, state


def _require_run_files(folder) -> None:
    """BlockedRunFile when one of the run's files in ``folder`` is a folder (nothing could write it)."""
    reason = blocked_run_file(folder)
    if reason:
        raise BlockedRunFile(folder, reason)


def require_same_run(folder, config: dict) -> None:
    """ForeignCheckpoint when the folder's config.json describes another run than the checkpoint's ``config``
    (a missing or damaged config.json passes: it is rewritten from the checkpoint)."""
    try:
        recorded = json.loads((Path(folder) / CONFIG_FILE).read_text())
    except (OSError, ValueError):
        return
    if not isinstance(recorded, dict):
        return
    ignore = set(RESUMABLE) | {"outdir"}
    diffs = [
        f"{key} {config.get(key)!r} vs {recorded.get(key)!r}"
        for key in sorted(config)
        if key not in ignore and key in recorded and recorded[key] != config.get(key)
    ]
    if diffs:
        raise ForeignCheckpoint(folder, diffs)
