"""detect_anomaly: the first nan/inf names the op, forward or backward, the input, and the user's line."""

import inspect
import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.autograd import AnomalyError, detect_anomaly, is_anomaly_enabled, set_detect_anomaly


def _line_of(marker):
    """The line number, in this file, of the source line that contains ``marker``."""
    lines, _ = inspect.getsourcelines(inspect.getmodule(_line_of))
    return next(i + 1 for i, text in enumerate(lines) if marker in text and "_line_of" not in text)


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


@pytest.mark.parametrize("case, op", [("log0", "Log"), ("zero_by_zero", "Div"), ("sqrt_negative", "Sqrt")])
def test_forward_nan_names_the_op_and_the_user_line(case, op):
    x = mg.tensor([1.0, 0.0, -1.0], dtype=mg.float64, requires_grad=True)
    with detect_anomaly(), pytest.raises(AnomalyError) as info:
        if case == "log0":
            x.log()  # marker: log0
        elif case == "zero_by_zero":
            (x * 0) / (x * 0)  # marker: zero_by_zero
        else:
            x.sqrt()  # marker: sqrt_negative
    msg = str(info.value)
    assert f"Function '{op}' returned nan/inf values in its forward output" in msg
    assert f"test_anomaly.py:{_line_of('marker: ' + case)}" in msg
    assert "shape (3,)" in msg


def test_backward_nan_names_the_backward_op_the_input_and_the_forward_line():
    x = mg.tensor([0.0, 4.0], dtype=mg.float64, requires_grad=True)
    with detect_anomaly():
        y = x.sqrt()  # marker: sqrt_at_zero (finite forward: sqrt(0) = 0; backward divides by 0)
        loss = y.sum()
        with pytest.raises(AnomalyError) as info:
            loss.backward()
    msg = str(info.value)
    assert "Function 'SqrtBackward' returned nan/inf values in its gradient for input 0 (shape (2,)" in msg
    assert f"test_anomaly.py:{_line_of('marker: sqrt_at_zero')}" in msg


class _Broken(nn.Module):
    def forward(self, x):
        return x * float("nan")  # marker: injected


def test_nan_injected_into_one_layer_of_a_network_names_that_layer():
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), _Broken(), nn.Linear(8, 1))
    x = mg.randn(3, 4)
    with detect_anomaly(), pytest.raises(AnomalyError) as info:
        net(x).mean().backward()
    msg = str(info.value)
    assert "Function 'Mul' returned nan/inf values in its forward output" in msg
    assert f"test_anomaly.py:{_line_of('marker: injected')}" in msg


def test_outside_the_context_nothing_is_checked_or_recorded():
    assert not is_anomaly_enabled()
    x = mg.tensor([1.0, 0.0], requires_grad=True)
    y = x.log()  # -inf, no error
    assert y.grad_fn is not None and not hasattr(y.grad_fn, "_creation_stack")
    y.sum().backward()  # inf gradient, no error
    assert np.isinf(x.grad.numpy()[1])


def test_set_detect_anomaly_as_a_call_and_detect_anomaly_as_a_decorator():
    set_detect_anomaly(True)
    try:
        assert is_anomaly_enabled()
    finally:
        set_detect_anomaly(False)
    assert not is_anomaly_enabled()

    @detect_anomaly()
    def f(x):
        assert is_anomaly_enabled()
        return x.log()

    with pytest.raises(AnomalyError, match="Log"):
        f(mg.tensor([0.0], requires_grad=True))
    assert not is_anomaly_enabled()
    with set_detect_anomaly(False):
        assert not is_anomaly_enabled()


def test_check_nan_false_records_the_stack_but_raises_nothing():
    x = mg.tensor([0.0], requires_grad=True)
    with detect_anomaly(check_nan=False):
        y = x.log()
    assert y.grad_fn._creation_stack


def test_gan_train_detect_anomaly_names_the_op(train_tiny, tmp_path, monkeypatch, capsys):
    from gan.training import steps

    calls = {"n": 0}
    original = steps.d_loss_for

    def poisoned(*args):
        calls["n"] += 1
        if calls["n"] == 3:
            args = (args[0], args[1] * float("nan")) + args[2:]  # marker: poisoned logits
        return original(*args)

    monkeypatch.setattr(steps, "d_loss_for", poisoned)
    code = train_tiny(tmp_path / "run", "--epochs", "2", "--detect-anomaly")
    assert code == 1
    err = capsys.readouterr().err
    assert "diverged at step 3" in err and "Function 'Mul'" in err
    assert f"test_anomaly.py:{_line_of('marker: poisoned logits')}" in err


def test_no_grad_code_and_unrecorded_ops_are_not_checked_in_forward():
    with detect_anomaly(), mg.no_grad():
        y = mg.tensor([-1.0]).sqrt()  # evaluation code: nothing recorded, nothing checked
    assert np.isnan(y.numpy()).all()
