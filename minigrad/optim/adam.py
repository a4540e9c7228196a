"""Adam (Kingma & Ba, 2015), with PyTorch's update rule and options.

For each parameter p with gradient g, at step t = 1, 2, ...::

    g  = g + weight_decay * p                 (L2 penalty; -g first if maximize)
    m  = b1 * m + (1 - b1) * g                first moment
    v  = b2 * v + (1 - b2) * g^2              second moment
    v_hat = max(v_hat, v) if amsgrad else v
    p  = p - lr / (1 - b1^t) * m / (sqrt(v_hat) / sqrt(1 - b2^t) + eps)

On the CPU the update runs in place on the raw arrays with ufunc ``out=``
arguments, chunk by chunk through the cache (``minigrad.optim.streaming``):
no full-size temporary, one chunk-sized scratch buffer per thread (two with
weight decay or maximize). On a GPU it is one fused CuPy kernel per parameter.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from minigrad.backend import get_array_module
from minigrad.optim.optimizer import Optimizer, Params
from minigrad.optim.streaming import SCRATCH
from minigrad.tensor import Tensor


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2015), PyTorch's update rule; see the module docstring for the formula."""

    def __init__(
        self,
        params: Params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize
        )
        super().__init__(params, defaults)

    def _check_group(self, group):
        lr, betas, eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        if not lr >= 0.0:
            raise ValueError(f"Adam: invalid learning rate lr={lr} (must be >= 0)")
        if not eps >= 0.0:
            raise ValueError(f"Adam: invalid eps={eps} (must be >= 0)")
        if len(betas) != 2:
            raise ValueError(f"Adam: betas must be a pair (beta1, beta2), got {betas!r}")
        for i, b in enumerate(betas):
            if not 0.0 <= b < 1.0:
                raise ValueError(f"Adam: invalid beta{i + 1}={b} in betas={tuple(betas)} (must be in [0, 1))")
        if not wd >= 0.0:
            raise ValueError(f"Adam: invalid weight_decay={wd} (must be >= 0)")
        group["betas"] = tuple(betas)  # a list would not round-trip as PyTorch's tuple

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient; returns closure()'s loss."""
        loss = self._eval_closure(closure)
        jobs = []
        for group in self.param_groups:
            lr, (b1, b2), eps = group["lr"], group["betas"], group["eps"]
            wd, amsgrad, maximize = group["weight_decay"], group["amsgrad"], group["maximize"]
            for p, g in self._grads_to_apply(group):
                state = self.state.setdefault(p, {})
                if not state:
                    xp = p.xp
                    state["step"] = 0
                    state["exp_avg"] = Tensor._from_op(xp.zeros(p.data.shape, dtype=p.dtype))
                    state["exp_avg_sq"] = Tensor._from_op(xp.zeros(p.data.shape, dtype=p.dtype))
                if amsgrad and "max_exp_avg_sq" not in state:
                    state["max_exp_avg_sq"] = Tensor._from_op(p.xp.zeros(p.data.shape, dtype=p.dtype))
                state["step"] += 1
                t = state["step"]
                needs_g2 = wd != 0 or maximize
                on_cpu = p.device == "cpu"  # the GPU runs one fused kernel: no scratch
                # sqrt(v)/sqrt(bc2) + eps == (sqrt(v) + eps*sqrt(bc2)) / sqrt(bc2): fold the
                # bias corrections into two scalars so the array work is one pass per op.
                bc1 = 1.0 - b1**t
                sqrt_bc2 = math.sqrt(1.0 - b2**t)
                f = p.dtype.type  # hyper-parameters in the parameter's dtype: no float64 upcast
                args = (
                    f(1.0 - b1),
                    f(b2),
                    f(1.0 - b2),
                    f(eps * sqrt_bc2),
                    f(-lr * sqrt_bc2 / bc1),
                    f(wd),
                    bool(maximize),
                )
                vmax = state["max_exp_avg_sq"].data if amsgrad else None
                s = SCRATCH if on_cpu else None
                g2 = s if needs_g2 else None
                jobs.append(((p.data, g, state["exp_avg"].data, state["exp_avg_sq"].data, vmax, s, g2), args))
        self._apply(_adam_update, jobs)
        return loss


# The same update as one CUDA kernel per parameter (13 ufunc launches -> 1).
_FUSED_SOURCE = """
    T d = maximize ? wd * p - g : wd * p + g;
    m += one_minus_b1 * (d - m);
    v = b2 * v + one_minus_b2 * (d * d);
    {amsgrad}
    p += neg_step * (m / (sqrt(v_hat) + eps_hat));
"""
_fused_kernels: dict[bool, Any] = {}


def _fused_adam_kernel(amsgrad: bool) -> Any:
    kernel = _fused_kernels.get(amsgrad)
    if kernel is None:
        import cupy

        outputs = "T p, T m, T v" + (", T vmax" if amsgrad else "")
        body = _FUSED_SOURCE.format(amsgrad="vmax = max(vmax, v); T v_hat = vmax;" if amsgrad else "T v_hat = v;")
        kernel = cupy.ElementwiseKernel(
            "T g, T one_minus_b1, T b2, T one_minus_b2, T eps_hat, T neg_step, T wd, bool maximize",
            outputs,
            body,
            f"minigrad_adam{'_amsgrad' if amsgrad else ''}",
        )
        _fused_kernels[amsgrad] = kernel
    return kernel


def _adam_update(p, g, m, v, vmax, s, g2, one_minus_b1, b2, one_minus_b2, eps_hat, neg_step, wd, maximize):
    """In-place Adam on matching arrays; ``s`` (and ``g2``) are scratch.

    ``eps_hat = eps * sqrt(bc2)`` and ``neg_step = -lr * sqrt(bc2) / bc1``.
    """
    xp = get_array_module(p)
    if xp is not np:  # CuPy: one fused kernel (the ufunc code below would work too, 13x the launches)
        outputs = (p, m, v) if vmax is None else (p, m, v, vmax)
        _fused_adam_kernel(vmax is not None)(
            g, one_minus_b1, b2, one_minus_b2, eps_hat, neg_step, wd, maximize, *outputs
        )
        return
    if g2 is not None:  # g2 = wd * p + g  (or - g when maximizing)
        xp.multiply(p, wd, out=g2)
        (xp.subtract if maximize else xp.add)(g2, g, out=g2)
        g = g2
    # m += (1 - b1) * (g - m), i.e. PyTorch's m.lerp_(g, 1 - b1)
    xp.subtract(g, m, out=s)
    xp.multiply(s, one_minus_b1, out=s)
    xp.add(m, s, out=m)
    # v = b2 * v + (1 - b2) * g^2
    xp.multiply(g, g, out=s)
    xp.multiply(s, one_minus_b2, out=s)
    xp.multiply(v, b2, out=v)
    xp.add(v, s, out=v)
    if vmax is not None:
        xp.maximum(vmax, v, out=vmax)
        v = vmax
    # p += neg_step * m / (sqrt(v) + eps_hat)
    xp.sqrt(v, out=s)
    xp.add(s, eps_hat, out=s)
    xp.divide(m, s, out=s)
    xp.multiply(s, neg_step, out=s)
    xp.add(p, s, out=p)
