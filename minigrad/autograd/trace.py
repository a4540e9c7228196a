"""Watch backward node by node: which op, the gradient it received, the gradients it handed on.

    with minigrad.autograd.BackwardTrace(names=dict(model.named_parameters())) as trace:
        loss.backward()
    print(trace.table())          # one row per node, in the order backward visited them
    trace.records[0].op           # or read the records (a test, a notebook)

Each record is one call of a Function's backward: its position in the visiting
order, the op, the incoming gradient's shape and norm, and per input the
shape and norm of the gradient it hands on (None where the input needs none),
with the input's name where ``names`` (e.g. ``dict(model.named_parameters())``)
names it. Nothing is recorded outside the ``with`` block.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from minigrad.autograd import engine
from minigrad.autograd.function import raw
from minigrad.backend import get_array_module


@dataclass
class InputGrad:
    """One input of a traced backward step: its index, name (when known), shape and the norm of its gradient."""

    index: int
    name: str | None
    shape: tuple[int, ...]
    norm: float | None  # None: no gradient handed to this input


@dataclass
class BackwardStep:
    """One backward call: its position, the op, the incoming gradient's shape and norm, and per input an InputGrad."""

    step: int  # 1 for the first node backward visits (as viz numbers them)
    op: str
    grad_shape: tuple[int, ...]
    grad_norm: float
    inputs: list[InputGrad] = field(default_factory=list)


def _norm(g: Any) -> float:
    a = raw(g)
    xp = get_array_module(a)
    return float(xp.sqrt((a.astype("float64") ** 2).sum()))


class BackwardTrace:
    """Context manager that records every backward node visited inside it (see the module docstring)."""

    def __init__(self, names: Mapping[str, Any] | None = None) -> None:
        self.records: list[BackwardStep] = []
        self._names = {id(t): n for n, t in (names or {}).items()}

    def _observe(self, fn: Any, out: Any, grad_out: Any, grads_in: tuple[Any, ...]) -> None:
        inputs = []
        for i, x in enumerate(fn.inputs):
            g = grads_in[i] if i < len(grads_in) else None
            inputs.append(InputGrad(i, self._names.get(id(x)), tuple(x.shape), None if g is None else _norm(g)))
        self.records.append(BackwardStep(len(self.records) + 1, fn.name, tuple(out.shape), _norm(grad_out), inputs))

    def __enter__(self) -> BackwardTrace:
        engine._node_observers.append(self._observe)
        return self

    def __exit__(self, *exc: object) -> Literal[False]:
        engine._node_observers.remove(self._observe)
        return False

    def table(self) -> str:
        """The records as a fixed-width text table, one row per node."""
        rows = [("step", "op", "grad in (shape)", "|grad in|", "grads out: input name shape |grad|")]
        for r in self.records:
            outs = "; ".join(
                f"{i.index}{' ' + i.name if i.name else ''} {i.shape} " + ("-" if i.norm is None else f"{i.norm:.4g}")
                for i in r.inputs
            )
            rows.append((str(r.step), r.op, str(r.grad_shape), f"{r.grad_norm:.4g}", outs))
        widths = [max(len(row[c]) for row in rows) for c in range(4)]
        return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row[:4], widths)) + "  " + row[4] for row in rows)
