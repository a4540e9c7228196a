"""The autograd engine: accumulation, graph shapes, hooks, grad mode, freeing the
graph, long chains, error messages. Expected gradients are worked out by hand."""

import gc
import weakref

import numpy as np
import pytest

import minigrad as mg


def leaf(values, device, dtype=mg.float64):
    return mg.tensor(values, dtype=dtype, device=device, requires_grad=True)


# --- accumulation and graph shapes -----------------------------------------------------------


def test_grads_accumulate_across_backward_calls(device):
    x = leaf([1.0, 2.0], device)
    (x * 3).sum().backward()
    (x * x).sum().backward()  # a second, new graph
    np.testing.assert_array_equal(x.grad.numpy(), [3 + 2 * 1.0, 3 + 2 * 2.0])


def test_leaf_used_twice(device):
    x = leaf([1.0, -2.0], device)
    (x * x + x).sum().backward()  # d/dx (x^2 + x) = 2x + 1
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, -3.0])
    y = leaf([1.0, 2.0], device)
    (y + y).sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), [2.0, 2.0])


def test_diamond_graph(device):
    # a -> b = 2a, c = 3a -> d = b * c = 6 a^2 ;  dd/da = 12 a
    a = leaf([1.0, 2.0, -1.0], device)
    b = a * 2
    c = a * 3
    (b * c).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [12.0, 24.0, -12.0])


def test_deeper_shared_intermediate(device):
    # h = x^2 used by two branches: y = h * 2 + h.exp(); dy/dx = (2 + e^h) 2x
    x = leaf([0.5, -1.0], device)
    h = x * x
    (h * 2 + h.exp()).sum().backward()
    xv = np.array([0.5, -1.0])
    np.testing.assert_allclose(x.grad.numpy(), (2 + np.exp(xv**2)) * 2 * xv, rtol=1e-12)


def test_inputs_without_requires_grad_get_no_grad(device):
    x = leaf([1.0, 2.0], device)
    c = mg.tensor([3.0, 4.0], dtype=mg.float64, device=device)
    (x * c).sum().backward()
    assert c.grad is None
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 4.0])


def test_ops_on_constants_record_nothing(device):
    c = mg.ones(3, device=device)
    y = c * 2 + 1
    assert not y.requires_grad and y.grad_fn is None


def test_detach_stops_gradient(device):
    x = leaf([2.0], device)
    (x * x.detach()).sum().backward()  # only the first factor is differentiated
    np.testing.assert_array_equal(x.grad.numpy(), [2.0])


def test_leaf_grads_are_not_aliased(device):
    a = leaf([1.0, 2.0], device)
    b = leaf([3.0, 4.0], device)
    (a + b).sum().backward()
    a.grad.zero_()
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 1.0])


def test_leaf_grad_is_not_the_callers_gradient(device):
    a = leaf([1.0, 2.0], device)
    b = leaf([3.0, 4.0], device)
    g = mg.tensor([5.0, 6.0], dtype=mg.float64, device=device)
    (a + b).backward(g)
    g.zero_()
    np.testing.assert_array_equal(a.grad.numpy(), [5.0, 6.0])
    np.testing.assert_array_equal(b.grad.numpy(), [5.0, 6.0])
    a.grad.zero_()
    np.testing.assert_array_equal(b.grad.numpy(), [5.0, 6.0])


def test_grad_of_reduction_is_a_writable_own_array(device):
    x = leaf([1.0, 2.0, 3.0], device)
    x.sum().backward()  # Sum's backward broadcasts (a read-only view)
    x.grad.zero_()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 0.0])


def test_nonscalar_backward_needs_grad(device):
    x = leaf([1.0, 2.0], device)
    y = x * 3
    with pytest.raises(RuntimeError, match="scalar") as e:
        y.backward()
    assert "(2,)" in str(e.value)
    y.backward(mg.tensor([1.0, -1.0], dtype=mg.float64, device=device))
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, -3.0])


def test_backward_grad_of_wrong_shape(device):
    y = leaf([1.0, 2.0], device) * 2
    with pytest.raises(ValueError, match="shape"):
        y.backward(mg.ones(3, dtype=mg.float64, device=device))


def test_backward_on_tensor_without_grad(device):
    with pytest.raises(RuntimeError, match="does not require grad"):
        mg.ones(1, device=device).backward()


