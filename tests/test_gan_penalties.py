"""gan.penalties, the critic losses of gan.losses and the recipe defaults of gan.config, against independent
references: finite differences of a tiny smooth critic written again in NumPy, closed forms, and the schedule
of lazy R1 in a tiny run."""

import dataclasses
import json
import math
import re

import numpy as np
import pytest

import minigrad
from gan import losses, penalties
from gan.cli.shared import flag_spelling
from gan.config import ConfigError, TrainConfig
from gan.training.trainer import Trainer

# --- a tiny smooth critic: D(x) = act(flat(x) W1^T + b1) w2^T + b2, in minigrad and in NumPy ------------------

N, SHAPE = 4, (1, 3, 3)  # four 3x3 one-channel images
FEATURES, HIDDEN = 9, 5
ACTIVATIONS = {"tanh": (lambda t: t.tanh(), np.tanh), "softplus": (minigrad.softplus, lambda a: np.logaddexp(0.0, a))}


def _weights(seed=0, first_layer_zero=False):
    rng = np.random.default_rng(seed)
    w = {
        "W1": rng.normal(0.0, 0.6, (HIDDEN, FEATURES)),
        "b1": rng.normal(0.0, 0.3, HIDDEN),
        "w2": rng.normal(0.0, 0.8, (1, HIDDEN)),
        "b2": rng.normal(0.0, 0.3, 1),
    }
    if first_layer_zero:
        w["W1"][:] = 0.0
    return w


class Critic:
    """The critic in minigrad, float64 leaves (``params``) so its weights' gradients can be read."""

    def __init__(self, weights, activation="tanh", dtype=minigrad.float64):
        self.params = {k: minigrad.tensor(v, dtype=dtype, requires_grad=True) for k, v in weights.items()}
        self.act = ACTIVATIONS[activation][0]

    def __call__(self, x):
        p = self.params
        h = self.act(x.reshape(x.shape[0], -1) @ p["W1"].T + p["b1"])
        return h @ p["w2"].T + p["b2"]


def _np_critic(weights, x, activation="tanh"):
    """D(x) in NumPy on (n, FEATURES) rows: shape (n,)."""
    act = ACTIVATIONS[activation][1]
    return (act(x @ weights["W1"].T + weights["b1"]) @ weights["w2"].T + weights["b2"])[:, 0]


def _np_input_gradients(weights, x, activation="tanh", eps=1e-6):
    """grad_x D(x_i) for each sample by central differences of D(x_i) alone: shape (n, FEATURES)."""
    x = x.reshape(len(x), -1)
    g = np.zeros_like(x)
    for i in range(len(x)):
        for j in range(x.shape[1]):
            hi, lo = x[i : i + 1].copy(), x[i : i + 1].copy()
            hi[0, j] += eps
            lo[0, j] -= eps
            g[i, j] = (_np_critic(weights, hi, activation)[0] - _np_critic(weights, lo, activation)[0]) / (2 * eps)
    return g


def _images(seed):
    rng = np.random.default_rng(seed)
    return rng.normal(0.0, 1.0, (N, *SHAPE))


def _t(a):
    return minigrad.tensor(a, dtype=minigrad.float64)


def _alphas(seed):
    """The interpolation coefficients gradient_penalty draws after manual_seed(seed): one per sample."""
    minigrad.manual_seed(seed)
    return minigrad.rand(N, 1, 1, 1, dtype=minigrad.float64).numpy()


def _gp(D, real, fake, weight, seed):
    minigrad.manual_seed(seed)
    return penalties.gradient_penalty(D, _t(real), _t(fake), weight)


def _r1(D, real, gamma):
    x = _t(real).requires_grad_()
    return penalties.r1_penalty(D(x), x, gamma)


def _fd_weight_gradient(value_of, weights, entries, eps=1e-6):
    """Central differences of value_of(weights) over the listed (name, index) weight entries."""
    out = []
    for name, idx in entries:
        hi = {k: v.copy() for k, v in weights.items()}
        lo = {k: v.copy() for k, v in weights.items()}
        hi[name][idx] += eps
        lo[name][idx] -= eps
        out.append((value_of(hi) - value_of(lo)) / (2 * eps))
    return np.array(out)


