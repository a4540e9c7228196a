"""minigrad.save / minigrad.load: round trips, file format, corruption, atomicity."""

import collections
import json
import math
import os
import tempfile
import zipfile

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from minigrad import serialization
from minigrad.serialization import SerializationError


def assert_same(a, b, where="obj"):
    """Deep equality that also checks types, dtypes, devices and requires_grad."""
    assert type(a) is type(b), f"{where}: {type(a).__name__} vs {type(b).__name__}"
    if isinstance(a, mg.Tensor):
        assert a.requires_grad == b.requires_grad and a.device == b.device, where
        assert a.dtype == b.dtype and a.shape == b.shape, where
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=where)
    elif isinstance(a, np.ndarray) or type(a).__module__.startswith("cupy"):
        assert a.dtype == b.dtype and a.shape == b.shape, where
        np.testing.assert_array_equal(mg.backend.as_numpy(a), mg.backend.as_numpy(b), err_msg=where)
    elif isinstance(a, np.generic):
        assert a.dtype == b.dtype and (a == b or (np.isnan(a) and np.isnan(b))), where
    elif isinstance(a, dict):
        assert list(a) == list(b), where
        for k in a:
            assert_same(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b), where
    else:
        assert a == b, where
        if isinstance(a, float):
            assert math.copysign(1, a) == math.copysign(1, b), where


def nested_example(device):
    rng = np.random.default_rng(0)
    xp = mg.backend.xp_for(device)
    return {
        "w": mg.tensor(rng.normal(size=(3, 4)).astype(np.float32), device=device, requires_grad=True),
        "b": mg.tensor(rng.normal(size=(4,)), dtype=mg.float64, device=device),
        "arrays": [
            xp.asarray(rng.integers(-5, 5, size=(2, 3)).astype(np.int64)),
            xp.asarray(rng.normal(size=(2,)).astype(np.float32)),
            xp.asarray(np.array([True, False])),
            xp.asarray(np.zeros((0, 3), np.float64)),
            xp.asarray(np.float32(2.5).reshape(())),
        ],
        "scalars": (1, -(2**70), 0.1, -0.0, float("inf"), float("nan"), True, False, None),
        "strings": ["", 'héllo\n"quoted" ✓', "\ud800"],
        "numpy_scalars": [np.float32(1.5), np.int64(-3), np.bool_(True), np.float64("nan")],
        "state": {0: {"step": 3, "buf": mg.zeros(2, device=device)}, 10: {}, -1: []},
        "nested": ((), [[], {}], ({"x": (1, (2, [3]))},)),
        "ordered": collections.OrderedDict([("z", 1), ("a", 2)]),
    }


def test_round_trip_nested_structure(device, tmp_path):
    obj = nested_example(device)
    path = tmp_path / "ckpt.npz"
    mg.save(obj, path)
    assert_same(mg.load(path), obj)


def test_map_location_cpu(device, tmp_path):
    obj = nested_example(device)
    mg.save(obj, tmp_path / "ckpt")
    out = mg.load(tmp_path / "ckpt", map_location="cpu")
    assert out["w"].device == "cpu" and out["w"].requires_grad
    assert isinstance(out["arrays"][0], np.ndarray)
    np.testing.assert_array_equal(out["w"].numpy(), obj["w"].numpy())
    assert_same(mg.load(tmp_path / "ckpt", map_location="cpu"), nested_example("cpu"))


@pytest.mark.cuda
@pytest.mark.skipif(not mg.cuda.is_available(), reason="CUDA not available")
def test_map_location_cuda_moves_cpu_checkpoint(tmp_path):
    mg.save({"w": mg.ones(3, requires_grad=True)}, tmp_path / "c")
    out = mg.load(tmp_path / "c", map_location="cuda")
    assert out["w"].device == "cuda" and out["w"].requires_grad


def test_file_is_a_plain_npz_without_pickles(tmp_path):
    path = tmp_path / "model.ckpt"  # the name is used as given: no .npz appended
    mg.save({"w": mg.ones(2, 3), "n": 5}, path)
    assert os.listdir(tmp_path) == ["model.ckpt"]
    with np.load(path, allow_pickle=False) as npz:
        assert serialization.INDEX_KEY in npz.files
        index = json.loads(npz[serialization.INDEX_KEY].tobytes())
        assert index["format"] == serialization.FORMAT and index["version"] == serialization.VERSION
        arrays = [npz[name] for name in npz.files if name != serialization.INDEX_KEY]
    assert len(arrays) == 1
    np.testing.assert_array_equal(arrays[0], np.ones((2, 3), np.float32))


