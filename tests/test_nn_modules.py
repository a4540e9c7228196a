"""minigrad.nn modules: registration, traversal, modes, devices/dtypes, state dicts, repr,
containers, and the layers' semantics against NumPy hand computations."""

from collections import OrderedDict

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.bn = nn.BatchNorm1d(4)
        self.scale = nn.Parameter(mg.ones(1))
        self.register_buffer("step", mg.zeros(()))
        self.register_buffer("scratch", mg.zeros(2), persistent=False)
        self.not_registered = [nn.Linear(1, 1)]  # a plain list hides its modules (as in PyTorch)

    def forward(self, x):
        return self.bn(self.fc(x)) * self.scale


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()
        self.head = nn.Sequential(nn.LeakyReLU(0.2), nn.Dropout(0.5), nn.Linear(4, 1))

    def forward(self, x):
        return self.head(self.block(x))


# --- Parameter ------------------------------------------------------------------------------


def test_parameter():
    t = mg.zeros(2, 3)
    p = nn.Parameter(t)
    assert isinstance(p, mg.Tensor) and p.requires_grad and p.is_leaf
    assert p.data is t.data  # shares memory
    assert repr(p).startswith("Parameter containing:\ntensor(")
    assert nn.Parameter([1.0, 2.0]).dtype == np.float32
    assert not nn.Parameter(t, requires_grad=False).requires_grad
    assert type(p * 2) is mg.Tensor  # results of ops are plain tensors


# --- registration and traversal ----------------------------------------------------------------


def test_named_parameters_buffers_children_modules():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == [
        "block.scale",
        "block.fc.weight",
        "block.fc.bias",
        "block.bn.weight",
        "block.bn.bias",
        "head.2.weight",
        "head.2.bias",
    ]
    assert all(isinstance(p, nn.Parameter) for p in net.parameters())
    assert [n for n, _ in net.named_buffers()] == [
        "block.step",
        "block.scratch",
        "block.bn.running_mean",
        "block.bn.running_var",
        "block.bn.num_batches_tracked",
    ]
    assert [n for n, _ in net.named_children()] == ["block", "head"]
    assert [n for n, _ in net.named_modules()] == [
        "",
        "block",
        "block.fc",
        "block.bn",
        "head",
        "head.0",
        "head.1",
        "head.2",
    ]
    assert len(list(net.block.parameters(recurse=False))) == 1
    assert net.num_parameters() == 1 + 12 + 4 + 4 + 4 + 4 + 1
    assert net.get_submodule("head.2") is net.head[2]


def test_shared_parameter_listed_once():
    lin = nn.Linear(2, 2)
    seq = nn.Sequential(lin, lin)
    assert len(list(seq.parameters())) == 2
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]