def _grad(p):
    """p's gradient as an array; None (a weight outside the graph, as PyTorch leaves it) reads as zeros."""
    return np.zeros(p.shape) if p.grad is None else p.grad.numpy()


def _analytic(D):
    return np.array([_grad(D.params[name])[idx] for name, idx in WEIGHT_ENTRIES])


WEIGHT_ENTRIES = [("W1", (0, 0)), ("W1", (2, 7)), ("W1", (4, 3)), ("b1", (1,)), ("w2", (0, 3)), ("b2", (0,))]


# --- WGAN-GP -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("activation", ["tanh", "softplus"])
def test_gradient_penalty_value_and_mean_norm_match_finite_differences(activation):
    weights, real, fake, lam, seed = _weights(1), _images(2), _images(3), 7.5, 11
    penalty, mean_norm = _gp(Critic(weights, activation), real, fake, lam, seed)
    a = _alphas(seed)
    x_hat = a * real + (1 - a) * fake
    norms = np.linalg.norm(_np_input_gradients(weights, x_hat, activation), axis=1)
    assert 0.2 < norms.min() and norms.max() < 5  # the penalty is not trivially near 0 or near the norm's kink
    assert penalty.shape == () and penalty.dtype == np.float64 and penalty.requires_grad
    assert penalty.item() == pytest.approx(lam * np.mean((norms - 1) ** 2), rel=1e-8)
    assert not mean_norm.requires_grad
    assert mean_norm.item() == pytest.approx(norms.mean(), rel=1e-8)


def test_interpolates_lie_on_each_pair_segment_with_one_coefficient_per_sample():
    real, fake = _t(_images(2)), _t(_images(3))
    minigrad.manual_seed(5)
    x_hat = penalties.interpolate(real, fake)
    assert x_hat.requires_grad and x_hat.grad_fn is None  # a leaf: the penalty's graph starts here
    a = (x_hat.numpy() - fake.numpy()) / (real.numpy() - fake.numpy())
    np.testing.assert_allclose(a, np.broadcast_to(_alphas(5), a.shape), rtol=1e-9, atol=1e-12)
    assert ((0 <= a) & (a <= 1)).all() and len(np.unique(a.round(9))) == N


@pytest.mark.parametrize("activation", ["tanh", "softplus"])
def test_gradient_penalty_weight_gradient_matches_finite_differences(activation):
    weights, real, fake, lam, seed = _weights(1), _images(2), _images(3), 7.5, 11
    D = Critic(weights, activation)
    penalty, _ = _gp(D, real, fake, lam, seed)
    penalty.backward()  # through the create_graph input gradient
    analytic = _analytic(D)
    numeric = _fd_weight_gradient(
        lambda w: _gp(Critic(w, activation), real, fake, lam, seed)[0].item(), weights, WEIGHT_ENTRIES
    )
    assert np.abs(numeric).max() > 1e-2
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)
    # b2 shifts D by a constant: it does not change the input gradient, so the penalty ignores it
    assert D.params["b2"].grad is None or D.params["b2"].grad.item() == 0


@pytest.mark.parametrize("dtype", [minigrad.float64, minigrad.float32])
def test_gradient_penalty_at_zero_input_gradient_is_lambda_with_finite_weight_gradients(dtype):
    """W1 = 0 makes D constant in x: ||grad|| = 0, so the penalty is lambda (0 - 1)^2; the norm's gradient
    g / ||g|| would be 0/0 there, and NORM_EPS keeps it finite (0, the smoothed norm's gradient at its minimum)."""
    weights, lam = _weights(1, first_layer_zero=True), 10.0
    D = Critic(weights, dtype=dtype)
    minigrad.manual_seed(0)
    penalty, mean_norm = penalties.gradient_penalty(
        D, minigrad.tensor(_images(2), dtype=dtype), minigrad.tensor(_images(3), dtype=dtype), lam
    )
    assert penalty.item() == pytest.approx(lam, rel=1e-5)
    assert mean_norm.item() == pytest.approx(0.0, abs=1e-5)
    penalty.backward()
    for name, p in D.params.items():
        g = _grad(p)
        assert np.isfinite(g).all(), name
        np.testing.assert_allclose(g, 0.0, atol=1e-6, err_msg=name)


