"""Conditional runs end to end: training with labels (exact resume, penalties, one row per digit), `gan sample
--label`, `gan evaluate`'s conditional scores, and `gan figure` on a conditional checkpoint."""

import numpy as np
import pytest
from helpers import assert_same_arrays, run_arrays

import minigrad
from gan import cli
from gan.evaluation.evaluate import conditional_scores
from gan.evaluation.scores import fid_from_features
from gan.models import build_models
from gan.run.checkpoint import load_checkpoint, load_weights
from gan.sampling import generate, sample_noise
from gan.training import run_outputs
from gan.training import trainer as gan_train


def _generator_of(run):
    state = load_checkpoint(run)
    cfg = state["config"]
    G, _ = build_models(cfg["model"], cfg["latent_dim"], cfg["channels"], cfg["width"], conditional=True)
    load_weights(G, state, "generator")
    return G


def test_a_conditional_run_resumes_exactly(train_tiny, tmp_path):
    assert train_tiny(tmp_path / "full", "--conditional", "--epochs", "2") == 0
    assert train_tiny(tmp_path / "half", "--conditional", "--epochs", "1") == 0
    assert cli.main(["train", "--resume", str(tmp_path / "half"), "--epochs", "2", "--quiet"]) == 0
    assert_same_arrays(run_arrays(tmp_path / "full"), run_arrays(tmp_path / "half"))
    assert any(k.startswith("discriminator.head") for k in run_arrays(tmp_path / "full"))  # the labelled D


def test_the_epoch_grid_has_one_row_per_digit_and_one_z_per_column(train_tiny, tmp_path, monkeypatch):
    calls = []
    real_generate = run_outputs.generate

    def spy(G, noise, batch_size=500, labels=None):
        calls.append((noise.numpy().copy(), labels))
        return real_generate(G, noise, batch_size, labels=labels)

    monkeypatch.setattr(run_outputs, "generate", spy)
    assert train_tiny(tmp_path / "run", "--conditional", "--epochs", "1") == 0
    noise, labels = calls[-1]
    np.testing.assert_array_equal(labels, np.repeat(np.arange(10), 8))
    rows = noise.reshape(10, 8, -1)
    assert np.all(rows == rows[:1])  # column j has the same z in every row
    np.testing.assert_array_equal(rows[0], load_checkpoint(tmp_path / "run")["fixed_noise"].numpy()[:8])


def test_the_real_batch_labels_reach_d_and_g(train_tiny, tmp_path, monkeypatch):
    """Every real image of every step comes with its own label: each batch image is found in the training
    images and its label looked up in the data's label array."""
    from gan.data import load_labels

    seen = []
    real_step = gan_train.Trainer.alternating_step

    def spy(self, real_batches):
        for xb, yb in real_batches:
            seen.append((xb.copy(), yb.copy()))
        return real_step(self, real_batches)

    monkeypatch.setattr(gan_train.Trainer, "alternating_step", spy)
    assert train_tiny(tmp_path / "run", "--conditional", "--epochs", "1") == 0
    trainer_data = gan_train.load_training_images(
        gan_train.TrainConfig(**dict(load_checkpoint(tmp_path / "run")["config"])).validate()
    )
    labels = load_labels(load_checkpoint(tmp_path / "run")["config"]["data_dir"], "train", 128)
    for xb, yb in seen:
        idx = [int(np.flatnonzero((trainer_data == x).all(axis=(1, 2, 3)))[0]) for x in xb]
        np.testing.assert_array_equal(yb, labels[idx])


@pytest.mark.parametrize(
    "flags",
    [("--model", "dcgan28", "--loss", "wgan-gp", "--k", "1"), ("--model", "mlp", "--r1", "1")],
    ids=["dcgan28-wgan-gp", "mlp-r1"],
)
def test_penalties_train_a_conditional_d(train_tiny, tmp_path, flags):
    import json

    assert train_tiny(tmp_path / "run", "--conditional", "--epochs", "1", "--log-every", "1", *flags) == 0
    records = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert all(r["penalty"] > 0 and np.isfinite(r["loss_d"]) for r in records if r["kind"] == "step")


def test_an_image_folder_has_no_labels(tmp_path, capsys):
    from PIL import Image

    folder = tmp_path / "images"
    folder.mkdir()
    for i in range(40):
        Image.fromarray(np.full((28, 28), i * 5, np.uint8)).save(folder / f"{i}.png")
    code = cli.main(
        ["train", "--data-dir", str(folder), "--conditional", "--batch-size", "8", "--width", "0.1", "--quiet"]
        + ["--outdir", str(tmp_path / "run"), "--threads", "1"]
    )
    assert code == 1
    assert "an image folder has no labels" in capsys.readouterr().err


def test_a_conditional_dcgan64_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["train", "--model", "dcgan64", "--conditional"])
    assert e.value.code == 2
    assert "--conditional is an option of --model mlp, dcgan28, goodfellow2014" in capsys.readouterr().err


