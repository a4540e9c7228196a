"""gan.training.trainer: the losses against their formulas, noise, and the run's guarantees
(reproducible resume, divergence guard, Ctrl-C checkpoints, metrics)."""

import json
import math
import os
import signal
from pathlib import Path

import numpy as np
import pytest
from helpers import assert_same_arrays, run_arrays

import minigrad
from gan import cli, losses, sampling
from gan.run.checkpoint import load_checkpoint
from gan.training import steps
from gan.training import trainer as gan_train
from gan.training.step_statistics import STATISTICS
from gan.training.steps import StepResult

# --- a small MNIST folder: runs load it instantly ----------------------------------------------


# --- losses -------------------------------------------------------------------------------------


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _grad(loss_fn, logits):
    l = minigrad.tensor(logits, dtype=minigrad.float64, requires_grad=True)
    loss = loss_fn(l)
    loss.backward()
    return loss.item(), l.grad.numpy()


def _finite_difference(loss_fn, logits, eps=1e-6):
    out = np.zeros_like(logits)
    for i in np.ndindex(logits.shape):
        hi, lo = logits.copy(), logits.copy()
        hi[i] += eps
        lo[i] -= eps
        f = lambda a: loss_fn(minigrad.tensor(a, dtype=minigrad.float64)).item()  # noqa: E731
        out[i] = (f(hi) - f(lo)) / (2 * eps)
    return out


LOGITS = np.array([[-6.0], [-1.3], [-0.2], [0.4], [2.5], [7.0]])


