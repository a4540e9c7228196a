"""Module: the base class of every layer, with PyTorch's bookkeeping.

A Module owns three ordered registries, filled by plain attribute
assignment (``self.fc = Linear(...)``, ``self.w = Parameter(...)``) or by
``register_buffer``:

* ``_parameters``: trainable Parameters,
* ``_buffers``: state that is saved but not trained (BatchNorm's running
  statistics),
* ``_modules``: sub-modules.

Names nest with dots (``'0.weight'``, ``'bn.running_mean'``), which is the
key format of ``state_dict``.
"""

from __future__ import annotations

from collections import OrderedDict, namedtuple
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Literal, TypeVar

import numpy as np

from minigrad import backend, grad_mode
from minigrad.nn.parameter import Parameter
from minigrad.tensor import Tensor

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])

_M = TypeVar("_M", bound="Module")


def _addindent(text: str, spaces: int) -> str:
    """Indent every line but the first (for nested reprs)."""
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    pad = " " * spaces
    return lines[0] + "\n" + "\n".join(pad + line for line in lines[1:])


class Module:
    """Base class for layers and models: subclass it and write ``forward``."""

    training: bool

    def __init__(self) -> None:
        # object.__setattr__: our __setattr__ needs these dicts to exist
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The computation of the module; subclasses implement it (call the module, not forward, to run hooks)."""
        raise NotImplementedError(f"{type(self).__name__}: forward() is not implemented")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        d = self.__dict__
        if not (d.get("_forward_pre_hooks") or d.get("_forward_hooks")):
            return self.forward(*args, **kwargs)
        for hook in list(self._forward_pre_hooks.values()):
            new = hook(self, args)
            if new is not None:
                args = new if isinstance(new, tuple) else (new,)
        out = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            new = hook(self, args, out)
            if new is not None:
                out = new
        return out

    # --- hooks -------------------------------------------------------------------
    def register_forward_pre_hook(self, hook: Callable[..., Any], *, prepend: bool = False) -> RemovableHandle:
        """``hook(module, args) -> None or new args`` runs before every ``forward``, as in PyTorch.

        ``args`` is the tuple of positional arguments; a returned non-tuple is
        wrapped into a 1-tuple. Returns a handle whose ``remove()`` unregisters it.
        """
        return _add_hook(self._forward_pre_hooks, hook, prepend)

    def register_forward_hook(self, hook: Callable[..., Any], *, prepend: bool = False) -> RemovableHandle:
        """``hook(module, args, output) -> None or new output`` runs after every ``forward``, as in PyTorch.

        Returns a handle whose ``remove()`` unregisters it.
        """
        return _add_hook(self._forward_hooks, hook, prepend)

    # --- registration ----------------------------------------------------------
    def _check_init(self, what):
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot assign {what} before Module.__init__() call "
                f"(call super().__init__() first in {type(self).__name__}.__init__)"
            )

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add ``param`` as a parameter under ``name`` (None registers an empty slot)."""
        self._check_init("parameter")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign {type(param).__name__} object to parameter '{name}' "
                f"(minigrad.nn.Parameter or None required)"
            )
        _validate_name(name, self, "parameter")
        self._discard(name, self._parameters)
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Any, persistent: bool = True) -> None:
        """Register state that is not a parameter (saved in state_dict unless not persistent)."""
        self._check_init("buffer")
        _validate_name(name, self, "buffer")
        self._discard(name, self._buffers)
        if tensor is not None and not isinstance(tensor, Tensor):
            if not hasattr(tensor, "dtype"):
                raise TypeError(
                    f"cannot assign {type(tensor).__name__} object to buffer '{name}' (Tensor, array or None required)"
                )
            tensor = Tensor(tensor)
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent.discard(name)
        else:
            self._non_persistent.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Add ``module`` as a child under ``name`` (None registers an empty slot)."""
        self._check_init("module")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {type(module).__name__} is not a Module subclass")
        _validate_name(name, self, "module")
        self._discard(name, self._modules)
        self._modules[name] = module

    register_module = add_module

    def __setattr__(self, name: str, value: Any) -> None:
        params = self.__dict__.get("_parameters")
        if isinstance(value, Parameter):
            self._check_init("parameters")
            self._discard(name, self._parameters)
            self._parameters[name] = value
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} as parameter '{name}' "
                    f"(minigrad.nn.Parameter or None expected)"
                )
            params[name] = None
        elif isinstance(value, Module):
            self._check_init("module")
            self._discard(name, self._modules)
            self._modules[name] = value
        elif params is not None and name in self._modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} as child module '{name}' (Module or None expected)"
                )
            self._modules[name] = None
        elif params is not None and name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign {type(value).__name__} as buffer '{name}' (Tensor or None expected)")
            self._buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def _discard(self, name, keep):
        """Forget ``name`` everywhere but in ``keep`` (where it stays in place, keeping the order)."""
        self.__dict__.pop(name, None)
        for registry in (self._parameters, self._buffers, self._modules):
            if registry is not keep:
                registry.pop(name, None)
        if keep is not self._buffers:
            self._non_persistent.discard(name)

    def __getattr__(self, name: str) -> Any:
        # only called when normal lookup fails: look in the registries
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry in d and name in d[registry]:
                return d[registry][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for registry in (self._parameters, self._buffers, self._modules):
            if name in registry:
                del registry[name]
                self._non_persistent.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers) | set(self._modules))

    # --- traversal ---------------------------------------------------------------
    def named_modules(
        self, memo: set[int] | None = None, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """(name, module) for self and every descendant, depth first; self has name ''."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            sub = f"{prefix}.{name}" if prefix else name
            yield from module.named_modules(memo, sub, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        """This module and every submodule, depth first."""
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """(name, module) of each direct child."""
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator[Module]:
        """The direct children."""
        for _, m in self.named_children():
            yield m

    def _named_members(self, registry, prefix, recurse, remove_duplicate=True):
        seen = set()  # by id: Tensor.__eq__ is elementwise, so `in` on lists would be wrong
        mods = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [(prefix, self)]
        for mod_prefix, module in mods:
            for name, t in getattr(module, registry).items():
                if t is None or (remove_duplicate and id(t) in seen):
                    continue
                seen.add(id(t))
                yield (f"{mod_prefix}.{name}" if mod_prefix else name), t

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, Parameter) of every parameter, each once."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter (of submodules too when ``recurse``), each once."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Tensor]]:
        """(dotted name, Tensor) of every buffer (running statistics and the like)."""
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Every buffer (of submodules too when ``recurse``)."""
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def get_submodule(self, target: str) -> Module:
        """The sub-module at a dotted path, e.g. ``'net.0'``."""
        module = self
        for part in target.split(".") if target else []:
            sub = module._modules.get(part)
            if sub is None:
                raise AttributeError(f"{type(module).__name__} has no submodule '{part}' (path '{target}')")
            module = sub
        return module

    def num_parameters(self, trainable_only: bool = False) -> int:
        """Number of scalar parameters (only those with requires_grad if ``trainable_only``)."""
        return sum(int(p.data.size) for p in self.parameters() if p.requires_grad or not trainable_only)

    # --- modes and gradients --------------------------------------------------------
    def train(self: _M, mode: bool = True) -> _M:
        """Set training mode on self and every descendant (Dropout, BatchNorm behave differently)."""
        if not isinstance(mode, bool):
            raise ValueError(f"train: mode is expected to be a bool, got {type(mode).__name__}")
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self: _M) -> _M:
        """``train(False)``: dropout off, BatchNorm uses its running statistics."""
        return self.train(False)

    def requires_grad_(self: _M, requires_grad: bool = True) -> _M:
        """Set ``requires_grad`` on every parameter (e.g. to freeze a model)."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear gradients: drop them (default) or fill them with zeros in place."""
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                p.grad.grad_fn = None
                p.grad.data[...] = 0

    def apply(self: _M, fn: Callable[[Module], None]) -> _M:
        """Call ``fn(module)`` on every descendant and then self (e.g. custom init)."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # --- devices and dtypes ----------------------------------------------------------
    def _convert(self, fn):
        """Replace the array of every parameter, gradient and buffer by fn(array), in place.

        The Parameter objects stay the same, so optimizers that hold them keep working.
        """
        for module in self.modules():
            for t in list(module._parameters.values()) + list(module._buffers.values()):
                if t is None:
                    continue
                t.data = fn(t.data)
                if t.grad is not None:
                    t.grad.data = fn(t.grad.data)
        return self

    def to(self: _M, device: Any = None, dtype: Any = None) -> _M:
        """Move/cast parameters and buffers in place; ``to('cuda')``, ``to(minigrad.float64)``, or both.

        Only floating point tensors change dtype (``num_batches_tracked`` stays int64).
        """
        dev, dt = backend.to_arguments(device, dtype)
        if dev is not None:
            backend.xp_for(dev)  # clear error now if CUDA is missing
        if dt is not None and dt.kind != "f":
            raise TypeError(f"Module.to: only floating point dtypes are accepted, got {dt}")

        def convert(a):
            if dev is not None:
                a = backend.to_device(a, dev)
            if dt is not None and a.dtype.kind == "f" and a.dtype != dt:
                a = a.astype(dt)
            return a

        return self._convert(convert)

    def cpu(self: _M) -> _M:
        """Move every parameter and buffer to the CPU, in place."""
        return self.to("cpu")

    def cuda(self: _M) -> _M:
        """Move every parameter and buffer to the GPU, in place."""
        return self.to("cuda")

    def float(self: _M) -> _M:
        """Cast every floating parameter and buffer to float32, in place."""
        return self.to(dtype=np.float32)

    def double(self: _M) -> _M:
        """Cast every floating parameter and buffer to float64, in place."""
        return self.to(dtype=np.float64)

    # --- state dict -----------------------------------------------------------------
    def state_dict(
        self, destination: dict[str, Any] | None = None, prefix: str = "", keep_vars: bool = False
    ) -> dict[str, Any]:
        """Ordered name -> Tensor of every parameter and persistent buffer.

        The tensors are detached but share memory with the module (as in
        PyTorch): copy them if you need a snapshot that later training won't change.
        """
        out = OrderedDict() if destination is None else destination
        for mod_prefix, module in self.named_modules(prefix=prefix.rstrip("."), remove_duplicate=False):
            for name, t in module._parameters.items():
                if t is not None:
                    out[f"{mod_prefix}.{name}" if mod_prefix else name] = t if keep_vars else t.detach()
            for name, t in module._buffers.items():
                if t is not None and name not in module._non_persistent:
                    out[f"{mod_prefix}.{name}" if mod_prefix else name] = t if keep_vars else t.detach()
        return out

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy values from ``state_dict`` into this module's tensors (in place).

        Values may be Tensors or arrays (NumPy or CuPy); they are cast to each
        tensor's dtype and device. Missing and unexpected keys (with
        ``strict``) and shape mismatches (always) are reported together by name
        in one RuntimeError. Returns ``(missing_keys, unexpected_keys)``.
        """
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        mismatched = []
        for key, target in own.items():
            if key not in state_dict:
                continue
            src = state_dict[key]
            src_shape = tuple(src.shape) if hasattr(src, "shape") else tuple(np.shape(src))
            if src_shape != tuple(target.shape):
                mismatched.append(
                    f"size mismatch for {key}: copying a param with shape {src_shape} from checkpoint, "
                    f"the shape in current model is {tuple(target.shape)}."
                )
        errors = list(mismatched)
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected) + ".")
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + ".")
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t" + "\n\t".join(errors))
        with grad_mode.no_grad():  # a load is not part of any graph (copy_ refuses it in grad mode otherwise)
            for key, target in own.items():
                if key in state_dict:
                    target.copy_(state_dict[key])  # cast and moved; bumps the version, so older graphs are stale
        return IncompatibleKeys(missing, unexpected)

    # --- repr ---------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The text inside the parentheses of this module's repr (override in layers)."""
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): {_addindent(repr(m), 2)}" for name, m in self._modules.items()]
        lines = extra_lines + child_lines
        body = ""
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                body = extra_lines[0]
            else:
                body = "\n  " + "\n  ".join(lines) + "\n"
        return f"{self._get_name()}({body})"


class RemovableHandle:
    """What the register_*_hook methods return: ``remove()`` unregisters the hook (later calls do nothing);
    usable as a context manager that removes it on exit."""

    _next_id = 0

    def __init__(self, hooks: OrderedDict[int, Callable[..., Any]]) -> None:
        self._hooks = hooks
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self) -> None:
        """Unregister the hook (again: nothing happens)."""
        self._hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> Literal[False]:
        self.remove()
        return False


def _add_hook(hooks, hook, prepend):
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


def _validate_name(name, module, what):
    if not isinstance(name, str):
        raise TypeError(f"{what} name should be a string, got {type(name).__name__}")
    if name == "" or "." in name:
        raise KeyError(f"{what} name can't be empty or contain '.', got {name!r}")
    if name in module.__dict__:
        raise KeyError(f"attribute '{name}' already exists on {type(module).__name__}")
