"""flatten and unflatten: reshape a range of dimensions (views, no copy when contiguous)."""

from __future__ import annotations

from collections.abc import Sequence

from minigrad.ops.shape_ops import flatten as _flatten
from minigrad.ops.shape_ops import reshape
from minigrad.tensor import Tensor


def flatten(input: Tensor, start_dim: int = 1, end_dim: int = -1) -> Tensor:
    """Merge dims start_dim..end_dim into one. Note: start_dim defaults to 1 here (keep the batch),
    as ``nn.Flatten``; ``minigrad.flatten`` defaults to 0 like ``torch.flatten``."""
    return _flatten(input, start_dim, end_dim)


def unflatten(input: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:
    """Split dimension ``dim`` into ``sizes`` (one entry may be -1)."""
    shape = tuple(input.shape)
    d = dim % len(shape)
    sizes = tuple(int(s) for s in sizes)
    known = 1
    for s in sizes:
        if s != -1:
            known *= s
    if (
        sizes.count(-1) > 1
        or (sizes.count(-1) == 0 and known != shape[d])
        or (sizes.count(-1) == 1 and (known == 0 or shape[d] % known))
    ):
        raise ValueError(
            f"unflatten: sizes {sizes} do not multiply to the size {shape[d]} of dim {dim} of input {shape}"
        )
    return reshape(input, shape[:d] + sizes + shape[d + 1 :])
