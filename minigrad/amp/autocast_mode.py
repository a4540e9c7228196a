"""autocast: regions in which each op runs in the precision PyTorch's autocast picks for it.

Every Function declares a class attribute ``autocast_policy`` beside its formula:

- ``"lower"``: PyTorch's "ops that can autocast to float16" (matmul, linear, conv2d, conv_transpose2d): floating
  inputs in float32 are cast to the autocast dtype, so the op runs in float16.
- ``"fp32"``: PyTorch's "ops that can autocast to float32" (exp, log, pow, sum, softmax, log_softmax, softplus,
  layer_norm, the losses): float16 inputs are cast up, the op runs (and returns) float32.
- ``"promote"``: ops that need matching input dtypes (cat, stack): all floating inputs are cast to the widest.
- ``"banned"``: binary_cross_entropy, which raises inside autocast (its gradient need not fit in float16;
  binary_cross_entropy_with_logits is the safe spelling), as in PyTorch.
- ``None`` (unlisted): no cast; the op runs in the dtypes its inputs have, and NumPy promotes a float16/float32 mix
  to float32, as PyTorch's builtin promotion does.

float64 and integer inputs are never cast. Each cast is ``Tensor.to`` (a recorded op), so gradients flow back
through it: an op's backward runs in the dtype its forward ran in, and a float32 parameter gets a float32 ``.grad``.
The engine suspends autocast while it runs backward formulas, so a ``create_graph=True`` backward records the same
dtypes as the forward did. Within one autocast region, the float16 copy of a float32 leaf that requires grad (a
parameter) is made once and reused (``cache_enabled``); a copy is not reused after the leaf was written in place or
a backward freed its graph.

One table serves both device types: PyTorch's CUDA list, the one made for float16. (PyTorch's CPU list is made for
bfloat16, whose float32 range makes exp / softmax safe in low precision; float16 has no such range.) NumPy and CuPy
have no bfloat16, so float16 is the only autocast dtype here, on "cpu" as on "cuda" (PyTorch's CPU default is
bfloat16); asking for another is an error. Where minigrad differs: batch_norm, unlisted in PyTorch (cuDNN takes
float16 input and keeps its statistics in float32), runs in float32 here, since NumPy has no mixed-precision kernel;
and the autocast state is the process's, not per thread as PyTorch's (minigrad records ops on one thread).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import Any, Literal, TypeVar

import numpy as np

from minigrad import grad_mode
from minigrad.tensor import Tensor

_F = TypeVar("_F", bound=Callable[..., Any])

DEVICE_TYPES = ("cpu", "cuda")
POLICIES = ("lower", "fp32", "promote", "banned")

# True while some autocast region is enabled: the one flag Function.__call__ reads on every op
active = False
_dtype: dict[str, np.dtype | None] = {"cpu": None, "cuda": None}  # the autocast dtype per device type, None: off
_cache_enabled = True
_nesting = 0
_cache: dict[int, tuple[Tensor, int, Tensor]] = {}  # id(leaf) -> (leaf, its version at the cast, its float16 copy)


def is_autocast_enabled(device_type: str = "cuda") -> bool:
    """Whether autocast is on for tensors on ``device_type`` ("cpu" or "cuda")."""
    return _dtype[_device_type(device_type, "is_autocast_enabled")] is not None


def get_autocast_dtype(device_type: str = "cuda") -> np.dtype:
    """The dtype autocast casts to on ``device_type`` (float16; it is float16 while autocast is off, too)."""
    _device_type(device_type, "get_autocast_dtype")
    return np.dtype(np.float16)


def is_autocast_cache_enabled() -> bool:
    """Whether parameters' float16 copies are cached within an autocast region (``cache_enabled``)."""
    return _cache_enabled


def clear_autocast_cache() -> None:
    """Forget the float16 copies of parameters made in this region (done on leaving the outermost region)."""
    _cache.clear()


