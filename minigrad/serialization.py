"""``save`` / ``load``: checkpoints as plain ``.npz`` files, never pickles.

A checkpoint is a nested structure of dicts, lists and tuples whose leaves
are Tensors, NumPy/CuPy arrays, NumPy scalars, and Python ``int``, ``float``,
``bool``, ``None`` and ``str``. It is written with ``numpy.savez``: every
array is one member ``a0``, ``a1``, ... and the member ``__minigrad_index__``
(a uint8 array holding UTF-8 JSON) describes the structure::

    {"format": "minigrad-checkpoint", "version": 1,
     "root": {"type": "dict", "keys": [["str", "w"], ["int", 0]], "values": [...]}}

with leaf nodes such as ``{"type": "tensor", "array": "a0", "dtype": "float32",
"shape": [3, 4], "device": "cpu", "requires_grad": true}``. ``load`` reads it
with ``numpy.load(allow_pickle=False)``, so loading a file cannot run code.

Writes are atomic: the file is written next to the target under a temporary
name, flushed to disk, then renamed over the target, so a crash or an error
never leaves a half-written checkpoint (or destroys the previous one).
"""

from __future__ import annotations

import collections
import json
import os
from typing import Any, NoReturn

import numpy as np

from minigrad import backend
from minigrad.atomic_write import atomic_write
from minigrad.tensor import Tensor

FORMAT = "minigrad-checkpoint"
VERSION = 1
INDEX_KEY = "__minigrad_index__"


class _CudaUnavailable(RuntimeError):
    """The checkpoint (or map_location) wants CUDA and there is none: not a damaged file."""


class SerializationError(ValueError):
    """A file is not a readable minigrad checkpoint (foreign, truncated or corrupted)."""


# --- save ---------------------------------------------------------------------------


def save(obj: Any, path: str | os.PathLike[str]) -> None:
    """Write ``obj`` (nested dicts/lists/tuples of tensors, arrays, scalars) to ``path``.

    The file name is used as given (no ``.npz`` is appended). Dict keys must
    be ``str`` or ``int``. An unsupported object raises TypeError naming
    where it is, e.g. ``obj['state'][0]['buf']``, and leaves ``path`` untouched.
    """
    path = _fspath(path, "save")
    arrays: dict[str, Any] = {}
    root = _encode(obj, "obj", arrays, set())
    index = json.dumps({"format": FORMAT, "version": VERSION, "root": root}, allow_nan=True)
    members = {INDEX_KEY: np.frombuffer(index.encode("utf-8"), dtype=np.uint8)}
    members.update(arrays)
    _write_npz(path, members)


def _fspath(path, op):
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise TypeError(f"{op}: expected a file path (str or os.PathLike), got {type(path).__name__}")
    return os.fsdecode(os.fspath(path))


def _encode(obj, where, arrays, active):
    """The JSON node for ``obj``; arrays go into ``arrays`` under fresh names."""
    if obj is None:
        return {"type": "none"}
    if isinstance(obj, np.generic):  # a NumPy scalar (np.float64 subclasses float: check it first)
        node = _encode_array(np.asarray(obj), where, arrays)
        node["type"] = "scalar"
        return node
    if isinstance(obj, bool):  # before int: bool is a subclass of int
        return {"type": "bool", "value": obj}
    if isinstance(obj, int):
        return {"type": "int", "value": int(obj)}
    if isinstance(obj, float):
        return {"type": "float", "value": float(obj)}
    if isinstance(obj, str):
        return {"type": "str", "value": str(obj)}
    if isinstance(obj, Tensor):
        node = _encode_array(obj.data, where, arrays)
        node.update(type="tensor", requires_grad=bool(obj.requires_grad))
        return node
    if isinstance(obj, np.ndarray) or backend.device_of(obj) == "cuda":
        node = _encode_array(obj, where, arrays)
        node["type"] = "ndarray"
        return node
    if isinstance(obj, (dict, list, tuple)):
        if id(obj) in active:
            raise ValueError(f"save: {where} contains itself (a circular reference)")
        active.add(id(obj))
        try:
            if isinstance(obj, dict):
                keys: list[list[Any]] = []
                values = []
                for key, value in obj.items():
                    if isinstance(key, str):
                        keys.append(["str", key])
                    elif isinstance(key, int) and not isinstance(key, bool):
                        keys.append(["int", int(key)])
                    else:
                        raise TypeError(
                            f"save: dict key {key!r} of type {type(key).__name__} at {where} is "
                            f"not supported (keys must be str or int)"
                        )
                    values.append(_encode(value, f"{where}[{key!r}]", arrays, active))
                node = {"type": "dict", "keys": keys, "values": values}
                if isinstance(obj, collections.OrderedDict):
                    node["ordered"] = True
                return node
            items = [_encode(v, f"{where}[{i}]", arrays, active) for i, v in enumerate(obj)]
            return {"type": "tuple" if isinstance(obj, tuple) else "list", "items": items}
        finally:
            active.discard(id(obj))
    raise TypeError(
        f"save: cannot serialize an object of type {type(obj).__name__} at {where} (supported: "
        f"Tensor, numpy/cupy arrays, int, float, bool, None, str, and dicts/lists/tuples of them)"
    )