# --- R1 ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("activation", ["tanh", "softplus"])
def test_r1_penalty_value_and_weight_gradient_match_finite_differences(activation):
    weights, real, gamma = _weights(4), _images(6), 3.0
    D = Critic(weights, activation)
    r1 = _r1(D, real, gamma)
    g = _np_input_gradients(weights, real, activation)
    assert r1.item() == pytest.approx(gamma / 2 * np.mean((g**2).sum(axis=1)), rel=1e-8)
    r1.backward()
    analytic = _analytic(D)
    numeric = _fd_weight_gradient(lambda w: _r1(Critic(w, activation), real, gamma).item(), weights, WEIGHT_ENTRIES)
    assert np.abs(numeric).max() > 1e-2
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)


# --- the per-sample input gradient -------------------------------------------------------------------------


def test_input_gradient_rows_are_each_samples_own_gradient():
    D, x = Critic(_weights(2)), _t(_images(7)).requires_grad_()
    g = penalties.input_gradient(D(x), x)
    assert g.shape == x.shape and g.requires_grad  # create_graph: differentiable again
    for i in range(N):
        xi = _t(_images(7)[i : i + 1]).requires_grad_()
        (alone,) = minigrad.autograd.grad(D(xi).sum(), xi)
        np.testing.assert_allclose(g.detach().numpy()[i], alone.numpy()[0], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(
        penalties.per_sample_squared_norm(g).detach().numpy(), (g.detach().numpy() ** 2).reshape(N, -1).sum(axis=1)
    )
    # a critic that mixes the batch (D(x_i) minus the batch mean) breaks the property: the rows then sum D's
    # gradients over the batch, here to 0, and no longer are any sample's own gradient
    x = _t(_images(7)).requires_grad_()
    out = D(x)
    mixed = penalties.input_gradient(out - out.mean(), x).detach().numpy()
    np.testing.assert_allclose(mixed, 0.0, atol=1e-12)
    assert np.abs(g.detach().numpy()).max() > 0.1


# --- hinge and Wasserstein losses --------------------------------------------------------------------------

# critic outputs, (N, 1) as D gives them, away from the hinge's kinks at +-1
REAL = np.array([[-1.7], [-0.3], [0.6], [1.4], [2.8]])
FAKE = np.array([[-2.6], [-1.2], [-0.5], [0.2], [1.9]])


def _value_and_grads(fn, *arrays):
    ts = [minigrad.tensor(a, dtype=minigrad.float64, requires_grad=True) for a in arrays]
    loss = fn(*ts)
    loss.backward()
    return loss.item(), [t.grad.numpy() for t in ts]


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def test_hinge_discriminator_loss_and_gradient():
    n = len(REAL)
    value, (g_real, g_fake) = _value_and_grads(losses.hinge_discriminator_loss, REAL, FAKE)
    assert value == pytest.approx(np.mean(np.maximum(0, 1 - REAL)) + np.mean(np.maximum(0, 1 + FAKE)), rel=1e-12)
    # only samples inside the margin pull: l_real < 1 down the loss by raising l_real, l_fake > -1 by lowering it
    np.testing.assert_allclose(g_real, np.where(REAL < 1, -1.0 / n, 0.0), rtol=1e-12, atol=0)
    np.testing.assert_allclose(g_fake, np.where(FAKE > -1, 1.0 / n, 0.0), rtol=1e-12, atol=0)


def test_wasserstein_critic_and_generator_losses_and_gradients():
    n = len(REAL)
    value, (g_real, g_fake) = _value_and_grads(losses.wasserstein_critic_loss, REAL, FAKE)
    assert value == pytest.approx(FAKE.mean() - REAL.mean(), rel=1e-12)
    np.testing.assert_allclose(g_real, np.full_like(REAL, -1.0 / n), rtol=1e-12)
    np.testing.assert_allclose(g_fake, np.full_like(FAKE, 1.0 / n), rtol=1e-12)
    value, (g_fake,) = _value_and_grads(losses.critic_generator_loss, FAKE)
    assert value == pytest.approx(-FAKE.mean(), rel=1e-12)
    np.testing.assert_allclose(g_fake, np.full_like(FAKE, -1.0 / n), rtol=1e-12)


def _bce_d(real, fake, target):
    return -np.mean(target * np.log(_sigmoid(real)) + (1 - target) * np.log(1 - _sigmoid(real))) - np.mean(
        np.log(1 - _sigmoid(fake))
    )


@pytest.mark.parametrize(
    "kind, target, reduction, expected",
    [
        ("nonsaturating", 1.0, "sum", _bce_d(REAL, FAKE, 1.0)),
        ("minimax", 0.9, "sum", _bce_d(REAL, FAKE, 0.9)),
        ("nonsaturating", 0.9, "mean", 0.5 * _bce_d(REAL, FAKE, 0.9)),
        ("hinge", 1.0, "sum", np.mean(np.maximum(0, 1 - REAL)) + np.mean(np.maximum(0, 1 + FAKE))),
        ("wgan-gp", 1.0, "sum", FAKE.mean() - REAL.mean()),
    ],
)
def test_d_loss_for_dispatches_to_each_losses_formula(kind, target, reduction, expected):
    loss = losses.d_loss_for(kind, _t(REAL), _t(FAKE), target, reduction)
    assert loss.item() == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    "kind, expected",
    [
        ("nonsaturating", np.mean(np.logaddexp(0, -FAKE))),  # -mean log sigmoid(l)
        ("minimax", -np.mean(np.logaddexp(0, FAKE))),  # mean log(1 - sigmoid(l))
        ("hinge", -FAKE.mean()),
        ("wgan-gp", -FAKE.mean()),
    ],
)
def test_g_loss_for_dispatches_to_each_losses_formula(kind, expected):
    assert losses.g_loss_for(kind, _t(FAKE)).item() == pytest.approx(expected, rel=1e-12)