class autocast:
    """Run each op inside the region in the precision PyTorch's autocast picks (see this module's docstring).

    ``autocast(device_type, dtype=None, enabled=True, cache_enabled=None)``, as ``torch.autocast``: a context
    manager or a decorator; ``dtype`` None means float16, the only one NumPy and CuPy can run; an inner
    ``autocast(..., enabled=False)`` turns it off for a sub-region; the state before a region comes back after it.

    >>> import minigrad
    >>> from minigrad.amp import autocast
    >>> w = minigrad.ones((3, 2), requires_grad=True)
    >>> x = minigrad.ones((4, 3))
    >>> with autocast("cpu"):
    ...     h = x @ w             # matmul: float16
    ...     s = h.sum()           # sum: float32
    >>> h.dtype, s.dtype
    (dtype('float16'), dtype('float32'))
    >>> s.backward()
    >>> w.grad.dtype              # the parameter and its gradient stay float32
    dtype('float32')
    """

    def __init__(
        self, device_type: str, dtype: Any = None, enabled: bool = True, cache_enabled: bool | None = None
    ) -> None:
        self.device_type = _device_type(device_type, "autocast")
        if dtype is not None and _as_dtype(dtype) != np.float16:
            raise ValueError(
                f"autocast: dtype {dtype} is not supported on {device_type!r}: float16 is the only autocast dtype "
                f"in minigrad (NumPy and CuPy have no bfloat16)"
            )
        self.fast_dtype = np.dtype(np.float16)
        self.enabled = bool(enabled)
        self.cache_enabled = True if cache_enabled is None else bool(cache_enabled)
        self._prev: list[tuple[np.dtype | None, bool]] = []  # a stack, so one instance may be entered recursively

    def __enter__(self) -> autocast:
        global _cache_enabled, _nesting
        self._prev.append((_dtype[self.device_type], _cache_enabled))
        _dtype[self.device_type] = self.fast_dtype if self.enabled else None
        _cache_enabled = self.cache_enabled
        _nesting += 1
        _refresh()
        return self

    def __exit__(self, *exc: object) -> Literal[False]:
        global _cache_enabled, _nesting
        _dtype[self.device_type], _cache_enabled = self._prev.pop()
        _nesting -= 1
        if _nesting == 0:
            _cache.clear()
        _refresh()
        return False

    def __call__(self, func: _F) -> _F:
        @functools.wraps(func)
        def decorated(*args: Any, **kwargs: Any) -> Any:
            with self:
                return func(*args, **kwargs)

        return decorated  # type: ignore[return-value]


@contextlib.contextmanager
def suspended() -> Iterator[None]:
    """Autocast off for every device type (the engine's backward), restored after."""
    global active
    if not active:
        yield
        return
    saved = dict(_dtype)
    _dtype.update(dict.fromkeys(_dtype))
    active = False
    try:
        yield
    finally:
        _dtype.update(saved)
        _refresh()


def _refresh() -> None:
    global active
    active = any(d is not None for d in _dtype.values())


def _device_type(device_type: Any, op: str) -> str:
    name = str(getattr(device_type, "type", device_type)).split(":")[0]
    if name not in DEVICE_TYPES:
        raise ValueError(f"{op}: device_type must be 'cpu' or 'cuda', got {device_type!r}")
    return name


def _as_dtype(dtype: Any) -> np.dtype:
    if isinstance(dtype, str) and dtype in ("bfloat16", "half"):
        return np.dtype(np.float16) if dtype == "half" else np.dtype(np.void)  # bfloat16: no NumPy dtype
    try:
        return np.dtype(dtype)
    except TypeError:
        return np.dtype(np.void)


def cast_inputs(fn: Any, tensors: tuple[Tensor, ...]) -> tuple[Tensor, ...]:
    """The inputs of ``fn`` cast as its ``autocast_policy`` asks, while autocast is on for their device."""
    policy = fn.autocast_policy
    if policy is None:
        return tensors
    dtype = _dtype[tensors[0].device]
    if dtype is None:
        return tensors
    if policy == "lower":
        return tuple(_cast(t, dtype) if t.dtype == np.float32 else t for t in tensors)
    if policy == "fp32":
        return tuple(_cast(t, np.dtype(np.float32)) if t.dtype == np.float16 else t for t in tensors)
    if policy == "promote":
        floats = {t.dtype for t in tensors if t.dtype.kind == "f"}
        if len(floats) < 2:
            return tensors
        widest = max(floats, key=lambda d: d.itemsize)
        return tuple(_cast(t, widest) if t.dtype.kind == "f" and t.dtype != widest else t for t in tensors)
    if policy == "banned":
        dtypes = ", ".join(str(t.dtype) for t in tensors)
        raise RuntimeError(
            f"{fn.name}: unsafe to autocast (inputs {dtypes}): its gradient may not fit in float16. Use "
            f"binary_cross_entropy_with_logits (or BCEWithLogitsLoss) on logits, or run it outside autocast"
        )
    raise ValueError(f"{fn.name}: unknown autocast_policy {policy!r}, expected one of {POLICIES} or None")


def seen_dtype(t: Tensor, policy: str) -> np.dtype:
    """The dtype an op of ``autocast_policy`` "lower" or "fp32" will see ``t`` in (for its wrapper's dtype checks)."""
    if active and _dtype[t.device] is not None:
        if policy == "lower" and t.dtype == np.float32:
            return _dtype[t.device] or t.dtype
        if policy == "fp32" and t.dtype == np.float16:
            return np.dtype(np.float32)
    return t.dtype


def _cast(t: Tensor, dtype: np.dtype) -> Tensor:
    """t as ``dtype`` through a recorded cast; a parameter's float16 copy is cached for the region."""
    cacheable = (
        _cache_enabled and dtype == np.float16 and t.requires_grad and t.grad_fn is None and grad_mode.is_grad_enabled()
    )
    if cacheable:
        hit = _cache.get(id(t))
        # reused while the leaf is unchanged and the copy's node is still in a graph (a backward frees it)
        if hit is not None and hit[0] is t and hit[1] == t._version and not getattr(hit[2].grad_fn, "_freed", True):
            return hit[2]
    out = t.to(dtype=dtype)
    if cacheable:
        _cache[id(t)] = (t, t._version, out)
    return out
