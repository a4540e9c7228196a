"""A run's log as TensorBoard event files (``gan train --tensorboard [DIR]``), through tensorboardX.

tensorboardX is an optional extra (``pip install -e '.[tensorboard]'``); ``TensorBoardWriter`` raises
``TensorBoardUnavailable`` without it. What it writes, all at a record's global step:

* ``train/<key>``   every number of a step record of metrics.jsonl (losses, D(x), D(G(z)), penalty,
  images/s, ...), ``train/<key>/<parameter>`` for its per-layer gradient norms;
* ``epoch/<key>``   the same for an epoch record, scores of --eval-every included;
* ``optim/lr_g``, ``optim/lr_d``, ``optim/momentum_g``, ... from the optimizers' param_groups;
* ``samples``       the epoch's grid, as an image;
* ``weights/<net>/<parameter>`` and ``grads/<net>/<parameter>`` histograms;
* the run's settings as hyper-parameters (the HPARAMS tab) and as a text.

A resumed run opens its writer with ``purge_step`` = the checkpoint's step + 1: TensorBoard then drops what an
earlier process wrote at that step or later (records the checkpoint never saw), so every tag's steps stay
monotone and no step appears twice.
"""

from __future__ import annotations

import json
import math
import numbers
from pathlib import Path

import numpy as np

from minigrad.backend import as_numpy

INSTALL_HINT = "pip install -e '.[tensorboard]'"
HPARAM_METRICS = ("epoch/loss_d", "epoch/loss_g", "epoch/fid")  # scalars the HPARAMS tab shows beside settings


class TensorBoardUnavailable(ImportError):
    """tensorboardX is not installed."""


def _summary_writer_class():
    try:
        from tensorboardX import SummaryWriter
    except ImportError as e:
        raise TensorBoardUnavailable(
            f"--tensorboard needs the optional package tensorboardX ({e}); install the extra: {INSTALL_HINT}"
        ) from None
    return SummaryWriter


def available() -> bool:
    """Whether tensorboardX can be imported."""
    try:
        _summary_writer_class()
    except TensorBoardUnavailable:
        return False
    return True


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(float(value))


def scalars_of(record: dict) -> dict:
    """{tag: value} of one metrics.jsonl record: numbers under ``<kind>/<key>``, nested dicts of numbers (the
    per-parameter gradient norms) under ``<kind>/<key>/<name>``; strings, flags, the epoch and step are left out."""
    prefix = "train" if record.get("kind") == "step" else "epoch"
    out = {}
    for key, value in record.items():
        if key in ("kind", "epoch", "step"):
            continue
        if isinstance(value, dict):
            out.update({f"{prefix}/{key}/{name}": float(v) for name, v in value.items() if _is_number(v)})
        elif _is_number(value):
            out[f"{prefix}/{key}"] = float(value)
    return out


class TensorBoardWriter:
    """Event files in ``logdir``; ``purge_step``: the first step this process writes (on resume)."""

    def __init__(self, logdir, purge_step: int | None = None):
        # tensorboardX names a file by the second it opens and the host: a sequence number keeps two processes of
        # one run within a second in two files, which TensorBoard reads in name order (that of the processes)
        existing = len(list(Path(logdir).glob("events.out.tfevents.*")))
        self.writer = _summary_writer_class()(
            logdir=str(logdir), purge_step=purge_step, filename_suffix=f".{existing:04d}"
        )
        self.logdir = str(logdir)

    def settings(self, config: dict, step: int = 0) -> None:
        """The run's settings: hyper-parameters (numbers, strings and flags; None as "None") and a JSON text."""
        from tensorboardX.summary import hparams

        values = {k: (v if isinstance(v, (bool, int, float, str)) else str(v)) for k, v in config.items()}
        exp, ssi, sei = hparams(values, {tag: 0.0 for tag in HPARAM_METRICS})
        for summary in (exp, ssi, sei):
            self.writer.file_writer.add_summary(summary, step)
        self.writer.add_text("settings", "```\n" + json.dumps(config, indent=2, default=str) + "\n```", step)

    def record(self, record: dict) -> None:
        """Every number of a metrics.jsonl record, at its step."""
        step = int(record["step"])
        for tag, value in scalars_of(record).items():
            self.writer.add_scalar(tag, value, step)

    def optimizer_settings(self, optimizers: dict, step: int) -> None:
        """``optim/lr_<name>`` and, where the optimizer has one, ``optim/momentum_<name>`` (or beta1)."""
        for name, opt in optimizers.items():
            group = opt.param_groups[0]
            self.writer.add_scalar(f"optim/lr_{name}", float(group["lr"]), step)
            if "momentum" in group:
                self.writer.add_scalar(f"optim/momentum_{name}", float(group["momentum"]), step)
            elif "betas" in group:
                self.writer.add_scalar(f"optim/beta1_{name}", float(group["betas"][0]), step)

    def image(self, tag: str, grid, step: int) -> None:
        """An image in [0, 1]: (H, W) gray or (H, W, 3) RGB, as ``gan.figures.grids.image_grid`` returns."""
        grid = np.asarray(grid, dtype=np.float32)
        self.writer.add_image(tag, grid, step, dataformats="HW" if grid.ndim == 2 else "HWC")

    def histograms(self, nets: dict, step: int) -> None:
        """``weights/<net>/<parameter>`` and, for parameters that hold one, ``grads/<net>/<parameter>``."""
        for net, module in nets.items():
            for name, p in module.named_parameters():
                self.writer.add_histogram(f"weights/{net}/{name}", as_numpy(p.data).ravel(), step)
                if p.grad is not None:
                    self.writer.add_histogram(f"grads/{net}/{name}", as_numpy(p.grad.data).ravel(), step)

    def flush(self) -> None:
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()