def _encode_array(arr, where, arrays):
    device = backend.device_of(arr)
    data = backend.as_numpy(arr)
    if data.dtype.hasobject:
        raise TypeError(f"save: the array at {where} has dtype {data.dtype}, which cannot be stored without pickling")
    name = f"a{len(arrays)}"
    arrays[name] = data
    return {"array": name, "dtype": data.dtype.str, "shape": list(data.shape), "device": device}


def _write_npz(path, members):
    """np.savez into ``path`` atomically (minigrad.atomic_write: a temporary file, fsync, rename)."""
    atomic_write(path, lambda f: np.savez(f, **members))


# --- load ---------------------------------------------------------------------------


def load(path: str | os.PathLike[str], map_location: str | None = None) -> Any:
    """Read a checkpoint written by ``save``.

    ``map_location``: None puts tensors and arrays back on the device they
    were saved from; ``'cpu'`` or ``'cuda'`` puts all of them there. Raises
    SerializationError (a ValueError) naming ``path`` when the file is not a
    valid checkpoint.
    """
    path = _fspath(path, "load")
    device = None if map_location is None else backend.normalize_device(map_location)
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic != b"PK\x03\x04":
        raise SerializationError(f"load: {path!r} is not a minigrad checkpoint (not an .npz/zip file)")
    try:
        with np.load(path, allow_pickle=False) as npz:
            if INDEX_KEY not in npz.files:
                raise SerializationError(
                    f"load: {path!r} is an .npz file but not a minigrad checkpoint (no {INDEX_KEY} entry)"
                )
            index = _read_index(npz[INDEX_KEY], path)
            decoder = _Decoder(npz, path, device)
            return decoder.decode(index["root"], "obj")
    except (SerializationError, _CudaUnavailable):
        raise
    except Exception as e:  # zipfile, zlib, numpy header, struct errors... all mean a damaged file
        raise SerializationError(f"load: {path!r} is truncated or corrupted ({type(e).__name__}: {e})") from e


def _read_index(raw, path):
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise SerializationError(f"load: {path!r} has a malformed index (dtype {raw.dtype}, shape {raw.shape})")
    try:
        index = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise SerializationError(f"load: {path!r} has a corrupted index ({e})") from e
    if not isinstance(index, dict) or index.get("format") != FORMAT or "root" not in index:
        raise SerializationError(f"load: {path!r} is not a minigrad checkpoint (wrong format marker)")
    version = index.get("version")
    if not isinstance(version, int) or version > VERSION or version < 1:
        raise SerializationError(
            f"load: {path!r} has format version {version!r}; this minigrad reads "
            f"versions 1..{VERSION} (written by a newer minigrad?)"
        )
    return index


