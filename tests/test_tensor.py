"""The Tensor API: constructors, attributes, conversions, dtype rules, repr."""

import numpy as np
import pytest

import minigrad as mg

# --- constructors ------------------------------------------------------------------------------


def test_tensor_from_python_data_default_dtypes(device):
    assert mg.tensor([1.0, 2.0], device=device).dtype == np.float32  # floats -> float32, not float64
    assert mg.tensor(3.0, device=device).dtype == np.float32
    assert mg.tensor([[1, 2]], device=device).dtype == np.int64
    assert mg.tensor([True, False], device=device).dtype == np.bool_
    assert mg.tensor([1, 2.5], device=device).dtype == np.float32
    assert mg.tensor([1.0], dtype=mg.float64, device=device).dtype == np.float64


@pytest.mark.parametrize(
    "data,what",
    [
        ("abc", "strings"),
        (["a", "b"], "strings"),
        (np.array([b"x"]), "bytes"),
        (object(), "Python objects"),
        ([1, None], "Python objects"),
        (1 + 2j, "complex numbers"),
        (np.ones(2, np.complex64), "complex numbers"),
    ],
)
def test_tensor_refuses_non_numbers(data, what):
    with pytest.raises(TypeError, match=f"tensor: cannot make a tensor of {what}"):
        mg.tensor(data)
    with pytest.raises(TypeError, match=what):
        mg.as_tensor(data)


def test_tensor_from_numpy_keeps_dtype_and_copies(device):
    a = np.array([1.0, 2.0])  # float64
    t = mg.tensor(a, device=device)
    assert t.dtype == np.float64
    a[0] = 99.0
    assert t.numpy()[0] == 1.0  # tensor() copies
    assert mg.tensor(a.astype(np.float32), device=device).dtype == np.float32


def test_tensor_values_and_shape(device):
    t = mg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], device=device)
    assert t.shape == (2, 3) and t.ndim == 2
    np.testing.assert_array_equal(t.numpy(), [[1, 2, 3], [4, 5, 6]])
    assert t.device == device


@pytest.mark.parametrize("make, value", [(mg.zeros, 0.0), (mg.ones, 1.0)])
def test_zeros_ones(device, make, value):
    for t in (make(2, 3, device=device), make((2, 3), device=device)):
        assert t.shape == (2, 3) and t.dtype == np.float32 and t.device == device
        np.testing.assert_array_equal(t.numpy(), np.full((2, 3), value))
    assert make(2, dtype=mg.float64, device=device).dtype == np.float64
    assert make(2, device=device, requires_grad=True).requires_grad


def test_full(device):
    t = mg.full((2, 2), 1.5, device=device)
    assert t.dtype == np.float32
    np.testing.assert_array_equal(t.numpy(), np.full((2, 2), 1.5))
    assert mg.full((3,), 7, device=device).dtype == np.int64
    assert mg.full(3, 2.0, dtype=mg.float64, device=device).shape == (3,)


def test_arange(device):
    np.testing.assert_array_equal(mg.arange(5, device=device).numpy(), np.arange(5))
    assert mg.arange(5, device=device).dtype == np.int64
    t = mg.arange(0.0, 1.0, 0.25, device=device)
    assert t.dtype == np.float32
    np.testing.assert_array_equal(t.numpy(), [0.0, 0.25, 0.5, 0.75])
    np.testing.assert_array_equal(mg.arange(2, 8, 3, device=device).numpy(), [2, 5])


@pytest.mark.parametrize("make", [mg.randn, mg.rand])
def test_random_constructors(device, make):
    t = make(200, 3, device=device)
    assert t.shape == (200, 3) and t.dtype == np.float32 and t.device == device
    assert make(2, dtype=mg.float64, device=device).dtype == np.float64
    a = t.numpy()
    if make is mg.rand:
        assert a.min() >= 0.0 and a.max() < 1.0
        assert abs(a.mean() - 0.5) < 0.1
    else:
        assert abs(a.mean()) < 0.2 and abs(a.std() - 1.0) < 0.2


