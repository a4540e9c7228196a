"""Loss functions, each one fused Function with a closed-form backward.

Every loss takes ``reduction``: 'mean' (average over elements; for the
class-index losses, the weighted average over samples), 'sum', or 'none'
(per-element losses). Input and target shapes must match exactly: an (N, 1)
prediction against an (N,) target is an error, not a silent (N, N) broadcast.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad import backend
from minigrad.autograd import Function, is_tensor, raw, sum_to
from minigrad.autograd.function import Array, Grad
from minigrad.ops.activations import LogSoftmax, Sigmoid, Softplus
from minigrad.ops.pointwise import Exp, Log, Maximum
from minigrad.ops.shape_ops import Expand
from minigrad.tensor import Tensor

_REDUCTIONS = ("mean", "sum", "none")


# --- argument checks -------------------------------------------------------------------


def _check_reduction(op: str, reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _as_tensor(t: Any, like: Tensor) -> Tensor:
    """A Tensor on ``like``'s device (targets may be arrays or Python lists)."""
    if isinstance(t, Tensor):
        return t
    xp = like.xp
    arr = xp.asarray(t) if backend.device_of(t) == like.device or like.device == "cuda" else None
    if arr is None:
        raise RuntimeError(f"expected all tensors on {like.device}, got an array on {backend.device_of(t)}")
    return Tensor(arr)


def _float_operand(op: str, name: str, t: Any, x: Tensor) -> Tensor:
    """``t`` as a tensor of x's dtype: a constant is cast, a differentiable one must already match."""
    t = _as_tensor(t, x)
    if t.dtype != x.dtype:
        if t.requires_grad:
            raise ValueError(f"{op}: {name} dtype {t.dtype} differs from input dtype {x.dtype}")
        t = Tensor(t.data.astype(x.dtype))
    return t


def _check_same_shape(op: str, x: Tensor, target: Tensor) -> None:
    if tuple(x.shape) != tuple(target.shape):
        raise ValueError(
            f"{op}: target shape {tuple(target.shape)} differs from input shape {tuple(x.shape)}; "
            f"they must match (no broadcasting: reshape one, e.g. target.reshape{tuple(x.shape)})"
        )


def _weight_operand(op: str, name: str, w: Any, x: Tensor) -> Tensor:
    """A weight (``weight``, ``pos_weight``) as a tensor of x's dtype that broadcasts to x's shape."""
    w = _float_operand(op, name, w, x)
    _check_broadcasts(op, name, w, x)
    return w


def _check_broadcasts(op: str, name: str, t: Tensor, x: Tensor) -> None:
    try:
        ok = np.broadcast_shapes(tuple(t.shape), tuple(x.shape)) == tuple(x.shape)
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"{op}: {name} of shape {tuple(t.shape)} does not broadcast to input shape {tuple(x.shape)}")


# --- elementwise losses ------------------------------------------------------------------


class _PointwiseLoss(Function):
    """Shared reduction logic: loss = reduce(l) over an elementwise l."""

    autocast_policy = "fp32"  # PyTorch autocasts mse_loss, binary_cross_entropy_with_logits to float32

    def __init__(self, reduction: str) -> None:
        self.reduction = reduction

    def _reduce(self, l: Array, w: Array | None = None) -> Array:
        """reduce(w l): the elementwise loss, weighted by ``w`` when given (broadcast against l)."""
        if w is not None:
            l = l * w
        self.shape, self.n = l.shape, l.size
        if self.reduction == "none":
            return l
        xp = backend.get_array_module(l)
        s = l.sum()
        if self.reduction == "mean":
            s = s / l.dtype.type(l.size)
        return xp.asarray(s, dtype=l.dtype)

    def _grad_scale(self, gy: Grad) -> Grad:
        """dL/dl_i: gy itself ('none'), gy ('sum') or gy / n ('mean'); broadcasts against l."""
        if self.reduction == "mean":
            return gy / gy.dtype.type(self.n)
        return gy

    def _weight_grad(self, unweighted: Grad, g: Grad, w: Grad) -> Grad:
        """dL/dw = (what w multiplies) dL/dl, summed back to w's shape (w broadcast against l)."""
        return sum_to(Expand(self.shape).forward_or_record(unweighted * g), w.shape)


def _clamped_logs(p: Grad) -> tuple[Grad, Grad]:
    """(log p, log(1 - p)), each clamped at -100 as PyTorch's BCE (arrays or Tensors)."""
    if is_tensor(p):
        lo = p.dtype.type(-100)
        return Maximum.apply(Log.apply(p), lo), Maximum.apply(Log.apply(1 - p), lo)
    xp = backend.get_array_module(p)
    with np.errstate(divide="ignore"):  # log(0) = -inf, clamped here
        return xp.maximum(xp.log(p), p.dtype.type(-100)), xp.maximum(xp.log1p(-p), p.dtype.type(-100))


