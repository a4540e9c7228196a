"""Parameter: a Tensor that a Module registers as trainable."""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.creation import empty, tensor
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


def add_weight_and_bias(
    module: Any, weight_shape: tuple[int, ...], bias_size: int, bias: bool, device: str | None, dtype: Any
) -> None:
    """Register an uninitialised ``weight`` Parameter of ``weight_shape`` on ``module``, and a ``bias`` of shape
    (bias_size,) when ``bias`` is true (else ``bias`` is None): the parameters of Linear, Maxout and the convolutions.
    """
    module.weight = Parameter(empty(*weight_shape, dtype=dtype, device=device))
    if bias:
        module.bias = Parameter(empty(bias_size, dtype=dtype, device=device))
    else:
        module.register_parameter("bias", None)