def test_registration_rules():
    m = nn.Linear(2, 3)
    with pytest.raises(TypeError, match="cannot assign Tensor as parameter 'weight'"):
        m.weight = mg.zeros(3, 2)
    m.bias = None
    assert m.bias is None and [n for n, _ in m.named_parameters()] == ["weight"]
    m.extra = nn.Parameter(mg.zeros(1))
    assert "extra" in dict(m.named_parameters())
    del m.extra
    assert "extra" not in dict(m.named_parameters())

    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(mg.zeros(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Early()
    with pytest.raises(AttributeError, match="'Linear' object has no attribute 'nope'"):
        _ = m.nope


def test_forward_runs_and_backward_reaches_all_parameters():
    net = Net()
    y = net(mg.randn(5, 3))
    assert y.shape == (5, 1)
    y.sum().backward()
    assert all(p.grad is not None and p.grad.shape == p.shape for p in net.parameters())


# --- modes, grads, apply ------------------------------------------------------------------------


def test_train_eval_propagate():
    net = Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    net.head.train(False)
    assert net.training and net.block.bn.training and not net.head[1].training


def test_zero_grad():
    lin = nn.Linear(2, 2)
    lin(mg.randn(3, 2)).sum().backward()
    w_grad = lin.weight.grad
    lin.zero_grad(set_to_none=False)
    assert lin.weight.grad is w_grad and np.all(w_grad.numpy() == 0)
    lin.zero_grad()
    assert lin.weight.grad is None and lin.bias.grad is None


def test_apply_and_requires_grad():
    net = Net()
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen[-1] == "Net" and seen.index("Linear") < seen.index("Block")  # children first

    def init_linear(m):
        if isinstance(m, nn.Linear):
            nn.init.constant_(m.weight, 0.5)

    net.apply(init_linear)
    assert np.all(net.block.fc.weight.numpy() == 0.5) and np.all(net.head[2].weight.numpy() == 0.5)
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())


# --- devices and dtypes ---------------------------------------------------------------------------


def test_to_keeps_parameter_identity(device):
    net = Net()
    params = list(net.parameters())
    net(mg.randn(4, 3)).sum().backward()
    assert net.to(device) is net
    assert [id(p) for p in net.parameters()] == [id(p) for p in params]
    assert all(p.device == device and p.grad.device == device for p in net.parameters())
    assert all(b.device == device for b in net.buffers())
    assert net(mg.randn(4, 3, device=device)).device == device
    net.cpu()
    assert all(p.device == "cpu" for p in net.parameters())


def test_dtype_conversion_only_touches_floats():
    net = Net()
    p0 = net.block.fc.weight
    net.double()
    assert net.block.fc.weight is p0 and p0.dtype == np.float64
    assert net.block.bn.running_var.dtype == np.float64
    assert net.block.bn.num_batches_tracked.dtype == np.int64
    net.to(mg.float32)
    assert p0.dtype == np.float32
    net.float()
    with pytest.raises(TypeError, match="only floating point dtypes"):
        net.to(dtype=mg.int64)


def test_whole_model_gradcheck_in_float64():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.LeakyReLU(0.2), nn.Linear(4, 2), nn.Tanh())
    model.double()
    x = mg.tensor(np.random.default_rng(0).standard_normal((5, 3)), requires_grad=True)
    assert mg.gradcheck(lambda x, *ps: model(x), [x] + list(model.parameters()))


# --- state dict ----------------------------------------------------------------------------------


def test_state_dict_keys_and_values():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    sd = model.state_dict()
    assert isinstance(sd, OrderedDict)
    assert list(sd) == [
        "0.weight",
        "0.bias",
        "1.weight",
        "1.bias",
        "1.running_mean",
        "1.running_var",
        "1.num_batches_tracked",
    ]
    assert all(isinstance(v, mg.Tensor) and not v.requires_grad and v.grad_fn is None for v in sd.values())
    np.testing.assert_array_equal(sd["0.weight"].numpy(), model[0].weight.numpy())
    assert "scratch" not in Block().state_dict() and "step" in Block().state_dict()