class BinaryCrossEntropy(_PointwiseLoss):
    """l = -w [t log p + (1 - t) log(1 - p)], each log clamped at -100 (as PyTorch).

    dp = w (p - t) / max(p (1 - p), 1e-12)  (PyTorch's formula),
    dt = -w (log p - log(1 - p)),   dw = -[t log p + (1 - t) log(1 - p)]  (the unweighted loss).
    """

    autocast_policy = "banned"  # PyTorch raises inside autocast: use binary_cross_entropy_with_logits

    def forward(self, p: Array, t: Array, w: Array = None) -> Array:
        self.save_for_backward(p, t, w)
        log_p, log_q = _clamped_logs(p)
        return self._reduce(-(log_q + t * (log_p - log_q)), w)

    def backward(self, gy: Grad) -> tuple[Grad | None, ...]:
        p, t, w = self.saved_values
        need = self.needs_input_grad
        g = self._grad_scale(gy)
        gw_scale = g if w is None else g * w
        gp = gt = gw = None
        if need[0]:
            gp = (p - t) / Maximum().forward_or_record(p * (1 - p), raw(p).dtype.type(1e-12)) * gw_scale
        if need[1] or (w is not None and need[2]):
            log_p, log_q = _clamped_logs(p)
            if need[1]:
                gt = -(log_p - log_q) * gw_scale
            if w is not None and need[2]:
                gw = self._weight_grad(-(log_q + t * (log_p - log_q)), g, w)
        return (gp, gt) if w is None else (gp, gt, gw)


class BinaryCrossEntropyWithLogits(_PointwiseLoss):
    """BCE on logits x, stable for any |x|.  With s(-x) = softplus(-x) = max(-x, 0) + log1p(e^-|x|):

        l  = (1 - t) x + lw s(-x),   lw = 1 + (pos_weight - 1) t   (lw = 1 without pos_weight)
           = max(x, 0) - x t + log1p(e^-|x|)                         (without pos_weight)
        dx = (1 - t) - lw (1 - sigmoid(x))  = sigmoid(x) - t         (without pos_weight)
        dt = -x + (pos_weight - 1) s(-x),   dpos_weight = t s(-x),   dw = l.

    Nothing exponentiates a positive number, so |x| = 1e4 in float32 is exact.
    """

    def __init__(self, reduction: str, has_weight: bool, has_pos_weight: bool) -> None:
        super().__init__(reduction)
        self.has_weight, self.has_pos_weight = has_weight, has_pos_weight

    def forward(self, x: Array, t: Array, *extra: Array) -> Array:
        w = extra[0] if self.has_weight else None
        pw = extra[-1] if self.has_pos_weight else None
        self.save_for_backward(x, t, w, pw)
        return self._reduce(self._unweighted(x, t, pw), w)

    @staticmethod
    def _unweighted(x: Grad, t: Grad, pw: Grad | None) -> Grad:
        sp = Softplus().forward_or_record(-x)  # = -log sigmoid(x)
        return (1 - t) * x + (sp if pw is None else (1 + (pw - 1) * t) * sp)

    def backward(self, gy: Grad) -> tuple[Grad | None, ...]:
        x, t, w, pw = self.saved_values
        need = self.needs_input_grad
        g = self._grad_scale(gy)
        gs = g if w is None else g * w
        grads = [None, None]
        if need[0]:
            if pw is None:
                gx = Sigmoid().forward_or_record(x) - t
            else:
                gx = (1 - t) - (1 + (pw - 1) * t) * (1 - Sigmoid().forward_or_record(x))
            grads[0] = gx * gs
        if need[1]:
            gt = -x if pw is None else (pw - 1) * Softplus().forward_or_record(-x) - x
            grads[1] = gt * gs
        if w is not None:
            grads.append(self._weight_grad(self._unweighted(x, t, pw), g, w) if need[2] else None)
        if pw is not None:
            grads.append(self._weight_grad(t * Softplus().forward_or_record(-x), gs, pw) if need[-1] else None)
        return tuple(grads)


class MSELoss(_PointwiseLoss):
    """l = (x - t)^2 ;  dx = 2 (x - t),  dt = -dx."""

    def forward(self, x: Array, t: Array) -> Array:
        self.save_for_backward(x, t)
        d = x - t
        return self._reduce(d * d)

    def backward(self, gy: Grad) -> tuple[Grad | None, ...]:
        x, t = self.saved_values
        need = self.needs_input_grad
        gx = (2 * (x - t)) * self._grad_scale(gy)
        return (gx if need[0] else None), (-gx if need[1] else None)


# --- class-index losses -----------------------------------------------------------------