def test_custom_function_and_needs_input_grad(device):
    seen = {}

    class Cube(mg.Function):
        """y = x^3 ; dx = 3 x^2 gy."""

        def forward(self, x, w):
            seen["needs"] = self.needs_input_grad
            self.x = x
            return x**3 * w

        def backward(self, gy):
            return 3 * self.x**2 * gy, None

    x = leaf([1.0, 2.0], device)
    w = mg.tensor([1.0, 1.0], dtype=mg.float64, device=device)
    y = Cube()(x, w)
    assert seen["needs"] == (True, False)
    assert y.grad_fn is not None
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 12.0])


# --- Function.apply, forward_or_record, saved_values: PyTorch's names and the deprecated 0.1 ones ---------------


class _Scale(mg.Function):
    """y = c x ; dx = c gy (c a setting of the op, given to its constructor)."""

    def __init__(self, c):
        self.c = c

    def forward(self, x):
        self.save_for_backward(x)
        return self.c * x

    def backward(self, gy):
        return self.c * gy


def test_function_apply_is_a_classmethod_that_runs_and_records_the_op(device):
    x = leaf([1.0, -2.0], device)
    y = _Scale.apply(x, c=3.0)  # settings as keywords, to the constructor
    assert isinstance(y.grad_fn, _Scale) and y.grad_fn.c == 3.0
    np.testing.assert_array_equal(y.numpy(), [3.0, -6.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])


def test_forward_or_record_runs_forward_on_arrays_and_records_on_tensors(device):
    a = np.array([1.0, -2.0])
    out = _Scale(2.0).forward_or_record(a)
    assert isinstance(out, np.ndarray) and not isinstance(out, mg.Tensor)
    np.testing.assert_array_equal(out, [2.0, -4.0])
    t = _Scale(2.0).forward_or_record(leaf([1.0, -2.0], device))
    assert isinstance(t, mg.Tensor) and isinstance(t.grad_fn, _Scale)


def test_the_0_1_names_warn_and_keep_their_meaning(device):
    a = np.array([1.0, -2.0])
    with pytest.warns(DeprecationWarning, match="forward_or_record"):
        out = _Scale(2.0).apply(a)  # 0.1: an instance's apply was forward_or_record
    assert not isinstance(out, mg.Tensor)
    np.testing.assert_array_equal(out, [2.0, -4.0])
    x = leaf([1.0, -2.0], device)
    y = _Scale.apply(x, c=2.0)
    fn = y.grad_fn
    fn.saved_values = (a,)
    with pytest.warns(DeprecationWarning, match="saved_values"):
        assert fn.saved_tensors == (a,)
    from minigrad.autograd import is_graph

    with pytest.warns(DeprecationWarning, match="is_tensor"):
        assert is_graph(x) and not is_graph(a)


def test_is_tensor_as_torch_is_tensor():
    assert mg.is_tensor(mg.tensor([1.0])) and not mg.is_tensor(np.ones(1)) and not mg.is_tensor(1.0)


# --- hooks and retain_grad ---------------------------------------------------------------------


def test_hook_sees_gradient_and_may_replace_it(device):
    x = leaf([1.0, 2.0], device)
    h = x * 3
    seen = []
    h.register_hook(lambda g: seen.append(g.numpy().copy()))
    h.register_hook(lambda g: g * 10)  # replaces the gradient flowing on to x
    (h * h).sum().backward()  # dL/dh = 2h = [6, 12]
    np.testing.assert_array_equal(seen[0], [6.0, 12.0])
    np.testing.assert_array_equal(x.grad.numpy(), [180.0, 360.0])  # 10 * 2h * 3


def test_hook_on_leaf(device):
    x = leaf([1.0, 2.0], device)
    x.register_hook(lambda g: g * 0.5)
    (x * 4).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])


def test_hook_needs_requires_grad(device):
    with pytest.raises(RuntimeError, match="register_hook"):
        mg.ones(2, device=device).register_hook(lambda g: g)


def test_retain_grad(device):
    x = leaf([1.0, 2.0], device)
    h = x * 3
    k = x * 2
    h.retain_grad()
    (h * h + k).sum().backward()
    np.testing.assert_array_equal(h.grad.numpy(), [6.0, 12.0])  # 2h
    assert k.grad is None  # non-leaves keep no grad unless asked
    np.testing.assert_array_equal(x.grad.numpy(), [20.0, 38.0])  # 2h*3 + 2


