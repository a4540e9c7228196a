"""The graph survives backward, as in PyTorch: ``grad_fn.next_functions`` walks the same structure before and
after ``backward()``, backward frees the values (not the structure), and a training loop's memory stays flat.

The expected structure is PyTorch's, written out by hand from its documented behaviour (torch is not imported):
``next_functions`` is one ``(node, input_nr)`` pair per input, the node being the producer's ``grad_fn``, the
leaf's ``AccumulateGrad`` (whose ``.variable`` is the leaf), or None for a tensor that does not require grad;
``input_nr`` is the producer's output index, 0 for these single-output ops. PyTorch names the nodes
``MulBackward0`` etc.; minigrad names them after its Functions, mapped below.
"""

import gc
import tracemalloc
import weakref

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.autograd.accumulate_grad import AccumulateGrad

# PyTorch's node name -> minigrad's Function name for the ops of the graph below
TORCH_NAMES = {"MulBackward0": "Mul", "AddBackward0": "Add", "PowBackward0": "PowScalar", "SumBackward0": "Sum"}


def acc(leaf):
    return ("AccumulateGrad", leaf)


# What PyTorch gives for  a, b leaves, k = tensor without grad:
#   c = a * b;  d = c + a;  e = d * k;  loss = (e ** 2).sum()
# loss.grad_fn                          SumBackward0,  next_functions ((PowBackward0, 0),)
# .next_functions[0][0]                 PowBackward0,  ((MulBackward0, 0),)
# ...                                   MulBackward0,  ((AddBackward0, 0), (None, 0))        k is a constant
# ...                                   AddBackward0,  ((MulBackward0, 0), (AccumulateGrad, 0))   a
# ...                                   MulBackward0,  ((AccumulateGrad, 0), (AccumulateGrad, 0)) a, b
MUL_AB = ("MulBackward0", ((acc("a"), 0), (acc("b"), 0)))
ADD = ("AddBackward0", ((MUL_AB, 0), (acc("a"), 0)))
MUL_K = ("MulBackward0", ((ADD, 0), (None, 0)))
POW = ("PowBackward0", ((MUL_K, 0),))
EXPECTED = ("SumBackward0", ((POW, 0),))


def walk(node, leaves):
    """The structure under ``node`` as nested tuples, in PyTorch's names; leaves are named by identity."""
    if node is None:
        return None
    if isinstance(node, AccumulateGrad):
        assert node.next_functions == ()
        (name,) = [n for n, t in leaves.items() if t is node.variable]
        return ("AccumulateGrad", name)
    (torch_name,) = [k for k, v in TORCH_NAMES.items() if v == node.name]
    return (torch_name, tuple((walk(child, leaves), nr) for child, nr in node.next_functions))


def small_graph(device):
    a = mg.tensor([1.0, -2.0], dtype=mg.float64, device=device, requires_grad=True)
    b = mg.tensor([3.0, 0.5], dtype=mg.float64, device=device, requires_grad=True)
    k = mg.tensor([2.0, 2.0], dtype=mg.float64, device=device)
    c = a * b
    d = c + a
    e = d * k
    loss = (e**2).sum()
    return dict(a=a, b=b, k=k, c=c, d=d, e=e, loss=loss)


def test_next_functions_match_pytorchs_structure_before_and_after_backward(device):
    g = small_graph(device)
    leaves = {"a": g["a"], "b": g["b"]}
    assert walk(g["loss"].grad_fn, leaves) == EXPECTED
    g["loss"].backward()
    assert walk(g["loss"].grad_fn, leaves) == EXPECTED  # the structure survives backward
    # the chain of a PyTorch tutorial: loss -> pow -> mul -> add -> mul -> a's AccumulateGrad
    node = g["loss"].grad_fn
    for _ in range(4):
        node = node.next_functions[0][0]
    assert node.name == "Mul" and node.next_functions[0][0].variable is g["a"]
    # the leaf's gradient is where AccumulateGrad put it: d/da of sum(((a*b + a) k)^2) = 2 e k (b + 1)
    a, b, k = (g[n].numpy() for n in "abk")
    np.testing.assert_allclose(g["a"].grad.numpy(), 2 * (a * b + a) * k * k * (b + 1))


def test_one_accumulate_grad_per_leaf_and_leaves_have_no_grad_fn(device):
    x = mg.tensor([1.0, 2.0], device=device, requires_grad=True)
    y = x * x
    (first, nr0), (second, nr1) = y.grad_fn.next_functions
    assert first is second and nr0 == nr1 == 0  # as PyTorch: the leaf's one AccumulateGrad, twice
    assert isinstance(first, AccumulateGrad) and first.variable is x and repr(first) == "<AccumulateGrad>"
    assert (x + 1).grad_fn.next_functions[0][0] is first
    assert x.grad_fn is None and y.grad_fn is not None  # Tensor.grad_fn as before
    assert (x * 2).grad_fn.next_functions[1] == (None, 0)  # a Python number becomes a constant


def test_backward_frees_values_but_not_structure(device):
    g = small_graph(device)
    c_array = weakref.ref(g["c"].data)
    mul = g["c"].grad_fn
    loss = g.pop("loss")
    for name in ("c", "d", "e"):
        del g[name]
    gc.collect()
    assert c_array() is not None  # before backward the graph holds the intermediate
    loss.backward()
    gc.collect()
    assert c_array() is None  # backward freed it
    assert mul.input_metadata == (((2,), np.dtype("float64")), ((2,), np.dtype("float64")))
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        loss.backward()  # the saved values are gone: today's error


def test_retain_graph_keeps_values_and_a_second_backward_works(device):
    g = small_graph(device)
    g["loss"].backward(retain_graph=True)
    first = g["a"].grad.numpy().copy()
    assert g["c"].grad_fn.inputs[0] is g["a"]  # retained: the inputs themselves
    g["loss"].backward()
    np.testing.assert_allclose(g["a"].grad.numpy(), 2 * first)
    with pytest.raises(RuntimeError, match="second time"):
        g["loss"].backward()


def _loop_memory(keep_losses, iterations):
    """Traced bytes after a warm-up and after ``iterations`` more steps of a small training loop."""
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(32, 256), nn.Tanh(), nn.Linear(256, 1))
    opt = mg.optim.SGD(model.parameters(), lr=1e-3)
    x = mg.randn(64, 32)
    kept = []

    def step():
        loss = (model(x) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if keep_losses:
            kept.append(loss)  # the classic mistake: each loss holds its (freed) graph

    tracemalloc.start()
    try:
        for _ in range(20):
            step()
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(iterations):
            step()
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return after - before


def test_training_loop_memory_stays_flat():
    # one step's activations are 64 x 256 float32 = 64 KiB each; a leaked graph would add hundreds of KiB a step
    assert _loop_memory(keep_losses=False, iterations=200) < 64 * 1024


def test_a_kept_loss_holds_the_graphs_structure_not_its_arrays():
    per_step = _loop_memory(keep_losses=True, iterations=100) / 100
    assert per_step < 16 * 1024  # a few small nodes (~3.5 KiB measured), not the 64 KiB activations