class _ClassIndexLoss(Function):
    """l_i = -c_i logp[i, t_i],  c_i = weight[t_i] (0 where t_i == ignore_index).

    'mean' divides by sum_i c_i (PyTorch's weighted mean), not by N.
    """

    autocast_policy = "fp32"  # PyTorch autocasts cross_entropy, nll_loss to float32

    def __init__(self, target: Array, weight: Array | None, ignore_index: int, reduction: str) -> None:
        self.target, self.weight, self.ignore_index, self.reduction = target, weight, ignore_index, reduction

    def _class_weights(self, dtype: Any) -> Array:
        xp = backend.get_array_module(self.target)
        valid = self.target != self.ignore_index
        self.safe_t = xp.where(valid, self.target, 0)  # ignored rows index class 0, then weigh 0
        c = valid.astype(dtype)
        if self.weight is not None:
            c *= self.weight.astype(dtype, copy=False)[self.safe_t]
        self.c = c
        return c

    def _reduce(self, picked_logp: Array, dtype: Any) -> Array:
        xp = backend.get_array_module(picked_logp)
        l = -(picked_logp * self.c)
        if self.reduction == "none":
            return l
        s = l.sum()
        if self.reduction == "mean":
            self.denom = self.c.sum()
            s = s / self.denom
        return xp.asarray(s, dtype=dtype)

    def _onehot(self, like: Grad) -> Array:
        """(N, C) constant: 1 at [i, t_i], 0 elsewhere, in like's dtype."""
        a = raw(like)
        xp = backend.get_array_module(a)
        onehot = xp.zeros(a.shape, dtype=a.dtype)
        onehot[xp.arange(a.shape[0]), self.safe_t] = 1
        return onehot

    def _row_scale(self, gy: Grad) -> Grad:
        """dL/dlogp[i, t_i] = -c_i * (gy_i | gy | gy / sum c)."""
        g = gy / self.denom if self.reduction == "mean" else gy
        return -(self.c * g)


class CrossEntropy(_ClassIndexLoss):
    """Softmax cross-entropy on logits: logp = x - logsumexp(x) ;

        dx_i = c_i g_i (softmax(x_i) - onehot(t_i)),   c_i = weight[t_i] (0 where ignored),
        g_i = gy_i | gy | gy / sum_j c_j   for reduction 'none' | 'sum' | 'mean'.

    Fused, so softmax never under/overflows."""

    def forward(self, x: Array) -> Array:
        logp = LogSoftmax(axis=1).forward(x)
        self._class_weights(x.dtype)
        self.save_for_backward(x, logp)  # logp: the first-order cache, recomputed from x under create_graph
        return self._reduce(logp[backend.get_array_module(x).arange(x.shape[0]), self.safe_t], x.dtype)

    def backward(self, gy: Grad) -> Grad:
        x, logp = self.saved_values
        if is_tensor(gy):
            logp = LogSoftmax(axis=1).forward_or_record(x)
        s = self._row_scale(gy)  # (N,) = -c_i g_i
        return (Exp().forward_or_record(logp) - self._onehot(logp)) * (-s).reshape(-1, 1)  # (softmax - onehot) c_i g_i


class NLLLoss(_ClassIndexLoss):
    """l_i = -c_i logp[i, t_i] on log-probabilities ;  dlogp[i, t_i] = -c_i g_i, 0 elsewhere."""

    def forward(self, logp: Array) -> Array:
        xp = backend.get_array_module(logp)
        self._class_weights(logp.dtype)
        self.save_for_backward(self._onehot(logp))
        return self._reduce(logp[xp.arange(logp.shape[0]), self.safe_t], logp.dtype)

    def backward(self, gy: Grad) -> Grad:
        (onehot,) = self.saved_values
        return onehot * self._row_scale(gy).reshape(-1, 1)


# --- public functions ---------------------------------------------------------------------


def _float_input(op: str, input: Any) -> Tensor:
    """``input`` as a Tensor; ValueError naming ``op`` unless it is floating point."""
    x = input if isinstance(input, Tensor) else Tensor(input)
    if x.dtype.kind != "f":
        raise ValueError(f"{op}: input must be floating point, got dtype {x.dtype}")
    return x


def _pointwise_args(op: str, input: Any, target: Any, reduction: str) -> tuple[Tensor, Tensor]:
    _check_reduction(op, reduction)
    x = _float_input(op, input)
    t = _float_operand(op, "target", target, x)
    _check_same_shape(op, x, t)
    return x, t


def _check_probability_target(op: str, t: Tensor) -> None:
    """Targets are probabilities: ValueError naming ``op`` for values outside [0, 1] (or NaN).

    Checked on the CPU only, like BCE's input range (on the GPU it would stall the device queue).
    """
    if t.device == "cpu" and t.data.size:
        lo, hi = float(t.data.min()), float(t.data.max())
        if not (0 <= lo and hi <= 1):
            raise ValueError(
                f"{op}: all elements of target should be between 0 and 1, got values in "
                f"[{lo:g}, {hi:g}] (target shape {tuple(t.shape)})"
            )


