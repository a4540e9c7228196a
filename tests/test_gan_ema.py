"""gan.training.ema: the weight average against its closed form, and its place in a run
(training unchanged, checkpointed, resumable, used for samples unless --raw)."""

import numpy as np
import pytest

import minigrad
from gan import cli
from gan.models import build_models
from gan.run.checkpoint import load_checkpoint
from gan.training.ema import GeneratorEMA
from minigrad import nn


def _tiny():
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))


def test_update_is_the_warmed_up_exponential_average():
    minigrad.manual_seed(0)
    source, average = _tiny(), _tiny()
    ema = GeneratorEMA(source, average, decay=0.9)
    ema.copy_from_source()
    w = source[0].weight
    expected = w.numpy().astype(np.float64)
    for t in range(6):
        w.data += np.float32(0.5 * (t + 1))  # the "optimizer step"
        source[1].running_mean.data += np.float32(1)  # a buffer moves too
        ema.update()
        d = min(0.9, (1 + t) / (10 + t))  # closed form: a <- d a + (1 - d) p
        expected = d * expected + (1 - d) * w.numpy()
    np.testing.assert_allclose(average[0].weight.numpy(), expected, rtol=1e-5, atol=1e-6)
    # buffers are copied, not averaged
    np.testing.assert_array_equal(average[1].running_mean.numpy(), source[1].running_mean.numpy())
    assert ema.updates == 6
    assert not any(p.requires_grad for p in average.parameters())
    assert not average.training


@pytest.mark.parametrize("threads", [1, 2])
def test_streamed_update_equals_the_whole_array_formula_bit_for_bit(threads):
    """The update before it was streamed (a.data -= f(1 - d) * (a.data - p.data)), kept here as the reference."""
    old = minigrad.optim.get_num_threads()
    minigrad.optim.set_num_threads(threads)
    try:
        minigrad.manual_seed(1)
        source = nn.Sequential(nn.Linear(300, 700), nn.Linear(700, 3))  # 210,000 weights: several chunks
        average = nn.Sequential(nn.Linear(300, 700), nn.Linear(700, 3))
        ema = GeneratorEMA(source, average, decay=0.999)
        ref = [a.numpy().copy() for a in average.parameters()]
        rng = np.random.default_rng(0)
        for t in range(5):
            for p in source.parameters():
                p.data += rng.normal(size=p.shape).astype(np.float32)
            d = min(0.999, (1.0 + t) / (10.0 + t))
            for r, p in zip(ref, source.parameters()):
                r -= r.dtype.type(1.0 - d) * (r - p.numpy())
            ema.update()
    finally:
        minigrad.optim.set_num_threads(old)
    for r, a in zip(ref, average.parameters()):
        np.testing.assert_array_equal(a.numpy(), r)


def test_decay_must_be_in_the_open_unit_interval():
    with pytest.raises(ValueError, match="decay"):
        GeneratorEMA(_tiny(), _tiny(), decay=1.0)


def test_ema_leaves_training_alone_and_is_checkpointed_and_resumable(train_tiny, tmp_path):
    assert train_tiny(tmp_path / "plain", "--epochs", "2") == 0
    assert train_tiny(tmp_path / "ema", "--epochs", "2", "--ema", "0.9") == 0
    assert train_tiny(tmp_path / "half", "--epochs", "1", "--ema", "0.9") == 0
    assert cli.main(["train", "--resume", str(tmp_path / "half"), "--epochs", "2", "--quiet"]) == 0
    plain, ema, half = (load_checkpoint(tmp_path / d) for d in ("plain", "ema", "half"))
    # the average is read, never trained on: G and D end exactly where the plain run ends
    for who in ("generator", "discriminator"):
        for key, value in plain[who].items():
            assert np.array_equal(value.numpy(), ema[who][key].numpy()), (who, key)
    assert "generator_ema" not in plain
    assert ema["ema_updates"] == half["ema_updates"] == ema["step"] == 8
    for key, value in ema["generator_ema"].items():
        assert np.array_equal(value.numpy(), half["generator_ema"][key].numpy()), key  # resume is exact
    differs = [
        not np.array_equal(value.numpy(), ema["generator"][key].numpy())
        for key, value in ema["generator_ema"].items()
        if key.endswith("weight")
    ]
    assert any(differs)  # and it is an average, not a copy of the last iterate