def test_state_dict_round_trip():
    a, b = Net(), Net()
    a.train()
    a(mg.randn(6, 3))  # move the running stats away from their defaults
    a.eval()
    b.eval()
    b_params = list(b.parameters())
    result = b.load_state_dict(a.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert [id(p) for p in b.parameters()] == [id(p) for p in b_params]  # copied in place
    x = mg.randn(4, 3)
    np.testing.assert_array_equal(a(x).numpy(), b(x).numpy())
    assert b.block.bn.num_batches_tracked.item() == 1
    # arrays are accepted too, and cast to the tensor's dtype
    c = Net()
    c.load_state_dict({k: v.numpy().astype(np.float64) for k, v in a.state_dict().items()})
    assert c.block.fc.weight.dtype == np.float32
    np.testing.assert_allclose(c.block.fc.weight.numpy(), a.block.fc.weight.numpy())


def test_load_state_dict_reports_every_bad_key_by_name():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    sd = model.state_dict()
    sd = OrderedDict((k, v.numpy().copy()) for k, v in sd.items())
    del sd["1.running_var"]
    sd["2.weight"] = np.zeros(3)
    sd["0.bias"] = np.zeros(5)
    with pytest.raises(RuntimeError) as exc:
        model.load_state_dict(sd)
    msg = str(exc.value)
    assert "Error(s) in loading state_dict for Sequential" in msg
    assert 'Missing key(s) in state_dict: "1.running_var"' in msg
    assert 'Unexpected key(s) in state_dict: "2.weight"' in msg
    assert (
        "size mismatch for 0.bias: copying a param with shape (5,) from checkpoint, "
        "the shape in current model is (4,)" in msg
    )
    # nothing was copied by the failed call
    assert np.all(model[1].running_mean.numpy() == 0)
    # non-strict: missing/unexpected are returned, but a size mismatch is still an error
    with pytest.raises(RuntimeError, match="size mismatch for 0.bias"):
        model.load_state_dict(sd, strict=False)
    sd["0.bias"] = np.ones(4)
    result = model.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["1.running_var"] and result.unexpected_keys == ["2.weight"]
    assert np.all(model[0].bias.numpy() == 1)


# --- repr -------------------------------------------------------------------------------------------


def test_repr_matches_pytorch_format():
    model = nn.Sequential(nn.Linear(784, 512), nn.LeakyReLU(0.2))
    assert repr(model) == (
        "Sequential(\n  (0): Linear(in_features=784, out_features=512, bias=True)\n"
        "  (1): LeakyReLU(negative_slope=0.2)\n)"
    )
    assert repr(Net()) == (
        "Net(\n"
        "  (block): Block(\n"
        "    (fc): Linear(in_features=3, out_features=4, bias=True)\n"
        "    (bn): BatchNorm1d(4, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)\n"
        "  )\n"
        "  (head): Sequential(\n"
        "    (0): LeakyReLU(negative_slope=0.2)\n"
        "    (1): Dropout(p=0.5, inplace=False)\n"
        "    (2): Linear(in_features=4, out_features=1, bias=True)\n"
        "  )\n"
        ")"
    )
    assert repr(nn.Conv2d(1, 64, 4, 2, 1)) == "Conv2d(1, 64, kernel_size=(4, 4), stride=(2, 2), padding=(1, 1))"
    assert (
        repr(nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False))
        == "ConvTranspose2d(128, 64, kernel_size=(4, 4), stride=(2, 2), padding=(1, 1), bias=False)"
    )
    assert (
        repr(nn.Conv2d(3, 8, (3, 5), dilation=2)) == "Conv2d(3, 8, kernel_size=(3, 5), stride=(1, 1), dilation=(2, 2))"
    )
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"
    assert repr(nn.Unflatten(1, (128, 7, 7))) == "Unflatten(dim=1, unflattened_size=(128, 7, 7))"
    assert repr(nn.Tanh()) == "Tanh()" and repr(nn.ReLU()) == "ReLU()"


# --- containers ------------------------------------------------------------------------------------


def test_sequential_indexing_and_editing():
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    seq = nn.Sequential(a, b, c)
    assert len(seq) == 3 and list(seq) == [a, b, c]
    assert seq[0] is a and seq[-1] is c and seq[-3] is a
    with pytest.raises(IndexError, match="index 3 is out of range for 3 modules"):
        seq[3]
    head = seq[:2]
    assert isinstance(head, nn.Sequential) and list(head) == [a, b]
    assert list(seq[1:]._modules) == ["1", "2"]  # slices keep the names, as PyTorch
    assert head(mg.randn(4, 2)).shape == (4, 3)
    tanh = nn.Tanh()
    seq[1] = tanh
    assert list(seq._modules) == ["0", "1", "2"] and seq[1] is tanh
    seq.append(nn.Sigmoid())
    assert len(seq) == 4 and "3.weight" not in seq.state_dict()
    del seq[0]
    assert list(seq._modules) == ["0", "1", "2"] and seq[0] is tanh
    named = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.Tanh())]))
    assert list(named.state_dict()) == ["fc.weight", "fc.bias"] and named.fc is named[0]


def test_module_list_registers():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(layers) == 3 and len(list(layers.parameters())) == 6
    layers.append(nn.Linear(2, 1))
    assert layers[-1].out_features == 1
    assert list(layers.state_dict())[-1] == "3.bias"


# --- layers --------------------------------------------------------------------------------------


