"""batch_norm: normalise each channel over the batch (Ioffe & Szegedy 2015), as one Function."""

from __future__ import annotations

from minigrad.amp import autocast_mode
from minigrad.autograd import Function, is_graph, raw
from minigrad.backend import get_array_module
from minigrad.ops.pointwise import Sqrt
from minigrad.tensor import Tensor


def _per_channel_sum(a3):
    """sum over n and l of a3 (N, C, L) -> (C,): a matrix-vector product, one fast pass (BLAS)."""
    xp = get_array_module(raw(a3))
    N, C, L = a3.shape
    if L == 1:
        return a3.reshape(N, C).sum(axis=0)
    return (a3.reshape(N * C, L) @ xp.ones(L, dtype=a3.dtype)).reshape(N, C).sum(axis=0)


def _per_channel_dot(a3, b3):
    """sum over n and l of a3 * b3 (both (N, C, L)) -> (C,), without an (N, C, L) temporary."""
    N, C, L = a3.shape
    if L == 1:
        return (a3 * b3).reshape(N, C).sum(axis=0)
    return (a3.reshape(N * C, 1, L) @ b3.reshape(N * C, L, 1)).reshape(N, C).sum(axis=0)


def _subtract(a, b):
    """a - b: in place into a's buffer on raw arrays (a is a temporary of backward), recorded on Tensors."""
    if is_graph(a):
        return a - b
    a -= b
    return a


class BatchNorm(Function):
    """y = xhat * gamma + beta,  xhat = (x - mu) / sqrt(var + eps), per channel (axis 1).

    Training: mu and var (biased) are the batch statistics over every axis
    but 1, so every output depends on the whole batch. With n values per
    channel and dxhat = gamma gy, the closed-form gradient is

        dx     = (inv_std / n) (n dxhat - sum(dxhat) - xhat sum(dxhat xhat))
               = gamma inv_std (gy - mean(gy) - xhat mean(gy xhat)),
        dgamma = sum(gy xhat),   dbeta = sum(gy).

    Eval: mu and var are the running statistics (constants), so
    dx = gamma inv_std gy.

    The running statistics are updated in place during a training forward:
    running = (1 - momentum) running + momentum * batch_stat, with the
    unbiased variance var * n / (n - 1), as PyTorch does.

    Speed: the per-channel sums are matrix-vector products on the (N, C, L)
    view (one pass, BLAS) instead of NumPy reductions over axes (0, 2, 3), and
    xhat is never stored: forward keeps xc = x - mu and inv_std, and the
    per-channel factors are folded so that each full-size pass does one thing.
    """

    autocast_policy = "fp32"  # unlisted in PyTorch (cuDNN keeps its statistics in float32); float32 here

    def __init__(self, running_mean, running_var, training, momentum, eps, has_weight, has_bias):
        self.running_mean, self.running_var = running_mean, running_var
        self.training, self.momentum, self.eps = training, momentum, eps
        self.has_weight, self.has_bias = has_weight, has_bias

    def forward(self, x, *params):
        xp = get_array_module(x)
        N, c = x.shape[0], x.shape[1]
        x3 = x.reshape(N, c, -1)
        bshape = (1, c, 1)
        w = params[0] if self.has_weight else None
        b = params[-1] if self.has_bias else None
        dt = x.dtype.type
        if self.training:
            n = x3.shape[0] * x3.shape[2]
            mean = _per_channel_sum(x3) / dt(n)
            xc = x3 - mean.reshape(bshape)
            var = _per_channel_dot(xc, xc) / dt(n)  # biased: normalisation uses 1/n
            self._update_running(mean, var, n)
        else:
            # a copy (C values): a later in-place update of the running mean must not reach this graph's backward
            mean = raw(self.running_mean).astype(x.dtype)
            var = raw(self.running_var).astype(x.dtype, copy=False)
            xc = x3 - mean.reshape(bshape)
        inv_std = 1 / xp.sqrt(var + dt(self.eps))
        # xc and inv_std are the first-order backward's cache; under create_graph xc is recomputed from x
        # (and, in training, inv_std too)
        self.save_for_backward(x, w, xc, inv_std, mean)
        scale = inv_std if w is None else inv_std * w  # y = xc * scale + beta
        y = xc * scale.reshape(bshape)
        if b is not None:
            y += b.reshape(bshape)
        return y.reshape(x.shape)

    def _update_running(self, mean, var, n):
        m = self.momentum
        rm, rv = self.running_mean, self.running_var
        if rm is not None:
            rm.mul_(1 - m).add_((rm.dtype.type(m) * mean).astype(rm.dtype, copy=False))
        if rv is not None:
            rv.mul_(1 - m).add_((rv.dtype.type(m * n / (n - 1)) * var).astype(rv.dtype, copy=False))

    def _statistics(self, x3, mean, inv_std):
        """(xc, inv_std) of x3 (N, C, L) in the mode of the forward, written on Tensors for create_graph.

        Eval: the running statistics of the forward (``mean``, ``inv_std``) are constants."""
        bshape = (1, x3.shape[1], 1)
        if not self.training:
            return x3 - mean.reshape(bshape), inv_std
        n = x3.shape[0] * x3.shape[2]
        xc = x3 - (_per_channel_sum(x3) / n).reshape(bshape)
        var = _per_channel_dot(xc, xc) / n
        return xc, 1 / Sqrt().apply(var + self.eps)

    def backward(self, gy):
        x, w, xc, inv_std, mean = self.saved_tensors
        if is_graph(gy):
            xc, inv_std = self._statistics(x.reshape(x.shape[0], x.shape[1], -1), mean, inv_std)
        gy3 = gy.reshape(xc.shape)
        bshape = (1, xc.shape[1], 1)
        need = self.needs_input_grad
        dbeta = _per_channel_sum(gy3)
        want_dgamma = (self.training and need[0]) or (self.has_weight and need[1])
        dgamma = _per_channel_dot(gy3, xc) * inv_std if want_dgamma else None  # sum(gy xhat)
        dx = None
        if need[0]:
            scale = inv_std if w is None else inv_std * w
            dx = gy3 * scale.reshape(bshape)
            if self.training:
                # gamma inv_std (gy - mean(gy) - xhat mean(gy xhat)), with xhat = xc inv_std
                n = xc.shape[0] * xc.shape[2]
                dx = _subtract(dx, xc * (scale * inv_std * dgamma / n).reshape(bshape))
                dx = _subtract(dx, (scale * dbeta / n).reshape(bshape))
            dx = dx.reshape(gy.shape)
        grads = [dx]
        if self.has_weight:
            grads.append(dgamma if need[1] else None)
        if self.has_bias:
            grads.append(dbeta if need[-1] else None)
        return tuple(grads)


