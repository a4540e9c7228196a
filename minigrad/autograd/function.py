"""Function: one node of the graph, what its backward reads, and how op inputs become tensors.

A Function subclass implements ``forward`` on raw arrays and ``backward`` with
one formula that runs on raw arrays (first-order backward) and on Tensors
(``create_graph=True``, so the gradient is itself differentiable):

>>> import minigrad
>>> from minigrad.autograd import Function
>>> from minigrad.backend import get_array_module
>>> class Exp(Function):
...     '''y = e^x ;  dx = y gy.'''
...
...     def forward(self, x):
...         y = get_array_module(x).exp(x)
...         self.save_for_backward(y)     # the output: a Tensor in the graph when create_graph=True
...         return y
...
...     def backward(self, gy):
...         y, = self.saved_values
...         return gy * y                 # arrays, or Tensors recorded in the graph
>>> x = minigrad.tensor([0.0, 1.0], dtype=minigrad.float64, requires_grad=True)
>>> Exp.apply(x).sum().backward()
>>> x.grad
tensor([1.        , 2.71828183], dtype=float64)

``Exp.apply(x)`` runs the op and records it, as ``torch.autograd.Function.apply``
does; an op with settings takes them as keywords (``Sum.apply(x, axis=0,
keepdims=False)``), or is built first and called (``Sum(0, False)(x)``).

``save_for_backward`` is how a Function declares what its backward reads. A
value that is one of the forward's input arrays or its output array is
handed back as that input or output (its array, or the Tensor itself when a
graph is being built), and backward refuses to run if that tensor was
written in place since (version counters); anything else is a constant of
the graph (a mask, indices). Inputs that were not saved may change freely.

Inside ``backward``, a computation that is not an operator or a method
shared by arrays and Tensors is written as another Function run through
``forward_or_record``: on raw arrays it is just that Function's forward, on
Tensors it records the graph, so the formula is written once.

``saved_values`` holds arrays in a first-order backward and Tensors under
``create_graph=True`` (PyTorch's ``saved_tensors`` always holds Tensors, so
that name is kept only as a deprecated alias).
"""

from __future__ import annotations

import functools
import numbers
import warnings
from collections.abc import Callable
from typing import Any, TypeAlias

import numpy as np

from minigrad import backend, grad_mode
from minigrad.amp import autocast_mode
from minigrad.autograd import anomaly
from minigrad.autograd.accumulate_grad import grad_accumulator
from minigrad.tensor import Tensor, is_tensor

_INPUT, _OUTPUT, _CONSTANT = "input", "output", "constant"

# The annotations of forward and backward: ``Array``, a backend array (numpy.ndarray or cupy.ndarray), and
# ``Grad``, a gradient (an array in a first-order backward, a Tensor under create_graph=True). Both are Any to a
# type checker: one formula serves both kinds.
Array: TypeAlias = Any
Grad: TypeAlias = Any


class _Apply:
    """``Function.apply``: on the class, PyTorch's entry point; on an instance, the deprecated 0.1 meaning.

    ``Exp.apply(x)`` builds the op (keywords go to its constructor) and runs it on
    Tensors, recording it. Until 0.2, ``op.apply(*args)`` on an instance meant what
    ``op.forward_or_record(*args)`` means now; that call still works, with a
    DeprecationWarning.
    """

    def __get__(self, instance: Function | None, owner: type[Function]) -> Callable[..., Any]:
        if instance is None:
            return functools.partial(_apply_class, owner)
        return functools.partial(_apply_instance, instance)


def _apply_class(cls: type[Function], *inputs: Any, **params: Any) -> Tensor:
    return cls(**params)(*inputs)


def _apply_instance(fn: Function, *args: Any) -> Any:
    warnings.warn(
        f"{fn.name}().forward_or_record(...) is deprecated: call {fn.name}.apply(...) to run the op, or "
        "forward_or_record(...) inside a backward formula (forward on arrays, recorded on Tensors)",
        DeprecationWarning,
        stacklevel=2,
    )
    return fn.forward_or_record(*args)