# --- grad mode -----------------------------------------------------------------------------------


def test_no_grad_context_manager(device):
    x = leaf([1.0, 2.0], device)
    assert mg.is_grad_enabled()
    with mg.no_grad():
        assert not mg.is_grad_enabled()
        y = x * 2
    assert mg.is_grad_enabled()
    assert y.grad_fn is None and not y.requires_grad
    np.testing.assert_array_equal(y.numpy(), [2.0, 4.0])


def test_no_grad_restores_mode_after_an_exception(device):
    with pytest.raises(KeyError):
        with mg.no_grad():
            raise KeyError
    assert mg.is_grad_enabled()


@pytest.mark.parametrize("bare", [False, True])
def test_no_grad_decorator(device, bare):
    def f(x):
        assert not mg.is_grad_enabled()
        return x * 2

    g = mg.no_grad(f) if bare else mg.no_grad()(f)  # @no_grad and @no_grad()
    y = g(leaf([1.0], device))
    assert y.grad_fn is None and not y.requires_grad
    assert mg.is_grad_enabled()


def test_enable_grad_and_set_grad_enabled(device):
    x = leaf([1.0], device)
    with mg.no_grad():
        with mg.enable_grad():
            assert (x * 2).requires_grad
        with mg.set_grad_enabled(True):
            assert mg.is_grad_enabled()
    with mg.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert mg.is_grad_enabled()


def test_set_grad_enabled_as_a_call_and_as_a_decorator():
    """PyTorch: a bare call switches the mode at once; as a decorator it only acts while the function runs."""
    x = leaf([1.0], "cpu")
    try:
        mg.set_grad_enabled(False)
        assert not mg.is_grad_enabled() and not (x * 2).requires_grad
        mg.set_grad_enabled(True)
        assert (x * 2).requires_grad

        @mg.set_grad_enabled(False)
        def f():
            return mg.is_grad_enabled()

        assert mg.is_grad_enabled() and f() is False and mg.is_grad_enabled()
        with mg.no_grad():  # the mode at call time comes back, not the one at decoration
            assert f() is False and not mg.is_grad_enabled()
        with mg.no_grad():
            with mg.set_grad_enabled(True):
                assert mg.is_grad_enabled()
            assert not mg.is_grad_enabled()
    finally:
        mg.set_grad_enabled(True)


# --- freeing the graph ----------------------------------------------------------------------------


def test_graph_is_freed_after_backward(device):
    x = leaf([1.0, 2.0], device)
    h = x * 2
    ref = weakref.ref(h)
    y = (h * 3).sum()
    del h
    gc.collect()
    assert ref() is not None  # alive: the graph still needs it
    y.backward()
    gc.collect()
    assert ref() is None  # backward dropped the graph


def test_backward_twice_raises_clear_error(device):
    x = leaf([1.0, 2.0], device)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph") as e:
        y.backward()
    assert "second time" in str(e.value)


def test_backward_twice_with_retain_graph(device):
    x = leaf([1.0, 2.0], device)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 8.0])  # 2 * 2x


def test_long_chain_has_no_recursion_limit(device):
    x = leaf([1.0], device)
    y = x
    for _ in range(100_000):
        y = y + 1.0
    y.sum().backward()
    assert x.grad.item() == 1.0
    assert y.item() == 100_001.0


# --- float32 -------------------------------------------------------------------------------------


def test_float32_graph_gives_float32_grads(device):
    x = mg.randn(3, 4, device=device, requires_grad=True)
    w = mg.randn(4, 2, device=device, requires_grad=True)
    loss = ((x @ w).tanh() * 0.5 + 1).log().mean()
    assert loss.dtype == np.float32
    loss.backward()
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float32


# --- in-place writes after forward ----------------------------------------------------------------


def test_backward_after_optimizer_step_raises_like_pytorch(device):
    """The step rewrote w in place, but Mul saved its old values (they give x's gradient): stale."""
    w = leaf([1.0, 2.0], device)
    x = leaf([3.0, 4.0], device)
    opt = mg.optim.SGD([w], lr=0.1)
    loss = (w * x).sum()
    w.grad = mg.ones(2, device=device)
    opt.step()
    with pytest.raises(RuntimeError, match=r"backward: input 0 of Mul \(shape \(2,\).*modified in place"):
        loss.backward()
    loss = (w * x).sum()  # a forward after the step is fine
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), w.numpy())


