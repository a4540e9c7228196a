"""Containers: Sequential (a chain of layers) and ModuleList (a registered list)."""

from __future__ import annotations

import operator
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from minigrad.nn.module import Module
from minigrad.tensor import Tensor


def _index(idx, n, op):
    """A non-negative position from a possibly negative index, with a clear IndexError."""
    i = operator.index(idx)
    if not -n <= i < n:
        raise IndexError(f"{op}: index {idx} is out of range for {n} modules")
    return i % n


class _ModuleSequence(Module):
    """What Sequential and ModuleList share: their modules in order, with len, iteration, append and extend."""

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        for m in modules:
            self.append(m)
        return self


class Sequential(_ModuleSequence):
    """Modules applied in order: ``Sequential(Linear(2, 3), ReLU())(x)``.

    Build from modules (named '0', '1', ...) or from an OrderedDict of
    name -> module. Supports len, iteration, x[i] (negative too), x[a:b]
    (a Sequential keeping the names), item assignment, deletion and append.
    """

    def __init__(self, *args: Any) -> None:
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, module in args[0].items():
                self.add_module(name, module)
        else:
            for i, module in enumerate(args):
                self.add_module(str(i), module)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(OrderedDict(list(self._modules.items())[idx]))
        keys = list(self._modules)
        return self._modules[keys[_index(idx, len(keys), "Sequential")]]

    def __setitem__(self, idx, module):
        if not isinstance(module, Module):
            raise TypeError(f"Sequential: {type(module).__name__} is not a Module subclass")
        keys = list(self._modules)
        self._modules[keys[_index(idx, len(keys), "Sequential")]] = module  # same name, same place

    def __delitem__(self, idx):
        keys = list(self._modules)
        drop = keys[idx] if isinstance(idx, slice) else [keys[_index(idx, len(keys), "Sequential")]]
        for key in drop:
            del self._modules[key]
        # renumber so that names stay '0', '1', ... (as PyTorch does)
        items = list(self._modules.values())
        if all(k.isdigit() for k in keys):
            self._modules.clear()
            for i, m in enumerate(items):
                self._modules[str(i)] = m

    def forward(self, input: Tensor) -> Tensor:
        for module in self._modules.values():
            input = module(input)
        return input


class ModuleList(_ModuleSequence):
    """A list of modules whose parameters are registered (a plain Python list would hide them)."""

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(list(self._modules.values())[idx])
        return self._modules[str(_index(idx, len(self), "ModuleList"))]

    def __setitem__(self, idx, module):
        if not isinstance(module, Module):
            raise TypeError(f"ModuleList: {type(module).__name__} is not a Module subclass")
        self._modules[str(_index(idx, len(self), "ModuleList"))] = module

    def insert(self, index, module):
        """Insert ``module`` before position ``index``."""
        items = list(self._modules.values())
        items.insert(index, module)
        self._modules.clear()
        for i, m in enumerate(items):
            self.add_module(str(i), m)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("ModuleList is a container, it has no forward(); iterate over it instead")
