"""Stochastic gradient descent with momentum, PyTorch's update rule.

For each parameter p with gradient g::

    g = g + weight_decay * p                  (-g first if maximize)
    if momentum != 0:
        buf = g                                         at the first step
        buf = momentum * buf + (1 - dampening) * g      afterwards
        g = g + momentum * buf   if nesterov   else   buf
    p = p - lr * g

Nesterov momentum needs momentum > 0 and dampening = 0. The update runs in
place, chunk by chunk through the cache on the CPU (``minigrad.optim.streaming``),
with one chunk-sized scratch buffer per thread.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from minigrad.backend import get_array_module
from minigrad.optim.optimizer import Optimizer, Params
from minigrad.optim.streaming import SCRATCH
from minigrad.tensor import Tensor


class SGD(Optimizer):
    """Stochastic gradient descent with momentum, PyTorch's update rule; see the module docstring for the formula."""

    def __init__(
        self,
        params: Params,
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            nesterov=nesterov,
            weight_decay=weight_decay,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _check_group(self, group):
        lr, momentum, dampening, wd = group["lr"], group["momentum"], group["dampening"], group["weight_decay"]
        if lr is None or not lr >= 0.0:
            raise ValueError(f"SGD: invalid learning rate lr={lr} (must be >= 0)")
        if not momentum >= 0.0:
            raise ValueError(f"SGD: invalid momentum={momentum} (must be >= 0)")
        if not wd >= 0.0:
            raise ValueError(f"SGD: invalid weight_decay={wd} (must be >= 0)")
        if group["nesterov"] and (momentum <= 0 or dampening != 0):
            raise ValueError(
                f"SGD: nesterov momentum requires momentum > 0 and dampening = 0, "
                f"got momentum={momentum}, dampening={dampening}"
            )

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient; returns closure()'s loss."""
        loss = self._eval_closure(closure)
        jobs = []
        for group in self.param_groups:
            lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
            wd, nesterov, maximize = group["weight_decay"], group["nesterov"], group["maximize"]
            for p, g in self._grads_to_apply(group):
                buf, first = None, False
                if momentum != 0:
                    state = self.state.setdefault(p, {})
                    if "momentum_buffer" not in state:
                        state["momentum_buffer"] = Tensor._from_op(p.xp.empty(p.data.shape, dtype=p.dtype))
                        first = True
                    buf = state["momentum_buffer"].data
                f = p.dtype.type  # hyper-parameters in the parameter's dtype: no float64 upcast
                args = (first, f(-lr), f(wd), f(momentum), f(1.0 - dampening), bool(nesterov), bool(maximize))
                jobs.append(((p.data, g, buf, SCRATCH), args))
        self._apply(_sgd_update, jobs)
        return loss


def _sgd_update(p, g, buf, s, first, neg_lr, wd, momentum, one_minus_dampening, nesterov, maximize):
    """In-place SGD on matching arrays; ``s`` is scratch, ``buf`` None without momentum."""
    xp = get_array_module(p)
    d = g
    if wd != 0:  # d = wd * p + g  (or - g when maximizing)
        xp.multiply(p, wd, out=s)
        (xp.subtract if maximize else xp.add)(s, g, out=s)
        d = s
    elif maximize:
        xp.negative(g, out=s)
        d = s
    if buf is not None:
        if first:
            xp.copyto(buf, d)
        else:
            xp.multiply(buf, momentum, out=buf)
            if one_minus_dampening != 1:
                xp.multiply(d, one_minus_dampening, out=s)  # d is no longer needed: no nesterov here
                d = s
            xp.add(buf, d, out=buf)
        if nesterov:  # p -= lr * (d + momentum * buf), as two in-place steps
            xp.multiply(d, neg_lr, out=s)
            xp.add(p, s, out=p)
            xp.multiply(buf, neg_lr * momentum, out=s)
            xp.add(p, s, out=p)
            return
        d = buf
    xp.multiply(d, neg_lr, out=s)
    xp.add(p, s, out=p)