def test_nonsaturating_loss_value_and_gradient():
    n = len(LOGITS)
    value, grad = _grad(losses.nonsaturating_loss, LOGITS)
    assert value == pytest.approx(np.mean(-np.log(_sigmoid(LOGITS))), rel=1e-12)
    np.testing.assert_allclose(grad, -(1 - _sigmoid(LOGITS)) / n, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(grad, _finite_difference(losses.nonsaturating_loss, LOGITS), rtol=1e-6, atol=1e-9)


def test_minimax_loss_value_and_gradient():
    n = len(LOGITS)
    value, grad = _grad(losses.minimax_loss, LOGITS)
    assert value == pytest.approx(np.mean(np.log(1 - _sigmoid(LOGITS))), rel=1e-12)
    np.testing.assert_allclose(grad, -_sigmoid(LOGITS) / n, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(grad, _finite_difference(losses.minimax_loss, LOGITS), rtol=1e-6, atol=1e-9)


def test_minimax_saturates_where_nonsaturating_does_not():
    """Early in training D rejects fakes (l << 0): the minimax gradient vanishes, the other does not."""
    l = np.array([[-8.0]])
    assert abs(_grad(losses.minimax_loss, l)[1][0, 0]) < 1e-3
    assert abs(_grad(losses.nonsaturating_loss, l)[1][0, 0]) > 0.99


@pytest.mark.parametrize("target", [1.0, 0.9])
def test_discriminator_loss_with_one_sided_smoothing(target):
    real, fake = LOGITS, LOGITS[::-1] * 0.7
    loss = losses.discriminator_loss(
        minigrad.tensor(real, dtype=minigrad.float64), minigrad.tensor(fake, dtype=minigrad.float64), target
    )
    p, q = _sigmoid(real), _sigmoid(fake)
    expected = -np.mean(target * np.log(p) + (1 - target) * np.log(1 - p)) - np.mean(np.log(1 - q))
    assert loss.item() == pytest.approx(expected, rel=1e-12)


def test_generator_loss_rejects_unknown_kind():
    with pytest.raises(ValueError, match="generator_loss"):
        losses.generator_loss(minigrad.zeros(2, 1), "wasserstein")


# --- noise --------------------------------------------------------------------------------------


def test_noise_distributions_and_dtype():
    z = sampling.sample_noise(4000, 10, "normal")
    assert z.shape == (4000, 10) and z.dtype == np.float32
    assert abs(z.numpy().mean()) < 0.02 and abs(z.numpy().std() - 1) < 0.02
    u = sampling.sample_noise(4000, 10, "uniform").numpy()
    assert u.dtype == np.float32 and u.min() >= -1 and u.max() <= 1
    assert abs(u.mean()) < 0.02 and abs(u.var() - 1 / 3) < 0.01  # U(-1, 1): variance 1/3
    minigrad.manual_seed(3)
    a = sampling.sample_noise(5, 3, "uniform").numpy()
    minigrad.manual_seed(3)
    assert np.array_equal(a, sampling.sample_noise(5, 3, "uniform").numpy())


# --- runs ---------------------------------------------------------------------------------------


def test_metrics_records(train_tiny, tmp_path):
    assert train_tiny(tmp_path / "run", "--epochs", "2", "--log-every", "2", "--k", "2") == 0
    records = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    # 128 images / batch 32 = 4 batches = 2 iterations of k = 2 per epoch
    assert [(r["kind"], r["epoch"], r["step"]) for r in records] == [
        ("step", 1, 2),
        ("epoch", 1, 2),
        ("step", 2, 4),
        ("epoch", 2, 4),
    ]
    for r in records:
        for key in ("loss_d", "loss_g", "d_real", "d_fake", "seconds", "images_per_sec"):
            assert math.isfinite(r[key]), key
        assert 0 < r["d_real"] < 1 and 0 < r["d_fake"] < 1
        assert set(r["grad_norm_d"]) == {f"{i}.{p}" for i in (1, 3, 5, 7) for p in ("weight", "bias")}
        assert set(r["grad_norm_g"]) == {f"{i}.{p}" for i in (0, 2, 4, 6) for p in ("weight", "bias")}
        assert all(v > 0 and math.isfinite(v) for v in r["grad_norm_d"].values())
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["k"] == 2 and config["seed"] == 0 and config["minigrad_version"] == minigrad.__version__


def test_resume_equals_uninterrupted_run(train_tiny, tmp_path):
    assert train_tiny(tmp_path / "full", "--epochs", "2", "--noise", "uniform", "--dropout", "0.2") == 0
    assert train_tiny(tmp_path / "half", "--epochs", "1", "--noise", "uniform", "--dropout", "0.2") == 0
    assert cli.main(["train", "--resume", str(tmp_path / "half"), "--epochs", "2", "--quiet"]) == 0
    assert_same_arrays(run_arrays(tmp_path / "full"), run_arrays(tmp_path / "half"))
    a, b = load_checkpoint(tmp_path / "full"), load_checkpoint(tmp_path / "half")
    assert (a["epoch"], a["step"]) == (b["epoch"], b["step"]) == (2, 8)
    assert np.array_equal(a["fixed_noise"].numpy(), b["fixed_noise"].numpy())
    assert (tmp_path / "half" / "samples" / "epoch_002.png").is_file()
    kinds = [json.loads(line)["kind"] for line in (tmp_path / "half" / "metrics.jsonl").read_text().splitlines()]
    assert kinds.count("epoch") == 2


@pytest.mark.parametrize(
    "sig,flags",
    [(signal.SIGINT, ()), (signal.SIGTERM, ()), (signal.SIGINT, ("--loss", "wgan-gp", "--k", "1"))],
    ids=["ctrl-c", "sigterm", "ctrl-c-wgan-gp"],
)
def test_ctrl_c_checkpoints_mid_epoch_and_resume_is_exact(sig, flags, train_tiny, tmp_path, monkeypatch, capsys):
    tiny = ("--epochs", "2", "--model", "dcgan28", "--width", "0.0625", "--log-every", "4", *flags)
    assert train_tiny(tmp_path / "full", *tiny) == 0
    calls = {"n": 0}
    original = steps.d_loss_for

    def interrupting(*args):
        calls["n"] += 1
        if calls["n"] == 6:  # during step 6 (epoch 2, batch 2 of 4): stops after that step
            os.kill(os.getpid(), sig)
        return original(*args)

    monkeypatch.setattr(steps, "d_loss_for", interrupting)
    code = train_tiny(tmp_path / "cut", *tiny)
    assert code == 130
    err = capsys.readouterr().err
    assert "stopping after the current step" in err and "interrupted at step 6" in err
    state = load_checkpoint(tmp_path / "cut")
    assert (state["epoch"], state["batch"], state["step"]) == (1, 2, 6)
    monkeypatch.setattr(steps, "d_loss_for", original)
    assert cli.main(["train", "--resume", str(tmp_path / "cut"), "--quiet"]) == 0
    assert_same_arrays(run_arrays(tmp_path / "full"), run_arrays(tmp_path / "cut"))  # BatchNorm statistics too
    # the logged means too: step 8's record averages steps 5-8, across the cut at step 6
    logs = [
        [json.loads(line) for line in (tmp_path / run / "metrics.jsonl").read_text().splitlines()]
        for run in ("full", "cut")
    ]
    assert [(r["kind"], r["step"]) for r in logs[0]] == [(r["kind"], r["step"]) for r in logs[1]]
    for a, b in zip(*logs):
        assert [key for key in STATISTICS if key in a] == [key for key in STATISTICS if key in b]
        for key in STATISTICS:
            if key in a:
                assert a[key] == pytest.approx(b[key], rel=1e-12), (a["kind"], a["step"], key)
    if flags:
        assert all(r["gp_grad_norm"] > 0 and r["penalty"] > 0 for r in logs[1])


def _diverge_at_call(n, monkeypatch):
    """Make the n-th discriminator loss of the run nan (step n when k = 1)."""
    calls = {"n": 0}
    original = steps.d_loss_for

    def diverging(*args):
        calls["n"] += 1
        loss = original(*args)
        return loss * float("nan") if calls["n"] == n else loss

    monkeypatch.setattr(steps, "d_loss_for", diverging)


def test_divergence_stops_and_keeps_last_good_checkpoint(train_tiny, tmp_path, monkeypatch, capsys):
    _diverge_at_call(7, monkeypatch)
    code = train_tiny(tmp_path / "run", "--epochs", "3", "--log-every", "100")
    assert code == 1
    err = capsys.readouterr().err
    assert "diverged at step 7" in err and "loss_d" in err and "epoch 1, step 4" in err
    state = load_checkpoint(tmp_path / "run")
    assert (state["epoch"], state["step"]) == (1, 4)
    assert all(np.all(np.isfinite(w)) for w in run_arrays(tmp_path / "run").values())
    assert not (tmp_path / "run" / "samples" / "epoch_002.png").exists()
    # the checkpoint is the one an honest 1-epoch run writes
    assert train_tiny(tmp_path / "one", "--epochs", "1") == 0
    ok, kept = run_arrays(tmp_path / "one"), run_arrays(tmp_path / "run")
    assert all(np.array_equal(ok[k], kept[k]) for k in ok)


@pytest.mark.parametrize("loss", ["nonsaturating", "hinge", "wgan-gp"])
def test_the_log_holds_d_probabilities_or_the_critic_values(loss, mnist_dir, tmp_path):
    """d_real / d_fake of a step: mean sigmoid(D(.)) for the BCE game, the mean critic value f(.) itself for
    hinge and WGAN-GP, recomputed from D's weights and the noise before the step."""
    from gan.models import build_models
    from gan.sampling import sample_noise

    cfg = gan_train.TrainConfig(
        data_dir=str(mnist_dir), limit=64, batch_size=32, width=0.1, outdir=str(tmp_path / "run"), quiet=True
    )
    cfg.loss, cfg.k = loss, 1
    trainer = gan_train.Trainer(cfg.validate())
    G, D = build_models("mlp", width=0.1)
    G.load_state_dict({k: minigrad.tensor(v.numpy().copy()) for k, v in trainer.G.state_dict().items()})
    D.load_state_dict({k: minigrad.tensor(v.numpy().copy()) for k, v in trainer.D.state_dict().items()})
    rng = minigrad.backend.get_rng_state()
    xb = next(trainer.batches.epoch(0))
    result = trainer.train_step([xb])
    assert isinstance(result, StepResult) and result._fields == STATISTICS
    d_real, d_fake = result.d_real, result.d_fake
    minigrad.backend.set_rng_state(rng)
    with minigrad.no_grad():
        fake = G(sample_noise(32, cfg.latent_dim, cfg.noise, "cpu"))
        real_out, fake_out = D(minigrad.tensor(xb)).numpy(), D(fake).numpy()
    if loss == "nonsaturating":
        real_out, fake_out = 1 / (1 + np.exp(-real_out)), 1 / (1 + np.exp(-fake_out))
    assert float(d_real) == pytest.approx(real_out.mean(), rel=1e-5)
    assert float(d_fake) == pytest.approx(fake_out.mean(), rel=1e-5)


def test_generator_step_leaves_discriminator_gradients_alone(mnist_dir, tmp_path):
    """After a step, D's gradients are exactly those of L_D: the G step froze D (and unfroze it)."""
    from gan.models import build_models

    cfg = gan_train.TrainConfig(
        data_dir=str(mnist_dir), limit=64, batch_size=32, width=0.1, outdir=str(tmp_path / "run"), quiet=True
    )
    trainer = gan_train.Trainer(cfg)
    g_state = {k: v.numpy().copy() for k, v in trainer.G.state_dict().items()}
    d_state = {k: v.numpy().copy() for k, v in trainer.D.state_dict().items()}
    rng = minigrad.backend.get_rng_state()
    xb = next(trainer.batches.epoch(0))
    trainer.train_step([xb])
    assert all(p.requires_grad for p in trainer.D.parameters())
    # reference: the D loss alone, at the weights and noise of the step
    G, D = build_models("mlp", width=0.1)
    G.load_state_dict({k: minigrad.tensor(v) for k, v in g_state.items()})
    D.load_state_dict({k: minigrad.tensor(v) for k, v in d_state.items()})
    minigrad.backend.set_rng_state(rng)
    with minigrad.no_grad():
        fake = G(minigrad.randn(32, 100))
    real_logits, fake_logits = D(minigrad.tensor(xb)), D(fake)
    loss = -minigrad.logsigmoid(real_logits).mean() - minigrad.logsigmoid(-fake_logits).mean()
    loss.backward()
    for (name, p), q in zip(trainer.D.named_parameters(), D.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-4, atol=1e-7, err_msg=name)


def _no_temp_files(folder):
    return [p for p in Path(folder).rglob("*") if p.name.endswith(".tmp")]


@pytest.mark.parametrize("what", ["checkpoint", "figure"])
def test_disk_full_stops_naming_the_last_good_checkpoint_and_resume_works(
    what, train_tiny, tmp_path, monkeypatch, capsys
):
    import errno

    from matplotlib.figure import Figure

    from minigrad import serialization

    calls = {"n": 0}
    target, name = (serialization.np, "savez") if what == "checkpoint" else (Figure, "savefig")
    original = getattr(target, name)

    def full_disk(*args, **kwargs):
        f = args[0] if what == "checkpoint" else args[1]  # savez(f, ...), Figure.savefig(self, f, ...)
        calls["n"] += 1
        if calls["n"] == (2 if what == "checkpoint" else 3):  # epoch 2's checkpoint / sample grid
            f.write(b"half a file")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return original(*args, **kwargs)

    monkeypatch.setattr(target, name, full_disk)
    out = tmp_path / "run"
    assert train_tiny(out, "--epochs", "2") == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "No space left on device" in err and "the last good checkpoint (epoch 1, step 4)" in err
    assert f"--resume {out}" in err and ".tmp" not in err
    assert not _no_temp_files(out)
    assert load_checkpoint(out)["epoch"] == 1
    monkeypatch.undo()
    assert cli.main(["train", "--resume", str(out), "--quiet"]) == 0
    assert load_checkpoint(out)["epoch"] == 2


@pytest.mark.parametrize("how", ["resume", "reuse"])
def test_temp_files_of_killed_writes_are_removed(how, train_tiny, tmp_path):
    out = tmp_path / "run"
    if how == "resume":
        assert train_tiny(out, "--epochs", "1") == 0
    else:  # a run killed during its first checkpoint: no checkpoint, the folder is reused
        (out / "samples").mkdir(parents=True)
        (out / "config.json").write_text("{}")
    left = [out / f".checkpoint.npz.{i:032x}.tmp" for i in range(10)]
    left += [
        out / ".losses.png.0123456789abcdef0123456789abcdef.tmp",
        out / "samples" / ".epoch_001.png.0123456789abcdef0123456789abcdef.tmp",
    ]
    for p in left:
        p.write_bytes(b"x" * 1000)
    keep = out / "notes.tmp"  # not an atomic write's temporary file
    keep.write_text("mine")
    if how == "resume":
        assert cli.main(["train", "--resume", str(out), "--epochs", "2", "--quiet", "--threads", "1"]) == 0
    else:
        assert train_tiny(out, "--epochs", "1") == 0
    assert not [p for p in left if p.exists()] and keep.read_text() == "mine"


def test_damaged_metrics_lines_are_skipped_with_a_warning_and_the_rest_survive(train_tiny, tmp_path, capsys):
    out = tmp_path / "run"
    assert train_tiny(out, "--epochs", "2", "--log-every", "2") == 0
    good = (out / "metrics.jsonl").read_text().splitlines()
    assert len(good) == 6  # step 2, step 4, epoch 1, step 6, step 8, epoch 2
    # the checkpoint says epoch 2: cut it back to epoch 1 so the resume keeps records of epoch 1 only
    lines = good[:2] + ['{"kind": "step", "epoch": 1, "st', "[1, 2, 3]", '"just a string"'] + good[2:3]
    (out / "metrics.jsonl").write_text("\n".join(lines) + "\n")
    assert cli.main(["train", "--resume", str(out), "--epochs", "3", "--quiet", "--threads", "1"]) == 0
    err = capsys.readouterr().err
    for n, reason in ((3, "not JSON"), (4, "not a metrics record"), (5, "not a metrics record")):
        assert f"metrics.jsonl line {n} is damaged ({reason}" in err, err
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [json.dumps(r) for r in records[:3]] == [json.dumps(json.loads(line)) for line in good[:3]]
    assert [(r["kind"], r["epoch"]) for r in records] == [
        ("step", 1),
        ("step", 1),
        ("epoch", 1),
        ("step", 3),
        ("step", 3),
        ("epoch", 3),
    ]


def test_a_restart_after_a_death_before_the_first_checkpoint_logs_one_history(train_tiny, tmp_path):
    """The same command run again in the folder of a run killed before its first checkpoint starts over: its
    metrics.jsonl is that of a clean run, not the dead run's records followed by the new ones."""
    import json

    def history(folder):
        lines = (folder / "metrics.jsonl").read_text().splitlines()
        return [(r["kind"], r["epoch"], r["step"]) for r in map(json.loads, lines)]

    clean, restarted = tmp_path / "clean", tmp_path / "restarted"
    assert train_tiny(clean, "--epochs", "1", "--log-every", "1") == 0
    assert train_tiny(restarted, "--epochs", "1", "--log-every", "1") == 0
    (restarted / "checkpoint.npz").unlink()  # what a run killed before its first checkpoint leaves
    assert train_tiny(restarted, "--epochs", "1", "--log-every", "1") == 0
    assert history(restarted) == history(clean) and len(history(clean)) > 2


def test_a_non_numeric_value_is_skipped_with_a_warning_and_the_resume_goes_on(train_tiny, tmp_path, capsys):
    """A record with "loss_d": "abc" (or a bad fid, or a bad grad-norm entry) made every --resume crash after an
    epoch of training, when the curves were drawn. The value is dropped with a warning naming the line and the key;
    the rest of its record, and every other record, survive."""
    out = tmp_path / "run"
    assert train_tiny(out, "--epochs", "1", "--log-every", "2") == 0
    lines = (out / "metrics.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    records[0]["loss_d"] = "abc"
    records[1]["grad_norm_d"] = dict(records[1]["grad_norm_d"], extra="y")
    records[2]["fid"] = "x"
    records[2]["parzen_valid_images"] = "50000..50999"  # a text field a run does write
    (out / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    assert cli.main(["train", "--resume", str(out), "--epochs", "2", "--quiet", "--threads", "1"]) == 0
    err = capsys.readouterr().err
    assert "metrics.jsonl line 1: loss_d is 'abc', not a number; that value is skipped" in err, err
    assert "metrics.jsonl line 2: grad_norm_d['extra'] is 'y', not a number; that value is skipped" in err, err
    assert "metrics.jsonl line 3: fid is 'x', not a number; that value is skipped" in err, err
    kept = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert "loss_d" not in kept[0] and kept[0]["loss_g"] == records[0]["loss_g"]
    assert kept[1]["grad_norm_d"] == {k: v for k, v in records[1]["grad_norm_d"].items() if k != "extra"}
    assert "fid" not in kept[2] and kept[2]["parzen_valid_images"] == "50000..50999"
    assert kept[2]["loss_d"] == records[2]["loss_d"] and [r["epoch"] for r in kept if r["kind"] == "epoch"] == [1, 2]


def test_the_detect_anomaly_report_of_a_divergence_is_one_line(train_tiny, tmp_path, monkeypatch, capsys):
    """It spanned 8 lines (the op's stack) and ended with a stray '; stopped, ...' line: now one line naming the
    step, the op, the user's line that made the nan, and the checkpoint kept."""
    _diverge_at_call(7, monkeypatch)
    assert train_tiny(tmp_path / "run", "--epochs", "3", "--detect-anomaly") == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "training diverged at step 7 (epoch 2): Function 'Mul' returned nan/inf values in its forward" in err
    assert "created at " in err and "in diverging: return loss * float" in err, err
    assert err.endswith(
        f"stopped, the last good checkpoint (epoch 1, step 4) is kept in {tmp_path / 'run'}/checkpoint.npz"
    )


@pytest.mark.parametrize("ema", [0.0, 0.9])
def test_sampler_is_a_deprecated_alias_of_the_sample_generator(ema, mnist_dir, tmp_path):
    cfg = gan_train.TrainConfig(
        data_dir=str(mnist_dir), limit=64, batch_size=32, width=0.1, ema=ema, outdir=str(tmp_path / "run"), quiet=True
    )
    trainer = gan_train.Trainer(cfg)
    assert trainer.sample_generator is (trainer.ema.average if ema else trainer.G)
    with pytest.warns(DeprecationWarning, match="sample_generator"):
        assert trainer.sampler is trainer.sample_generator