@pytest.mark.parametrize("make", [mg.randn, mg.rand])
def test_manual_seed_reproducible(device, make):
    mg.manual_seed(123)
    a = make(4, 3, device=device).numpy()
    b = make(4, 3, device=device).numpy()
    mg.manual_seed(123)
    np.testing.assert_array_equal(make(4, 3, device=device).numpy(), a)
    np.testing.assert_array_equal(make(4, 3, device=device).numpy(), b)
    assert not np.array_equal(a, b)  # the stream moves on
    mg.manual_seed(124)
    assert not np.array_equal(make(4, 3, device=device).numpy(), a)


def test_like_constructors(device):
    x = mg.randn(2, 3, dtype=mg.float64, device=device)
    for make, value in ((mg.zeros_like, 0.0), (mg.ones_like, 1.0)):
        t = make(x)
        assert t.shape == x.shape and t.dtype == np.float64 and t.device == device
        np.testing.assert_array_equal(t.numpy(), np.full((2, 3), value))
        assert make(x, dtype=mg.float32).dtype == np.float32
    assert not mg.zeros_like(x).requires_grad


# --- attributes and conversions ----------------------------------------------------------------


def test_attributes(device):
    t = mg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], device=device)
    assert t.size() == (2, 3) and t.size(1) == 3
    assert t.numel() == 6 and t.ndim == 2
    assert t.dtype == mg.float32
    assert t.device == device
    assert t.grad is None and t.grad_fn is None and not t.requires_grad and t.is_leaf
    assert isinstance(t.numpy(), np.ndarray)
    data_type = np.ndarray if device == "cpu" else mg.backend.cupy_module().ndarray
    assert isinstance(t.data, data_type)


def test_item(device):
    assert mg.tensor(2.5, device=device).item() == 2.5
    assert isinstance(mg.tensor([[3.0]], device=device).item(), float)
    assert mg.tensor([7], device=device).item() == 7
    with pytest.raises(ValueError, match="item"):
        mg.ones(2, device=device).item()


def test_detach_shares_data_but_not_graph(device):
    x = mg.ones(3, device=device, requires_grad=True)
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.grad_fn is None
    np.testing.assert_array_equal(d.numpy(), [2.0, 2.0, 2.0])
    assert (d * 3).grad_fn is None


def test_to_dtype_and_device(device):
    x = mg.tensor([1.5, 2.5], device=device)
    y = x.to(mg.float64)
    assert y.dtype == np.float64 and y.device == device
    assert x.to(dtype=mg.float64).dtype == np.float64
    assert x.double().dtype == np.float64 and y.float().dtype == np.float32
    assert x.to(device) is x  # nothing to do
    c = x.cpu()
    assert c.device == "cpu" and isinstance(c.data, np.ndarray)
    np.testing.assert_array_equal(c.numpy(), [1.5, 2.5])


def test_to_keeps_the_graph(device):
    x = mg.tensor([1.0, 2.0], device=device, requires_grad=True)
    (x.to(mg.float64) * 3).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])


@pytest.mark.skipif(not mg.cuda.is_available(), reason="needs a GPU")
def test_cuda_round_trip():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    g = x.to("cuda")
    assert g.device == "cuda" and g.dtype == np.float32
    (g * g).sum().backward()
    assert x.grad.device == "cpu"
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])
    assert g.cpu().device == "cpu"


def test_requires_grad_and_zero_(device):
    x = mg.tensor([1.0, 2.0], device=device)
    assert x.requires_grad_() is x and x.requires_grad
    x.requires_grad_(False)
    assert not x.requires_grad
    assert x.zero_() is x
    np.testing.assert_array_equal(x.numpy(), [0.0, 0.0])


