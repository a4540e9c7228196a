"""spectral_norm: divide a module's weight by its largest singular value before every forward (Miyato et al. 2018).

PyTorch's hook API (``torch.nn.utils.spectral_norm``): the parameter ``weight``
becomes ``weight_orig`` (the same Parameter, so an optimizer that holds it keeps
working), the buffers ``weight_u`` and ``weight_v`` hold the power iteration's
singular vectors (saved in ``state_dict``), and a forward pre-hook sets
``module.weight = weight_orig / sigma`` before every call.
"""

from __future__ import annotations

import math
from typing import Any, TypeVar

from minigrad import creation, grad_mode
from minigrad.backend import get_array_module
from minigrad.nn.conv import ConvTranspose2d
from minigrad.nn.module import Module
from minigrad.nn.parameter import Parameter
from minigrad.tensor import Tensor

_M = TypeVar("_M", bound=Module)


def _normalize(a: Any, eps: float) -> Any:
    """a / max(||a||_2, eps) on a raw vector (as torch.nn.functional.normalize)."""
    xp = get_array_module(a)
    return a / xp.maximum(xp.linalg.norm(a), a.dtype.type(eps))


class SpectralNorm:
    """The forward pre-hook: weight = W / sigma(W), sigma = u^T W_mat v.

    W_mat is W with axis ``dim`` moved first, reshaped to (W.shape[dim], -1).
    In training mode each call first runs ``n_power_iterations`` steps of

        v <- normalize(W_mat^T u),   u <- normalize(W_mat v)

    without recording a graph, writing u and v into the buffers in place; then
    u^T W_mat v estimates the largest singular value of W_mat. In eval mode the
    stored u and v are used as they are. Gradients flow to W through both the
    numerator and sigma, with u and v constants: d sigma / d W_mat = u v^T, so

        dL/dW_mat = (G - <G, W_mat / sigma> u v^T) / sigma   for G = dL/dweight (as a matrix).

    Every step is a recorded op, so the weight is differentiable to any order
    (create_graph).
    """

    def __init__(self, name: str = "weight", n_power_iterations: int = 1, dim: int = 0, eps: float = 1e-12) -> None:
        if n_power_iterations <= 0:
            raise ValueError(f"spectral_norm: n_power_iterations must be positive, got {n_power_iterations}")
        self.name, self.n_power_iterations, self.dim, self.eps = name, n_power_iterations, dim, eps

    def reshape_weight_to_matrix(self, weight: Tensor) -> Tensor:
        """W with axis ``dim`` first, as a (W.shape[dim], -1) matrix (recorded in the graph)."""
        if self.dim != 0:
            weight = weight.permute(self.dim, *[d for d in range(weight.ndim) if d != self.dim])
        return weight.reshape(weight.shape[0], math.prod(weight.shape[1:]))  # not -1: a (0, n) weight has 0 rows

    def compute_weight(self, module: Module, do_power_iteration: bool) -> Tensor:
        """W / sigma with sigma = u^T W v, after the power iteration's update of u and v when ``do_power_iteration``."""
        weight = getattr(module, self.name + "_orig")
        u, v = getattr(module, self.name + "_u"), getattr(module, self.name + "_v")
        w_mat = self.reshape_weight_to_matrix(weight)
        if do_power_iteration:
            with grad_mode.no_grad():
                w = w_mat.data
                for _ in range(self.n_power_iterations):
                    v.copy_(_normalize(w.T @ u.data, self.eps))
                    u.copy_(_normalize(w @ v.data, self.eps))
            # copies: the next training forward updates the buffers in place, which must not reach this graph
            u, v = u.clone(), v.clone()
        sigma = u @ (w_mat @ v)
        return weight / sigma

    def __call__(self, module: Module, inputs: Any) -> None:
        setattr(module, self.name, self.compute_weight(module, do_power_iteration=module.training))

    def remove(self, module: Module) -> None:
        """Put back ``name`` as a Parameter holding the current normalised weight (no power iteration)."""
        with grad_mode.no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        for attr in (self.name, self.name + "_u", self.name + "_v", self.name + "_orig"):
            delattr(module, attr)
        module.register_parameter(self.name, Parameter(weight.detach()))

    @staticmethod
    def apply(module: Module, name: str, n_power_iterations: int, dim: int, eps: float) -> SpectralNorm:
        """Register spectral normalisation of ``module.name`` (what ``spectral_norm`` calls)."""
        op = f"spectral_norm ({type(module).__name__}.{name})"
        if not isinstance(module, Module):
            raise TypeError(f"spectral_norm: expected a Module, got {type(module).__name__}")
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, SpectralNorm) and hook.name == name:
                raise RuntimeError(f"{op}: cannot register two spectral_norm hooks on the same parameter '{name}'")
        if name not in module._parameters:
            names = ", ".join(module._parameters) or "none"
            raise ValueError(f"{op}: {type(module).__name__} has no parameter '{name}' (its parameters: {names})")
        weight = module._parameters[name]
        if weight is None:
            raise ValueError(f"{op}: cannot be applied as parameter '{name}' is None")
        if weight.ndim == 0:
            raise ValueError(f"{op}: the weight must have at least 1 dimension, got shape {tuple(weight.shape)}")
        if not -weight.ndim <= dim < weight.ndim:
            raise ValueError(f"{op}: dim {dim} out of range for a weight of shape {tuple(weight.shape)}")
        fn = SpectralNorm(name, n_power_iterations, dim % weight.ndim, eps)
        with grad_mode.no_grad():
            h, w = fn.reshape_weight_to_matrix(weight).shape
            # random starting vectors from minigrad's generator (reproducible with manual_seed), as PyTorch draws them
            u = _normalize(creation.randn(h, dtype=weight.dtype, device=weight.device).data, eps)
            v = _normalize(creation.randn(w, dtype=weight.dtype, device=weight.device).data, eps)
        delattr(module, name)
        module.register_parameter(name + "_orig", weight)
        # `name` stays readable (initialisers, reprs) as a plain attribute sharing weight_orig's memory until the
        # first forward replaces it
        setattr(module, name, weight.detach())
        module.register_buffer(name + "_u", u)
        module.register_buffer(name + "_v", v)
        module.register_forward_pre_hook(fn)
        return fn