def test_sample_uses_the_average_unless_raw(train_tiny, tmp_path):
    assert train_tiny(tmp_path / "run", "--epochs", "1", "--ema", "0.9") == 0
    for extra, out in (([], "avg.npy"), (["--raw"], "raw.npy")):
        assert (
            cli.main(
                ["sample", "--checkpoint", str(tmp_path / "run"), "--n", "8", "--out", str(tmp_path / out), *extra]
            )
            == 0
        )
    state = load_checkpoint(tmp_path / "run")
    z = None
    for key, name in (("generator_ema", "avg.npy"), ("generator", "raw.npy")):
        G, _ = build_models("mlp", width=0.1)
        G.load_state_dict(state[key])
        minigrad.manual_seed(0)
        z = minigrad.randn(8, G.latent_dim)
        G.eval()
        with minigrad.no_grad():
            expected = (G(z).numpy()[:, 0] + 1) / 2
        np.testing.assert_allclose(np.load(tmp_path / name), np.clip(expected, 0, 1), atol=1e-6)
    assert not np.allclose(np.load(tmp_path / "avg.npy"), np.load(tmp_path / "raw.npy"))


def test_ema_can_be_switched_on_when_resuming(train_tiny, tmp_path):
    assert train_tiny(tmp_path / "run", "--epochs", "1") == 0
    assert cli.main(["train", "--resume", str(tmp_path / "run"), "--epochs", "2", "--ema", "0.9", "--quiet"]) == 0
    state = load_checkpoint(tmp_path / "run")
    assert state["ema_updates"] == 4 and state["config"]["ema"] == 0.9


def test_evaluate_raw_writes_its_own_file(train_tiny, tmp_path):
    """The average's scores and the last iterate's go to eval.json and eval_raw.json: neither overwrites the other."""
    run = tmp_path / "run"
    assert train_tiny(run, "--epochs", "1", "--ema", "0.9") == 0
    for extra in ([], ["--raw"]):
        assert (
            cli.main(
                ["evaluate", "--checkpoint", str(run), "--n", "64", "--valid-size", "16", "--no-classifier", *extra]
            )
            == 0
        )
    import json

    avg, raw = (json.loads((run / name).read_text()) for name in ("eval.json", "eval_raw.json"))
    assert "EMA" in avg["name"] and "EMA" not in raw["name"]


def test_resume_with_ema_0_refuses_to_drop_the_average(train_tiny, tmp_path, capsys):
    """--resume RUN --ema 0 silently dropped the accumulated average from the checkpoint; now it is refused and the
    checkpoint keeps it (a changed decay still continues the same average)."""
    run = tmp_path / "run"
    assert train_tiny(run, "--epochs", "1", "--ema", "0.9") == 0
    capsys.readouterr()
    with pytest.raises(SystemExit) as e:
        cli.main(["train", "--resume", str(run), "--epochs", "2", "--ema", "0", "--quiet", "--threads", "1"])
    err = capsys.readouterr().err.strip()
    assert e.value.code == 2 and len(err.splitlines()) == 1, err
    assert f"--ema 0: {run} keeps an average of its generator (--ema 0.9, 4 updates)" in err, err
    assert "sample --raw" in err
    state = load_checkpoint(run)
    assert state["epoch"] == 1 and state["ema_updates"] == 4 and "generator_ema" in state
    assert cli.main(["train", "--resume", str(run), "--epochs", "2", "--ema", "0.8", "--quiet", "--threads", "1"]) == 0
    assert load_checkpoint(run)["ema_updates"] == 8
