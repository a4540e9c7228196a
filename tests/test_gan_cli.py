"""python -m gan: end-to-end runs of every model, the files they promise, sampling, and usage errors."""

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from conftest import write_idx
from PIL import Image

import minigrad
from gan import cli
from gan.config import TrainConfig
from gan.data import load_mnist
from gan.run.checkpoint import load_checkpoint

RUNS = {  # tiny versions: seconds, not minutes
    "mlp": ["--model", "mlp", "--width", "0.1", "--limit", "128", "--batch-size", "32"],
    "dcgan28": ["--width", "0.0625", "--limit", "64", "--batch-size", "32"],
    "dcgan64": ["--width", "0.03125", "--limit", "32", "--batch-size", "16", "--channels", "3"],
}


@pytest.mark.parametrize("model", list(RUNS))
def test_train_then_sample(model, mnist_dir, tmp_path, capsys):
    out = tmp_path / "run"
    argv = [
        "train",
        "--model",
        model,
        "--epochs",
        "1",
        "--log-every",
        "1",
        "--data-dir",
        str(mnist_dir),
        "--outdir",
        str(out),
        *RUNS[model],
    ]
    assert cli.main(argv) == 0
    printed = capsys.readouterr().out
    assert "epoch 1/1" in printed  # not a TTY here: one summary line per epoch, no bar

    config = json.loads((out / "config.json").read_text())
    assert config["model"] == model and config["epochs"] == 1 and config["seed"] == 0
    assert config["minigrad_version"] == minigrad.__version__
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert {r["kind"] for r in records} == {"step", "epoch"}
    for r in records:
        assert all(math.isfinite(r[key]) for key in ("loss_d", "loss_g", "d_real", "d_fake"))
    channels = 3 if model == "dcgan64" else 1
    size = 64 if model == "dcgan64" else 28
    with Image.open(out / "samples" / "epoch_001.png") as im:
        assert im.size[0] > 8 * size  # an 8 x 8 grid (plus padding and a title)
    for name in ("progress.gif", "losses.png"):
        with Image.open(out / name) as im:
            im.verify()
    state = load_checkpoint(out)
    assert state["epoch"] == 1 and state["fixed_noise"].shape == (64, 100)
    assert state["config"]["model"] == model

    npy, grid = tmp_path / "samples.npy", tmp_path / "grid.png"
    argv = ["sample", "--checkpoint", str(out), "--n", "10", "--out", str(npy), "--grid", str(grid), "--seed", "1"]
    assert cli.main(argv) == 0
    x = np.load(npy)
    assert x.shape == ((10, size, size) if channels == 1 else (10, 3, size, size))
    assert x.dtype == np.float32 and x.min() >= 0 and x.max() <= 1
    assert grid.is_file()
    # same seed, same samples; the checkpoint file itself is accepted too
    assert (
        cli.main(
            [
                "sample",
                "--checkpoint",
                str(out / "checkpoint.npz"),
                "--n",
                "10",
                "--out",
                str(tmp_path / "again.npy"),
                "--seed",
                "1",
            ]
        )
        == 0
    )
    assert np.array_equal(np.load(tmp_path / "again.npy"), x)


def test_corrupt_data_dir_gives_a_clean_error(tmp_path, capsys):
    images, labels = load_mnist("train")
    write_idx(tmp_path / "train-images-idx3-ubyte", images[:64])
    write_idx(tmp_path / "train-labels-idx1-ubyte", labels[:64])
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-100])  # truncated
    code = cli.main(["train", "--data-dir", str(tmp_path), "--outdir", str(tmp_path / "run"), "--quiet"])
    assert code == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "truncated" in err and str(path) in err