def binary_cross_entropy(input: Tensor, target: Any, weight: Tensor | None = None, reduction: str = "mean") -> Tensor:
    """-w [t log p + (1 - t) log(1 - p)] on probabilities p in [0, 1] (logs clamped at -100).

    On the CPU the range of p is checked; on the GPU it is not (it would
    stall the device queue every step).
    """
    op = "binary_cross_entropy"
    x, t = _pointwise_args(op, input, target, reduction)
    _check_probability_target(op, t)
    if x.device == "cpu" and x.data.size and (float(x.data.min()) < 0 or float(x.data.max()) > 1):
        raise ValueError(f"{op}: all elements of input should be between 0 and 1 (input shape {x.shape})")
    if weight is None:
        return BinaryCrossEntropy(reduction)(x, t)
    return BinaryCrossEntropy(reduction)(x, t, _weight_operand(op, "weight", weight, x))


def binary_cross_entropy_with_logits(
    input: Tensor, target: Any, weight: Tensor | None = None, reduction: str = "mean", pos_weight: Tensor | None = None
) -> Tensor:
    """Sigmoid + BCE in one stable step: max(x, 0) - x t + log1p(e^-|x|), optionally weighted.

    ``pos_weight`` multiplies the positive term (broadcast along the last
    dimension, e.g. shape (C,)), as in PyTorch.
    """
    op = "binary_cross_entropy_with_logits"
    x, t = _pointwise_args(op, input, target, reduction)
    _check_probability_target(op, t)
    extra = [
        _weight_operand(op, name, v, x) for name, v in (("weight", weight), ("pos_weight", pos_weight)) if v is not None
    ]
    fn = BinaryCrossEntropyWithLogits(reduction, weight is not None, pos_weight is not None)
    return fn(x, t, *extra)


def mse_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Mean squared error: reduce((x - t)^2)."""
    x, t = _pointwise_args("mse_loss", input, target, reduction)
    return MSELoss(reduction)(x, t)


def _class_index_args(
    op: str, input: Any, target: Any, weight: Any, reduction: str
) -> tuple[Tensor, Array, Array | None]:
    _check_reduction(op, reduction)
    x = _float_input(op, input)
    if x.ndim != 2:
        raise ValueError(f"{op}: expected input of shape (N, C), got {tuple(x.shape)}")
    t = _as_tensor(target, x).data
    if t.dtype.kind not in "iu":
        raise ValueError(f"{op}: target must hold integer class indices, got dtype {t.dtype} (shape {tuple(t.shape)})")
    if tuple(t.shape) != (x.shape[0],):
        raise ValueError(
            f"{op}: target shape {tuple(t.shape)} does not match input shape {tuple(x.shape)}; "
            f"expected class indices of shape ({x.shape[0]},)"
        )
    w = None
    if weight is not None:
        w = _as_tensor(weight, x).data
        if tuple(w.shape) != (x.shape[1],):
            raise ValueError(f"{op}: weight must have shape ({x.shape[1]},) (one per class), got {tuple(w.shape)}")
    return x, t, w


def _check_class_range(op: str, t: Array, n_classes: int, ignore_index: int) -> None:
    if backend.device_of(t) != "cpu" or t.size == 0:
        return  # a range check on the GPU would synchronise every step
    valid = t[t != ignore_index]
    if valid.size and (int(valid.min()) < 0 or int(valid.max()) >= n_classes):
        raise ValueError(
            f"{op}: target class indices must lie in [0, {n_classes}), got values in "
            f"[{int(valid.min())}, {int(valid.max())}]"
        )


def _class_index_loss(
    op: str, fn: type[_ClassIndexLoss], input: Any, target: Any, weight: Any, ignore_index: int, reduction: str
) -> Tensor:
    x, t, w = _class_index_args(op, input, target, weight, reduction)
    _check_class_range(op, t, x.shape[1], ignore_index)
    return fn(t, w, ignore_index, reduction)(x)


def cross_entropy(
    input: Tensor, target: Any, weight: Tensor | None = None, ignore_index: int = -100, reduction: str = "mean"
) -> Tensor:
    """Softmax cross-entropy of logits (N, C) against class indices (N,)."""
    return _class_index_loss("cross_entropy", CrossEntropy, input, target, weight, ignore_index, reduction)


def nll_loss(
    input: Tensor, target: Any, weight: Tensor | None = None, ignore_index: int = -100, reduction: str = "mean"
) -> Tensor:
    """Negative log-likelihood of log-probabilities (N, C) at class indices (N,)."""
    return _class_index_loss("nll_loss", NLLLoss, input, target, weight, ignore_index, reduction)