class _Decoder:
    def __init__(self, npz, path, device):
        self.npz, self.path, self.device = npz, path, device

    def fail(self, where: str, msg: str) -> NoReturn:
        raise SerializationError(f"load: {self.path!r} is corrupted: {msg} at {where}")

    def decode(self, node, where):
        if not isinstance(node, dict):
            self.fail(where, f"index node is a {type(node).__name__}, expected an object")
        kind = node.get("type")
        if kind == "none":
            return None
        if kind in ("bool", "int", "float", "str"):
            value = node.get("value")
            expected: Any = {"bool": bool, "int": int, "float": (float, int), "str": str}[kind]
            if not isinstance(value, expected) or (kind == "int" and isinstance(value, bool)):
                self.fail(where, f"{kind} node holds {value!r}")
            return float(value) if kind == "float" else value
        if kind in ("tensor", "ndarray", "scalar"):
            return self.decode_array(node, kind, where)
        if kind == "dict":
            keys, values = node.get("keys"), node.get("values")
            if not isinstance(keys, list) or not isinstance(values, list) or len(keys) != len(values):
                self.fail(where, "dict node without matching keys and values")
            out: dict[Any, Any] = collections.OrderedDict() if node.get("ordered") else {}
            for key_node, value in zip(keys, values):
                key = self.decode_key(key_node, where)
                out[key] = self.decode(value, f"{where}[{key!r}]")
            return out
        if kind in ("list", "tuple"):
            items = node.get("items")
            if not isinstance(items, list):
                self.fail(where, f"{kind} node without items")
            out_items = [self.decode(v, f"{where}[{i}]") for i, v in enumerate(items)]
            return tuple(out_items) if kind == "tuple" else out_items
        self.fail(where, f"unknown node type {kind!r}")

    def decode_key(self, key_node, where):
        if (
            isinstance(key_node, list)
            and len(key_node) == 2
            and (
                (key_node[0] == "str" and isinstance(key_node[1], str))
                or (key_node[0] == "int" and isinstance(key_node[1], int) and not isinstance(key_node[1], bool))
            )
        ):
            return key_node[1]
        self.fail(where, f"bad dict key {key_node!r}")

    def check_dtype(self, declared, kind, where):
        """Refuse, before reading the array, a dtype no checkpoint holds: objects (only a pickle
        could hold them) anywhere, and for a tensor anything but bool, integers and floats."""
        try:
            dtype = np.dtype(declared)
        except (TypeError, ValueError):
            self.fail(where, f"the index declares an unknown dtype {declared!r}")
        if dtype.hasobject:
            self.fail(where, f"the index declares dtype {dtype.str}, Python objects that only unpickling could read")
        if kind == "tensor" and dtype.kind not in "biuf":
            self.fail(
                where, f"a tensor of dtype {dtype.str} (minigrad tensors hold bool, integer or floating point numbers)"
            )

    def decode_array(self, node, kind, where):
        name = node.get("array")
        if not isinstance(name, str) or name not in self.npz.files:
            self.fail(where, f"array {name!r} is missing")
        self.check_dtype(node.get("dtype"), kind, where)
        data = self.npz[name]
        if data.dtype.str != node.get("dtype") or list(data.shape) != node.get("shape"):
            self.fail(
                where,
                f"array {name} is {data.dtype.str}{list(data.shape)} but the index says "
                f"{node.get('dtype')}{node.get('shape')}",
            )
        if kind == "scalar":
            return data[()]
        device = self.device or node.get("device", "cpu")
        if device not in ("cpu", "cuda"):
            self.fail(where, f"unknown device {device!r}")
        if device == "cuda" and not backend.gpu_available():
            if self.device == "cuda":
                raise _CudaUnavailable(
                    f"load: map_location='cuda' was given for {self.path!r} but CUDA is not "
                    f"available; pass map_location='cpu' (or None)"
                )
            raise _CudaUnavailable(
                f"load: {self.path!r} holds data saved on 'cuda' ({where}) but CUDA is not "
                f"available; pass map_location='cpu' to load it on the CPU"
            )
        data = backend.to_device(data, device)
        if kind == "ndarray":
            return data
        requires_grad = node.get("requires_grad", False)
        if requires_grad and data.dtype.kind != "f":
            self.fail(where, f"tensor of dtype {data.dtype} marked requires_grad")
        return Tensor(data, requires_grad=bool(requires_grad))