def test_loss_dispatch_rejects_unknown_kinds():
    with pytest.raises(ValueError, match="d_loss_for: unknown loss 'wgan'"):
        losses.d_loss_for("wgan", _t(REAL), _t(FAKE))
    with pytest.raises(ValueError, match="generator_loss: kind must be"):
        losses.g_loss_for("wgan", _t(FAKE))


# --- TrainConfig: recipe defaults and the penalties' checks ------------------------------------------------


def _cfg(**kw):
    return TrainConfig(**kw).validate()


def _settings(cfg):
    return dict(
        lr=cfg.lr,
        lr_g=cfg.lr_g,
        lr_d=cfg.lr_d,
        betas=(cfg.beta1, cfg.beta2),
        k=cfg.k,
        batch_size=cfg.batch_size,
        ema=cfg.ema,
        gp_lambda=cfg.gp_lambda,
        d_norm=cfg.d_norm,
    )


RADFORD = dict(lr=2e-4, lr_g=2e-4, lr_d=2e-4, betas=(0.5, 0.999), k=1, batch_size=128, ema=0.0, gp_lambda=None)
DCGAN28 = dict(RADFORD, lr_g=1e-3, batch_size=64, ema=0.999, d_norm="batch")  # two time-scales, EMA
WGAN_GP = dict(lr=1e-4, lr_g=1e-4, lr_d=1e-4, betas=(0.0, 0.9), k=5, batch_size=128, ema=0.0, gp_lambda=10.0)


