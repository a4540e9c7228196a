"""minigrad.amp.autocast: per-op output dtypes against PyTorch's autocast op reference, nesting and disabled
regions, the parameter cast cache, backward dtypes, float16 values against NumPy, and nothing changed outside."""

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.amp import autocast, autocast_mode, is_autocast_enabled
from minigrad.autograd import Function
from minigrad.ops.conversion import ToCopy

# PyTorch's "Autocast Op Reference" (docs/source/amp.rst, CUDA op-specific behaviour), restricted to the ops
# minigrad has: the op's PyTorch name, how autocast treats it there, and the minigrad Functions that implement it.
PYTORCH_TABLE = {
    # "CUDA Ops that can autocast to float16"
    "matmul / mm / bmm / __matmul__": ("lower", ["MatMul"]),
    "linear": ("lower", ["Linear"]),
    "conv2d": ("lower", ["Conv2d"]),
    "conv_transpose2d": ("lower", ["ConvTranspose2d"]),
    # "CUDA Ops that can autocast to float32"
    "pow / __pow__ / __rpow__": ("fp32", ["Pow", "PowScalar"]),
    "__rdiv__ / __rtruediv__": ("fp32", ["RDiv"]),
    "exp": ("fp32", ["Exp"]),
    "log": ("fp32", ["Log"]),
    "softplus": ("fp32", ["Softplus"]),
    "softmax": ("fp32", ["Softmax"]),
    "log_softmax": ("fp32", ["LogSoftmax"]),
    "sum": ("fp32", ["Sum"]),
    "layer_norm": ("fp32", ["LayerNorm"]),
    "mse_loss / binary_cross_entropy_with_logits": ("fp32", ["MSELoss", "BinaryCrossEntropyWithLogits"]),
    "cross_entropy / nll_loss": ("fp32", ["CrossEntropy", "NLLLoss"]),
    # "ops that promote to the widest input type" (cat and stack are on PyTorch's CPU list)
    "cat / stack": ("promote", ["Cat", "Stack"]),
    # "binary_cross_entropy and BCELoss raise an error in autocast-enabled regions"
    "binary_cross_entropy": ("banned", ["BinaryCrossEntropy"]),
    # minigrad's one departure: unlisted in PyTorch (cuDNN takes float16 and keeps float32 statistics)
    "batch_norm": ("fp32", ["BatchNorm"]),
}

# minigrad Functions PyTorch does not list (they run in their inputs' dtypes), and internal ones that only run
# inside backward formulas (autocast is suspended there) or are the cast itself
UNLISTED = {
    "Add", "Sub", "Mul", "Div", "Neg", "Sqrt", "Abs", "Maximum", "Minimum", "Where", "Clamp",
    "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "LogSigmoid", "Dropout", "Mean", "Max", "Min", "Var", "Std",
    "Reshape", "Permute", "Expand", "GetItem", "IndexAdd", "Pad", "ToCopy", "Conv2dWeight", "PiecewiseScale",
}  # fmt: skip