@pytest.mark.parametrize("dtype", [mg.int64, mg.int32, mg.bool_, mg.uint8])
def test_integer_and_bool_tensors_cannot_require_grad(device, dtype):
    with pytest.raises(TypeError, match="floating point") as e:
        mg.tensor([1, 0], dtype=dtype, device=device, requires_grad=True)
    assert str(np.dtype(dtype)) in str(e.value)
    with pytest.raises(TypeError, match="floating point"):
        mg.tensor([1, 0], dtype=dtype, device=device).requires_grad_()
    with pytest.raises(TypeError, match="floating point"):
        mg.zeros(2, dtype=dtype, device=device, requires_grad=True)


def test_comparisons_give_bool_tensors_without_grad(device):
    x = mg.tensor([1.0, 2.0, 3.0], device=device, requires_grad=True)
    m = x > 1.5
    assert m.dtype == np.bool_ and not m.requires_grad and m.grad_fn is None
    np.testing.assert_array_equal(m.numpy(), [False, True, True])
    np.testing.assert_array_equal((x == 2.0).numpy(), [False, True, False])


# --- repr --------------------------------------------------------------------------------------


def test_repr_shows_data_dtype_and_grad_fn(device):
    x = mg.tensor([1.0, 2.0], device=device, requires_grad=True)
    r = repr(x)
    assert r.startswith("tensor(") and "1." in r and "2." in r and "float32" in r
    assert "requires_grad=True" in r
    y = x * 2
    assert "grad_fn=<MulBackward>" in repr(y)
    assert "float64" in repr(mg.zeros(1, dtype=mg.float64, device=device))
    assert ("device='cuda'" in r) == (device == "cuda")  # the device is shown only when not cpu


def test_manual_update_with_inplace_operators_changes_the_parameter(device):
    """`with no_grad(): p -= lr * p.grad` must update p itself (not rebind the name to a new tensor)."""
    lin = mg.nn.Linear(3, 2).to(device)
    w0 = lin.weight.numpy().copy()
    lin(mg.randn(4, 3, device=device)).sum().backward()
    g = lin.weight.grad.numpy()
    with mg.no_grad():
        for p in lin.parameters():
            p -= 0.1 * p.grad
    np.testing.assert_allclose(lin.weight.numpy(), w0 - 0.1 * g, rtol=1e-6)
    assert lin.weight.dtype == mg.float32 and lin.weight.is_leaf


def test_inplace_arithmetic_matches_numpy_and_returns_self(device):
    a = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=np.float32)
    b = np.array([0.5, -1.0, 2.0], dtype=np.float32)
    t = mg.tensor(a, device=device)
    ref = a.copy()
    for op, np_op in (
        ("__iadd__", np.add),
        ("__isub__", np.subtract),
        ("__imul__", np.multiply),
        ("__itruediv__", np.true_divide),
    ):
        assert getattr(t, op)(mg.tensor(b, device=device)) is t
        ref = np_op(ref, b)
        np.testing.assert_allclose(t.numpy(), ref, rtol=1e-6)
    assert t.add_(mg.tensor(b, device=device), alpha=2) is t and t.sub_(1.0, alpha=0.5) is t
    np.testing.assert_allclose(t.numpy(), ref + 2 * b - 0.5, rtol=1e-6)
    assert t.mul_(2.0).div_(4.0) is t
    np.testing.assert_allclose(t.numpy(), (ref + 2 * b - 0.5) / 2, rtol=1e-6)
    assert t.dtype == mg.float32


