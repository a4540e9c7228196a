"""gan train --amp: float16 forwards under autocast, float32 master weights, one GradScaler per player whose scale
and skipped steps go into metrics.jsonl and the checkpoint, so a resumed run continues bit for bit."""

import functools
import json

import numpy as np
import pytest
from helpers import assert_same_arrays, run_arrays

from gan import cli
from gan.run.checkpoint import load_checkpoint
from gan.training import mixed_precision
from minigrad.amp import GradScaler

TINY_DCGAN = ("--model", "dcgan28", "--width", "0.0625", "--log-every", "2", "--amp")


@pytest.fixture
def lively_scaler(monkeypatch):
    """Scalers that start too high (2^24: the first steps overflow float16 and are skipped) and grow every 2
    steps, so the scale moves both ways within a tiny run and a resume that lost it would differ."""
    monkeypatch.setattr(
        mixed_precision, "GradScaler", functools.partial(GradScaler, init_scale=2.0**24, growth_interval=2)
    )


def _log(run):
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def test_amp_run_logs_its_scalers_keeps_float32_weights_and_resumes_bit_for_bit(train_tiny, tmp_path, lively_scaler):
    assert train_tiny(tmp_path / "full", "--epochs", "2", *TINY_DCGAN) == 0
    assert train_tiny(tmp_path / "half", "--epochs", "1", *TINY_DCGAN) == 0
    assert cli.main(["train", "--resume", str(tmp_path / "half"), "--epochs", "2", "--quiet", "--threads", "1"]) == 0
    full, half = run_arrays(tmp_path / "full"), run_arrays(tmp_path / "half")
    assert_same_arrays(full, half)
    assert all(a.dtype == np.float32 for a in full.values() if a.dtype.kind == "f")  # master weights
    a, b = load_checkpoint(tmp_path / "full"), load_checkpoint(tmp_path / "half")
    assert a["scalers"] == b["scalers"]
    assert a["config"]["amp"] is True
    logs = _log(tmp_path / "full"), _log(tmp_path / "half")
    keys = ("amp_scale_d", "amp_scale_g", "amp_skipped_d", "amp_skipped_g")
    assert [[r[k] for k in keys] for r in logs[0]] == [[r[k] for k in keys] for r in logs[1]]
    last = logs[0][-1]
    # 2^24 overflows float16 gradients at first: both players skipped steps and backed off from there
    assert last["amp_skipped_d"] >= 1 and last["amp_skipped_g"] >= 1
    assert last["amp_scale_d"] < 2.0**24 and last["amp_scale_g"] < 2.0**24
    scales = {r["amp_scale_d"] for r in logs[0]}
    assert len(scales) > 1  # it moved during the run
    assert np.isfinite(last["loss_d"]) and np.isfinite(last["loss_g"])


@pytest.mark.parametrize(
    "flags",
    [
        ("--loss", "wgan-gp", "--k", "2", "--d-norm", "layer"),
        ("--loss", "hinge", "--r1", "1.0", "--d-norm", "none"),
        ("--updates", "simultaneous", "--model", "mlp", "--dropout", "0.2"),
    ],
    ids=["wgan-gp", "hinge-r1", "simultaneous-mlp"],
)
def test_amp_trains_with_penalties_and_simultaneous_updates(flags, train_tiny, tmp_path):
    assert train_tiny(tmp_path / "run", "--epochs", "1", *TINY_DCGAN, *flags) == 0
    last = _log(tmp_path / "run")[-1]
    assert np.isfinite(last["loss_d"]) and np.isfinite(last["loss_g"])
    assert last["amp_scale_d"] > 0 and last["amp_scale_g"] > 0


def test_without_amp_nothing_is_logged_or_kept_for_scalers(train_tiny, tmp_path):
    assert train_tiny(tmp_path / "run", "--epochs", "1", "--log-every", "2") == 0
    assert not any(k.startswith("amp_") for r in _log(tmp_path / "run") for k in r)
    assert "scalers" not in load_checkpoint(tmp_path / "run")


def test_amp_cannot_be_switched_when_resuming(train_tiny, tmp_path, capsys):
    assert train_tiny(tmp_path / "run", "--epochs", "1") == 0
    with pytest.raises(SystemExit):
        cli.main(["train", "--resume", str(tmp_path / "run"), "--epochs", "2", "--amp"])
    assert "--amp cannot be changed when resuming" in capsys.readouterr().err


def test_skipped_steps_leave_the_weights_and_count(monkeypatch):
    """MixedPrecision.step: an inf gradient skips the update, counts it, and halves that player's scale only."""
    import minigrad as mg

    amp = mixed_precision.MixedPrecision(True, "cpu")
    w = mg.ones(2, requires_grad=True)
    opt = mg.optim.SGD([w], lr=1.0)
    amp.backward("d", (w * mg.tensor([np.inf, 1.0])).sum())
    amp.step("d", opt)
    assert w.numpy().tolist() == [1.0, 1.0] and amp.skipped == {"d": 1, "g": 0}
    assert amp.record() == {"amp_scale_d": 2.0**15, "amp_scale_g": 2.0**16, "amp_skipped_d": 1, "amp_skipped_g": 0}
    w.grad = None
    amp.backward("d", (w * 3).sum())
    amp.step("d", opt)
    assert w.numpy().tolist() == [-2.0, -2.0] and amp.skipped["d"] == 1
    fresh = mixed_precision.MixedPrecision(True, "cpu")
    fresh.load_state_dict(amp.state_dict())
    assert fresh.record() == amp.record()
    off = mixed_precision.MixedPrecision(False, "cpu")
    assert off.record() == {} and off.state_dict() is None


@pytest.mark.cuda
def test_cuda_amp_run_trains_and_resumes(device, train_tiny, tmp_path):
    """The cuda leg: the same tiny --amp run on CuPy, resumed from epoch 1, matches the uninterrupted one (to float
    rounding: bit for bit is promised on the CPU only, as for float32 runs)."""
    if device != "cuda":
        pytest.skip("the cuda leg")
    flags = (*TINY_DCGAN, "--device", "cuda")
    assert train_tiny(tmp_path / "full", "--epochs", "2", *flags) == 0
    assert train_tiny(tmp_path / "half", "--epochs", "1", *flags) == 0
    assert cli.main(["train", "--resume", str(tmp_path / "half"), "--epochs", "2", "--quiet", "--threads", "1"]) == 0
    full, half = run_arrays(tmp_path / "full"), run_arrays(tmp_path / "half")
    assert full.keys() == half.keys()
    for key in full:
        np.testing.assert_allclose(full[key], half[key], rtol=1e-4, atol=1e-6, err_msg=key)
    assert np.isfinite(_log(tmp_path / "full")[-1]["loss_d"])
