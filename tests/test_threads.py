"""minigrad.set_num_threads / get_num_threads and the idle-core policy the gan CLI uses by default."""

import json
import subprocess
import sys

import pytest
from helpers import TINY_TRAIN_FLAGS

import minigrad
from minigrad import threads


def test_set_num_threads_sets_the_blas_pool_and_the_optimizer_threads():
    if not threads.blas_thread_control():
        pytest.skip("NumPy's BLAS here is not OpenBLAS")
    before = minigrad.get_num_threads()
    try:
        minigrad.set_num_threads(1)
        assert minigrad.get_num_threads() == 1 and minigrad.optim.get_num_threads() == 1
        set_fn, get_fn = threads._openblas()
        assert get_fn() == 1  # asked of OpenBLAS itself
        minigrad.set_num_threads(2)
        assert get_fn() == 2 and minigrad.optim.get_num_threads() == 2
    finally:
        minigrad.set_num_threads(before)


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2", True])
def test_set_num_threads_rejects_non_positive_integers(bad):
    with pytest.raises(ValueError, match="set_num_threads"):
        minigrad.set_num_threads(bad)


def test_unknown_blas_warns_and_still_sets_the_optimizer_threads(monkeypatch):
    monkeypatch.setattr(threads, "_blas", False)  # as if no OpenBLAS were loaded
    before = minigrad.optim.get_num_threads()
    try:
        with pytest.warns(RuntimeWarning, match="OPENBLAS_NUM_THREADS"):
            minigrad.set_num_threads(1)
        assert minigrad.optim.get_num_threads() == 1 and minigrad.get_num_threads() == 1
    finally:
        minigrad.optim.set_num_threads(before)


def test_import_leaves_the_blas_pool_alone():
    code = (
        "import os, numpy; from minigrad import threads; import minigrad; set_fn, get_fn = threads._openblas(); "
        "print(get_fn())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"OPENBLAS_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"},
    )
    if out.returncode:
        pytest.skip(f"no OpenBLAS control here: {out.stderr.strip().splitlines()[-1]}")
    assert out.stdout.strip() == "1"


def _ticks(monkeypatch, samples, own=(0.0, 0.0), cpus=(0, 1)):
    """Feed idle_cpus a sequence of (busy, total) jiffies and this process's (user, system) seconds."""
    seq = iter(samples)
    times = iter(own)
    monkeypatch.setattr(threads, "_cpu_ticks", lambda c: next(seq))
    monkeypatch.setattr(threads, "usable_cpus", lambda: list(cpus))
    monkeypatch.setattr(threads.time, "sleep", lambda s: None)

    class T:
        def __init__(self, user):
            self.user, self.system = user, 0.0

    monkeypatch.setattr(threads.os, "times", lambda: T(next(times)))


@pytest.mark.parametrize(
    "busy,own,idle,policy",
    [
        (0, 0.0, 2.0, 2),  # a quiet machine: both cores
        (100, 0.0, 1.0, 1),  # one busy process on 2 cores (100 of 200 jiffies)
        (200, 0.0, 0.0, 1),  # both cores busy: still one thread
        (100, 1.0, 2.0, 2),  # the busy jiffies were this process's own (1 s = 100 jiffies)
        (30, 0.0, 1.7, 1),  # 0.3 of a core used by others: that core does not count as idle
        (10, 0.0, 1.9, 2),
    ],
)
def test_idle_cpus_and_the_policy(monkeypatch, busy, own, idle, policy):
    _ticks(monkeypatch, [(1000, 5000), (1000 + busy, 5200)], own=(5.0, 5.0 + own))
    assert threads.idle_cpus(1.0) == pytest.approx(idle)
    _ticks(monkeypatch, [(1000, 5000), (1000 + busy, 5200)], own=(5.0, 5.0 + own))
    assert threads.recommended_num_threads(1.0) == policy


def test_gan_train_records_its_thread_count(train_tiny, tmp_path, monkeypatch):
    from gan import cli

    assert train_tiny(tmp_path / "one", "--epochs", "1") == 0  # the fixture passes --threads 1
    assert json.loads((tmp_path / "one" / "config.json").read_text())["threads"] == 1
    # without --threads: the policy's count
    monkeypatch.setattr(threads, "recommended_num_threads", lambda interval=0.1: 2)
    data_dir = json.loads((tmp_path / "one" / "config.json").read_text())["data_dir"]
    argv = ["train", "--model", "mlp", "--data-dir", data_dir, *TINY_TRAIN_FLAGS, "--epochs", "1"]
    assert cli.main([*argv, "--outdir", str(tmp_path / "two")]) == 0
    expected = 2 if threads.blas_thread_control() else minigrad.optim.get_num_threads()
    assert json.loads((tmp_path / "two" / "config.json").read_text())["threads"] == expected
    # resuming keeps the run's own count (1) even where the policy would give 2: the same bits
    assert cli.main(["train", "--resume", str(tmp_path / "one"), "--epochs", "2", "--quiet"]) == 0
    assert json.loads((tmp_path / "one" / "config.json").read_text())["threads"] == 1
    # and a busy machine lowers it: 2 recorded, 1 idle core
    monkeypatch.setattr(threads, "recommended_num_threads", lambda interval=0.1: 1)
    assert cli.main(["train", "--resume", str(tmp_path / "two"), "--epochs", "2", "--quiet"]) == 0
    assert json.loads((tmp_path / "two" / "config.json").read_text())["threads"] == 1


def test_gan_sample_and_evaluate_take_threads(train_tiny, tmp_path, monkeypatch):
    from gan import cli

    assert train_tiny(tmp_path / "run", "--epochs", "1") == 0
    calls = []
    monkeypatch.setattr(threads, "set_num_threads", calls.append)
    monkeypatch.setattr(threads, "recommended_num_threads", lambda interval=0.1: 2)
    npy = str(tmp_path / "s.npy")
    assert cli.main(["sample", "--checkpoint", str(tmp_path / "run"), "--n", "4", "--out", npy, "--threads", "1"]) == 0
    assert cli.main(["sample", "--checkpoint", str(tmp_path / "run"), "--n", "4", "--out", npy]) == 0
    assert cli.main(["evaluate", "--samples", npy, "--no-parzen", "--threads", "1"]) == 0
    assert calls == [1, 2, 1]  # --threads N, else the idle-core policy


@pytest.mark.parametrize("command", ["train", "sample", "evaluate", "plot"])
@pytest.mark.parametrize("value", ["0", "-2", "two"])
def test_bad_threads_is_a_usage_error(command, value, capsys):
    from gan import cli

    with pytest.raises(SystemExit) as e:
        cli.main([command, "--threads", value])
    assert e.value.code == 2 and "--threads" in capsys.readouterr().err
