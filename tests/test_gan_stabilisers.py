"""python -m gan train with the stabilisers of issue 13 (--loss hinge / wgan-gp, --r1, --spectral-norm,
--d-norm): each trains end to end, logs its penalty, and resumes bit for bit."""

import json

import numpy as np
import pytest
from helpers import assert_same_arrays, run_arrays

from gan import cli

DCGAN = ("--model", "dcgan28", "--width", "0.0625")
CASES = {
    "wgan-gp": (*DCGAN, "--loss", "wgan-gp", "--k", "2", "--gp-lambda", "5"),  # LayerNorm critic
    "r1-lazy": ("--r1", "10", "--r1-every", "2", "--lr-g", "3e-4"),
    "spectral-norm": (*DCGAN, "--spectral-norm"),
    "hinge": (*DCGAN, "--loss", "hinge", "--d-norm", "layer"),
}


def _records(run_dir):
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("case", list(CASES))
def test_stabilised_runs_train_log_and_resume_bit_for_bit(case, train_tiny, tmp_path):
    flags = (*CASES[case], "--log-every", "1")
    assert train_tiny(tmp_path / "full", "--epochs", "2", *flags) == 0
    assert train_tiny(tmp_path / "half", "--epochs", "1", *flags) == 0
    assert cli.main(["train", "--resume", str(tmp_path / "half"), "--epochs", "2", "--quiet"]) == 0
    full = run_arrays(tmp_path / "full")  # parameters and buffers: SN's u and v, BatchNorm's statistics
    assert_same_arrays(full, run_arrays(tmp_path / "half"))
    a, b = _records(tmp_path / "full"), _records(tmp_path / "half")
    assert [(r["kind"], r["step"], r["penalty"], r["loss_d"]) for r in a] == [
        (r["kind"], r["step"], r["penalty"], r["loss_d"]) for r in b
    ]
    steps = [r for r in a if r["kind"] == "step"]
    assert all(np.isfinite(r["loss_d"]) and np.isfinite(r["loss_g"]) for r in steps)
    config = json.loads((tmp_path / "full" / "config.json").read_text())
    if case == "wgan-gp":
        assert (config["lr_g"], config["lr_d"], config["beta1"], config["beta2"]) == (1e-4, 1e-4, 0.0, 0.9)
        assert config["d_norm"] == "layer" and config["gp_lambda"] == 5.0 and config["k"] == 2
        assert all(r["penalty"] > 0 for r in steps)  # the penalty of the step's last critic update
        assert full["discriminator.3.weight"].shape == (4, 7, 7)  # LayerNorm over the second conv's (C, H, W)
    elif case == "r1-lazy":
        assert (config["lr_g"], config["lr_d"], config["r1"], config["r1_every"]) == (3e-4, 2e-4, 10.0, 2)
        # log_every 1, k 1: the logged penalty is that of step s, applied on D steps 0, 2, 4 ... (step s = d_step + 1)
        assert [r["penalty"] > 0 for r in steps] == [r["step"] % 2 == 1 for r in steps]
    elif case == "spectral-norm":
        assert config["d_norm"] == "none" and config["spectral_norm"] is True
        assert {"discriminator.0.weight_orig", "discriminator.0.weight_u", "discriminator.0.weight_v"} <= full.keys()
        assert all(r["penalty"] == 0 for r in steps)
    else:
        assert all(r["penalty"] == 0 for r in steps) and config["d_norm"] == "layer"
