"""Optimizer: the base class of every update rule (PyTorch's API).

An optimizer holds ``param_groups``, a list of dicts, each with a list of
tensors under ``'params'`` and its own hyper-parameters (``'lr'``, ...), and
``state``, a dict from parameter to its buffers (momentum, moments, step
count). Subclasses implement ``step()``; they update the raw arrays in place
(``p.data``), so parameters keep their identity and their dtype.

``state_dict()`` / ``load_state_dict()`` use PyTorch's layout: parameters are
replaced by their index in the order they appear across all groups::

    {'state': {0: {'step': 3, 'exp_avg': Tensor, ...}, ...},
     'param_groups': [{'lr': 0.001, ..., 'params': [0, 1, 2]}, ...]}

Element-wise update kernels run through ``Optimizer._apply``, which is
``minigrad.optim.streaming.stream``: on the CPU each parameter is streamed
through the cache in chunks, shared out among a few threads (how many is
decided at the first update, see ``streaming.default_num_threads``). The
first update also asks glibc to keep freed memory for reuse
(``minigrad.allocator``): both are what a training loop wants by default,
and neither happens at import.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from minigrad import allocator, autograd, backend
from minigrad.optim.streaming import get_num_threads, set_num_threads, stream
from minigrad.tensor import Tensor

# what an optimizer takes: tensors, or dicts (one per parameter group) with a 'params' entry
Params = Iterable[Tensor] | Iterable[dict[str, Any]]

__all__ = ["Optimizer", "Params", "get_num_threads", "set_num_threads"]


# --- the base class ------------------------------------------------------------------


class Optimizer:
    """Base class: parameter groups, state, zero_grad and (de)serialisation.

    ``params`` is an iterable of tensors, or of dicts (one per group) with a
    ``'params'`` entry and hyper-parameters overriding ``defaults``.
    """

    def __init__(self, params: Params, defaults: dict[str, Any]) -> None:
        self._check_group(defaults)  # bad defaults are reported before anything about the parameters
        self.defaults = dict(defaults)
        self.state: dict[Tensor, dict[str, Any]] = {}
        self.param_groups: list[dict[str, Any]] = []
        if isinstance(params, Tensor):
            raise TypeError(
                f"{type(self).__name__}: params should be an iterable of Tensors or dicts, "
                f"got a single Tensor (wrap it in a list)"
            )
        groups: list[Any] = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(k for k in group if k != "params"):
                lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)

    # --- groups -----------------------------------------------------------------------
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group: ``{'params': [...], hyper-parameter: value, ...}``.

        Missing hyper-parameters take the optimizer's defaults. Every
        parameter must be a floating point leaf tensor and may appear once.
        """
        op = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{op}.add_param_group: expected a dict, got {type(param_group).__name__}")
        params = param_group.get("params")
        if params is None:
            raise ValueError(f"{op}.add_param_group: the group has no 'params' entry")
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(f"{op}: parameters must be an ordered sequence, not a set (order matters for state_dict)")
        params = list(params)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"{op}: parameter {i} is a {type(p).__name__}, expected a Tensor")
            if np.dtype(p.dtype).kind != "f":
                raise TypeError(
                    f"{op}: parameter {i} has dtype {p.dtype}; only floating point tensors can be optimized"
                )
            if not p.is_leaf:
                raise ValueError(
                    f"{op}: parameter {i} (shape {p.shape}) is not a leaf tensor; "
                    f"optimize the leaf it was computed from"
                )
            if id(p) in seen:
                raise ValueError(
                    f"{op}: parameter {i} (shape {p.shape}) appears more than once (in this group or an earlier one)"
                )
            seen.add(id(p))
        group = {key: value for key, value in param_group.items() if key != "params"}
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        self._check_group(group)
        group["params"] = params
        self.param_groups.append(group)

    def _check_group(self, group: dict) -> None:
        """Subclasses validate hyper-parameters here (raise ValueError)."""

    # --- gradients ------------------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: set ``p.grad`` to None, or fill it with zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                elif isinstance(p.grad.data, np.ndarray) and not p.grad.data.flags.writeable:
                    p.grad.data = np.zeros_like(p.grad.data)  # e.g. a broadcast view
                else:
                    p.grad.data.fill(0)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter from its ``.grad``; ``closure`` (optional) re-evaluates the loss and is returned."""
        raise NotImplementedError

    def _eval_closure(self, closure: Callable[[], Any] | None) -> Any:
        if closure is None:
            return None
        with autograd.enable_grad():
            return closure()

    def _grad_array(self, p):
        """The raw gradient of ``p``, checked against the parameter."""
        g = p.grad.data if isinstance(p.grad, Tensor) else p.grad
        if tuple(g.shape) != tuple(p.shape):
            raise ValueError(
                f"{type(self).__name__}.step: gradient shape {tuple(g.shape)} does not match parameter shape {p.shape}"
            )
        if backend.device_of(g) != p.device:
            raise ValueError(
                f"{type(self).__name__}.step: gradient is on {backend.device_of(g)} but the parameter is on {p.device}"
            )
        if g.dtype != p.dtype:
            g = g.astype(p.dtype)
        return g

    def _grads_to_apply(self, group):
        """(p, its raw gradient) for every parameter of ``group`` that has a gradient, in order.

        Each p's version is bumped as it is handed out: the step updates it in place, so graphs built before
        the step are stale.
        """
        if not allocator.decided():
            allocator.keep_freed_memory()  # decided at the first step, never at import (see minigrad.allocator)
        for p in group["params"]:
            if p.grad is None:
                continue
            g = self._grad_array(p)
            p._bump_version()
            yield p, g

    # the update kernels' runner (element-wise, chunked through the cache, threaded on the CPU)
    _apply = staticmethod(stream)

    # --- state -------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """A snapshot of the state in PyTorch's layout (buffers are copied).

        ``{'state': {index: {'step': int, name: Tensor}}, 'param_groups':
        [{hyper-parameters..., 'params': [indices]}]}``; indices count the
        parameters across groups in order. Save it with ``minigrad.save``.
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {key: value for key, value in group.items() if key != "params"}
            packed["params"] = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                packed["params"].append(index[id(p)])
            groups.append(packed)
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                if p in self.state:
                    state[index[id(p)]] = {key: _copy_value(value) for key, value in self.state[p].items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a ``state_dict()``: hyper-parameters and buffers (copied).

        The optimizer must have been built over parameters of the same
        shapes, in the same groups and order. Floating buffers are cast to
        their parameter's dtype and moved to its device.
        """
        op = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, dict) or "state" not in state_dict or "param_groups" not in state_dict:
            raise ValueError(f"{op}: expected a dict with 'state' and 'param_groups' entries")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{op}: the state has {len(saved_groups)} parameter group(s) but the optimizer "
                f"has {len(self.param_groups)}"
            )
        by_index = {}
        for gi, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    f"{op}: parameter group {gi} has {len(saved['params'])} parameter(s) in the "
                    f"state but {len(group['params'])} in the optimizer"
                )
            for i, p in zip(saved["params"], group["params"]):
                by_index[i] = p
        new_state = {}
        for i, buffers in state_dict["state"].items():
            if i not in by_index:
                raise ValueError(f"{op}: the state refers to parameter index {i!r}, which no group lists")
            p = by_index[i]
            new_state[p] = {
                key: int(value) if key == "step" else _restore_value(value, p, f"{op}: state[{i!r}][{key!r}]")
                for key, value in buffers.items()
            }
        # validate everything before touching self
        new_groups = []
        for group, saved in zip(self.param_groups, saved_groups):
            # saved values win; keys an older checkpoint lacks keep their current value
            merged = {key: value for key, value in group.items() if key != "params"}
            merged.update((key, value) for key, value in saved.items() if key != "params")
            self._check_group(merged)
            merged["params"] = group["params"]
            new_groups.append(merged)
        self.param_groups = new_groups
        self.state = new_state


def _copy_value(value):
    if isinstance(value, Tensor):
        return Tensor._from_op(value.data.copy())
    if isinstance(value, np.ndarray) or backend.device_of(value) == "cuda":
        return value.copy()
    return value


def _restore_value(value, p, where):
    """A saved buffer as a fresh tensor like ``p`` (step counts stay ints)."""
    if isinstance(value, Tensor):
        value = value.data
    if not (isinstance(value, np.ndarray) or backend.device_of(value) == "cuda"):
        return value
    if value.ndim and tuple(value.shape) != p.shape:
        raise ValueError(f"{where} has shape {tuple(value.shape)} but the parameter has shape {p.shape}")
    arr = backend.to_device(value, p.device)
    if np.dtype(arr.dtype).kind == "f":
        arr = arr.astype(p.dtype, copy=True)
    else:
        arr = arr.copy()
    return Tensor._from_op(arr)