def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Batch normalisation of (N, C) or (N, C, *spatial) input over all axes but 1.

    ``running_mean``/``running_var`` (Tensors or arrays of shape (C,), or None)
    are updated in place when ``training``; without them the batch statistics
    are always used. ``weight``/``bias`` (gamma, beta) may be None.
    """
    x = input if isinstance(input, Tensor) else Tensor(input)
    op = "batch_norm"
    if x.ndim < 2:
        raise ValueError(f"{op}: expected input of shape (N, C) or (N, C, *spatial), got {tuple(x.shape)}")
    c = x.shape[1]
    rm, rv = running_mean, running_var
    for name, t in (("running_mean", rm), ("running_var", rv), ("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != (c,):
            raise ValueError(
                f"{op}: {name} must have shape ({c},) for input of shape {tuple(x.shape)} (C = {c}), "
                f"got {tuple(t.shape)}"
            )
    if not training and (rm is None or rv is None):
        raise ValueError(f"{op}: running_mean and running_var must be given when training=False")
    if training and x.data.size // max(c, 1) <= 1:
        raise ValueError(
            f"{op}: expected more than 1 value per channel when training, got input of shape {tuple(x.shape)}"
        )
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and autocast_mode.seen_dtype(t, "fp32") != autocast_mode.seen_dtype(x, "fp32"):
            raise ValueError(f"{op}: {name} dtype {t.dtype} differs from input dtype {x.dtype}")
    rm = rm if rm is None or isinstance(rm, Tensor) else Tensor(rm)
    rv = rv if rv is None or isinstance(rv, Tensor) else Tensor(rv)
    fn = BatchNorm(rm, rv, bool(training), float(momentum), float(eps), weight is not None, bias is not None)
    params = [t for t in (weight, bias) if t is not None]
    return fn(x, *params)