BAD = [
    (["train", "--k", "0"], "--k"),
    (["train", "--epochs", "-1"], "--epochs"),
    (["train", "--epochs", "many"], "--epochs"),
    (["train", "--model", "vae"], "--model"),
    (["train", "--model", "dcgan64", "--image-size", "28"], "--image-size"),
    (["train", "--model", "dcgan28", "--dropout", "0.5"], "--dropout"),
    (["train", "--label-smoothing", "1.5"], "--label-smoothing"),
    (["train", "--batch-size", "64", "--limit", "10"], "--limit"),
    (["train", "--lr", "-1"], "--lr"),
    (["train", "--lr", "inf"], "--lr"),
    (["train", "--width", "inf"], "--width"),
    (["train", "--seed", "-1"], "--seed"),
    (["sample", "--seed", "-1", "--n", "2", "--checkpoint", "x", "--out", "x.npy"], "--seed"),
    (["evaluate", "--reference", "--no-parzen", "--no-classifier"], "nothing to score"),
    (["train", "--ema", "1"], "--ema"),
    (["train", "--gp-lambda", "5"], "--gp-lambda is a setting of --loss wgan-gp"),
    (["train", "--loss", "wgan-gp", "--model", "dcgan28", "--d-norm", "batch"], "BatchNorm mixes the samples"),
    (["train", "--model", "mlp", "--d-norm", "layer"], "--d-norm is a setting of --model dcgan28"),
    (["train", "--r1", "-1"], "--r1"),
    (["train", "--r1", "1", "--r1-every", "0"], "--r1-every"),
    (["train", "--loss", "hinge", "--label-smoothing", "0.1"], "--label-smoothing applies to the BCE losses"),
    (["train", "--r1", "1", "--updates", "simultaneous"], "takes no gradient penalty"),
    (["train", "--lr-g", "0"], "--lr-g"),
    (["train", "--frobnicate"], "unrecognized"),
    (["sample", "--n", "0", "--checkpoint", "x", "--out", "x.npy"], "--n"),
    (["sample", "--n", "3"], "required"),
    ([], "COMMAND"),
]