def test_linear_3d_input_and_no_bias(device):
    lin = nn.Linear(4, 2, bias=False, device=device)
    x = mg.randn(2, 5, 4, device=device)
    y = lin(x)
    assert y.shape == (2, 5, 2) and lin.bias is None
    np.testing.assert_allclose(y.numpy(), x.numpy() @ lin.weight.numpy().T, rtol=1e-5, atol=1e-6)


def test_batchnorm_train_eval_semantics_vs_numpy(device):
    rng = np.random.default_rng(0)
    bn = nn.BatchNorm2d(3, momentum=0.1, device=device)
    bn.weight.data[...] = bn.weight.xp.asarray([1.0, 2.0, 0.5], dtype=np.float32)
    bn.bias.data[...] = bn.bias.xp.asarray([0.0, -1.0, 1.0], dtype=np.float32)
    rm, rv = np.zeros(3), np.ones(3)
    g, b = np.array([1.0, 2.0, 0.5]).reshape(1, 3, 1, 1), np.array([0.0, -1.0, 1.0]).reshape(1, 3, 1, 1)
    for step in range(3):
        x = rng.standard_normal((4, 3, 5, 2)) * (step + 1) + step
        y = bn(mg.tensor(x, dtype=mg.float32, device=device))
        mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
        ref = (x - mean.reshape(1, 3, 1, 1)) / np.sqrt(var.reshape(1, 3, 1, 1) + 1e-5) * g + b
        np.testing.assert_allclose(y.numpy(), ref, rtol=1e-4, atol=1e-4)
        rm = 0.9 * rm + 0.1 * mean
        rv = 0.9 * rv + 0.1 * x.var(axis=(0, 2, 3), ddof=1)
        np.testing.assert_allclose(bn.running_mean.numpy(), rm, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(bn.running_var.numpy(), rv, rtol=1e-5, atol=1e-6)
    assert bn.num_batches_tracked.item() == 3
    bn.eval()
    x = rng.standard_normal((2, 3, 5, 2))
    y = bn(mg.tensor(x, dtype=mg.float32, device=device))
    ref = (x - rm.reshape(1, 3, 1, 1)) / np.sqrt(rv.reshape(1, 3, 1, 1) + 1e-5) * g + b
    np.testing.assert_allclose(y.numpy(), ref, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(bn.running_mean.numpy(), rm, rtol=1e-5, atol=1e-6)  # eval: unchanged
    assert bn.num_batches_tracked.item() == 3


def test_batchnorm_variants():
    rng = np.random.default_rng(1)
    xs = [(rng.standard_normal((6, 2)) + i).astype(np.float32) for i in range(3)]
    # momentum=None: cumulative average of the batch means
    bn = nn.BatchNorm1d(2, momentum=None)
    for x in xs:
        bn(mg.tensor(x))
    np.testing.assert_allclose(bn.running_mean.numpy(), np.mean([x.mean(0) for x in xs], axis=0), rtol=1e-5)
    # no running stats: batch statistics in eval mode too
    bn = nn.BatchNorm1d(2, affine=False, track_running_stats=False).eval()
    assert list(bn.parameters()) == [] and list(bn.state_dict()) == []
    y = bn(mg.tensor(xs[0])).numpy()
    np.testing.assert_allclose(y, (xs[0] - xs[0].mean(0)) / np.sqrt(xs[0].var(0) + 1e-5), rtol=1e-4, atol=1e-5)
    # BatchNorm1d on (N, C, L)
    x3 = rng.standard_normal((4, 2, 3)).astype(np.float32)
    y3 = nn.BatchNorm1d(2)(mg.tensor(x3)).numpy()
    ref = (x3 - x3.mean((0, 2), keepdims=True)) / np.sqrt(x3.var((0, 2), keepdims=True) + 1e-5)
    np.testing.assert_allclose(y3, ref, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected 4-D input, got shape \(4, 2\)"):
        nn.BatchNorm2d(2)(mg.randn(4, 2))


def test_dropout_module_modes():
    drop = nn.Dropout(0.5)
    x = mg.ones(1000)
    assert (drop(x).numpy() == 0).any()
    drop.eval()
    assert drop(x) is x
    with pytest.raises(ValueError, match="Dropout: probability"):
        nn.Dropout(-0.1)


def test_dcgan_shapes_conv_and_transpose(device):
    gen = nn.Sequential(
        nn.Linear(8, 16 * 7 * 7),
        nn.Unflatten(1, (16, 7, 7)),
        nn.ConvTranspose2d(16, 8, 4, 2, 1),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.ConvTranspose2d(8, 1, 4, 2, 1),
        nn.Tanh(),
    ).to(device)
    disc = nn.Sequential(
        nn.Conv2d(1, 8, 4, 2, 1),
        nn.LeakyReLU(0.2),
        nn.Conv2d(8, 16, 4, 2, 1),
        nn.BatchNorm2d(16),
        nn.LeakyReLU(0.2),
        nn.Flatten(),
        nn.Linear(16 * 7 * 7, 1),
    ).to(device)
    img = gen(mg.randn(3, 8, device=device))
    assert img.shape == (3, 1, 28, 28)
    out = disc(img)
    assert out.shape == (3, 1)
    F.binary_cross_entropy_with_logits(out, mg.ones(3, 1, device=device)).backward()
    assert all(p.grad is not None for p in gen.parameters())
    with pytest.raises(NotImplementedError, match="groups=2"):
        nn.Conv2d(4, 4, 3, groups=2)


def test_loss_modules_match_functional():
    x, t = mg.randn(4, 1), mg.rand(4, 1)
    assert nn.BCEWithLogitsLoss()(x, t).item() == F.binary_cross_entropy_with_logits(x, t).item()
    assert (
        nn.BCELoss(reduction="sum")(x.sigmoid(), t).item()
        == F.binary_cross_entropy(x.sigmoid(), t, reduction="sum").item()
    )
    assert nn.MSELoss()(x, t).item() == F.mse_loss(x, t).item()
    logits, labels = mg.randn(4, 3), mg.tensor([0, 2, 1, 2])
    assert nn.CrossEntropyLoss()(logits, labels).item() == F.cross_entropy(logits, labels).item()
    assert nn.NLLLoss()(logits.log_softmax(1), labels).item() == pytest.approx(
        F.cross_entropy(logits, labels).item(), rel=1e-6
    )
    with pytest.raises(ValueError, match="reduction must be"):
        nn.MSELoss(reduction="avg")


# --- forward hooks -------------------------------------------------------------------------------


def test_forward_pre_hook_and_forward_hook_see_and_replace_args_and_output():
    mg.manual_seed(0)
    lin = nn.Linear(3, 2)
    x = mg.randn(4, 3)
    seen = []
    h1 = lin.register_forward_pre_hook(lambda m, args: seen.append(("pre", m, args[0].shape)))
    h2 = lin.register_forward_hook(lambda m, args, out: seen.append(("post", m, out.shape)))
    y = lin(x)
    assert seen == [("pre", lin, (4, 3)), ("post", lin, (4, 2))]
    np.testing.assert_allclose(y.numpy(), x.numpy() @ lin.weight.numpy().T + lin.bias.numpy(), rtol=1e-6)
    h1.remove(), h2.remove(), h2.remove()  # removing twice does nothing
    lin(x)
    assert len(seen) == 2
    # a pre-hook's non-tuple return becomes the args; a forward hook's return becomes the output
    with lin.register_forward_pre_hook(lambda m, args: args[0] * 0):
        with lin.register_forward_hook(lambda m, args, out: out + 1):
            z = lin(x)
    np.testing.assert_allclose(z.numpy(), np.broadcast_to(lin.bias.numpy() + 1, (4, 2)), rtol=1e-6)
    assert not lin._forward_pre_hooks and not lin._forward_hooks  # the with blocks removed them


def test_forward_hooks_run_in_registration_order_unless_prepended():
    relu = nn.ReLU()
    order = []
    relu.register_forward_hook(lambda m, a, o: order.append("a"))
    relu.register_forward_hook(lambda m, a, o: order.append("b"))
    relu.register_forward_hook(lambda m, a, o: order.append("first"), prepend=True)
    relu(mg.ones(1))
    assert order == ["first", "a", "b"]