@pytest.mark.parametrize(
    "given, expected",
    [
        (dict(model="mlp"), dict(RADFORD, d_norm=None)),
        (dict(model="goodfellow2014"), dict(RADFORD, d_norm=None)),
        (dict(model="dcgan28"), DCGAN28),
        # --lr sets both players over the recipe's two time-scales
        (dict(model="dcgan28", lr=5e-4), dict(DCGAN28, lr=5e-4, lr_g=5e-4, lr_d=5e-4)),
        # an explicit player's rate wins over --lr and over the recipe
        (dict(model="dcgan28", lr=5e-4, lr_g=3e-4), dict(DCGAN28, lr=5e-4, lr_g=3e-4, lr_d=5e-4)),
        (dict(model="dcgan28", lr_d=1e-4), dict(DCGAN28, lr_d=1e-4)),
        (dict(model="mlp", loss="wgan-gp"), dict(WGAN_GP, d_norm=None)),
        # wgan-gp on dcgan28: the critic gets LayerNorm, not BatchNorm; batch and EMA stay the model's
        (dict(model="dcgan28", loss="wgan-gp"), dict(WGAN_GP, batch_size=64, ema=0.999, d_norm="layer")),
        (
            dict(model="mlp", loss="wgan-gp", gp_lambda=2.5, k=2, beta1=0.5, lr_g=3e-4),
            dict(WGAN_GP, lr_g=3e-4, gp_lambda=2.5, k=2, betas=(0.5, 0.9), d_norm=None),
        ),
        (dict(model="dcgan28", spectral_norm=True), dict(DCGAN28, d_norm="none")),
        (dict(model="dcgan28", loss="hinge", d_norm="none"), dict(DCGAN28, d_norm="none")),
        (dict(model="mlp", batch_size=32, ema=0.99), dict(RADFORD, batch_size=32, ema=0.99, d_norm=None)),
    ],
)
def test_recipe_defaults_by_model_and_loss(given, expected):
    assert _settings(_cfg(**given)) == expected  # the recipe's constants, copied: exact


@pytest.mark.parametrize(
    "given, message",
    [
        (dict(gp_lambda=5.0), r"--gp-lambda is a setting of --loss wgan-gp, not of --loss nonsaturating"),
        (dict(loss="hinge", gp_lambda=5.0), r"--gp-lambda is a setting of --loss wgan-gp, not of --loss hinge"),
        (dict(loss="wgan-gp", gp_lambda=-1.0), r"--gp-lambda must be non-negative and finite, got -1.0"),
        (dict(loss="wgan-gp", gp_lambda=math.nan), r"--gp-lambda must be non-negative"),
        (dict(loss="wgan-gp", gp_lambda=math.inf), r"--gp-lambda"),  # as --r1: an inf weight is bad input
        (dict(model="dcgan28", loss="wgan-gp", d_norm="batch"), r"BatchNorm mixes the samples of a batch"),
        (dict(loss="hinge", label_smoothing=0.1), r"--label-smoothing applies to the BCE losses, not to --loss hinge"),
        (dict(loss="wgan-gp", label_smoothing=0.1), r"--label-smoothing applies to the BCE losses"),
        (dict(loss="hinge", d_loss="mean"), r"--d-loss applies to the BCE losses, not to --loss hinge"),
        (dict(r1=-0.5), r"--r1 \(gamma\) must be non-negative and finite, got -0.5"),
        (dict(r1=math.inf), r"--r1 \(gamma\) must be non-negative"),
        (dict(r1=1.0, r1_every=0), r"--r1-every must be at least 1, got 0"),
        (dict(r1=1.0, updates="simultaneous"), r"--updates simultaneous takes no gradient penalty"),
        (dict(loss="wgan-gp", k=1, updates="simultaneous"), r"--updates simultaneous takes no gradient penalty"),
        (dict(model="mlp", d_norm="layer"), r"--d-norm is a setting of --model dcgan28, not of --model mlp"),
        (dict(model="dcgan28", d_norm="group"), r"--d-norm must be one of"),
        (dict(lr_g=-1e-4), r"--lr-g must be a positive finite number, got -0.0001"),
        (dict(lr_d=math.inf), r"--lr-d must be a positive finite number"),
        (dict(loss="wgan"), r"--loss must be one of"),
    ],
)
def test_config_errors_name_the_setting_and_the_cli_spells_it_as_its_flag(given, message):
    with pytest.raises(ConfigError) as e:
        _cfg(**given)
    assert re.search(message, e.value.message(flag_spelling)), e.value.message(flag_spelling)
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    assert e.value.fields and set(e.value.fields) <= fields
    assert "--" not in str(e.value) and all(name in str(e.value) for name in e.value.fields), str(e.value)