def spectral_norm(
    module: _M, name: str = "weight", n_power_iterations: int = 1, eps: float = 1e-12, dim: int | None = None
) -> _M:
    """Apply spectral normalisation to ``module``'s parameter ``name``, as ``torch.nn.utils.spectral_norm``.

    weight = weight_orig / sigma(weight_orig), sigma the largest singular value
    of the weight as a (shape[dim], -1) matrix, estimated by power iteration
    (``n_power_iterations`` steps per training forward, none in eval). ``dim``
    defaults to 1 for ConvTranspose2d (weight (C_in, C_out, kh, kw)) and 0
    otherwise. Returns the module.

    >>> import minigrad
    >>> from minigrad import nn
    >>> m = nn.utils.spectral_norm(nn.Linear(20, 40))
    >>> [name for name, _ in m.named_parameters()], [name for name, _ in m.named_buffers()]
    (['bias', 'weight_orig'], ['weight_u', 'weight_v'])
    >>> tuple(m.weight_u.shape)
    (40,)
    """
    if dim is None:
        dim = 1 if isinstance(module, ConvTranspose2d) else 0
    SpectralNorm.apply(module, name, n_power_iterations, dim, eps)
    return module


def remove_spectral_norm(module: _M, name: str = "weight") -> _M:
    """Undo ``spectral_norm``: ``name`` is a plain Parameter again, holding the current W / sigma. Returns module."""
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, SpectralNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"remove_spectral_norm: spectral_norm of '{name}' not found in {type(module).__name__}")
