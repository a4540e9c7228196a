"""Anomaly mode: find the op whose forward output or backward gradient first holds a NaN or an inf.

Inside ``detect_anomaly()`` (or after ``set_detect_anomaly(True)``), every
Function records the user's stack where it was created and checks its
forward output; the engine checks every gradient a backward hands out.
The first non-finite value raises ``AnomalyError`` naming the op, the
direction, the input or output, the shapes, and the line that created the
op. Outside it, a Function pays one flag test and records nothing.

    with minigrad.autograd.detect_anomaly():
        loss = model(x).mean()
        loss.backward()
"""

from __future__ import annotations

import contextlib
import os
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from minigrad.backend import get_array_module
from minigrad.tensor import Tensor

if TYPE_CHECKING:
    from minigrad.autograd.function import Function

_F = TypeVar("_F", bound=Callable[..., Any])

_enabled = False
_check_nan = True
_LIBRARY_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class AnomalyError(RuntimeError):
    """A forward output or backward gradient holds NaN or inf (raised only in anomaly mode)."""


def is_anomaly_enabled() -> bool:
    """True inside ``detect_anomaly()`` or after ``set_detect_anomaly(True)``."""
    return _enabled


def is_anomaly_check_nan_enabled() -> bool:
    """True when anomaly mode checks values for NaN/inf (``check_nan``, on by default)."""
    return _enabled and _check_nan


class set_detect_anomaly(contextlib.ContextDecorator):
    """Anomaly mode on or off: at once when called, for a block with ``with``, or per call as a decorator."""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        global _enabled, _check_nan
        self.prev = (_enabled, _check_nan)
        self.mode = (bool(mode), bool(check_nan))
        _enabled, _check_nan = self.mode

    def __enter__(self) -> set_detect_anomaly:
        global _enabled, _check_nan
        _enabled, _check_nan = self.mode
        return self

    def __exit__(self, *exc: object) -> Literal[False]:
        global _enabled, _check_nan
        _enabled, _check_nan = self.prev
        return False

    def __call__(self, func: _F) -> _F:
        global _enabled, _check_nan
        _enabled, _check_nan = self.prev  # a decorator changes nothing until the function runs
        return super().__call__(func)

    def _recreate_cm(self) -> set_detect_anomaly:
        return set_detect_anomaly(*self.mode)


class detect_anomaly(set_detect_anomaly):
    """Context manager and decorator: anomaly mode inside (``with detect_anomaly():`` / ``@detect_anomaly()``)."""

    def __init__(self, check_nan: bool = True) -> None:
        global _enabled, _check_nan
        self.prev = (_enabled, _check_nan)
        self.mode = (True, bool(check_nan))

    def __call__(self, func: _F) -> _F:
        return contextlib.ContextDecorator.__call__(self, func)

    def _recreate_cm(self) -> detect_anomaly:
        return detect_anomaly(self.mode[1])


def _user_stack() -> list[traceback.FrameSummary]:
    """The creating call's stack, without minigrad's own frames."""
    frames = traceback.extract_stack()[:-3]
    return [f for f in frames if not os.path.abspath(f.filename).startswith(_LIBRARY_DIR)] or frames


def creation_site(fn: Function) -> str:
    """'file:line in func: code' of the user's line that created ``fn`` (empty outside anomaly mode)."""
    stack = getattr(fn, "_creation_stack", None)
    if not stack:
        return ""
    f = stack[-1]
    return f"{f.filename}:{f.lineno} in {f.name}: {f.line}"


def _nonfinite(xp: Any, a: Any) -> bool:
    return a.dtype.kind in "fc" and a.size and not bool(xp.isfinite(a).all())


def record_forward(fn: Function, inputs: tuple[Tensor, ...], y: Any) -> None:
    """Keep where ``fn`` was created; raise if its output is not finite."""
    fn._creation_stack = _user_stack()
    if _check_nan and _nonfinite(get_array_module(y), y):
        shapes = ", ".join(str(tuple(t.shape)) for t in inputs)
        bad = [i for i, t in enumerate(inputs) if _nonfinite(t.xp, t.data)]
        origin = f"input {bad[0]} was already non-finite" if bad else "all its inputs were finite"
        raise AnomalyError(
            f"Function '{fn.name}' returned nan/inf values in its forward output (shape {tuple(y.shape)}; "
            f"input shapes {shapes}; {origin}).\n  Created at {creation_site(fn)}\n"
            + "".join(traceback.format_list(fn._creation_stack[-4:]))
        )


def check_backward(fn: Function, grads: tuple[Any, ...]) -> None:
    """Raise if a gradient ``fn``'s backward handed to one of its inputs is not finite."""
    if not _check_nan:
        return
    for i, (x, g) in enumerate(zip(fn.inputs, grads)):
        if g is None:
            continue
        a = g.data if isinstance(g, Tensor) else g
        if _nonfinite(get_array_module(a), a):
            site = creation_site(fn) or "(created outside anomaly mode: run the forward inside detect_anomaly)"
            stack = getattr(fn, "_creation_stack", None)
            raise AnomalyError(
                f"Function '{fn.name}Backward' returned nan/inf values in its gradient for input {i} "
                f"(shape {tuple(x.shape)}, dtype {x.dtype}).\n  Forward created at {site}\n"
                + ("".join(traceback.format_list(stack[-4:])) if stack else "")
            )