def test_tensor_subclass_and_detached_views_are_saved_as_tensors(tmp_path):
    big = mg.randn(4, 5)
    mg.save({"view": big.detach()[1:3]}, tmp_path / "v")
    out = mg.load(tmp_path / "v")["view"]
    np.testing.assert_array_equal(out.numpy(), big.numpy()[1:3])


def test_optimizer_state_dict_round_trip(tmp_path):
    p = mg.randn(3, 2, requires_grad=True)
    opt = mg.optim.Adam([p], lr=0.01, betas=(0.5, 0.9), amsgrad=True)
    (p * p).sum().backward()
    opt.step()
    sd = opt.state_dict()
    mg.save(sd, tmp_path / "opt")
    out = mg.load(tmp_path / "opt")
    assert_same(out, sd)
    assert out["param_groups"][0]["betas"] == (0.5, 0.9) and list(out["state"]) == [0]


def test_module_and_optimizer_checkpoint_resumes_training_exactly(tmp_path):
    nn = pytest.importorskip("minigrad.nn")

    def make():
        mg.manual_seed(3)
        model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.LeakyReLU(0.2), nn.Linear(8, 1))
        return model, mg.optim.Adam(model.parameters(), lr=0.01, betas=(0.5, 0.999))

    x = mg.tensor(np.random.default_rng(1).normal(size=(16, 4)).astype(np.float32))
    y = mg.tensor(np.random.default_rng(2).normal(size=(16, 1)).astype(np.float32))

    def train(model, opt, steps):
        for _ in range(steps):
            opt.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            opt.step()

    model, opt = make()
    train(model, opt, 4)
    expected = {k: v.numpy().copy() for k, v in model.state_dict().items()}

    model, opt = make()
    train(model, opt, 2)
    mg.save({"model": model.state_dict(), "optim": opt.state_dict(), "epoch": 2}, tmp_path / "ckpt")
    checkpoint = mg.load(tmp_path / "ckpt")
    assert type(checkpoint["model"]) is type(model.state_dict())  # OrderedDict comes back as one
    model, opt = make()  # fresh objects, different state
    model.load_state_dict(checkpoint["model"])
    opt.load_state_dict(checkpoint["optim"])
    train(model, opt, 2)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), expected[key], err_msg=key)


# --- hypothesis: arbitrary nesting ------------------------------------------------------------

leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=5),
    st.builds(lambda n: np.arange(n, dtype=np.float32), st.integers(0, 4)),
    st.builds(lambda v: mg.tensor([v], dtype=mg.float64, requires_grad=True), st.floats(-1e3, 1e3, allow_nan=False)),
)
structures = st.recursive(
    leaves,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.lists(children, max_size=3).map(tuple),
        st.dictionaries(st.one_of(st.text(max_size=3), st.integers(-5, 5)), children, max_size=3),
    ),
    max_leaves=10,
)


@given(structures)
def test_round_trip_random_structures(obj):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "x")
        mg.save(obj, path)
        assert_same(mg.load(path), obj)


# --- bad inputs to save --------------------------------------------------------------------


def test_unsupported_objects_raise_type_error_naming_the_key_path(tmp_path):
    with pytest.raises(TypeError, match=r"type set at obj\['a'\]\[1\]\[0\]"):
        mg.save({"a": [1, ({1, 2},)]}, tmp_path / "x")
    with pytest.raises(TypeError, match=r"dict key \(1, 2\).*obj\['s'\]"):
        mg.save({"s": {(1, 2): 3}}, tmp_path / "x")
    with pytest.raises(TypeError, match=r"obj\[0\].*dtype object"):
        mg.save([np.array([None, 1], dtype=object)], tmp_path / "x")
    cycle = []
    cycle.append(cycle)
    with pytest.raises(ValueError, match="circular"):
        mg.save(cycle, tmp_path / "x")
    with pytest.raises(TypeError, match="file path"):
        mg.save(1, 42)
    assert os.listdir(tmp_path) == []


