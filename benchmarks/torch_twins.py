"""PyTorch twins of minigrad modules: same layers, same sizes, same initial weights.

``twin(module, torch)`` walks a minigrad module tree and builds the torch
module with the same structure, then copies every parameter and buffer, so
both frameworks start from identical weights. Custom minigrad modules (a
class with its own ``forward``) are mirrored by ``MirrorModule``: its
children are twinned and its ``forward`` is the minigrad class's forward
run on the torch children, which works because minigrad's Tensor API uses
PyTorch's names (reshape, view, flatten, ...).
"""

from __future__ import annotations

import numpy as np

from minigrad import backend
from minigrad import nn as mnn


def _leaf_twin(m, tnn):
    """The torch layer for one minigrad leaf layer (None if it is not a known leaf)."""
    if isinstance(m, mnn.Linear):
        return tnn.Linear(m.in_features, m.out_features, bias=m.bias is not None)
    if isinstance(m, mnn.ConvTranspose2d):
        return tnn.ConvTranspose2d(
            m.in_channels,
            m.out_channels,
            m.kernel_size,
            m.stride,
            m.padding,
            m.output_padding,
            bias=m.bias is not None,
            dilation=m.dilation,
        )
    if isinstance(m, mnn.Conv2d):
        return tnn.Conv2d(
            m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding, m.dilation, bias=m.bias is not None
        )
    for name in ("BatchNorm1d", "BatchNorm2d"):
        if isinstance(m, getattr(mnn, name)):
            return getattr(tnn, name)(
                m.num_features,
                eps=m.eps,
                momentum=m.momentum,
                affine=m.affine,
                track_running_stats=m.track_running_stats,
            )
    if isinstance(m, mnn.LeakyReLU):
        return tnn.LeakyReLU(m.negative_slope)
    if isinstance(m, mnn.Dropout):
        return tnn.Dropout(m.p)
    if isinstance(m, mnn.Flatten):
        return tnn.Flatten(m.start_dim, m.end_dim)
    if isinstance(m, mnn.Unflatten):
        return tnn.Unflatten(m.dim, m.unflattened_size)
    for name in ("ReLU", "Tanh", "Sigmoid"):
        if type(m) is getattr(mnn, name):
            return getattr(tnn, name)()
    return None


def _structure(m, torch):
    """The torch module tree of ``m`` (weights not copied yet)."""
    tnn = torch.nn
    leaf = _leaf_twin(m, tnn)
    if leaf is not None:
        return leaf
    if type(m) is mnn.Sequential:
        seq = tnn.Sequential()
        for name, child in m.named_children():
            seq.add_module(name, _structure(child, torch))
        return seq
    if m._parameters or m._buffers:
        raise TypeError(
            f"torch twin: {type(m).__name__} owns parameters or buffers directly; "
            f"only Linear/Conv2d/ConvTranspose2d/BatchNorm are supported leaves"
        )
    return _mirror(m, torch)


def _mirror(m, torch):
    """A torch.nn.Module whose children are the twins of m's and whose forward is m's."""
    forward = type(m).forward

    class MirrorModule(torch.nn.Module):
        def forward(self, *args, **kwargs):
            return forward(self, *args, **kwargs)

    MirrorModule.__name__ = f"Torch{type(m).__name__}"
    t = MirrorModule()
    for name, value in vars(m).items():  # plain attributes the forward may read (latent_dim, shapes)
        if not name.startswith("_") and name != "training" and isinstance(value, (int, float, tuple, str, bool)):
            setattr(t, name, value)
    for name, child in m.named_children():
        t.add_module(name, _structure(child, torch))
    return t


def copy_weights(src, dst, torch) -> None:
    """Copy every parameter and buffer of minigrad module ``src`` into torch module ``dst``."""
    theirs = dst.state_dict()
    ours = src.state_dict()
    if set(ours) != set(theirs):
        raise ValueError(
            f"torch twin: state_dict keys differ: only in minigrad {sorted(set(ours) - set(theirs))}, "
            f"only in torch {sorted(set(theirs) - set(ours))}"
        )
    with torch.no_grad():
        for key, value in ours.items():
            arr = np.array(backend.as_numpy(value.data), order="C")  # (ascontiguousarray makes 0-d 1-d)
            if tuple(arr.shape) != tuple(theirs[key].shape):
                raise ValueError(
                    f"torch twin: {key} has shape {arr.shape} in minigrad, {tuple(theirs[key].shape)} in torch"
                )
            theirs[key].copy_(torch.from_numpy(arr))


def twin(module, torch, device: str = "cpu"):
    """The torch twin of a minigrad module, with the same weights, on ``device``."""
    t = _structure(module, torch)
    copy_weights(module, t, torch)
    t.train(module.training)
    return t.to(device)