def _all_functions():
    out, todo = {}, list(Function.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.startswith("minigrad.") and not cls.__name__.startswith("_"):
            out[cls.__name__] = cls
    return out


def test_every_function_declares_the_policy_of_the_table():
    """Each minigrad op is in the table or knowingly unlisted, and its autocast_policy says what the table says."""
    functions = _all_functions()
    listed = {name: policy for policy, names in PYTORCH_TABLE.values() for name in names}
    assert set(functions) == set(listed) | UNLISTED, "an op is missing from the autocast table (or gone)"
    for name, cls in functions.items():
        assert cls.autocast_policy == listed.get(name), name


# (name, op on float32 inputs, the policy it follows): each op called the way a user calls it
def _x():
    return mg.randn(4, 3)


OPS = [
    ("matmul", lambda: _x() @ mg.randn(3, 2), "lower"),
    ("linear", lambda: F.linear(_x(), mg.randn(2, 3), mg.randn(2)), "lower"),
    ("conv2d", lambda: F.conv2d(mg.randn(1, 2, 5, 5), mg.randn(3, 2, 3, 3), mg.randn(3)), "lower"),
    ("conv_transpose2d", lambda: F.conv_transpose2d(mg.randn(1, 2, 3, 3), mg.randn(2, 3, 3, 3)), "lower"),
    ("pow scalar", lambda: _x() ** 2, "fp32"),
    ("pow tensor", lambda: _x().abs() ** _x(), "fp32"),
    ("rtruediv", lambda: 1.0 / (_x().abs() + 1), "fp32"),
    ("exp", lambda: _x().exp(), "fp32"),
    ("log", lambda: _x().abs().log(), "fp32"),
    ("softplus", lambda: F.softplus(_x()), "fp32"),
    ("softmax", lambda: F.softmax(_x(), dim=1), "fp32"),
    ("log_softmax", lambda: F.log_softmax(_x(), dim=1), "fp32"),
    ("sum", lambda: _x().sum(), "fp32"),
    ("layer_norm", lambda: F.layer_norm(_x(), 3, mg.ones(3), mg.zeros(3)), "fp32"),
    ("batch_norm", lambda: F.batch_norm(_x(), None, None, mg.ones(3), mg.zeros(3), training=True), "fp32"),
    ("mse_loss", lambda: F.mse_loss(_x(), _x()), "fp32"),
    ("bce_with_logits", lambda: F.binary_cross_entropy_with_logits(_x(), mg.rand(4, 3)), "fp32"),
    ("cross_entropy", lambda: F.cross_entropy(_x(), mg.tensor([0, 1, 2, 0])), "fp32"),
    ("nll_loss", lambda: F.nll_loss(_x(), mg.tensor([0, 1, 2, 0])), "fp32"),
    ("add", lambda: _x() + _x(), None),
    ("mul", lambda: _x() * _x(), None),
    ("div", lambda: _x() / (_x().abs() + 1), None),
    ("tanh", lambda: _x().tanh(), None),
    ("sigmoid", lambda: _x().sigmoid(), None),
    ("leaky_relu", lambda: F.leaky_relu(_x(), 0.2), None),
    ("mean", lambda: _x().mean(), None),
    ("var", lambda: _x().var(), None),
    ("sqrt", lambda: _x().abs().sqrt(), None),
    ("max", lambda: _x().max(), None),
    ("reshape", lambda: _x().reshape(12), None),
    ("cat", lambda: mg.cat([_x(), _x()]), "promote"),
]
EXPECTED_FROM_FLOAT32 = {"lower": np.float16, "fp32": np.float32, "promote": np.float32, None: np.float32}


@pytest.mark.parametrize("name, op, policy", OPS, ids=[o[0] for o in OPS])
def test_output_dtype_under_autocast_follows_the_table(name, op, policy):
    assert op().dtype == np.float32  # outside: float32 in, float32 out
    with autocast("cpu"):
        out = op()
    assert out.dtype == EXPECTED_FROM_FLOAT32[policy], name


def test_float16_inputs_run_in_float32_for_fp32_ops_and_stay_float16_for_unlisted_ops():
    h = mg.randn(4, 3).to(dtype=mg.float16)
    with autocast("cpu"):
        assert h.exp().dtype == np.float32
        assert h.sum().dtype == np.float32
        assert F.log_softmax(h, dim=1).dtype == np.float32
        assert (h @ mg.randn(3, 2)).dtype == np.float16  # the float32 operand is cast down
        assert h.tanh().dtype == np.float16
        assert h.mean().dtype == np.float16  # mean is unlisted in PyTorch's table
        assert (h + mg.randn(4, 3)).dtype == np.float32  # builtin promotion, as PyTorch's add
        assert mg.cat([h, mg.randn(4, 3)]).dtype == np.float32  # promote: the widest
        assert mg.cat([h, h]).dtype == np.float16


def test_float64_and_integer_inputs_are_never_cast():
    d = mg.randn(4, 3, dtype=mg.float64)
    with autocast("cpu"):
        assert (d @ mg.randn(3, 2, dtype=mg.float64)).dtype == np.float64
        assert d.exp().dtype == np.float64
        assert F.cross_entropy(mg.randn(4, 3), mg.tensor([0, 1, 2, 0])).dtype == np.float32


def test_lower_ops_compute_what_numpy_float16_computes():
    """The matmul under autocast is NumPy's float16 matmul of the float16-rounded operands, bit for bit."""
    a, b = np.random.default_rng(0).standard_normal((2, 5, 7)).astype(np.float32)[:, :, :5]
    with autocast("cpu"):
        out = mg.tensor(a) @ mg.tensor(b)
    np.testing.assert_array_equal(out.numpy(), a.astype(np.float16) @ b.astype(np.float16))


def test_fp32_ops_compute_in_float32():
    h = (mg.randn(64) * 4).to(dtype=mg.float16)
    with autocast("cpu"):
        out = h.exp()
    np.testing.assert_array_equal(out.numpy(), np.exp(h.numpy().astype(np.float32)))


def test_binary_cross_entropy_raises_inside_autocast_and_names_the_fix():
    p, t = mg.rand(4, 3) * 0.8 + 0.1, mg.rand(4, 3)
    F.binary_cross_entropy(p, t)  # fine outside
    with autocast("cpu"), pytest.raises(RuntimeError, match="BinaryCrossEntropy.*binary_cross_entropy_with_logits"):
        F.binary_cross_entropy(p, t)
    with autocast("cpu", enabled=False):
        F.binary_cross_entropy(p, t)


# --- regions -----------------------------------------------------------------------------------------------


def test_nested_and_disabled_regions_restore_the_state_before_them():
    x, w = mg.randn(2, 3), mg.randn(3, 2)
    assert not is_autocast_enabled("cpu") and not autocast_mode.active
    with autocast("cpu"):
        assert is_autocast_enabled("cpu") and not is_autocast_enabled("cuda")
        with autocast("cpu", enabled=False):
            assert not is_autocast_enabled("cpu")
            assert (x @ w).dtype == np.float32
            with autocast("cpu"):
                assert (x @ w).dtype == np.float16
            assert (x @ w).dtype == np.float32
        assert (x @ w).dtype == np.float16
    assert not is_autocast_enabled("cpu") and not autocast_mode.active
    assert (x @ w).dtype == np.float32


def test_an_exception_leaves_autocast_off():
    with pytest.raises(KeyError), autocast("cpu"):
        raise KeyError
    assert not autocast_mode.active and not is_autocast_enabled("cpu")


def test_decorator_applies_per_call_and_reentrantly():
    region = autocast("cpu")
    seen = []

    @region
    def f(n):
        seen.append((mg.randn(2, 2) @ mg.randn(2, 2)).dtype)
        return f(n - 1) if n else None

    f(2)
    assert seen == [np.float16] * 3
    assert not autocast_mode.active


def test_autocast_for_one_device_type_leaves_the_other_alone():
    with autocast("cuda"):
        assert is_autocast_enabled("cuda")
        assert (mg.randn(2, 3) @ mg.randn(3, 2)).dtype == np.float32  # cpu tensors: not cast


def test_bad_arguments_are_clear_errors():
    with pytest.raises(ValueError, match="float16 is the only autocast dtype.*bfloat16"):
        autocast("cpu", dtype="bfloat16")
    with pytest.raises(ValueError, match="float16 is the only"):
        autocast("cuda", dtype=mg.float32)
    with pytest.raises(ValueError, match="device_type must be 'cpu' or 'cuda'"):
        autocast("tpu")
    assert autocast("cpu", dtype=mg.float16).fast_dtype == np.float16
    assert mg.autocast is autocast


# --- graph, backward and the cast cache --------------------------------------------------------------------


def test_parameters_and_their_gradients_stay_float32_and_backward_runs_in_the_forward_dtype():
    x = mg.randn(4, 3)
    w = mg.randn(3, 2, requires_grad=True)
    with autocast("cpu"):
        h = x @ w
        loss = (h * h).sum()
    cast = h.grad_fn.inputs[1]
    seen = []
    h.register_hook(lambda g: seen.append(g.dtype))
    loss.backward()
    assert seen == [np.float16]  # matmul's backward got (and ran on) a float16 gradient
    assert w.dtype == np.float32 and w.grad.dtype == np.float32
    assert isinstance(cast.grad_fn, ToCopy) and cast.dtype == np.float16
    # the gradient is the float16 computation, within float16's resolution of the float64 one
    x64, w64 = x.numpy().astype(np.float64), w.numpy().astype(np.float64)
    expected = x64.T @ (2 * x64 @ w64)
    np.testing.assert_allclose(w.grad.numpy(), expected, rtol=2e-2, atol=2e-2 * np.abs(expected).max())


def test_create_graph_backward_inside_a_region_records_the_forward_dtypes():
    """A gradient penalty's autograd.grad(create_graph=True) runs each backward formula in its forward's dtype,
    not re-autocast (the engine suspends autocast)."""
    x = mg.randn(4, 3, requires_grad=True)
    w = mg.randn(3, 1, requires_grad=True)
    with autocast("cpu"):
        out = (x @ w).tanh().sum()
        (gx,) = mg.autograd.grad(out, x, create_graph=True)
        assert autocast_mode.active  # restored after the backward walk
        penalty = (gx * gx).sum()
    assert gx.dtype == np.float32  # the float32 leaf's gradient, through the cast's backward
    penalty.backward()
    assert w.grad.dtype == np.float32 and np.isfinite(w.grad.numpy()).all()


def test_a_parameter_is_cast_once_per_region_and_again_after_an_in_place_update():
    w = mg.randn(3, 3, requires_grad=True)
    opt = mg.optim.SGD([w], lr=0.1)
    with autocast("cpu"):
        a, b = mg.randn(2, 3) @ w, mg.randn(2, 3) @ w
        first = a.grad_fn.inputs[1]
        assert first is b.grad_fn.inputs[1]  # one float16 copy
        (a.sum() + b.sum()).backward(retain_graph=True)
        opt.step()  # writes w in place: the cached copy is stale
        c = mg.randn(2, 3) @ w
        second = c.grad_fn.inputs[1]
        assert second is not first
        np.testing.assert_array_equal(second.numpy(), w.numpy().astype(np.float16))
        c.sum().backward()  # frees the graph of the second copy: the next use casts anew, and w still gets a grad
        w.grad = None
        (mg.randn(2, 3) @ w).sum().backward()
        assert w.grad is not None
    with autocast("cpu"):
        d = mg.randn(2, 3) @ w
        assert d.grad_fn.inputs[1] is not first  # a new region casts anew
    assert not autocast_mode._cache
    with autocast("cpu", cache_enabled=False):
        e, f = mg.randn(2, 3) @ w, mg.randn(2, 3) @ w
        assert e.grad_fn.inputs[1] is not f.grad_fn.inputs[1]


def test_gradcheck_is_unaffected_outside_autocast_and_float64_inside():
    w = mg.randn(3, 2, dtype=mg.float64, requires_grad=True)
    x = mg.randn(4, 3, dtype=mg.float64, requires_grad=True)

    def f(x, w):
        return F.log_softmax((x @ w).tanh(), dim=1).exp().sum()

    assert mg.gradcheck(f, [x, w])
    with autocast("cpu"):
        assert mg.gradcheck(f, [x, w])  # float64 is not eligible: the same op graph, the same gradients


def test_float16_gradients_agree_with_finite_differences_at_float16_resolution():
    """A linear layer and a loss under autocast: the float32 parameter gradient against central differences of
    the float64 function, to float16's precision (the forward rounds operands to float16)."""
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, (8, 5)).astype(np.float32)
    w0 = rng.uniform(-1, 1, (3, 5)).astype(np.float32)
    t = rng.uniform(-1, 1, (8, 3)).astype(np.float32)
    w = mg.tensor(w0, requires_grad=True)
    with autocast("cpu"):
        loss = F.mse_loss(F.linear(mg.tensor(x), w), mg.tensor(t))
    loss.backward()

    def f64(wv):
        return np.mean((x.astype(np.float64) @ wv.T - t) ** 2)

    eps, numeric = 1e-4, np.zeros_like(w0, dtype=np.float64)
    for i in np.ndindex(w0.shape):
        d = np.zeros_like(w0, dtype=np.float64)
        d[i] = eps
        numeric[i] = (f64(w0 + d) - f64(w0 - d)) / (2 * eps)
    np.testing.assert_allclose(w.grad.numpy(), numeric, rtol=1e-2, atol=1e-2 * np.abs(numeric).max())


@pytest.mark.cuda
def test_cuda_autocast_dtypes_and_gradients(device):
    if device != "cuda":
        pytest.skip("the cuda leg")
    x = mg.randn(8, 5, device=device)
    w = mg.randn(5, 3, device=device, requires_grad=True)
    with autocast("cuda"):
        h = x @ w
        loss = F.log_softmax(h, dim=1).sum()
    assert h.dtype == np.float16 and loss.dtype == np.float32
    loss.backward()
    assert w.grad.dtype == np.float32 and w.grad.device == "cuda"
    with autocast("cpu"):
        assert (x @ w).dtype == np.float32  # a cpu region leaves cuda tensors alone