class Function:
    """One differentiable op. Subclasses implement ``forward`` and ``backward``.

    ``forward(*arrays)`` gets raw arrays (numpy or cupy) and returns one array.
    ``backward(gy)`` gets the gradient of the output (an array, or a Tensor
    when the graph of the gradient is recorded) and returns one gradient per
    input (a tuple, or a single value for one input; None where
    ``needs_input_grad`` is False or the input has no gradient).
    What backward reads comes from ``self.saved_values``, in the order
    given to ``save_for_backward``; the engine drops it after backward
    unless ``retain_graph=True``. What stays is the structure:
    ``next_functions`` and the shape and dtype of each input, so the graph
    can still be walked and drawn.

    ``Op.apply(*inputs, **params)`` runs the op, as ``Op(**params)(*inputs)``.
    """

    apply = _Apply()
    inputs: tuple[Tensor, ...] = ()
    needs_input_grad: tuple[bool, ...] = ()
    saved_values: tuple[Any, ...] = ()
    _saved: tuple[tuple[str, Any], ...] = ()
    _saved_versions: tuple[tuple[int, int], ...]
    _output_version: int = 0
    _to_save: tuple[Any, ...]
    _creation_stack: list[Any]  # set in anomaly mode (anomaly.record_forward)
    _freed = False
    _next_functions: tuple[tuple[Any, int], ...] = ()  # kept by release()
    _input_meta: tuple[tuple[tuple[int, ...], Any], ...] = ()  # (shape, dtype) of each input, kept by release()
    # how autocast treats the inputs: "lower", "fp32", "promote", "banned" or None (minigrad.amp.autocast_mode)
    autocast_policy: str | None = None

    def __call__(self, *inputs: Any) -> Tensor:
        tensors = as_tensor_args(self, inputs)
        if autocast_mode.active:  # the only cost of autocast outside a region
            tensors = autocast_mode.cast_inputs(self, tensors)
        needs = self.needs_input_grad = tuple([t.requires_grad for t in tensors])
        arrays = [t.data for t in tensors]
        try:
            y = self.forward(*arrays)
        except ValueError as e:
            shapes = ", ".join(str(tuple(t.shape)) for t in tensors)
            msg = str(e) if str(e).lower().startswith(self.name.lower()) else f"{self.name}: {e}"
            raise ValueError(f"{msg} (input shapes {shapes})") from e
        out = Tensor._from_op(y)
        view_of = getattr(y, "base", None)
        if view_of is not None:  # a view of an input's memory counts that input's in-place writes
            for t, a in zip(tensors, arrays):
                if (a if a.base is None else a.base) is view_of:
                    out._share_version_counter(t)
                    break
        to_save = self.__dict__.pop("_to_save", ())
        if grad_mode._grad_enabled and True in needs:
            out.requires_grad = True
            out.grad_fn = self
            self.inputs = tensors
            if to_save:
                saved = self._saved = tuple([_locate(v, arrays, y) for v in to_save])
                self._saved_versions = tuple([(ref, tensors[ref]._version) for kind, ref in saved if kind == _INPUT])
            else:
                self._saved_versions = ()
            self._output_version = out._version
        if anomaly._enabled and out.grad_fn is self:  # ops recorded for a backward, not no_grad code
            anomaly.record_forward(self, tensors, y)
        return out

    def forward_or_record(self, *args: Any) -> Any:
        """Run this op on Tensors (recorded in the graph, as calling it does) or on raw arrays (forward only).

        Backward formulas use it for every step that is not an operator shared by arrays and Tensors.
        """
        for a in args:
            if isinstance(a, Tensor):
                return self(*args)
        return self.forward(*args)

    @property
    def saved_tensors(self) -> tuple[Any, ...]:
        """Deprecated alias of ``saved_values`` (arrays in a first-order backward, unlike PyTorch's)."""
        warnings.warn(
            "Function.saved_tensors is deprecated: use saved_values (arrays in a first-order backward, "
            "Tensors under create_graph=True)",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.saved_values

    def save_for_backward(self, *values: Any) -> None:
        """Declare what backward reads: input arrays, the output array, or constants (masks, indices)."""
        self._to_save = values

    @property
    def name(self) -> str:
        """The op's name: its class name (``Mul``, shown as ``<MulBackward>`` in reprs)."""
        return type(self).__name__

    def forward(self, *xs: Any) -> Any:
        """The op on raw arrays (one per input): returns the output array. Subclasses implement it."""
        raise NotImplementedError

    def backward(self, gy: Any) -> Any:
        """The gradient of each input from the output's, ``gy``: one formula for arrays and Tensors. Subclasses
        implement it."""
        raise NotImplementedError

    def _unpack_saved(self, out: Tensor, graph: bool) -> tuple[Any, ...]:
        """The saved values for one backward call: arrays, or (graph) the input and output Tensors themselves."""
        values = []
        for kind, ref in self._saved:
            if kind == _INPUT:
                t = self.inputs[ref]
                values.append(t if graph else t.data)
            elif kind == _OUTPUT:
                values.append(out if graph else out.data)
            else:
                values.append(ref)
        return tuple(values)

    @property
    def next_functions(self) -> tuple[tuple[Any, int], ...]:
        """One ``(node, input_nr)`` pair per input, as PyTorch's: where backward sends each input's gradient.

        ``node`` is the Function that produced the input, the input's
        ``AccumulateGrad`` for a leaf
        that requires grad, or None for a constant; ``input_nr`` is 0 (every
        Function has one output). Kept after backward frees the graph.
        """
        if self._freed:
            return self._next_functions
        return tuple((_node_of(x), 0) for x in self.inputs)

    @property
    def input_metadata(self) -> tuple[tuple[tuple[int, ...], Any], ...]:
        """``(shape, dtype)`` of each input, kept after backward frees the inputs themselves."""
        if self._freed:
            return self._input_meta
        return tuple((x.shape, x.dtype) for x in self.inputs)

    def release(self) -> None:
        """Drop saved values and inputs after backward (frees their arrays); keep ``next_functions``."""
        edges, meta = self.next_functions, self.input_metadata
        self.__dict__.clear()
        self._freed = True
        self._next_functions = edges
        self._input_meta = meta

    def __repr__(self) -> str:
        return f"<{self.name}Backward>"


def _node_of(x: Tensor) -> Any:
    """The node an input's gradient goes to: its grad_fn, a leaf's AccumulateGrad, or None for a constant."""
    if x.grad_fn is not None:
        return x.grad_fn
    return grad_accumulator(x) if x.requires_grad else None


def _locate(value: Any, arrays: list[Any], y: Any) -> tuple[str, Any]:
    """Where a saved value lives: ("input", i), ("output", None) or ("constant", value)."""
    if value is y:
        return _OUTPUT, None
    for i, a in enumerate(arrays):
        if value is a:
            return _INPUT, i
    return _CONSTANT, value


def is_graph(value: Any) -> bool:
    """Deprecated alias of ``is_tensor``."""
    warnings.warn("is_graph is deprecated: use minigrad.is_tensor", DeprecationWarning, stacklevel=2)
    return is_tensor(value)


def raw(value: Any) -> Any:
    """The array behind a Tensor (a value treated as a constant, e.g. to build a mask), or the value itself."""
    return value.data if isinstance(value, Tensor) else value


def as_tensor_args(fn: Function, inputs: tuple[Any, ...]) -> tuple[Tensor, ...]:
    """Turn an op's inputs into Tensors on one device.

    Python numbers adopt the dtype of the tensor operands (``x * 2`` stays
    float32, NumPy's rule for scalars); arrays become constant tensors.
    Mixing devices is an error that names the op and both devices.
    """
    for x in inputs:  # the common case: every input a Tensor on the CPU, nothing to convert or check
        if not isinstance(x, Tensor) or type(x.data) is not np.ndarray:
            break
    else:
        if inputs:
            return inputs
    ref = None
    for x in inputs:
        if isinstance(x, Tensor):
            if ref is None:
                ref = x
            elif x.device != ref.device:
                raise RuntimeError(
                    f"{fn.name}: expected all tensors on the same device, got {ref.device} and {x.device}"
                )
    if ref is None:
        raise TypeError(f"{fn.name}: expected at least one Tensor argument")
    if all(isinstance(x, Tensor) for x in inputs):
        return inputs
    out = []
    xp = ref.xp
    for x in inputs:
        if isinstance(x, Tensor):
            out.append(x)
        elif isinstance(x, numbers.Number):
            dtype = ref.dtype if ref.dtype.kind == "f" or not isinstance(x, float) else np.float32
            out.append(Tensor._from_op(xp.asarray(x, dtype=dtype)))
        else:
            # host data (lists, NumPy arrays) is copied to the tensors' device; a GPU array
            # next to CPU tensors is a device mix-up
            if ref.device == "cpu" and backend.device_of(x) == "cuda":
                raise RuntimeError(f"{fn.name}: expected all tensors on the same device, got cpu and cuda")
            out.append(Tensor._from_op(xp.asarray(x)))
    return tuple(out)
