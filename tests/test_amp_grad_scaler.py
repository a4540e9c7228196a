"""minigrad.amp.GradScaler: the scale schedule under injected inf / nan gradients against hand-computed values,
skipped steps, PyTorch's per-optimizer stage errors, state_dict, and the disabled scaler."""

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad.amp import GradScaler


def _iteration(scaler, w, opt, x):
    """One step of loss = sum(w * x): the gradient is x (inf or nan where x is)."""
    opt.zero_grad()
    scaler.scale((w * mg.tensor(x)).sum()).backward()
    scaler.step(opt)
    scaler.update()


def test_schedule_under_injected_inf_and_nan_against_hand_computed_values():
    """init 16, growth 2 every 3 clean steps, backoff 0.5 on a bad one (which resets the count)."""
    w = mg.zeros(2, requires_grad=True)
    opt = mg.optim.SGD([w], lr=1.0)
    scaler = GradScaler("cpu", init_scale=16.0, growth_factor=2.0, backoff_factor=0.5, growth_interval=3)
    bad = [False, False, False, True, False, True, True, False, False, False, False]
    # by hand: the scale and the growth tracker after each update()
    scales = [16, 16, 32, 16, 16, 8, 4, 4, 4, 8, 8]
    trackers = [1, 2, 0, 0, 1, 0, 0, 1, 2, 0, 1]
    clean_steps = 0
    for i, is_bad in enumerate(bad):
        x = [np.inf if i % 2 else np.nan, 1.0] if is_bad else [0.5, 0.25]
        before = w.numpy().copy()
        _iteration(scaler, w, opt, x)
        assert scaler.get_scale() == scales[i], i
        assert scaler.state_dict()["_growth_tracker"] == trackers[i], i
        if is_bad:
            np.testing.assert_array_equal(w.numpy(), before)  # skipped: w untouched
        else:
            clean_steps += 1
            np.testing.assert_array_equal(w.numpy(), before - np.array([0.5, 0.25], np.float32))  # unscaled exactly
    np.testing.assert_array_equal(w.numpy(), -clean_steps * np.array([0.5, 0.25], np.float32))


def test_unscale_divides_the_gradients_and_step_does_not_unscale_twice():
    w = mg.ones(3, requires_grad=True)
    opt = mg.optim.SGD([w], lr=0.5)
    scaler = GradScaler("cpu", init_scale=1024.0)
    scaler.scale((w * mg.tensor([1.0, 2.0, 3.0])).sum()).backward()
    np.testing.assert_array_equal(w.grad.numpy(), [1024.0, 2048.0, 3072.0])
    scaler.unscale_(opt)
    np.testing.assert_array_equal(w.grad.numpy(), [1.0, 2.0, 3.0])
    scaler.step(opt)
    np.testing.assert_array_equal(w.numpy(), [0.5, 0.0, -0.5])
    scaler.update()
    assert scaler.get_scale() == 1024.0


def test_stage_errors_as_pytorch():
    w = mg.ones(2, requires_grad=True)
    opt = mg.optim.SGD([w], lr=0.1)
    scaler = GradScaler("cpu")
    with pytest.raises(RuntimeError, match="no inf checks were recorded"):
        scaler.update()
    scaler.scale(w.sum()).backward()
    scaler.unscale_(opt)
    with pytest.raises(RuntimeError, match="already been called on this optimizer"):
        scaler.unscale_(opt)
    scaler.step(opt)
    with pytest.raises(RuntimeError, match="after step"):
        scaler.unscale_(opt)
    with pytest.raises(RuntimeError, match="step\\(\\) has already been called"):
        scaler.step(opt)
    scaler.update()
    scaler.scale(w.sum()).backward()
    scaler.unscale_(opt)  # a new iteration: allowed again
    with pytest.raises(RuntimeError, match="closure"):
        scaler.step(opt, closure=lambda: None)


def test_two_optimizers_share_one_update_and_any_inf_backs_off():
    a, b = mg.ones(1, requires_grad=True), mg.ones(1, requires_grad=True)
    oa, ob = mg.optim.SGD([a], lr=1.0), mg.optim.SGD([b], lr=1.0)
    scaler = GradScaler("cpu", init_scale=4.0)
    scaler.scale((a * 2).sum() + (b * mg.tensor([np.inf])).sum()).backward()
    scaler.step(oa)
    scaler.step(ob)
    scaler.update()
    assert a.item() == -1.0 and b.item() == 1.0  # a stepped, b skipped
    assert scaler.get_scale() == 2.0


def test_update_with_new_scale_and_growth_stops_at_float32_range():
    w = mg.ones(1, requires_grad=True)
    opt = mg.optim.SGD([w], lr=0.0)
    scaler = GradScaler("cpu", init_scale=2.0**127, growth_interval=1)
    scaler.scale(w.sum() * 0).backward()
    scaler.step(opt)
    scaler.update()
    assert scaler.get_scale() == 2.0**127  # 2^128 overflows float32: kept
    scaler.update(new_scale=8.0)
    assert scaler.get_scale() == 8.0
    scaler.update(new_scale=mg.tensor(0.25))
    assert scaler.get_scale() == 0.25


