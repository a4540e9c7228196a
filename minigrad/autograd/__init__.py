"""Reverse-mode automatic differentiation, as ``torch.autograd``.

Read it in this order: ``function`` (a node of the graph and what its
backward reads; ``accumulate_grad``, the node of a leaf), ``engine`` (the walk: ``backward`` and ``grad``, first or
higher order), ``anomaly`` (finding the op that made a NaN), ``trace``
(watching backward node by node). The ops in ``minigrad.ops`` build on it;
nothing here imports them.
"""

from minigrad.autograd.accumulate_grad import AccumulateGrad
from minigrad.autograd.anomaly import AnomalyError, detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from minigrad.autograd.broadcasting import sum_to
from minigrad.autograd.engine import backward, grad, topological_order
from minigrad.autograd.function import Function, is_graph, raw
from minigrad.autograd.trace import BackwardStep, BackwardTrace, InputGrad
from minigrad.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from minigrad.tensor import is_tensor

__all__ = [
    "AccumulateGrad",
    "AnomalyError",
    "BackwardStep",
    "BackwardTrace",
    "Function",
    "InputGrad",
    "backward",
    "detect_anomaly",
    "enable_grad",
    "grad",
    "is_anomaly_enabled",
    "is_grad_enabled",
    "is_graph",
    "is_tensor",
    "no_grad",
    "raw",
    "set_detect_anomaly",
    "set_grad_enabled",
    "sum_to",
    "topological_order",
]