@pytest.mark.parametrize("argv,mention", BAD)
def test_bad_input_is_a_one_line_usage_error(argv, mention, capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "error:" in err and mention in err, err


def test_cuda_unavailable_is_a_usage_error(capsys):
    if minigrad.cuda.is_available():
        pytest.skip("CUDA is available here")
    with pytest.raises(SystemExit) as e:
        cli.main(["train", "--device", "cuda"])
    assert e.value.code == 2 and "CUDA is not available" in capsys.readouterr().err


def test_resume_needs_a_checkpoint(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["train", "--resume", str(tmp_path)])
    assert e.value.code == 2 and "no checkpoint" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        cli.main(["train", "--resume", str(tmp_path / "missing")])
    assert e.value.code == 2


def test_resume_refuses_changed_settings_and_outdir_reuse(mnist_dir, tmp_path, capsys):
    out = tmp_path / "run"
    assert (
        cli.main(
            ["train", "--data-dir", str(mnist_dir), "--outdir", str(out), *RUNS["mlp"], "--epochs", "1", "--quiet"]
        )
        == 0
    )
    with pytest.raises(SystemExit) as e:
        cli.main(["train", "--resume", str(out), "--lr", "0.1"])
    assert e.value.code == 2 and "--lr cannot be changed" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:  # a second run into the same folder would mix two runs
        cli.main(["train", "--data-dir", str(mnist_dir), "--outdir", str(out), *RUNS["mlp"], "--quiet"])
    assert e.value.code == 2 and "already holds a run" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        cli.main(["sample", "--checkpoint", str(tmp_path / "nothing"), "--n", "2", "--out", str(tmp_path / "a.npy")])
    assert e.value.code == 2
    with pytest.raises(SystemExit) as e:  # not more epochs than done: an error, and the run's config is untouched
        cli.main(["train", "--resume", str(out), "--epochs", "1"])
    assert e.value.code == 2 and "already trained 1 epochs" in capsys.readouterr().err
    assert '"epochs": 1' in (out / "config.json").read_text()
    blocked = tmp_path / "afile"
    blocked.write_text("")
    with pytest.raises(SystemExit) as e:
        cli.main(["sample", "--checkpoint", str(out), "--n", "2", "--out", str(blocked / "x.npy")])
    assert e.value.code == 2 and "--out" in capsys.readouterr().err


def test_a_run_stopped_before_its_first_checkpoint_can_start_over(train_tiny, tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "config.json").write_text("{}")  # what a run killed before its first checkpoint leaves
    assert train_tiny(out, "--epochs", "1") == 0
    assert (out / "checkpoint.npz").exists()


def test_relative_data_dir_is_stored_absolute(mnist_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(mnist_dir.parent)
    out = tmp_path / "run"
    assert (
        cli.main(
            ["train", "--data-dir", mnist_dir.name, "--outdir", str(out), *RUNS["mlp"], "--epochs", "1", "--quiet"]
        )
        == 0
    )
    import json

    assert json.loads((out / "config.json").read_text())["data_dir"] == str(mnist_dir.resolve())
    monkeypatch.chdir(tmp_path)  # resuming from elsewhere still finds the data
    assert cli.main(["train", "--resume", str(out), "--epochs", "2"]) == 0


@pytest.mark.parametrize(
    "command,flags",
    [
        (
            "train",
            [
                "--model",
                "--epochs",
                "--batch-size",
                "--lr",
                "--beta1",
                "--beta2",
                "--k",
                "--loss",
                "--noise",
                "--latent-dim",
                "--label-smoothing",
                "--dropout",
                "--width",
                "--channels",
                "--image-size",
                "--data-dir",
                "--limit",
                "--seed",
                "--device",
                "--outdir",
                "--resume",
                "--log-every",
                "--quiet",
                "--eval-every",
                "--ema",
                "--threads",
                "--lr-g",
                "--lr-d",
                "--gp-lambda",
                "--r1",
                "--r1-every",
                "--spectral-norm",
                "--d-norm",
            ],
        ),
        ("sample", ["--checkpoint", "--n", "--out", "--grid", "--seed", "--device", "--raw", "--threads"]),
        (
            "evaluate",
            ["--checkpoint", "--samples", "--reference", "--n", "--valid-size", "--no-parzen", "--no-classifier"]
            + ["--seed", "--device", "--raw", "--out", "--threads"],
        ),
        ("plot", ["RUN", "--from-epoch", "--scores", "--losses", "--real", "--threads"]),
    ],
)
def test_help_explains_every_flag(command, flags, capsys):
    with pytest.raises(SystemExit) as e:
        cli.main([command, "--help"])
    assert e.value.code == 0
    text = capsys.readouterr().out
    for flag in flags:
        assert flag in text, flag


def _refuse_probe(monkeypatch, err):
    """Make the write probe of gan.run.folder fail with ``err`` (root ignores permission bits, and a test
    cannot mount a read-only file system)."""
    import errno
    import os

    from gan.run import folder as writable

    real_open = os.open

    def fake_open(path, *args, **kwargs):
        if ".write-probe-" in str(path):
            raise OSError(err, os.strerror(err))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(writable.os, "open", fake_open)
    return errno


@pytest.mark.parametrize("case", ["under a file", "read-only", "no permission"])
def test_unwritable_outdir_is_a_usage_error_before_the_data_loads(case, tmp_path, monkeypatch, capsys):
    import errno

    afile = tmp_path / "afile"
    afile.write_text("")
    out = afile / "run" if case == "under a file" else tmp_path / "ro" / "run"
    if case != "under a file":
        _refuse_probe(monkeypatch, errno.EROFS if case == "read-only" else errno.EACCES)
    with pytest.raises(SystemExit) as e:  # a missing --data-dir too: the output is checked first
        cli.main(["train", "--outdir", str(out), "--data-dir", str(tmp_path / "nodata"), "--quiet"])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip()
    reason = {
        "under a file": f"{afile} is a file, not a folder",
        "read-only": "is on a read-only file system",
        "no permission": f"no permission to write in {tmp_path}",
    }[case]
    assert len(err.splitlines()) == 1 and f"--outdir {out}: cannot write there" in err and reason in err, err
    assert not (tmp_path / "ro").exists()


def test_unwritable_sample_grid_is_a_usage_error_before_sampling(train_tiny, tmp_path, monkeypatch, capsys):
    assert train_tiny(tmp_path / "run", "--epochs", "1") == 0
    afile = tmp_path / "afile"
    afile.write_text("")
    for flag, args in (
        ("--grid", ["--out", str(tmp_path / "s.npy"), "--grid", str(afile / "g.png")]),
        ("--out", ["--out", str(afile / "s.npy")]),
    ):
        monkeypatch.setattr(
            "gan.sampling.generate", lambda *a, flag=flag, **k: pytest.fail("sampled before checking " + flag)
        )
        with pytest.raises(SystemExit) as e:
            cli.main(["sample", "--checkpoint", str(tmp_path / "run"), "--n", "4", *args])
        assert e.value.code == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and f"{flag} {afile}" in err and "is a file, not a folder" in err, err
    assert not (tmp_path / "s.npy").exists()


def test_a_live_run_holds_its_folder_and_a_killed_one_does_not(train_tiny, tmp_path, capsys):
    import subprocess
    import sys

    from gan.run.lock import RunLock

    out = tmp_path / "run"
    with RunLock(out):  # a live run in the folder (flock: another open file, so it conflicts in-process too)
        with pytest.raises(SystemExit) as e:
            train_tiny(out, "--epochs", "1")
        assert e.value.code == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and f"--outdir {out}" in err and "in use by another run" in err, err
    assert train_tiny(out, "--epochs", "1") == 0
    with RunLock(out):  # resuming a run that is still training is refused too
        with pytest.raises(SystemExit) as e:
            cli.main(["train", "--resume", str(out), "--epochs", "2", "--quiet"])
        assert e.value.code == 2 and "in use by another run" in capsys.readouterr().err
    # a run killed with SIGKILL while holding the lock: the lock goes with the process
    code = (
        f"from gan.run.lock import RunLock; import os, signal; RunLock({str(out)!r}).acquire(); "
        "os.kill(os.getpid(), signal.SIGKILL)"
    )
    killed = subprocess.run([sys.executable, "-c", code], cwd=str(Path(cli.__file__).parent.parent.parent))
    assert killed.returncode == -9 and (out / ".run.lock").exists()
    assert cli.main(["train", "--resume", str(out), "--epochs", "2", "--quiet", "--threads", "1"]) == 0


def test_two_default_runs_in_the_same_second_get_two_folders(tmp_path, monkeypatch):
    from gan.run import folder

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(folder.time, "strftime", lambda fmt: "20261130-204500")
    a, b, c = (folder.default_outdir("mlp") for _ in range(3))
    assert a == str(Path("runs", "mlp-20261130-204500")) and b == a + "-2" and c == a + "-3"
    assert all(Path(x).is_dir() for x in (a, b, c))


def test_a_run_that_fails_before_writing_leaves_no_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["train", "--data-dir", str(tmp_path / "nodata"), "--quiet", "--threads", "1"]) == 1
    assert "not a directory" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists() or list((tmp_path / "runs").iterdir()) == []  # no empty run folder


def _damaged(src, dst, change):
    """A copy of run ``src``'s checkpoint in folder ``dst``, its raw minigrad dict edited by ``change``."""
    import shutil

    shutil.copytree(src, dst)
    raw = minigrad.load(dst / "checkpoint.npz")
    change(raw)
    minigrad.save(raw, dst / "checkpoint.npz")
    return dst


def _wider(raw):
    cfg = json.loads(raw["config"])
    cfg["width"] = 0.2
    raw["config"] = json.dumps(cfg)


@pytest.mark.parametrize(
    "change,mention",
    [
        (lambda raw: raw.pop("opt_g"), "no 'opt_g' entry"),
        (lambda raw: raw.pop("fixed_noise"), "no 'fixed_noise' entry"),
        (lambda raw: raw.update(config="{'model': mlp"), "'config' entry is not valid JSON"),
        (lambda raw: raw.update(config='["mlp"]'), "'config' entry is not a JSON object"),
        (lambda raw: raw.update(config='{"model": "mlp", "lr": -1}'), "config is not valid (--lr"),
        (lambda raw: raw.update(epoch="3"), "'epoch' entry is a str, not a int"),
        (_wider, "'generator' does not fit the model its config builds"),
    ],
    ids=[
        "missing-key",
        "missing-noise",
        "config-not-json",
        "config-not-object",
        "config-invalid",
        "wrong-type",
        "weights-vs-config",
    ],
)
def test_checkpoint_content_is_checked(change, mention, train_tiny, tmp_path, capsys):
    assert train_tiny(tmp_path / "run", "--epochs", "1") == 0
    bad = _damaged(tmp_path / "run", tmp_path / "bad", change)
    if change is _wider:  # the folder's config.json agrees with the checkpoint: only the weights are wrong
        (bad / "config.json").write_text(json.dumps(dict(json.loads((bad / "config.json").read_text()), width=0.2)))
    commands = {
        "--resume": ["train", "--resume", str(bad), "--epochs", "2", "--quiet", "--threads", "1"],
        "--checkpoint": ["sample", "--checkpoint", str(bad), "--n", "2", "--out", str(tmp_path / "s.npy")],
        "evaluate": ["evaluate", "--checkpoint", str(bad), "--no-parzen", "--n", "10"],
    }
    for name, argv in commands.items():
        try:
            code = cli.main(argv)
        except SystemExit as e:
            code = e.code
        err = capsys.readouterr().err.strip()
        assert code == 2, (name, err)
        assert len(err.splitlines()) == 1 and "error:" in err and mention in err, (name, err)


def test_resume_refuses_a_checkpoint_from_another_run(train_tiny, tmp_path, capsys):
    import shutil

    assert train_tiny(tmp_path / "a", "--epochs", "1") == 0
    assert train_tiny(tmp_path / "b", "--epochs", "1", "--lr", "0.001") == 0
    shutil.copy(tmp_path / "b" / "checkpoint.npz", tmp_path / "a" / "checkpoint.npz")
    with pytest.raises(SystemExit) as e:
        cli.main(["train", "--resume", str(tmp_path / "a"), "--epochs", "2", "--quiet"])
    err = capsys.readouterr().err.strip()
    assert e.value.code == 2 and len(err.splitlines()) == 1
    differences = "(lr 0.001 vs 0.0002, lr_d 0.001 vs 0.0002, lr_g 0.001 vs 0.0002)"
    assert f"differ from its config.json {differences}" in err and "another run" in err, err


def test_quiet_belongs_to_one_invocation_and_a_finished_run_says_so(train_tiny, tmp_path, capsys):
    out = tmp_path / "run"
    assert train_tiny(out, "--epochs", "1") == 0  # --quiet
    assert capsys.readouterr().out == ""
    assert cli.main(["train", "--resume", str(out), "--epochs", "2", "--threads", "1"]) == 0
    printed = capsys.readouterr().out
    assert "epoch 2/2" in printed  # not quiet this time (the bar itself needs a terminal)
    assert cli.main(["train", "--resume", str(out), "--threads", "1"]) == 0
    printed = capsys.readouterr().out
    assert f"{out} is finished: it has trained all 2 of its epochs" in printed and "--epochs 12" in printed
    assert cli.main(["train", "--resume", str(out), "--quiet"]) == 0  # also when quiet: it is the only output
    assert "is finished" in capsys.readouterr().out


def test_the_end_of_a_run_says_what_to_do_next(mnist_dir, tmp_path, capsys):
    out = tmp_path / "run"
    assert (
        cli.main(
            [
                "train",
                "--data-dir",
                str(mnist_dir),
                "--outdir",
                str(out),
                *RUNS["mlp"],
                "--epochs",
                "3",
                "--threads",
                "1",
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out.splitlines()
    epochs = [line for line in printed if line.startswith("epoch ")]
    assert len(epochs) == 3
    assert all(re.search(r", run \d+:\d\d:\d\d left$", line) for line in epochs[:2]), epochs
    assert "left" not in epochs[2]
    tail = "\n".join(printed[printed.index(epochs[2]) + 1 :])
    assert f"done: 3 epochs in {out}/" in tail
    assert f"python -m gan sample --checkpoint {out} " in tail and f"python -m gan evaluate --checkpoint {out}" in tail


def test_the_progress_bar_shows_the_whole_runs_remaining_time(mnist_dir, tmp_path):
    import io

    from gan.config import TrainConfig
    from gan.training.trainer import train

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    term = Terminal()
    cfg = TrainConfig(
        data_dir=str(mnist_dir),
        width=0.1,
        limit=128,
        batch_size=32,
        epochs=2,
        log_every=1,
        outdir=str(tmp_path / "run"),
    )
    train(cfg, stdout=term)
    bars = [part for part in term.getvalue().split("\r") if part.startswith("epoch 1/2")]
    assert any(re.match(r"epoch 1/2, run \d+:\d\d:\d\d left", part) for part in bars), bars


def test_threads_beyond_the_cpus_are_capped_with_a_note_and_recorded_as_run(train_tiny, tmp_path, capsys):
    """--threads 100000 ran 30x slower and recorded 64; 2**70 hung (one optimizer future per thread)."""
    from gan.cli.shared import use_threads
    from minigrad import threads

    cpus = len(threads.usable_cpus())
    before = minigrad.get_num_threads()
    try:
        assert use_threads(2**70) == cpus  # returns at once
        assert f"--threads {2**70} is more than the {cpus} CPUs" in capsys.readouterr().err
        out = tmp_path / "run"
        assert train_tiny(out, "--epochs", "1", "--threads", "100000") == 0  # the last --threads wins
        assert json.loads((out / "config.json").read_text())["threads"] == cpus
        assert f"using {cpus}" in capsys.readouterr().err
    finally:
        minigrad.set_num_threads(before)


@pytest.mark.parametrize("name", ["config.json", "metrics.jsonl", "losses.png"])
def test_a_run_file_replaced_by_a_folder_is_a_one_line_error(name, train_tiny, tmp_path, capsys):
    out = tmp_path / "run"
    assert train_tiny(out, "--epochs", "1") == 0
    (out / name).unlink()
    (out / name).mkdir()
    capsys.readouterr()
    with pytest.raises(SystemExit) as e:
        cli.main(["train", "--resume", str(out), "--epochs", "2", "--quiet", "--threads", "1"])
    err = capsys.readouterr().err.strip()
    assert e.value.code == 2 and len(err.splitlines()) == 1, err
    assert f"--resume {out}: {out / name} is a folder, not a file" in err, err
    (out / "checkpoint.npz").unlink()  # a run killed before its first checkpoint, started again
    with pytest.raises(SystemExit) as e:
        train_tiny(out, "--epochs", "1")
    err = capsys.readouterr().err.strip()
    assert e.value.code == 2 and f"--outdir {out}: {out / name} is a folder, not a file" in err, err
    if name == "metrics.jsonl":
        with pytest.raises(SystemExit) as e:
            cli.main(["plot", str(out)])
        err = capsys.readouterr().err.strip()
        assert e.value.code == 2 and f"RUN {out}: {out / name} is a folder, not a file" in err, err


def test_sample_out_is_written_atomically(train_tiny, tmp_path, monkeypatch, capsys):
    """On a full disk (or past ulimit -f) the previous good samples stay: before, a truncated file replaced them."""
    import contextlib
    import errno
    import io

    out = tmp_path / "run"
    assert train_tiny(out, "--epochs", "1") == 0
    npy = tmp_path / "samples.npy"
    argv = ["sample", "--checkpoint", str(out), "--out", str(npy), "--threads", "1", "--n"]
    assert cli.main([*argv, "4"]) == 0
    good = npy.read_bytes()
    real_save = np.save

    def save_on_a_full_disk(file, array, *args, **kwargs):
        buf = io.BytesIO()
        real_save(buf, array, *args, **kwargs)
        with open(file, "wb") if isinstance(file, (str, Path)) else contextlib.nullcontext(file) as f:
            f.write(buf.getvalue()[: len(buf.getvalue()) // 2])  # half of it fits
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np, "save", save_on_a_full_disk)
    capsys.readouterr()
    with pytest.raises(SystemExit) as e:
        cli.main([*argv, "8"])
    err = capsys.readouterr().err
    assert e.value.code == 2 and "No space left on device" in err and str(npy) in err, err
    assert npy.read_bytes() == good
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["samples.npy"]


@pytest.mark.parametrize("hops", [1, 2])
def test_a_data_dir_that_is_a_symlink_loop_is_a_one_line_data_error(hops, tmp_path, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    a.symlink_to(a if hops == 1 else b)
    if hops == 2:
        b.symlink_to(a)
    with pytest.raises(SystemExit) as e:  # found while the arguments are read: no folder is made
        cli.main(["train", "--data-dir", str(a), "--outdir", str(tmp_path / "run"), "--quiet", "--threads", "1"])
    err = capsys.readouterr().err.strip()
    assert e.value.code == 1 and len(err.splitlines()) == 1, err
    assert f"error: --data-dir {a}: a loop of symbolic links" in err, err
    assert not (tmp_path / "run").exists()


def test_r1_every_without_r1_is_refused(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:  # (a missing --data-dir: were it accepted, nothing would train)
        cli.main(["train", "--r1-every", "4", "--data-dir", str(tmp_path / "none"), "--outdir", str(tmp_path / "r")])
    err = capsys.readouterr().err.strip()
    assert e.value.code == 2 and len(err.splitlines()) == 1, err
    assert "--r1-every 4 sets how often --r1 applies, but --r1 is off: give --r1 GAMMA too" in err, err


@pytest.mark.parametrize(
    "flags, note",
    [
        (["--loss", "wgan-gp"], "the preset goodfellow2014 sets --d-loss mean"),
        (["--optimizer", "adam"], "the preset goodfellow2014 sets --momentum 0.5 and --final-momentum 0.7"),
        (["--k", "2"], "the preset goodfellow2014 sets --updates simultaneous"),
    ],
)
def test_a_preset_conflict_says_which_settings_the_preset_made(flags, note, capsys):
    """The message named flags the user never gave; it now says the preset set them."""
    with pytest.raises(SystemExit) as e:
        cli.main(["train", "--preset", "goodfellow2014", *flags])
    err = capsys.readouterr().err.strip()
    assert e.value.code == 2 and len(err.splitlines()) == 1, err
    assert f"({note}; a flag given explicitly overrides it)" in err, err


def _train_help():
    """{dest: the help text of train's option, whitespace collapsed}."""
    _, sub = cli.build_parser()
    return {a.dest: " ".join(a.help.split()) for a in sub["train"]._actions if a.help}


@pytest.mark.parametrize("key", ["batch_size", "k", "lr", "beta1", "beta2", "ema", "lr_g", "lr_d", "gp_lambda"])
def test_help_defaults_by_model_and_loss_are_what_a_run_gets(key):
    """'(default 128; 64 for dcgan28)', '(default 2e-4; 1e-4 with --loss wgan-gp)': each value the help names is
    the one TrainConfig.fill_defaults gives that model and loss ('--lr': the run's lr)."""
    text = _train_help()[key]
    parts = re.search(r"\(default ([^)]*)\)", text).group(1).split("; ")
    cases = {} if parts[0].endswith("with --loss wgan-gp") else {("mlp", "nonsaturating"): parts[0]}
    for part in parts:
        if " for " in part:
            value, model = part.split(" for ")
            cases[(model.split()[0], "nonsaturating")] = value
        elif " with --loss " in part:
            value, loss = part.split(" with --loss ")
            cases[("mlp", loss)] = value
    assert len(cases) >= 2 or key == "gp_lambda", (key, text)
    for (model, loss), value in cases.items():
        cfg = TrainConfig(model=model, loss=loss).fill_defaults()
        expected = cfg.lr if value == "--lr" else float(value)
        assert getattr(cfg, key) == expected, (key, model, loss, text)


def test_help_d_norm_default_is_what_a_run_gets():
    text = _train_help()["d_norm"]
    when = re.search(r"default: (\w+) with --loss wgan-gp, (\w+) with --spectral-norm or --r1, else (\w+)\)", text)
    wgan, penalised, plain = when.groups()
    dcgan28 = dict(model="dcgan28")
    assert TrainConfig(**dcgan28, loss="wgan-gp").fill_defaults().d_norm == wgan
    assert TrainConfig(**dcgan28, spectral_norm=True).fill_defaults().d_norm == penalised
    assert TrainConfig(**dcgan28, r1=1.0).fill_defaults().d_norm == penalised
    assert TrainConfig(**dcgan28).fill_defaults().d_norm == plain


def test_help_plain_defaults_are_the_configs():
    defaults, checked = TrainConfig(), 0
    for dest, text in _train_help().items():
        m = re.search(r"\(default ([^\s;:)]+)", text)
        if m and hasattr(defaults, dest) and getattr(defaults, dest) is not None:
            assert m.group(1) == str(getattr(defaults, dest)), (dest, text)
            checked += 1
    assert checked >= 20
