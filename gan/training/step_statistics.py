"""The per-step statistics of a training run (loss_d, loss_g, mean D(x), mean D(G(z)), the gradient penalty
included in loss_d, and WGAN-GP's mean ||grad D(x_hat)||): a buffer on the device, read back in chunks into the
sums of the log interval and of the epoch; and the per-parameter gradient norms of a logging step."""

from __future__ import annotations

import numpy as np

from gan.run.errors import TrainingDiverged
from gan.training.steps import StepResult
from minigrad import backend

STATISTICS = StepResult._fields  # loss_d, loss_g, d_real, d_fake, penalty, gp_grad_norm: a step's result, in order


class StepStatistics:
    """Per-step loss_d, loss_g, d_real, d_fake, penalty, gp_grad_norm kept on the device, read back in chunks.

    ``flush`` copies the chunk to the host, stops at the first step with a nan/inf value
    (TrainingDiverged names it), and adds the rows to the running sums of the log interval
    and of the epoch.
    """

    def __init__(self, xp, capacity: int):
        self.buf = xp.empty((capacity, len(STATISTICS)), dtype=xp.float32)
        self.steps = np.empty(capacity, dtype=np.int64)
        self.n = 0
        self.interval = self.zero()
        self.epoch = self.zero()
        self.unknown_interval: set[str] = set()  # statistics an older checkpoint's saved sums lack
        self.unknown_epoch: set[str] = set()

    @staticmethod
    def zero() -> dict:
        return dict.fromkeys(STATISTICS, 0.0) | {"n": 0}

    def restore(self, sums: dict) -> None:
        """Continue the sums that an epoch cut short by Ctrl-C saved (its log interval's as interval_*).

        A statistic the sums lack (saved before it was logged) is unknown for the rest of that epoch and log
        interval: left out of their means, not averaged over steps it never counted."""
        for key in self.epoch:
            self.epoch[key] = sums.get(key, 0.0)
            self.interval[key] = sums.get(f"interval_{key}", 0.0)
        self.unknown_epoch = {key for key in STATISTICS if key not in sums} if self.epoch["n"] else set()
        self.unknown_interval = (
            {key for key in STATISTICS if f"interval_{key}" not in sums} if self.interval["n"] else set()
        )

    def interval_means(self, skip=()) -> dict:
        """The log interval's means, without ``skip`` and the statistics unknown in it."""
        return means(self.interval, set(skip) | self.unknown_interval)

    def epoch_means(self, skip=()) -> dict:
        """The epoch's means, without ``skip`` and the statistics unknown in it."""
        return means(self.epoch, set(skip) | self.unknown_epoch)

    def next_interval(self) -> None:
        """Start a new log interval."""
        self.interval = self.zero()
        self.unknown_interval = set()

    def add(self, step, *values):
        row = self.buf[self.n]
        for j, value in enumerate(values):
            row[j] = value
        self.steps[self.n] = step
        self.n += 1
        return self.n == len(self.buf)

    def flush(self, epoch):
        if not self.n:
            return
        rows = backend.as_numpy(self.buf[: self.n]).astype(np.float64)
        bad = ~np.isfinite(rows)
        if bad.any():
            i, j = np.argwhere(bad)[0]
            self.n = 0
            raise TrainingDiverged(
                f"training diverged at step {self.steps[i]} (epoch {epoch}): {STATISTICS[j]} = {rows[i, j]}"
            )
        sums = rows.sum(axis=0)
        for acc in (self.interval, self.epoch):
            for key, s in zip(STATISTICS, sums):
                acc[key] += float(s)
            acc["n"] += self.n
        self.n = 0


def means(sums: dict, skip=()) -> dict:
    """{statistic: its mean over the sums' n steps} (zeros before any step), without the statistics in ``skip``."""
    n = max(sums["n"], 1)
    return {key: sums[key] / n for key in STATISTICS if key not in skip}


def grad_norms(module) -> dict:
    """{parameter name: L2 norm of its gradient} (parameters without a gradient are left out)."""
    out = {}
    for name, p in module.named_parameters():
        if p.grad is not None:
            g = p.grad.data.ravel()
            out[name] = float(p.xp.sqrt(p.xp.dot(g, g)))
    return out
