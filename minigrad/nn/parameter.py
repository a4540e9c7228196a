"""Parameter: a Tensor that a Module registers as trainable."""
from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.creation import tensor
from minigrad.tensor import Tensor


class Parameter(Tensor):
    """A leaf Tensor with ``requires_grad=True`` by default.

    Assigning one to a Module attribute registers it, so it shows up in
    ``module.parameters()`` and ``module.state_dict()``. It shares the array
    of the Tensor (or array) it is made from.
    """

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            data = np.empty(0, dtype=np.float32)
        elif not isinstance(data, Tensor) and not hasattr(data, "dtype"):
            data = tensor(data)  # Python lists: the default dtype (float32)
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
