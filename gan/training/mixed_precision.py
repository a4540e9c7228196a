"""``--amp``: the trainer's autocast regions and one GradScaler per player, with their skipped steps.

Each player has its own scaler because the two losses and their gradients differ in size, and because a player's
update is a full scale / step / update cycle of its own (with ``--k`` D updates per G update, one scaler shared by
both could not be updated between them, as PyTorch's protocol requires one update per iteration). Weights stay
float32 (the master copy); autocast casts their float16 copies inside each forward. Without ``--amp`` the scalers
are disabled: ``scale`` returns the loss, ``step`` is the optimizer's, and autocast regions cast nothing, so a
float32 run computes exactly what it computed before.
"""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np

import minigrad
from minigrad.amp import GradScaler, autocast

PLAYERS = ("d", "g")


class MixedPrecision:
    def __init__(self, enabled: bool, device: str) -> None:
        self.enabled, self.device = bool(enabled), device
        self.scalers = {p: GradScaler(device, enabled=self.enabled) for p in PLAYERS}
        self.skipped = dict.fromkeys(PLAYERS, 0)  # steps a scaler skipped (a gradient held inf or nan)

    def autocast(self) -> autocast:
        """The region a forward and its loss run in (casts nothing without --amp)."""
        return autocast(self.device, enabled=self.enabled)

    @staticmethod
    def float32(logits):
        """D's outputs in float32 for the losses (they are float16 under autocast; a scaled float16 loss
        overflows at the scaler's 2^16); the same tensor when already float32."""
        return logits.to(dtype=minigrad.float32)

    def backward(self, player: str, loss, **kwargs: Any) -> None:
        """backward of the loss scaled by ``player``'s scale (of the loss itself without --amp).

        A float16 overflow there is how a scale too high shows (the step is then skipped and the scale backs
        off), so NumPy's overflow warnings are silenced under --amp, as PyTorch's kernels are silent.
        """
        quiet = np.errstate(over="ignore", invalid="ignore") if self.enabled else contextlib.nullcontext()
        with quiet:
            self.scalers[player].scale(loss).backward(**kwargs)

    def step(self, player: str, optimizer) -> None:
        """``player``'s optimizer step on unscaled gradients (skipped on inf / nan), then its scale's update."""
        scaler = self.scalers[player]
        before = scaler.get_scale()
        scaler.step(optimizer)
        scaler.update()
        if scaler.get_scale() < before:  # the scaler backs off exactly when it skipped the step
            self.skipped[player] += 1

    def record(self) -> dict:
        """The scales and skipped-step counts for metrics.jsonl ({} without --amp)."""
        if not self.enabled:
            return {}
        out: dict = {f"amp_scale_{p}": self.scalers[p].get_scale() for p in PLAYERS}
        out.update({f"amp_skipped_{p}": self.skipped[p] for p in PLAYERS})
        return out

    def state_dict(self) -> dict | None:
        """What a checkpoint keeps (None without --amp)."""
        if not self.enabled:
            return None
        state: dict = {p: self.scalers[p].state_dict() for p in PLAYERS}
        state.update({f"skipped_{p}": self.skipped[p] for p in PLAYERS})
        return state

    def load_state_dict(self, state: dict) -> None:
        for p in PLAYERS:
            self.scalers[p].load_state_dict(state[p])
            self.skipped[p] = int(state[f"skipped_{p}"])