@pytest.mark.parametrize("write", ["zero_", "fill_", "copy_", "iadd", "setitem"])
def test_inplace_write_to_a_saved_input_raises(device, write):
    x = leaf([1.0, 2.0], device)
    c = mg.tensor([5.0, 6.0], device=device)  # a constant, saved by Mul for x's gradient
    y = (x * c).sum()
    with mg.no_grad():
        {
            "zero_": lambda: c.zero_(),
            "fill_": lambda: c.fill_(1.0),
            "copy_": lambda: c.copy_(mg.ones(2)),
            "iadd": lambda: c.__iadd__(1.0),
            "setitem": lambda: c.__setitem__(0, 9.0),
        }[write]()
    with pytest.raises(RuntimeError, match="input 1 of Mul .*modified in place"):
        y.backward()


def test_inplace_write_to_a_saved_output_raises(device):
    x = leaf([0.5, -1.0], device)
    s = x.sigmoid()  # Sigmoid's backward reads its output
    with mg.no_grad():
        s += 1.0
    with pytest.raises(RuntimeError, match="its output of Sigmoid"):
        s.sum().backward()


def test_init_and_load_state_dict_count_as_in_place_writes(device):
    lin = mg.nn.Linear(2, 1).to(device)
    x = mg.ones(3, 2, device=device)
    out = lin(x).sum()
    mg.nn.init.normal_(lin.weight)
    with pytest.raises(RuntimeError, match="modified in place"):
        out.backward()
    out = lin(x).sum()
    lin.load_state_dict(mg.nn.Linear(2, 1).state_dict())
    with pytest.raises(RuntimeError, match="modified in place"):
        out.backward()


def test_a_backward_returning_a_wrong_shape_is_named():
    class BadShape(mg.Function):
        def forward(self, x):
            return x * 2

        def backward(self, gy):
            return gy.reshape(-1, 1)  # (n,) -> (n, 1): broadcasting later would hide it

    x = mg.randn(3, requires_grad=True)
    msg = r"BadShape returned a gradient of shape \(3, 1\) for input 0 of shape \(3,\)"
    with pytest.raises(RuntimeError, match=msg):
        BadShape()(x).sum().backward()


def test_an_op_error_names_the_op_once():
    with pytest.raises(ValueError) as info:
        mg.cat([mg.randn(2, 1), mg.randn(3, 2)], 0)
    assert str(info.value).lower().count("cat:") == 1


def test_views_and_detach_share_the_version_counter_as_in_pytorch():
    # x @ W.T saved the view W.T; an optimizer step on W must be seen (the gradient used the new W silently)
    W = mg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    x = mg.tensor([[1.0, 1.0]], requires_grad=True)
    loss = (x @ W.T).sum()
    W.grad = mg.ones(2, 2)
    mg.optim.SGD([W], lr=1.0).step()
    with pytest.raises(RuntimeError, match="input 1 of MatMul"):
        loss.backward()
    # a write through a detached alias of a saved output, or through a view of a saved input
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    d = y.detach()
    d += 1
    with pytest.raises(RuntimeError, match="its output of Exp"):
        y.sum().backward()
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1
    y = (h * h).sum()
    with mg.no_grad():
        v = h.reshape(2)
        v += 1
    with pytest.raises(RuntimeError, match="input 0 of Mul"):
        y.backward()
    # Add saved nothing: the same write through a view is fine
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1
    y = (h + 1).sum()
    with mg.no_grad():
        v = h.reshape(2)
        v += 1
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0])


def test_grad_does_not_alias_the_gradient_passed_to_backward_and_takes_the_outputs_dtype():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    G = mg.tensor([1.0, 1.0])
    x.backward(G)
    with mg.no_grad():
        x.grad.zero_()
    np.testing.assert_array_equal(G.numpy(), [1.0, 1.0])
    h = x * 2
    h.retain_grad()
    h.backward(mg.tensor([1.0, 1.0], dtype=mg.float64))
    assert h.grad.dtype == np.float32 and x.grad.dtype == np.float32
