"""Automatic mixed precision, as ``torch.amp``: ``autocast`` regions and the ``GradScaler``.

>>> import minigrad
>>> from minigrad.amp import GradScaler, autocast
>>> model = minigrad.nn.Linear(3, 1)
>>> opt = minigrad.optim.SGD(model.parameters(), lr=0.1)
>>> scaler = GradScaler("cpu")
>>> with autocast("cpu"):
...     loss = model(minigrad.ones((4, 3))).pow(2).mean()
>>> scaler.scale(loss).backward()
>>> scaler.step(opt)
>>> scaler.update()
>>> model.weight.dtype, model.weight.grad.dtype
(dtype('float32'), dtype('float32'))
"""

from minigrad.amp.autocast_mode import (
    autocast,
    clear_autocast_cache,
    get_autocast_dtype,
    is_autocast_cache_enabled,
    is_autocast_enabled,
)
from minigrad.amp.grad_scaler import GradScaler

__all__ = [
    "GradScaler",
    "autocast",
    "clear_autocast_cache",
    "get_autocast_dtype",
    "is_autocast_cache_enabled",
    "is_autocast_enabled",
]