def test_inplace_arithmetic_refuses_what_pytorch_refuses(device):
    p = mg.ones(2, 3, requires_grad=True, device=device)
    with pytest.raises(RuntimeError, match=r"-=: in-place operation on a tensor that requires grad.*no_grad"):
        p -= 1.0
    for name, write in (
        ("zero_", lambda: p.zero_()),
        ("fill_", lambda: p.fill_(2.0)),
        ("copy_", lambda: p.copy_(mg.zeros(2, 3))),
        ("__setitem__", lambda: p.__setitem__(0, 1.0)),
    ):
        with pytest.raises(RuntimeError, match=f"{name}: in-place operation"):
            write()
    with mg.no_grad():
        p.fill_(2.0)  # the allowed spelling
    np.testing.assert_array_equal(p.numpy(), np.full((2, 3), 2.0))
    t = mg.ones(2, 3, device=device)
    with pytest.raises(ValueError, match=r"\+=: cannot update a tensor of shape \(2, 3\).*\(4, 2, 3\)"):
        t += mg.ones(4, 2, 3, device=device)  # would grow t
    with pytest.raises(TypeError, match=r"add_: cannot update .*dtype int64"):
        mg.tensor([1, 2], device=device).add_(0.5)  # a float result cannot go into ints
    np.testing.assert_array_equal(t.numpy(), np.ones((2, 3)))


def test_clone_is_a_copy_in_the_graph_and_contiguous_copies_only_when_needed(device):
    x = mg.tensor([1.0, -2.0, 3.0], requires_grad=True, device=device)
    y = x.clone()
    assert y.data is not x.data and y.grad_fn is not None
    (y * y).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, -4.0, 6.0])
    m = mg.randn(3, 4, device=device)
    assert m.contiguous() is m
    mt = m.T.contiguous()
    assert mt.data.flags.c_contiguous and mt.shape == (4, 3)
    np.testing.assert_array_equal(mt.numpy(), m.numpy().T)


def test_long_and_int_casts(device):
    t = mg.tensor([1.7, -2.2], device=device)
    assert t.long().dtype == mg.int64 and t.int().dtype == np.int32
    np.testing.assert_array_equal(t.long().numpy(), [1, -2])


def test_register_hook_returns_a_removable_handle(device):
    x = mg.tensor([1.0, 2.0], requires_grad=True, device=device)
    handle = x.register_hook(lambda g: g * 0)
    handle.remove()
    handle.remove()  # twice is harmless
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])


def test_pytorch_keyword_spellings(device):
    """What a PyTorch user types by keyword: size=, gradient=, dim0/dim1=, dims=, shape=, input=,
    randint(high, size)."""
    F = mg.nn.functional
    assert mg.zeros(size=(2, 3), device=device).shape == (2, 3) and mg.randn(size=4, device=device).shape == (4,)
    with pytest.raises(TypeError, match="both a shape"):
        mg.ones(2, size=(2,))
    x = mg.tensor([[1.0, -2.0, 3.0], [4.0, 5.0, -6.0]], requires_grad=True, device=device)
    np.testing.assert_array_equal(x.transpose(dim0=0, dim1=1).numpy(), x.numpy().T)
    np.testing.assert_array_equal(x.permute(dims=(1, 0)).numpy(), x.numpy().T)
    assert x.reshape(shape=(3, 2)).shape == (3, 2) and x.view(size=(6,)).shape == (6,)
    np.testing.assert_array_equal(F.relu(input=x).numpy(), np.maximum(x.numpy(), 0))
    np.testing.assert_allclose(F.softmax(input=x, dim=1).numpy().sum(axis=1), [1.0, 1.0], rtol=1e-6)
    x.backward(gradient=mg.full((2, 3), 2.0, device=device))
    np.testing.assert_array_equal(x.grad.numpy(), np.full((2, 3), 2.0))
    r = mg.randint(3, (1000,), device=device).numpy()
    assert r.dtype == np.int64 and set(np.unique(r)) == {0, 1, 2}
    r = mg.randint(5, 7, size=(1000,), device=device).numpy()
    assert set(np.unique(r)) == {5, 6}


def test_tensor_class_on_python_floats_gives_the_default_dtype():
    """mg.Tensor([1., 2.]) is float32 like torch.Tensor; arrays keep their dtype; Python ints stay int64."""
    assert mg.Tensor([1.0, 2.0]).dtype == mg.float32 and mg.Tensor(2.5).dtype == mg.float32
    assert mg.Tensor(np.array([1.0, 2.0])).dtype == mg.float64 and mg.Tensor([1, 2]).dtype == mg.int64