def test_config_errors_speak_python_to_python_callers():
    with pytest.raises(ConfigError, match=r"^epochs must be at least 1, got 0$"):
        TrainConfig(epochs=0).validate()
    with pytest.raises(ConfigError, match=r"^d_norm is a setting of model='dcgan28', not of model='mlp'$"):
        TrainConfig(d_norm="layer").validate()
    with pytest.raises(ConfigError, match=r"^limit=10 images make no full iteration of k=1 batches of batch_size=128$"):
        TrainConfig(limit=10).validate()


def test_fill_defaults_only_fills_and_check_only_checks():
    cfg = TrainConfig(model="dcgan28", loss="wgan-gp", lr_d=3e-4)
    assert cfg.fill_defaults() is cfg
    assert (cfg.lr, cfg.k, cfg.batch_size, cfg.lr_g, cfg.lr_d, cfg.gp_lambda, cfg.d_norm, cfg.image_size) == (
        1e-4,
        5,
        64,
        1e-4,
        3e-4,
        10.0,
        "layer",
        28,
    )
    bad = TrainConfig(epochs=0, lr=-1.0).fill_defaults()  # filling never raises, whatever the settings
    assert bad.lr == bad.lr_g == -1.0
    before = TrainConfig().fill_defaults().to_dict()
    checked = TrainConfig().fill_defaults()
    assert checked.check() is checked and checked.to_dict() == before  # checking changes nothing
    with pytest.raises(ConfigError, match="fill_defaults"):
        TrainConfig().check()  # the recipe's settings are still None


@pytest.mark.parametrize(
    "given",
    [
        dict(model="mlp"),
        dict(model="dcgan28"),
        dict(model="dcgan28", lr=5e-4),
        dict(model="dcgan28", loss="wgan-gp", d_norm="none"),
        dict(model="dcgan28", spectral_norm=True, loss="hinge"),
        dict(model="mlp", r1=2.0, r1_every=4),
    ],
)
def test_validated_config_round_trips_and_validates_to_the_same_dict(given):
    """The resume path: config.json's dict rebuilt and validated again keeps every setting."""
    saved = _cfg(**given).to_dict()
    again = TrainConfig.from_dict(json.loads(json.dumps(saved))).validate().to_dict()
    assert again == saved


# --- lazy R1 in a run --------------------------------------------------------------------------------------


