"""gan.training.tensorboard: event files written through tensorboardX, read back with TensorBoard's own reader."""

import numpy as np
import pytest

import minigrad
from gan import cli
from gan.training import tensorboard as tb
from minigrad import nn

# the reader is TensorBoard's (the tests' extra installs it); without the writer or the reader these tests skip
pytest.importorskip("tensorboardX", reason="tensorboardX (the 'tensorboard' extra) is not installed")
event_accumulator = pytest.importorskip(
    "tensorboard.backend.event_processing.event_accumulator",
    reason="tensorboard's event reader (the 'test' extra) is not installed",
)


def read_events(logdir):
    """An EventAccumulator over every event file of ``logdir``, everything kept."""
    everything = event_accumulator.STORE_EVERYTHING_SIZE_GUIDANCE
    acc = event_accumulator.EventAccumulator(str(logdir), size_guidance=everything)
    acc.Reload()
    return acc


def scalar_series(acc, tag):
    return [(e.step, e.value) for e in acc.Scalars(tag)]


def test_records_round_trip_as_scalars(tmp_path):
    records = [
        dict(kind="step", epoch=1, step=10, loss_d=1.25, loss_g=0.5, grad_norm_d={"0.weight": 2.0}, images_per_sec=9.0),
        dict(kind="step", epoch=1, step=20, loss_d=1.5, loss_g=0.75, grad_norm_d={"0.weight": 3.0}, images_per_sec=8.0),
        dict(kind="epoch", epoch=1, step=20, loss_d=1.375, loss_g=0.625, fid=17.5, preset="x", held_out=True),
    ]
    w = tb.TensorBoardWriter(tmp_path)
    for r in records:
        w.record(r)
    w.close()
    acc = read_events(tmp_path)
    assert scalar_series(acc, "train/loss_d") == [(10, 1.25), (20, 1.5)]
    assert scalar_series(acc, "train/grad_norm_d/0.weight") == [(10, 2.0), (20, 3.0)]
    assert scalar_series(acc, "epoch/fid") == [(20, 17.5)]
    assert scalar_series(acc, "epoch/loss_g") == [(20, 0.625)]
    tags = set(acc.Tags()["scalars"])
    assert "epoch/preset" not in tags and "epoch/held_out" not in tags  # not numbers


def test_a_resumed_writer_purges_the_steps_after_its_checkpoint(tmp_path):
    w = tb.TensorBoardWriter(tmp_path)
    for step in (10, 20, 30):  # the first process logs up to step 30, then dies; its checkpoint is at step 20
        w.record(dict(kind="step", epoch=1, step=step, loss_d=float(step)))
    w.close()
    w = tb.TensorBoardWriter(tmp_path, purge_step=21)
    for step in (30, 40):  # the resumed process logs step 30 again
        w.record(dict(kind="step", epoch=1, step=step, loss_d=step + 0.5))
    w.close()
    assert scalar_series(read_events(tmp_path), "train/loss_d") == [(10, 10.0), (20, 20.0), (30, 30.5), (40, 40.5)]


def test_images_histograms_optimizer_settings_and_hparams(tmp_path):
    net = nn.Linear(3, 2)
    net(minigrad.randn(4, 3)).sum().backward()
    opt = minigrad.optim.Adam(net.parameters(), lr=1e-3, betas=(0.5, 0.999))
    w = tb.TensorBoardWriter(tmp_path)
    w.settings(dict(model="mlp", lr=None, epochs=3, ema=0.999, quiet=False))
    w.image("samples", np.linspace(0, 1, 12, dtype=np.float32).reshape(3, 4), 5)
    w.image("rgb", np.zeros((3, 4, 3), np.float32), 5)
    w.histograms({"G": net}, 5)
    w.optimizer_settings({"g": opt}, 5)
    w.close()
    acc = read_events(tmp_path)
    (img,) = acc.Images("samples")
    assert (img.step, img.width, img.height) == (5, 4, 3)
    (hist,) = acc.Histograms("weights/G/weight")
    assert hist.step == 5 and hist.histogram_value.num == 6
    np.testing.assert_allclose(hist.histogram_value.sum, net.weight.numpy().sum(), rtol=1e-5)
    assert acc.Histograms("grads/G/bias")[0].histogram_value.num == 2
    assert scalar_series(acc, "optim/lr_g") == [(5, pytest.approx(1e-3))]
    assert scalar_series(acc, "optim/beta1_g") == [(5, 0.5)]
    assert "settings/text_summary" in acc.Tags()["tensors"]