def test_failed_save_keeps_the_old_file_and_leaves_no_temp_files(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    mg.save({"w": mg.ones(3)}, path)
    before = path.read_bytes()
    with pytest.raises(TypeError, match=r"obj\['oops'\]"):
        mg.save({"w": mg.zeros(3), "oops": object()}, path)
    assert path.read_bytes() == before

    def savez_that_dies(f, **arrays):  # a crash halfway through writing
        f.write(b"PK\x03\x04 partial")
        raise OSError("disk full")

    monkeypatch.setattr(serialization.np, "savez", savez_that_dies)
    with pytest.raises(OSError, match="disk full"):
        mg.save({"w": mg.zeros(3)}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.npz"]
    monkeypatch.undo()
    np.testing.assert_array_equal(mg.load(path)["w"].numpy(), np.ones(3, np.float32))


def test_save_into_a_missing_folder_names_that_folder(tmp_path):
    path = tmp_path / "missing" / "ckpt.npz"
    with pytest.raises(FileNotFoundError) as e:
        mg.save({"w": mg.ones(3)}, path)
    msg = str(e.value)
    assert f"the folder {tmp_path / 'missing'} does not exist" in msg and str(path) in msg
    assert ".tmp" not in msg


def test_save_on_a_full_disk_names_the_file_and_leaves_nothing(tmp_path, monkeypatch):
    import errno

    path = tmp_path / "ckpt.npz"

    def savez_on_a_full_disk(f, **arrays):
        f.write(b"PK\x03\x04 partial")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(serialization.np, "savez", savez_on_a_full_disk)
    with pytest.raises(OSError) as e:
        mg.save({"w": mg.zeros(3)}, path)
    assert e.value.errno == errno.ENOSPC and f"cannot write {path}" in str(e.value) and ".tmp" not in str(e.value)
    assert os.listdir(tmp_path) == []


def test_save_overwrites_atomically_and_keeps_umask_permissions(tmp_path):
    path = tmp_path / "c"
    mg.save([1], path)
    mg.save([2], path)
    assert mg.load(path) == [2] and os.listdir(tmp_path) == ["c"]
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


# --- bad files to load -----------------------------------------------------------------------


@pytest.fixture
def good_file(tmp_path):
    path = tmp_path / "good.npz"
    mg.save({"w": mg.randn(50, 40), "b": np.arange(300.0), "k": "v"}, path)
    return path


@pytest.mark.parametrize("keep", [0.1, 0.5, 0.9, 0.99])
def test_truncated_file_raises_naming_the_path(good_file, keep):
    data = good_file.read_bytes()
    good_file.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(SerializationError, match="good.npz"):
        mg.load(good_file)


def test_unsupported_compression_method_raises_serialization_error(good_file):
    """zipfile says NotImplementedError (a RuntimeError) for an unknown method: still a damaged file."""
    data = bytearray(good_file.read_bytes())
    central = data.index(b"PK\x01\x02")  # the first member's central directory entry
    data[central + 10 : central + 12] = (99).to_bytes(2, "little")
    good_file.write_bytes(bytes(data))
    with pytest.raises(SerializationError, match="good.npz.*corrupted"):
        mg.load(good_file)


def test_corrupted_array_bytes_raise(good_file):
    data = bytearray(good_file.read_bytes())
    start = data.index(b"\x93NUMPY")  # the first member's .npy header
    data[start : start + 6] = b"garbag"
    good_file.write_bytes(bytes(data))
    with pytest.raises(SerializationError, match="good.npz"):
        mg.load(good_file)


@pytest.mark.parametrize("content", [b"", b"\x00" * 3, np.random.default_rng(0).bytes(4096), b"\x80\x04\x95 a pickle"])
def test_foreign_file_raises(tmp_path, content):
    path = tmp_path / "foreign.bin"
    path.write_bytes(content)
    with pytest.raises(SerializationError, match="foreign.bin.*not a minigrad checkpoint"):
        mg.load(path)


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        mg.load(tmp_path / "nope.npz")


def write_npz(path, index=None, **arrays):
    if index is not None:
        raw = index if isinstance(index, bytes) else json.dumps(index).encode()
        arrays[serialization.INDEX_KEY] = np.frombuffer(raw, dtype=np.uint8)
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def tensor_index(**overrides):
    node = {"type": "tensor", "array": "a0", "dtype": "<f4", "shape": [2], "device": "cpu", "requires_grad": False}
    node.update(overrides)
    return {"format": serialization.FORMAT, "version": 1, "root": node}


@pytest.mark.parametrize(
    "index,arrays,match",
    [
        (None, {"a0": np.zeros(2, np.float32)}, "no __minigrad_index__"),
        (b"{not json", {}, "corrupted index"),
        ({"format": "something-else", "version": 1, "root": {}}, {}, "wrong format marker"),
        ({"format": serialization.FORMAT, "version": 99, "root": {"type": "none"}}, {}, "version 99"),
        (tensor_index(), {}, "array 'a0' is missing"),
        (tensor_index(shape=[3]), {"a0": np.zeros(2, np.float32)}, "index says"),
        (tensor_index(dtype="<f8"), {"a0": np.zeros(2, np.float32)}, "index says"),
        ({"format": serialization.FORMAT, "version": 1, "root": {"type": "mystery"}}, {}, "unknown node type"),
        ({"format": serialization.FORMAT, "version": 1, "root": {"type": "int", "value": "3"}}, {}, "int node"),
        (
            {
                "format": serialization.FORMAT,
                "version": 1,
                "root": {"type": "dict", "keys": [["float", 1.5]], "values": [{"type": "none"}]},
            },
            {},
            "bad dict key",
        ),
    ],
)
def test_malformed_npz_raises(tmp_path, index, arrays, match):
    path = tmp_path / "bad.npz"
    write_npz(path, index, **arrays)
    with pytest.raises(SerializationError, match=f"bad.npz.*{match}"):
        mg.load(path)


@pytest.mark.parametrize(
    "kind, array, match",
    [
        ("tensor", np.array(["ab", "cd"]), r"tensor of dtype <U2.*bool, integer or floating point"),
        ("tensor", np.array([1 + 2j, 3j]), r"tensor of dtype <c16.*bool, integer or floating point"),
        ("tensor", np.array([b"ab", b"cd"]), r"tensor of dtype \|S2"),
        ("tensor", np.array([1, None], dtype=object), r"dtype \|O.*pickl"),
        ("ndarray", np.array([1, None], dtype=object), r"dtype \|O.*pickl"),
        ("scalar", np.array(None, dtype=object), r"dtype \|O.*pickl"),
    ],
)
def test_a_dtype_a_tensor_cannot_hold_is_refused_naming_it(tmp_path, kind, array, match):
    """The index is what a hostile file controls: a tensor loads only as bool, integer or float (as ``tensor``
    accepts), and nothing declared as an object array is read (it could only be unpickled)."""
    path = tmp_path / "bad.npz"
    write_npz(path, tensor_index(type=kind, dtype=array.dtype.str, shape=list(array.shape)), a0=array)
    with pytest.raises(SerializationError, match=f"bad.npz.*{match}"):
        mg.load(path)


def test_numeric_and_bool_tensors_still_load(tmp_path):
    for dtype in ("<f2", "<f4", "<f8", "|b1", "|u1", "<i4", "<i8"):
        array = np.arange(2).astype(dtype)
        path = tmp_path / "ok.npz"
        write_npz(path, tensor_index(dtype=dtype), a0=array)
        t = mg.load(path)
        assert t.dtype == np.dtype(dtype) and t.numpy().tolist() == array.tolist()


def test_plain_zip_is_rejected(tmp_path):
    path = tmp_path / "archive.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("readme.txt", "hello")
    with pytest.raises(SerializationError, match="archive.zip"):
        mg.load(path)


@pytest.mark.skipif(mg.cuda.is_available(), reason="checks the error raised when CUDA is missing")
def test_cuda_checkpoint_without_cuda_suggests_map_location(tmp_path):
    path = tmp_path / "gpu.npz"
    write_npz(path, tensor_index(device="cuda", requires_grad=True), a0=np.arange(2, dtype=np.float32))
    with pytest.raises(RuntimeError, match="map_location='cpu'"):
        mg.load(path)
    out = mg.load(path, map_location="cpu")
    assert out.device == "cpu" and out.requires_grad
    np.testing.assert_array_equal(out.numpy(), [0.0, 1.0])
    with pytest.raises(ValueError, match="unknown device"):
        mg.load(path, map_location="tpu")


@pytest.mark.skipif(mg.cuda.is_available(), reason="checks the error raised when CUDA is missing")
def test_map_location_cuda_without_cuda_names_the_argument(good_file):
    with pytest.raises(RuntimeError, match="map_location='cuda' was given .*good.npz"):
        mg.load(good_file, map_location="cuda")