def _penalties_of_run(mnist_dir, outdir, r1_every, k=1):
    """The logged penalty of every step of a tiny mlp run with R1 (gamma 1): 64 images in batches of 16."""
    cfg = TrainConfig(
        model="mlp",
        width=0.02,
        data_dir=str(mnist_dir),
        limit=64,
        batch_size=16,
        k=k,
        epochs=1,
        r1=1.0,
        r1_every=r1_every,
        log_every=1,
        quiet=True,
        outdir=str(outdir),
    )
    Trainer(cfg.validate()).run()
    records = [json.loads(line) for line in (outdir / "metrics.jsonl").read_text().splitlines()]
    steps = [r for r in records if r["kind"] == "step"]
    assert [r["step"] for r in steps] == list(range(1, 4 // k + 1))  # 4 batches, k D updates per step
    return [r["penalty"] for r in steps]


def test_lazy_r1_applies_every_n_discriminator_steps_scaled_by_n(mnist_dir, tmp_path):
    # record step s follows D update s - 1 (alternating_step counts the updates before it): R1 on updates 0 and 2
    lazy = _penalties_of_run(mnist_dir, tmp_path / "every2", 2)
    assert lazy[0] > 0 and lazy[2] > 0
    assert lazy[1] == 0 and lazy[3] == 0
    every = _penalties_of_run(mnist_dir, tmp_path / "every1", 1)
    assert all(p > 0 for p in every)
    # the first update starts from the same weights and batch in both runs: lazy R1 is scaled by its interval
    assert lazy[0] == pytest.approx(2 * every[0], rel=1e-6)


def test_logged_penalty_is_the_mean_over_the_k_discriminator_updates(mnist_dir, tmp_path):
    # k = 2, R1 every 2 D updates: each step's first update (0, 2, 4, ...) carries 2 * R1, its second none, so the
    # log shows the mean, R1 itself (it showed 0 when only the last update's penalty was logged)
    penalties = _penalties_of_run(mnist_dir, tmp_path / "k2", 2, k=2)
    assert len(penalties) == 2 and all(p > 0 for p in penalties)
    every = _penalties_of_run(mnist_dir, tmp_path / "every1", 1)
    # the first update starts from the same weights and batch: its 2 * R1, averaged over 2 updates, is R1
    assert penalties[0] == pytest.approx(every[0], rel=1e-6)


@pytest.mark.parametrize(
    "given",
    [
        dict(model="dcgan28", r1=1.0, d_norm="batch"),
        dict(model="dcgan28", loss="wgan-gp", d_norm="batch"),
        dict(model="dcgan64", r1=1.0),
        dict(model="dcgan64", loss="wgan-gp"),
    ],
)
def test_penalties_refuse_a_batchnorm_discriminator(given):
    with pytest.raises(ConfigError, match="BatchNorm"):
        _cfg(**given)


def test_r1_turns_dcgan28s_batchnorm_off():
    assert _cfg(model="dcgan28", r1=1.0).d_norm == "none"
    assert _cfg(model="dcgan28", r1=1.0, d_norm="layer").d_norm == "layer"


# --- WGAN-GP's gradient norm in the log --------------------------------------------------------------------


def _records_of_wgan_gp_run(mnist_dir, outdir, batch_size, k):
    cfg = TrainConfig(
        model="mlp",
        width=0.02,
        data_dir=str(mnist_dir),
        limit=8 * batch_size * k,
        batch_size=batch_size,
        loss="wgan-gp",
        k=k,
        epochs=1,
        log_every=1,
        quiet=True,
        outdir=str(outdir),
    )
    Trainer(cfg.validate()).run()
    return [json.loads(line) for line in (outdir / "metrics.jsonl").read_text().splitlines()]


def test_logged_gp_grad_norm_is_the_penaltys_norm(mnist_dir, tmp_path):
    # one image per batch and k = 1: penalty = lambda (||grad D(x_hat)|| - 1)^2 exactly, with the logged norm
    steps = [r for r in _records_of_wgan_gp_run(mnist_dir, tmp_path / "one", 1, 1) if r["kind"] == "step"]
    assert len(steps) == 8
    for r in steps:
        assert r["gp_grad_norm"] > 0
        assert r["penalty"] == pytest.approx(10.0 * (r["gp_grad_norm"] - 1.0) ** 2, rel=1e-4, abs=1e-6)
    # batches of 16, k = 2: the means over samples and updates obey Jensen, mean (n - 1)^2 >= (mean n - 1)^2
    records = _records_of_wgan_gp_run(mnist_dir, tmp_path / "many", 16, 2)
    assert all(r["penalty"] >= 10.0 * (r["gp_grad_norm"] - 1.0) ** 2 * (1 - 1e-5) for r in records)


def test_logged_gp_grad_norm_is_the_mean_over_the_k_critic_updates(mnist_dir, tmp_path, monkeypatch):
    from gan.training import steps as gan_steps

    norms = iter(range(1, 100))

    def known_norm(D, real, fake, weight):  # the real penalty, a norm of 1, 2, 3, ... in call order
        penalty, _ = penalties.gradient_penalty(D, real, fake, weight)
        return penalty, minigrad.tensor(float(next(norms)), dtype="float32")

    monkeypatch.setattr(gan_steps, "gradient_penalty", known_norm)
    steps = [r for r in _records_of_wgan_gp_run(mnist_dir, tmp_path / "k3", 4, 3) if r["kind"] == "step"]
    assert [r["gp_grad_norm"] for r in steps] == [2.0 + 3 * i for i in range(8)]  # (1+2+3)/3, (4+5+6)/3, ...


def test_a_run_without_wgan_gp_logs_no_gradient_norm(train_tiny, tmp_path):
    assert train_tiny(tmp_path / "run", "--epochs", "1", "--log-every", "1") == 0
    records = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert records and not any("gp_grad_norm" in r for r in records)
    assert all("penalty" in r for r in records)
