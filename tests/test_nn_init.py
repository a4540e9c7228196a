"""minigrad.nn.init and the default initialisation of layers: fans and gains against the
hand formulas, and sample statistics of large tensors within statistical tolerance."""

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.nn import init

N_ROWS, N_COLS = 300, 500  # 150,000 draws: the sample mean has std ~ sigma / 387


def big(device, dtype=mg.float32):
    return nn.Parameter(mg.zeros(N_ROWS, N_COLS, dtype=dtype, device=device))


def assert_stats(a, mean, std, lo=None, hi=None):
    n = a.size
    assert abs(a.mean() - mean) < 5 * std / math.sqrt(n) + 1e-7
    assert abs(a.std() - std) < 0.02 * std
    if lo is not None:
        assert a.min() >= lo and a.max() <= hi
        # the extremes of 150k uniform draws come within 0.1% of the bounds
        assert a.min() < lo + 0.001 * (hi - lo) and a.max() > hi - 0.001 * (hi - lo)


def test_calculate_gain():
    for name in ("linear", "conv2d", "conv_transpose2d", "sigmoid"):
        assert init.calculate_gain(name) == 1
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01**2)))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert init.calculate_gain("leaky_relu", math.sqrt(5)) == pytest.approx(math.sqrt(1 / 3))
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")


def test_fans():
    assert init._calculate_fan_in_and_fan_out(mg.zeros(7, 5)) == (5, 7)
    # conv (O, C, kh, kw): receptive field kh*kw multiplies both
    assert init._calculate_fan_in_and_fan_out(mg.zeros(8, 3, 4, 5)) == (3 * 20, 8 * 20)
    with pytest.raises(ValueError, match=r"fewer than 2 dimensions \(got shape \(5,\)\)"):
        init._calculate_fan_in_and_fan_out(mg.zeros(5))


def test_uniform_normal_constant(device):
    t = big(device)
    arr = t.data
    assert init.uniform_(t, -2.0, 3.0) is t
    assert t.data is arr and t.dtype == np.float32  # in place, no upcast
    assert_stats(t.numpy(), 0.5, 5 / math.sqrt(12), -2.0, 3.0)
    init.normal_(t, 1.5, 0.3)
    assert t.data is arr and t.dtype == np.float32
    assert_stats(t.numpy(), 1.5, 0.3)
    init.constant_(t, 0.25)
    assert np.all(t.numpy() == 0.25)
    init.zeros_(t)
    assert np.all(t.numpy() == 0)
    init.ones_(t)
    assert np.all(t.numpy() == 1)


def test_float64_tensor_gets_float64_draws(device):
    t = big(device, mg.float64)
    init.normal_(t)
    a = t.numpy()
    assert a.dtype == np.float64
    assert np.any(a != a.astype(np.float32))  # genuinely float64 values, not widened float32


def test_xavier(device):
    t = big(device)
    fan_in, fan_out = N_COLS, N_ROWS
    bound = 2.0 * math.sqrt(6 / (fan_in + fan_out))
    init.xavier_uniform_(t, gain=2.0)
    assert_stats(t.numpy(), 0.0, bound / math.sqrt(3), -bound, bound)
    init.xavier_normal_(t, gain=0.5)
    assert_stats(t.numpy(), 0.0, 0.5 * math.sqrt(2 / (fan_in + fan_out)))


@pytest.mark.parametrize("mode, fan", [("fan_in", N_COLS), ("fan_out", N_ROWS)])
def test_kaiming(device, mode, fan):
    t = big(device)
    init.kaiming_uniform_(t, mode=mode, nonlinearity="relu")
    bound = math.sqrt(2) * math.sqrt(3 / fan)
    assert_stats(t.numpy(), 0.0, bound / math.sqrt(3), -bound, bound)
    init.kaiming_normal_(t, a=0.2, mode=mode)
    assert_stats(t.numpy(), 0.0, math.sqrt(2 / 1.04) / math.sqrt(fan))
    with pytest.raises(ValueError, match="mode 'fan_avg' not supported"):
        init.kaiming_uniform_(t, mode="fan_avg")


def test_init_reproducible_with_manual_seed():
    a, b = mg.zeros(4, 4), mg.zeros(4, 4)
    mg.manual_seed(5)
    init.normal_(a)
    mg.manual_seed(5)
    init.normal_(b)
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def _check_uniform_bound(t, bound):
    a = t.numpy()
    assert a.dtype == np.float32
    assert np.abs(a).max() <= bound * (1 + 1e-6)
    assert np.abs(a).max() > 0.95 * bound


def test_default_layer_init_matches_pytorch(device):
    lin = nn.Linear(400, 300, device=device)
    # kaiming_uniform_(a=sqrt(5)): gain sqrt(1/3), bound sqrt(3) * gain / sqrt(fan_in) = 1 / sqrt(fan_in)
    _check_uniform_bound(lin.weight, 1 / math.sqrt(400))
    _check_uniform_bound(lin.bias, 1 / math.sqrt(400))
    # enough biases that "the largest is within 5% of the bound" cannot fail by chance (0.95^1024)
    conv = nn.Conv2d(8, 1024, 3, device=device)
    _check_uniform_bound(conv.weight, 1 / math.sqrt(8 * 9))
    _check_uniform_bound(conv.bias, 1 / math.sqrt(8 * 9))
    # ConvTranspose2d weight (C_in, C_out, kh, kw): PyTorch's fan_in uses dim 1 = C_out
    convt = nn.ConvTranspose2d(64, 16, 4, device=device)
    assert convt.weight.shape == (64, 16, 4, 4)
    _check_uniform_bound(convt.weight, 1 / math.sqrt(16 * 16))
    convt = nn.ConvTranspose2d(2, 512, 1, device=device)  # 512 biases, fan_in 512 * 1 * 1
    _check_uniform_bound(convt.bias, 1 / math.sqrt(512))
    bn = nn.BatchNorm2d(5, device=device)
    np.testing.assert_array_equal(bn.weight.numpy(), np.ones(5))
    np.testing.assert_array_equal(bn.bias.numpy(), np.zeros(5))
    np.testing.assert_array_equal(bn.running_mean.numpy(), np.zeros(5))
    np.testing.assert_array_equal(bn.running_var.numpy(), np.ones(5))
    assert bn.num_batches_tracked.dtype == np.int64 and bn.num_batches_tracked.item() == 0


def test_layer_dtype_and_device_kwargs(device):
    lin = nn.Linear(3, 2, dtype=mg.float64, device=device)
    assert lin.weight.dtype == np.float64 and lin.weight.device == device
    conv = nn.Conv2d(1, 2, 3, device=device)
    assert conv.weight.dtype == np.float32 and conv.weight.device == device


def test_uniform_with_own_generator_leaves_minigrads_stream_alone():
    t = mg.zeros(4, 5)
    gen = np.random.default_rng(42)
    mg.manual_seed(0)
    before = mg.backend.get_rng_state()
    init.uniform_(t, a=-0.05, b=0.05, generator=gen)
    expected = np.random.default_rng(42).random((4, 5), dtype=np.float32) * np.float32(0.1) - np.float32(0.05)
    np.testing.assert_array_equal(t.numpy(), expected)
    assert mg.backend.get_rng_state() == before  # minigrad's generator was not drawn from
    assert np.abs(t.numpy()).max() <= 0.05