def test_scalars_of_leaves_out_what_is_not_a_number():
    record = dict(kind="epoch", epoch=2, step=7, loss_d=1.0, nan=float("nan"), flag=True, name="x", d={"a": 2})
    assert tb.scalars_of(record) == {"epoch/loss_d": 1.0, "epoch/d/a": 2.0}


# --- a real run -----------------------------------------------------------------------------------


def _metrics(run):
    import json

    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def test_a_run_logs_what_metrics_jsonl_holds(train_tiny, tmp_path):
    run = tmp_path / "run"
    assert train_tiny(run, "--epochs", "2", "--log-every", "2", "--tensorboard") == 0
    acc = read_events(run / "tb")
    records = _metrics(run)
    steps = [r for r in records if r["kind"] == "step"]
    got = dict(scalar_series(acc, "train/loss_d"))
    assert sorted(got) == [r["step"] for r in steps]
    for r in steps:
        assert got[r["step"]] == pytest.approx(r["loss_d"], rel=1e-6)
        assert dict(scalar_series(acc, "train/d_fake"))[r["step"]] == pytest.approx(r["d_fake"], rel=1e-6)
    epochs = [r for r in records if r["kind"] == "epoch"]
    assert scalar_series(acc, "epoch/images_per_sec") == [
        (r["step"], pytest.approx(r["images_per_sec"])) for r in epochs
    ]
    assert [e.step for e in acc.Images("samples")] == [r["step"] for r in epochs]
    name = next(iter(steps[0]["grad_norm_g"]))
    assert dict(scalar_series(acc, f"train/grad_norm_g/{name}"))[2] == pytest.approx(steps[0]["grad_norm_g"][name])
    assert {f"weights/G/{name}", f"grads/D/{next(iter(steps[0]['grad_norm_d']))}"} <= set(acc.Tags()["histograms"])
    assert scalar_series(acc, "optim/lr_g")[0][1] == pytest.approx(2e-4)


def test_a_resumed_run_appends_without_repeating_steps(train_tiny, tmp_path):
    import shutil

    run = tmp_path / "run"
    assert train_tiny(run, "--epochs", "1", "--log-every", "2", "--tensorboard") == 0
    shutil.copy(run / "checkpoint.npz", tmp_path / "epoch1.npz")
    assert cli.main(["train", "--resume", str(run), "--epochs", "2", "--quiet", "--tensorboard"]) == 0
    # as if the second process had died after logging epoch 2 but before its checkpoint: epoch 2 is done again
    shutil.copy(tmp_path / "epoch1.npz", run / "checkpoint.npz")
    assert cli.main(["train", "--resume", str(run), "--epochs", "2", "--quiet", "--tensorboard"]) == 0
    assert len(list((run / "tb").glob("events.out.tfevents.*"))) == 3
    acc = read_events(run / "tb")
    series = scalar_series(acc, "train/loss_d")
    steps = [r for r in _metrics(run) if r["kind"] == "step"]
    assert series == [(r["step"], pytest.approx(r["loss_d"], rel=1e-6)) for r in steps]  # each step once, in order
    assert [s for s, _ in series] == [2, 4, 6, 8]
    assert [e.step for e in acc.Images("samples")] == [4, 8]


def test_without_tensorboardx_the_flag_is_a_usage_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(tb, "available", lambda: False)
    with pytest.raises(SystemExit) as e:
        cli.main(["train", "--tensorboard", "--outdir", str(tmp_path / "run")])
    assert e.value.code == 2
    assert "--tensorboard needs the optional package tensorboardX: pip install -e '.[tensorboard]'" in (
        capsys.readouterr().err
    )