def test_scale_keeps_the_dtype_and_maps_over_lists_and_tuples():
    scaler = GradScaler("cpu", init_scale=4.0)
    h = mg.tensor([1.5], dtype=mg.float16)
    assert scaler.scale(h).dtype == np.float16 and scaler.scale(h).item() == 6.0
    out = scaler.scale([mg.tensor(1.0), (mg.tensor(2.0), mg.tensor(3.0))])
    assert isinstance(out, list) and isinstance(out[1], tuple)
    assert [out[0].item(), out[1][0].item(), out[1][1].item()] == [4.0, 8.0, 12.0]
    with pytest.raises(ValueError, match="GradScaler.scale"):
        scaler.scale(3.0)


def test_float16_gradients_are_refused():
    w = mg.ones(2, dtype=mg.float16, requires_grad=True)
    opt = mg.optim.SGD([w], lr=0.1)
    scaler = GradScaler("cpu", init_scale=4.0)
    scaler.scale(w.sum()).backward()
    with pytest.raises(ValueError, match="unscale float16 gradients"):
        scaler.step(opt)


def test_state_dict_round_trip_continues_the_schedule():
    w = mg.zeros(1, requires_grad=True)
    opt = mg.optim.SGD([w], lr=0.1)
    a = GradScaler("cpu", init_scale=8.0, growth_interval=2)
    _iteration(a, w, opt, [1.0])
    state = a.state_dict()
    assert state == {
        "scale": 8.0,
        "growth_factor": 2.0,
        "backoff_factor": 0.5,
        "growth_interval": 2,
        "_growth_tracker": 1,
    }
    b = GradScaler("cpu")
    b.load_state_dict(state)
    _iteration(a, w, opt, [1.0])
    _iteration(b, w, opt, [1.0])
    assert a.state_dict() == b.state_dict() and b.get_scale() == 16.0
    with pytest.raises(RuntimeError, match="empty"):
        b.load_state_dict({})
    with pytest.raises(KeyError, match="scale"):
        b.load_state_dict({"growth_factor": 2.0})


def test_disabled_scaler_passes_everything_through():
    w = mg.ones(1, requires_grad=True)
    opt = mg.optim.SGD([w], lr=1.0)
    scaler = GradScaler("cpu", enabled=False)
    loss = (w * 3).sum()
    assert scaler.scale(loss) is loss and scaler.get_scale() == 1.0 and not scaler.is_enabled()
    loss.backward()
    scaler.unscale_(opt)
    scaler.step(opt)
    scaler.update()
    assert w.item() == -2.0
    assert scaler.state_dict() == {}
    scaler.load_state_dict({})  # ignored, as PyTorch's


def test_constructor_checks():
    assert GradScaler().get_scale() == 2.0**16  # PyTorch's defaults
    s = GradScaler("cpu")
    assert (s.get_growth_factor(), s.get_backoff_factor(), s.get_growth_interval()) == (2.0, 0.5, 2000)
    with pytest.raises(ValueError, match="device"):
        GradScaler("tpu")
    with pytest.raises(ValueError, match="growth_factor"):
        GradScaler("cpu", growth_factor=1.0)
    with pytest.raises(ValueError, match="backoff_factor"):
        GradScaler("cpu", backoff_factor=1.0)
    with pytest.raises(ValueError, match="growth_interval"):
        GradScaler("cpu", growth_interval=0)
    assert math.isfinite(GradScaler("cpu").get_scale())


def test_float16_underflow_is_what_the_scaler_rescues():
    """A gradient of 2^-26 flushes to zero in a float16 backward without scaling and survives with 2^16."""
    w = mg.ones((1, 1), requires_grad=True)

    def loss():
        with mg.amp.autocast("cpu"):
            return (w @ mg.ones((1, 1))).sum() * 2.0**-26  # a float16 matmul, a float32 sum

    loss().backward()
    assert w.grad.item() == 0.0  # 2^-26 is below float16's smallest subnormal, 2^-24
    w.grad = None
    scaler = GradScaler("cpu")
    scaler.scale(loss()).backward()
    scaler.unscale_(mg.optim.SGD([w], lr=1.0))
    assert w.grad.item() == 2.0**-26


@pytest.mark.cuda
def test_cuda_scaler_skips_inf_steps(device):
    if device != "cuda":
        pytest.skip("the cuda leg")
    w = mg.zeros(2, device=device, requires_grad=True)
    opt = mg.optim.SGD([w], lr=1.0)
    scaler = GradScaler("cuda", init_scale=4.0)
    _iteration(scaler, w, opt, [np.inf, 1.0])
    assert scaler.get_scale() == 2.0 and w.numpy().tolist() == [0.0, 0.0]
    _iteration(scaler, w, opt, [1.0, 2.0])
    assert w.numpy().tolist() == [-1.0, -2.0]