def test_sample_draws_the_requested_digits(train_tiny, tmp_path, capsys):
    run = tmp_path / "run"
    assert train_tiny(run, "--conditional", "--epochs", "1") == 0
    out = tmp_path / "s.npy"
    args = ["sample", "--checkpoint", str(run), "--n", "6", "--out", str(out), "--seed", "3", "--threads", "1"]
    assert cli.main([*args, "--label", "7"]) == 0
    G = _generator_of(run)
    minigrad.manual_seed(3)
    want = generate(G, sample_noise(6, 100), labels=np.full(6, 7))[:, 0]
    np.testing.assert_allclose(np.load(out), want, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(np.load(tmp_path / "s_labels.npy"), [7] * 6)
    assert cli.main([*args, "--labels", "2,5-6", "--grid", str(tmp_path / "g.png")]) == 0
    np.testing.assert_array_equal(np.load(tmp_path / "s_labels.npy"), [2, 2, 5, 5, 6, 6])
    assert (tmp_path / "g.png").is_file()


def test_sample_refuses_labels_for_an_unconditional_run(train_tiny, tmp_path, capsys):
    assert train_tiny(tmp_path / "run", "--epochs", "1") == 0
    with pytest.raises(SystemExit) as e:
        cli.main(
            ["sample", "--checkpoint", str(tmp_path / "run"), "--n", "2", "--out", str(tmp_path / "s.npy")]
            + ["--label", "3"]
        )
    assert e.value.code == 2
    assert "not a conditional run" in capsys.readouterr().err


def test_conditional_scores_against_their_definitions():
    rng = np.random.default_rng(0)
    labels = np.arange(200) % 10
    predicted = labels.copy()
    predicted[:17] = (predicted[:17] + 1) % 10  # 17 of 200 classified as another digit
    p_x = np.eye(10)[predicted] * 0.9 + 0.01
    f_x, f_test = rng.normal(size=(200, 4)), rng.normal(size=(300, 4))
    test_labels = np.arange(300) % 10
    s = conditional_scores(f_x, p_x, labels, f_test, test_labels)
    assert s["conditional_accuracy"] == pytest.approx(183 / 200)
    for d in (0, 9):
        assert s[f"fid_digit_{d}"] == pytest.approx(fid_from_features(f_x[labels == d], f_test[test_labels == d]))


def test_figures_of_a_conditional_run(train_tiny, tmp_path, capsys):
    run = tmp_path / "run"
    assert train_tiny(run, "--conditional", "--epochs", "1") == 0
    f2, f3, hist = tmp_path / "f2.png", tmp_path / "f3.png", tmp_path / "d.png"
    base = ["--checkpoint", str(run), "--threads", "1"]
    assert cli.main(["figure", "nearest", *base, "--out", str(f2), "--n", "50", "--distances", str(hist)]) == 0
    assert "no memorisation check: the run's data has no test images" in capsys.readouterr().out  # mnist_dir
    assert cli.main(["figure", "interpolate", *base, "--out", str(f3), "--path", "slerp", "--label", "4"]) == 0
    assert f2.is_file() and f3.is_file()


def test_the_memorisation_check_on_bundled_mnist(tmp_path, capsys):
    run = tmp_path / "run"
    flags = ["--width", "0.1", "--batch-size", "32", "--limit", "64", "--quiet", "--threads", "1"]
    assert cli.main(["train", "--conditional", "--epochs", "1", "--outdir", str(run), *flags]) == 0
    hist = tmp_path / "d.png"
    args = ["figure", "nearest", "--checkpoint", str(run), "--out", str(tmp_path / "f.png"), "--threads", "1"]
    assert cli.main([*args, "--n", "30", "--distances", str(hist)]) == 0
    out = capsys.readouterr().out
    assert "nearest of 64 training images" in out and "30 samples" in out and "30 test images" in out
    assert hist.is_file()


def test_interpolation_rows_start_at_g_of_z0_and_end_at_g_of_z1():
    from gan.figures.paper_figures import interpolation_images

    G, _ = build_models("mlp", width=0.25, conditional=True)
    rng = np.random.default_rng(0)
    z0, z1 = rng.standard_normal((3, 100)), rng.standard_normal((3, 100))
    labels = np.array([1, 5, 9])
    for path in ("linear", "slerp"):
        rows = interpolation_images(G, z0, z1, 5, path, labels=labels).reshape(3, 5, 1, 28, 28)
        ends = [minigrad.tensor(z.astype(np.float32)) for z in (z0, z1)]
        np.testing.assert_allclose(rows[:, 0], generate(G, ends[0], labels=labels), atol=1e-6)
        np.testing.assert_allclose(rows[:, -1], generate(G, ends[1], labels=labels), atol=1e-6)
        assert not np.allclose(rows[:, 2], rows[:, 0], atol=1e-3)  # the middle is somewhere else


def test_the_goodfellow2014_preset_trains_conditionally_with_simultaneous_updates(train_tiny, tmp_path):
    """The preset's simultaneous step (both players from one forward pass) with labels; resume stays exact."""
    flags = ("--preset", "goodfellow2014", "--conditional", "--log-every", "1")
    assert train_tiny(tmp_path / "full", *flags, "--epochs", "2") == 0
    assert train_tiny(tmp_path / "half", *flags, "--epochs", "1") == 0
    assert cli.main(["train", "--resume", str(tmp_path / "half"), "--epochs", "2", "--quiet"]) == 0
    assert_same_arrays(run_arrays(tmp_path / "full"), run_arrays(tmp_path / "half"))
    config = load_checkpoint(tmp_path / "full")["config"]
    assert config["updates"] == "simultaneous" and config["conditional"] and config["model"] == "goodfellow2014"
