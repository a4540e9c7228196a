"""GradScaler: loss scaling for float16 training, with PyTorch's schedule and per-optimizer state.

float16 gradients below 2^-24 flush to zero. Scaling the loss by S scales every gradient by S (backward is
linear in its seed), lifting small gradients into range; ``unscale_`` divides the float32 ``.grad`` by S again.
S is tuned on the fly: a step whose gradients hold inf or nan is skipped and S shrinks,

    found inf/nan:  S <- S * backoff_factor,  tracker <- 0
    otherwise:      tracker <- tracker + 1;  when tracker == growth_interval:  S <- S * growth_factor, tracker <- 0

(S is kept as a float32 value, as PyTorch's scale tensor, and does not grow past float32's range.)

The per-iteration protocol is PyTorch's: ``scaler.scale(loss).backward()``, optionally ``scaler.unscale_(opt)``
(to clip or inspect gradients), ``scaler.step(opt)``, and one ``scaler.update()`` after the optimizers of the
iteration stepped. Calling ``unscale_`` twice, or after ``step``, before ``update`` is an error, as is ``step`` twice.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from minigrad import backend
from minigrad.tensor import Tensor

_READY, _UNSCALED, _STEPPED = "ready", "unscaled", "stepped"


class GradScaler:
    """``GradScaler(device="cuda", init_scale=2**16, growth_factor=2.0, backoff_factor=0.5,
    growth_interval=2000, enabled=True)``, as ``torch.amp.GradScaler``.

    >>> import minigrad
    >>> from minigrad.amp import GradScaler
    >>> w = minigrad.ones(2, requires_grad=True)
    >>> opt = minigrad.optim.SGD([w], lr=0.1)
    >>> scaler = GradScaler("cpu", init_scale=8.0)
    >>> scaler.scale((w * 3).sum()).backward()
    >>> w.grad                       # scaled by 8
    tensor([24., 24.], dtype=float32)
    >>> scaler.step(opt)             # unscales to 3, then steps
    >>> scaler.update()
    >>> w
    tensor([0.7, 0.7], dtype=float32, requires_grad=True)
    """

    def __init__(
        self,
        device: str = "cuda",
        init_scale: float = 2.0**16,
        growth_factor: float = 2.0,
        backoff_factor: float = 0.5,
        growth_interval: int = 2000,
        enabled: bool = True,
    ) -> None:
        device = str(device).split(":")[0]
        if device not in ("cpu", "cuda"):
            raise ValueError(f"GradScaler: device must be 'cpu' or 'cuda', got {device!r}")
        if not growth_factor > 1.0:
            raise ValueError(f"GradScaler: growth_factor should be > 1, got {growth_factor}")
        if not 0.0 < backoff_factor < 1.0:
            raise ValueError(f"GradScaler: backoff_factor should be in (0, 1), got {backoff_factor}")
        if not (isinstance(growth_interval, int) and growth_interval > 0):
            raise ValueError(f"GradScaler: growth_interval should be a positive integer, got {growth_interval!r}")
        self._device = device
        self._enabled = bool(enabled)
        self._init_scale = float(init_scale)
        self._scale = _f32(init_scale)
        self._growth_factor = float(growth_factor)
        self._backoff_factor = float(backoff_factor)
        self._growth_interval = growth_interval
        self._growth_tracker = 0
        self._per_optimizer_states: dict[int, dict[str, Any]] = {}

    # --- the iteration -------------------------------------------------------------------------------------

    def scale(self, outputs: Any) -> Any:
        """``outputs * S`` (a tensor, or tensors nested in lists and tuples); ``outputs`` itself when disabled."""
        if not self._enabled:
            return outputs
        if isinstance(outputs, Tensor):
            return outputs * self._scale
        if isinstance(outputs, (list, tuple)):
            scaled = [self.scale(o) for o in outputs]
            return scaled if isinstance(outputs, list) else tuple(scaled)
        raise ValueError(f"GradScaler.scale: outputs must be a Tensor or an iterable of Tensors, got {outputs!r}")

    def unscale_(self, optimizer: Any) -> None:
        """Divide the ``.grad`` of every parameter of ``optimizer`` by S, in place, and note any inf / nan.

        Once per optimizer per iteration, before ``step``; float16 gradients are refused (keep master weights in
        float32: autocast casts their copies, not them).
        """
        if not self._enabled:
            return
        state = self._state(optimizer)
        if state["stage"] == _UNSCALED:
            raise RuntimeError(
                "GradScaler.unscale_() has already been called on this optimizer since the last update()."
            )
        if state["stage"] == _STEPPED:
            raise RuntimeError("GradScaler.unscale_() is being called after step().")
        inv_scale = np.float32(1.0 / np.float64(self._scale))
        found = None  # an array flag, so a GPU run syncs once per optimizer, not once per parameter
        for group in optimizer.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad.data
                if g.dtype == np.float16:
                    raise ValueError(
                        f"GradScaler.unscale_: attempting to unscale float16 gradients (parameter of shape "
                        f"{tuple(p.shape)}); keep parameters in float32"
                    )
                g *= g.dtype.type(inv_scale)
                bad = ~backend.get_array_module(g).isfinite(g).all()
                found = bad if found is None else found | bad
        state["found_inf"] = bool(found) if found is not None else False
        state["stage"] = _UNSCALED

    def step(self, optimizer: Any, *args: Any, **kwargs: Any) -> Any:
        """``optimizer.step(*args, **kwargs)`` on unscaled gradients, or nothing when one held inf / nan.

        Unscales first unless ``unscale_`` was called this iteration; returns what ``optimizer.step`` returned
        (None when skipped).
        """
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("GradScaler.step: closure use is not currently supported if GradScaler is enabled.")
        state = self._state(optimizer)
        if state["stage"] == _STEPPED:
            raise RuntimeError("GradScaler.step() has already been called since the last update().")
        if state["stage"] == _READY:
            self.unscale_(optimizer)
        result = None if state["found_inf"] else optimizer.step(*args, **kwargs)
        state["stage"] = _STEPPED
        return result

    def update(self, new_scale: float | Tensor | None = None) -> None:
        """Set S for the next iteration: ``new_scale`` if given, else back off (an inf / nan was found by any
        optimizer this iteration) or count towards growth; then forget this iteration's per-optimizer state."""
        if not self._enabled:
            return
        if new_scale is not None:
            value = float(new_scale.item() if isinstance(new_scale, Tensor) else new_scale)
            self._scale = _f32(value)
        else:
            found = [s["found_inf"] for s in self._per_optimizer_states.values() if s["found_inf"] is not None]
            if not found:
                raise RuntimeError("GradScaler.update: no inf checks were recorded prior to update().")
            if any(found):
                self._scale = _f32(self._scale * self._backoff_factor)
                self._growth_tracker = 0
            else:
                self._growth_tracker += 1
                if self._growth_tracker == self._growth_interval:
                    grown = _f32(self._scale * self._growth_factor)
                    if math.isfinite(grown):
                        self._scale = grown
                    self._growth_tracker = 0
        self._per_optimizer_states = {}

    # --- accessors -----------------------------------------------------------------------------------------

    def get_scale(self) -> float:
        """S, or 1.0 when disabled."""
        return self._scale if self._enabled else 1.0

    def is_enabled(self) -> bool:
        """Whether the scaler scales (False: every method passes through)."""
        return self._enabled

    def get_growth_factor(self) -> float:
        """The factor S grows by after growth_interval clean steps."""
        return self._growth_factor

    def set_growth_factor(self, new_factor: float) -> None:
        """Set the factor S grows by."""
        self._growth_factor = float(new_factor)

    def get_backoff_factor(self) -> float:
        """The factor S shrinks by after a step with inf / nan gradients."""
        return self._backoff_factor

    def set_backoff_factor(self, new_factor: float) -> None:
        """Set the factor S shrinks by."""
        self._backoff_factor = float(new_factor)

    def get_growth_interval(self) -> int:
        """Clean steps in a row after which S grows."""
        return self._growth_interval

    def set_growth_interval(self, new_interval: int) -> None:
        """Set the clean steps in a row after which S grows."""
        self._growth_interval = int(new_interval)

    def state_dict(self) -> dict[str, Any]:
        """``{"scale", "growth_factor", "backoff_factor", "growth_interval", "_growth_tracker"}``; ``{}`` when
        disabled (PyTorch's layout)."""
        if not self._enabled:
            return {}
        return {
            "scale": self._scale,
            "growth_factor": self._growth_factor,
            "backoff_factor": self._backoff_factor,
            "growth_interval": self._growth_interval,
            "_growth_tracker": self._growth_tracker,
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what ``state_dict`` returned (ignored when disabled; an empty dict is an error when enabled)."""
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError(
                "GradScaler.load_state_dict: the source state dict is empty, possibly because it was saved from a "
                "disabled instance of GradScaler."
            )
        missing = {"scale", "growth_factor", "backoff_factor", "growth_interval", "_growth_tracker"} - set(state_dict)
        if missing:
            raise KeyError(f"GradScaler.load_state_dict: missing keys {sorted(missing)}")
        self._scale = _f32(float(state_dict["scale"]))
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(state_dict["growth_interval"])
        self._growth_tracker = int(state_dict["_growth_tracker"])

    def __repr__(self) -> str:
        return (
            f"GradScaler(device={self._device!r}, scale={self.get_scale()}, growth_tracker={self._growth_tracker}, "
            f"enabled={self._enabled})"
        )

    def _state(self, optimizer: Any) -> dict[str, Any]:
        return self._per_optimizer_states.setdefault(id(optimizer), {"stage": _READY, "found_inf": None})


def _f32(value: float) -> float:
    """value rounded to float32, as PyTorch keeps the scale (an overflow becomes inf, never an error)."""
    with np.errstate(over="ignore"):
        return float(np.float32(value))
