"""The scripts in examples/ run as documented (tiny settings) and leave what they promise."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(script, *args, cwd):
    env = dict(os.environ, PYTHONPATH=str(ROOT), OPENBLAS_NUM_THREADS="1", MPLBACKEND="Agg")
    return subprocess.run(
        [sys.executable, str(ROOT / "examples" / script), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_backprop_tour_prints_every_node_and_passes_gradcheck(tmp_path):
    r = _run("backprop_tour.py", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "grad" in r.stdout and "gradcheck" in r.stdout.lower()
    for when in ("before", "after", "freed"):
        assert (tmp_path / f"backprop_graph_{when}.png").stat().st_size > 10_000
    # the walk of L.grad_fn.next_functions after backward reaches the first op and both leaves' AccumulateGrad
    assert "<MatMulBackward> ((None, 0), (<AccumulateGrad>, 0))" in r.stdout
    assert "<AddBackward> ((<MatMulBackward>, 0), (<AccumulateGrad>, 0))" in r.stdout


def test_higher_order_example_checks_its_three_results(tmp_path):
    r = _run("higher_order.py", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "all three checks passed" in r.stdout


def test_gradcheck_your_op_runs(tmp_path):
    r = _run("gradcheck_your_op.py", cwd=tmp_path)
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize(
    "script,args",
    [
        ("train_mlp_gan.py", ["--epochs", "1", "--limit", "256", "--batch-size", "64"]),
        ("train_dcgan.py", ["--epochs", "1", "--limit", "64", "--batch-size", "32"]),
    ],
)
def test_training_examples_write_a_sample_grid(script, args, tmp_path):
    r = _run(script, *args, "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "out" / "epoch_001.png").stat().st_size > 1000
