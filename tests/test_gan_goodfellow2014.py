"""The goodfellow2014 preset: the paper's nets, data range and settings, the simultaneous update
against separately computed gradients, the schedules, and resume == uninterrupted bit for bit."""

import copy
import json

import numpy as np
import pytest

import minigrad
from gan import cli, sampling
from gan.config import TrainConfig
from gan.data import load_dataset
from gan.evaluation.evaluate import held_out_note, make_evaluator
from gan.models import build_models, init_output_bias_from_marginals_
from gan.pixels import uint8_to_unit
from gan.presets import PRESETS
from gan.run.checkpoint import load_checkpoint
from gan.training import trainer as gan_train
from gan.training.optimizers import DecayWithFloor, momentum_at
from minigrad import nn


def test_the_papers_nets_and_init():
    G, D = build_models("goodfellow2014")
    assert G.pixel_range == (0, 1) and G.image_shape == (1, 28, 28)
    lin = [m for m in G.modules() if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in lin] == [(100, 1200), (1200, 1200), (1200, 784)]
    assert [type(m).__name__ for m in G][:6] == ["Linear", "ReLU", "Linear", "ReLU", "Linear", "Sigmoid"]
    for m in lin:
        w = m.weight.numpy()
        assert np.abs(w).max() <= 0.05 and np.abs(w).max() > 0.049 and not m.bias.numpy().any()
    drops = [m.p for m in D if isinstance(m, nn.Dropout)]
    assert drops == [0.2, 0.5, 0.5]  # kept with 0.8, 0.5, 0.5 (inverted: scaled by 1.25, 2, 2)
    maxouts = [m for m in D if isinstance(m, nn.Maxout)]
    assert [(m.in_features, m.units, m.pieces) for m in maxouts] == [(784, 240, 5), (240, 240, 5)]
    assert [type(m).__name__ for m in D] == ["Flatten", "Dropout", "Maxout", "Dropout", "Maxout", "Dropout", "Linear"]
    assert (D[-1].in_features, D[-1].out_features) == (240, 1)
    for m in maxouts + [D[-1]]:
        w = m.weight.numpy()
        assert np.abs(w).max() <= 0.005 and np.abs(w).max() > 0.0049 and not m.bias.numpy().any()
    x = minigrad.rand(3, 1, 28, 28)
    assert D(x).shape == (3, 1)
    y = G(minigrad.randn(4, 100)).numpy()
    assert y.shape == (4, 1, 28, 28) and y.min() >= 0 and y.max() <= 1


def test_output_bias_is_the_logit_of_the_mean_pixel():
    G, _ = build_models("goodfellow2014", width=0.01)
    images = np.zeros((4, 1, 28, 28), dtype=np.float32)
    images[:, 0, 0, 0] = [0.0, 0.5, 1.0, 0.5]  # mean 0.5 -> logit 0
    images[:, 0, 0, 1] = 1.0  # mean 1 -> clipped to 1 - 1e-7
    images[:3, 0, 0, 2] = 1.0  # mean 0.75 -> log 3
    init_output_bias_from_marginals_(G, images)
    b = G[4].bias.numpy()
    assert b[0] == 0 and b[2] == pytest.approx(np.log(3), rel=1e-6)
    assert b[1] == pytest.approx(np.log((1 - 1e-7) / 1e-7), rel=1e-6) and b[3] == pytest.approx(-b[1], rel=1e-6)
    # so the untrained generator draws the mean image: sigmoid(W h + b) with W ~ 0.05 is near it
    G2, _ = build_models("goodfellow2014", width=0.01)
    mean = np.full((1, 1, 28, 28), 0.3, dtype=np.float32)
    init_output_bias_from_marginals_(G2, mean)
    for m in G2.modules():
        if isinstance(m, nn.Linear):
            nn.init.zeros_(m.weight)
    np.testing.assert_allclose(G2(minigrad.randn(2, 100)).numpy(), 0.3, rtol=1e-5)


