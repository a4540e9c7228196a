"""Grad mode: whether ops record the graph (``no_grad``, ``enable_grad``, ``set_grad_enabled``).

Kept apart from the autograd engine because Tensor's in-place writes read it
too, and Tensor sits below the engine.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from typing import Any, Literal, TypeVar

_F = TypeVar("_F", bound=Callable[..., Any])

_grad_enabled = True


def is_grad_enabled() -> bool:
    """True when ops record the graph (not inside ``no_grad``)."""
    return _grad_enabled


class _GradMode(contextlib.ContextDecorator):
    """Context manager / decorator: grad mode ``mode`` inside, the previous mode restored after."""

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)

    def __enter__(self) -> None:
        global _grad_enabled
        self.prev = _grad_enabled
        _grad_enabled = self.mode

    def __exit__(self, *exc: object) -> Literal[False]:
        global _grad_enabled
        _grad_enabled = self.prev
        return False


class set_grad_enabled(_GradMode):
    """Set grad mode, as PyTorch does: at once when called (``set_grad_enabled(False)`` on a line of its own),
    for a block as ``with set_grad_enabled(mode):`` (the mode from before the call comes back after it),
    or for every call of a function as ``@set_grad_enabled(mode)``."""

    def __init__(self, mode: bool) -> None:
        global _grad_enabled
        super().__init__(mode)
        self.prev = _grad_enabled
        _grad_enabled = self.mode

    def __enter__(self) -> None:  # the mode is already set; self.prev is the mode before the call
        global _grad_enabled
        _grad_enabled = self.mode

    def __call__(self, func: _F) -> _F:
        global _grad_enabled
        _grad_enabled = self.prev  # a decorator changes nothing until the function runs
        return super().__call__(func)

    def _recreate_cm(self) -> set_grad_enabled:  # per decorated call: the mode before *that* call comes back after
        return set_grad_enabled(self.mode)


class no_grad(_GradMode):
    """Nothing computed inside records a graph: ``with no_grad():`` or ``@no_grad()``."""

    def __init__(self, func: Callable[..., Any] | None = None) -> None:
        super().__init__(False)
        if func is not None:  # used as a bare decorator: @no_grad
            self._func = func
            functools.update_wrapper(self, func)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if hasattr(self, "_func"):
            with _GradMode(False):
                return self._func(*args, **kwargs)
        return super().__call__(*args, **kwargs)


class enable_grad(_GradMode):
    """Context manager (or decorator) that turns graph recording on, e.g. inside ``no_grad``."""

    def __init__(self) -> None:
        super().__init__(True)