def test_data_in_zero_one_exactly_as_pylearn2(mnist_dir):
    k = np.arange(256, dtype=np.uint8)
    np.testing.assert_array_equal(uint8_to_unit(k), k.astype(np.float32) / np.float32(255))
    x = load_dataset(mnist_dir, value_range=(0, 1))
    u8 = load_dataset(mnist_dir)  # [-1, 1]
    assert x.dtype == np.float32 and x.min() == 0 and x.max() == 1
    np.testing.assert_allclose(x, (u8 + 1) / 2, atol=1e-7)
    with pytest.raises(ValueError, match="value_range must be"):
        load_dataset(mnist_dir, value_range=(0, 255))


def test_noise_uniform_sqrt3():
    u = sampling.sample_noise(4000, 10, "uniform_sqrt3").numpy()
    assert u.dtype == np.float32 and u.min() >= -np.sqrt(3) and u.max() <= np.sqrt(3)
    assert abs(u.mean()) < 0.03 and abs(u.var() - 1) < 0.03  # unit variance


def test_schedules_match_the_released_code():
    cfg = TrainConfig(**PRESETS["goodfellow2014"])
    # pylearn2's MomentumAdjustor(start=1, saturate=250): 0.5 in epoch 1, 0.7 from epoch 250 on
    assert momentum_at(cfg, 1) == 0.5 and momentum_at(cfg, 250) == pytest.approx(0.7)
    assert momentum_at(cfg, 1000) == pytest.approx(0.7)
    assert momentum_at(cfg, 125) == pytest.approx(0.5 + 0.2 * 124 / 249)
    # ExponentialDecay(1.000004, min_lr 1e-6): lr_t = max(0.1 / 1.000004^t, 1e-6)
    f = DecayWithFloor(1.000004, 1e-6 / 0.1)
    assert 0.1 * f(250_000) == pytest.approx(0.1 / 1.000004**250_000, rel=1e-12)
    assert 0.1 * f(5_000_000) == pytest.approx(1e-6)


def test_preset_sets_everything_flags_win_and_config_records_it(train_tiny, tmp_path):
    p, sub = cli.build_parser()
    args = p.parse_args(["train", "--preset", "goodfellow2014", "--lr", "0.05", "--outdir", str(tmp_path / "x")])
    cfg, _ = cli.train._train_config(sub["train"], args)
    for key, value in PRESETS["goodfellow2014"].items():
        assert getattr(cfg, key) == (0.05 if key == "lr" else value), key
    assert cfg.preset == "goodfellow2014"
    assert TrainConfig().updates == "alternating" and TrainConfig().optimizer == "adam"  # the default stays
    help_text = sub["train"].format_help()
    assert "goodfellow2014" in help_text and "--lr-decay 1.000004" in " ".join(help_text.split())
    assert train_tiny(tmp_path / "run", "--preset", "goodfellow2014", "--epochs", "1") == 0
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["preset"] == "goodfellow2014" and saved["updates"] == "simultaneous"
    assert saved["batch_size"] == 32 and saved["limit"] == 128  # train_tiny's explicit flags won


def test_simultaneous_step_matches_separate_gradients(mnist_dir, tmp_path):
    """One step equals SGD's first step with D's gradient of L_D and G's gradient of L_G, each computed
    here from its own forward pass with the same noise and dropout masks."""
    cfg = TrainConfig(
        **dict(
            PRESETS["goodfellow2014"],
            data_dir=str(mnist_dir),
            limit=64,
            batch_size=32,
            width=0.05,
            outdir=str(tmp_path / "run"),
            quiet=True,
        )
    )
    trainer = gan_train.Trainer(cfg)
    G0, D0 = copy.deepcopy(trainer.G), copy.deepcopy(trainer.D)
    rng = minigrad.backend.get_rng_state()
    xb = next(trainer.batches.epoch(0))
    lr = trainer.opt_g.param_groups[0]["lr"]
    trainer.train_step([xb])

    def forward():
        G, D = copy.deepcopy(G0), copy.deepcopy(D0)
        minigrad.backend.set_rng_state(rng)
        fake = G(sampling.sample_noise(32, 100, "uniform_sqrt3"))
        return G, D, D(minigrad.tensor(xb)), D(fake)

    G, D, real_logits, fake_logits = forward()
    (0.5 * (-minigrad.logsigmoid(real_logits).mean() - minigrad.logsigmoid(-fake_logits).mean())).backward()
    d_grads = [p.grad.numpy() for p in D.parameters()]
    G, D, _, fake_logits = forward()
    (-minigrad.logsigmoid(fake_logits).mean()).backward()
    g_grads = [p.grad.numpy() for p in G.parameters()]
    assert lr == 0.1 and all(np.abs(g).max() > 0 for g in d_grads + g_grads)
    # the gradient each update used, (p0 - p) / lr, against the reference (float32: D's output bias
    # gradient is a ~1e-6 difference of two ~0.5 means, so the tolerance is absolute there)
    for net, net0, grads in ((trainer.D, D0, d_grads), (trainer.G, G0, g_grads)):
        for (name, p), p0, g in zip(net.named_parameters(), net0.parameters(), grads):
            used = (p0.numpy().astype(np.float64) - p.numpy()) / lr
            np.testing.assert_allclose(used, g, rtol=2e-3, atol=2e-7, err_msg=name)
    # after the step the schedules moved on: lr / 1.000004, and D is trainable again
    assert trainer.opt_d.param_groups[0]["lr"] == pytest.approx(0.1 / 1.000004, rel=1e-12)
    assert all(p.requires_grad for p in trainer.D.parameters())


@pytest.mark.parametrize("updates", ["simultaneous", "alternating"])
def test_updates_flag_works_for_other_models(updates, train_tiny, tmp_path):
    assert train_tiny(tmp_path / "run", "--updates", updates, "--epochs", "1") == 0
    assert json.loads((tmp_path / "run" / "config.json").read_text())["updates"] == updates


def test_preset_resume_equals_uninterrupted_run(train_tiny, tmp_path):
    """Momentum buffers, the lr schedule, the momentum schedule and the dropout RNG all continue exactly."""
    flags = ("--preset", "goodfellow2014", "--momentum-saturate", "3", "--lr-decay", "1.01", "--log-every", "2")
    assert train_tiny(tmp_path / "full", *flags, "--epochs", "2") == 0
    assert train_tiny(tmp_path / "half", *flags, "--epochs", "1") == 0
    assert cli.main(["train", "--resume", str(tmp_path / "half"), "--epochs", "2", "--quiet"]) == 0
    a, b = load_checkpoint(tmp_path / "full"), load_checkpoint(tmp_path / "half")
    for who in ("generator", "discriminator"):
        for key in a[who]:
            assert np.array_equal(a[who][key].numpy(), b[who][key].numpy()), (who, key)
    for opt in ("opt_g", "opt_d"):
        for i, buffers in a[opt]["state"].items():
            assert np.array_equal(buffers["momentum_buffer"].numpy(), b[opt]["state"][i]["momentum_buffer"].numpy())
        ga, gb = a[opt]["param_groups"][0], b[opt]["param_groups"][0]
        assert ga["lr"] == gb["lr"] == pytest.approx(0.1 / 1.01**8, rel=1e-12)  # 2 epochs x 4 steps
        assert ga["momentum"] == gb["momentum"] == pytest.approx(0.6)  # epoch 2 of saturate 3: halfway
    assert a["schedulers"] == b["schedulers"] and a["schedulers"][0]["last_epoch"] == 8
    assert a["rng_state"] == b["rng_state"]
    logs = [
        [json.loads(line) for line in (tmp_path / run / "metrics.jsonl").read_text().splitlines()]
        for run in ("full", "half")
    ]
    assert [(r["kind"], r["step"], r["loss_d"], r["loss_g"]) for r in logs[0]] == [
        (r["kind"], r["step"], r["loss_d"], r["loss_g"]) for r in logs[1]
    ]


def test_evaluation_says_which_images_chose_sigma():
    assert held_out_note(50000) == "held out: the run trained on images 0..49,999"
    assert held_out_note(None).startswith("not held out: the run trained on all 60,000")
    assert held_out_note(55000).startswith("not held out")
    lines = []
    evaluate = make_evaluator(
        100, "uniform_sqrt3", n=300, log=lines.append, trained_on=50000, classifier=False, valid_size=50
    )
    G, _ = build_models("goodfellow2014", width=0.05)
    scores = evaluate(G, 1)
    assert scores["parzen_valid_images"] == "50000..50049" and scores["parzen_valid_held_out"] is True
    assert any("chosen on MNIST train images 50,000..50,049" in line for line in lines)
    assert any("held out: the run trained on images 0..49,999" in line for line in lines)
