"""Scoring a generator: the paper's Parzen-window log-likelihood and classifier-based scores.

``evaluate_samples`` takes images in [0, 1] and returns one flat dict of
numbers (what ``python -m gan evaluate`` prints and writes to eval.json):

- parzen_ll, parzen_se, parzen_sigma: Goodfellow et al. (2014), Table 1's
  protocol: a Gaussian Parzen window on the samples, sigma chosen on MNIST
  train images 50,000..50,999 (the first 1,000 of the validation images
  50,000..59,999, as parzen_ll.py), mean log-likelihood of the 10,000 test
  images; parzen_valid_images says which images chose sigma. parzen_sigma_grid
  ("LO:HI:N", default the paper's 0.1:1:10), parzen_valid_ll (at sigma),
  parzen_valid_ll_per_sigma ([sigma, LL] on the grid), parzen_neighbours (the
  grid points beside sigma) and the optimum of a 4x finer grid between them:
  parzen_fine_sigma, parzen_fine_valid_ll, parzen_fine_ll, parzen_fine_se.
- fid: Frechet distance between classifier features of the samples and of
  the test images; inception_score: exp(E KL(p(y|x) || p(y))); modes_covered
  and kl_uniform from the predicted-class histogram.
- with ``labels`` (a conditional generator's requested digits): conditional_accuracy, the fraction of samples
  the classifier assigns to their requested digit, and fid_digit_0 .. fid_digit_9, the FID of each digit's
  samples against the test images of that digit.
"""

from __future__ import annotations

import functools
import time
from typing import Any

import numpy as np

import minigrad
from gan.data import load_mnist
from gan.evaluation.classifier import classify, load_classifier
from gan.evaluation.scores import (
    PAPER_SIGMA_GRID,
    fid_from_features,
    inception_score,
    mode_coverage,
    parse_sigma_grid,
    parzen_evaluate,
)
from gan.pixels import uint8_to_unit

VALID_START = 50000  # MNIST train images 50,000..59,999: the validation set of the paper's code
PAPER_TABLE_1 = [  # Goodfellow et al. 2014, Table 1: Parzen window log-likelihood on MNIST
    ("DBN", 138, 2),
    ("Stacked CAE", 121, 1.6),
    ("Deep GSN", 214, 1.1),
    ("Adversarial nets", 225, 2),
]


def as_28x28_gray(images):
    """Samples as float (N, 28, 28) in [0, 1]; larger single-channel images are resized."""
    x = np.asarray(images, dtype=np.float32)
    if x.ndim == 4:
        if x.shape[1] != 1:
            x = x.mean(axis=1, keepdims=True)  # RGB -> gray for MNIST-based scores
        x = x[:, 0]
    if x.ndim != 3:
        raise ValueError(f"evaluate: expected images (N, H, W) or (N, C, H, W), got shape {x.shape}")
    bad = ~np.isfinite(x)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"evaluate: {int(bad.sum())} pixel values are NaN or infinite (in "
            f"{int(bad.reshape(len(x), -1).any(axis=1).sum())} of {len(x)} images; the first at index "
            f"{first}): a diverged generator? scores need finite images in [0, 1]"
        )
    if x.shape[1:] != (28, 28):
        from gan.resize import resize

        x = resize(x[:, None], 28)[:, 0]
    if x.min() < -1e-6 or x.max() > 1 + 1e-6:
        raise ValueError(f"evaluate: images must be in [0, 1], got range [{x.min():.3g}, {x.max():.3g}]")
    return x


@functools.lru_cache(maxsize=1)
def _test_and_valid():
    test_x, _ = load_mnist("test")
    train_x, _ = load_mnist("train")
    return uint8_to_unit(test_x), uint8_to_unit(train_x)


@functools.lru_cache(maxsize=1)
def _test_labels():
    return load_mnist("test")[1].astype(np.int64)


@functools.lru_cache(maxsize=2)
def _classifier_and_test_features(device):
    """The classifier and its features of the 10,000 test images: computed once per process and device,
    not at every --eval-every epoch."""
    model = load_classifier(device=device)
    f_test, _ = classify(model, _test_and_valid()[0], device=device)
    return model, f_test


def evaluate_samples(
    images,
    parzen=True,
    classifier=True,
    valid_size=1000,
    parzen_samples=10000,
    sigma_grid=PAPER_SIGMA_GRID,
    device="cpu",
    log=print,
    labels=None,
) -> dict:
    """All scores of one set of samples (see the module docstring); sigma_grid: "LO:HI:N" (parse_sigma_grid);
    ``labels``: the digit each was drawn for."""
    x = as_28x28_gray(images)
    if labels is not None:
        labels = np.asarray(labels, dtype=np.int64)
        if labels.shape != (len(x),):
            raise ValueError(f"evaluate: {labels.shape} labels for {len(x)} images")
    test, train = _test_and_valid()
    out: dict[str, Any] = {"n_samples": int(len(x))}
    if parzen:
        t0 = time.time()
        mu = x[:parzen_samples].reshape(min(len(x), parzen_samples), -1)
        valid = train[VALID_START : VALID_START + valid_size].reshape(valid_size, -1)
        r = parzen_evaluate(mu, test.reshape(len(test), -1), valid, sigmas=parse_sigma_grid(sigma_grid))
        out.update(
            parzen_ll=float(r["mean_ll"]),
            parzen_se=float(r["std_err"]),
            parzen_sigma=float(r["sigma"]),
            parzen_seconds=round(time.time() - t0, 1),
            parzen_valid_images=f"{VALID_START}..{VALID_START + valid_size - 1}",
            parzen_sigma_grid=str(sigma_grid),
            parzen_valid_ll=r["valid_ll"],
            parzen_valid_ll_per_sigma=[[float(a), float(b)] for a, b in zip(r["sigmas"], r["valid_ll_per_sigma"])],
            parzen_neighbours=[[a, b] for a, b in r["neighbours"]],
            parzen_fine_sigma=r["fine_sigma"],
            parzen_fine_valid_ll=r["fine_valid_ll"],
            parzen_fine_ll=r["fine_mean_ll"],
            parzen_fine_se=r["fine_std_err"],
        )
        log(
            f"parzen: {out['parzen_ll']:.1f} +- {out['parzen_se']:.1f} nats (sigma {out['parzen_sigma']:.3f} chosen "
            f"on MNIST train images {VALID_START:,}..{VALID_START + valid_size - 1:,} from the grid {sigma_grid}, "
            f"{out['parzen_seconds']} s); a 4x finer grid: {out['parzen_fine_ll']:.1f} nats at sigma "
            f"{out['parzen_fine_sigma']:.3f}"
        )
    if classifier:
        model, f_test = _classifier_and_test_features(device)
        f_x, p_x = classify(model, x, device=device)
        modes = mode_coverage(p_x)
        out.update(
            fid=float(fid_from_features(f_x, f_test)),
            inception_score=float(inception_score(p_x)),
            modes_covered=int(modes["modes_covered"]),
            kl_uniform=float(modes["kl_from_uniform"]),
        )
        log(
            f"classifier: FID {out['fid']:.2f}  IS {out['inception_score']:.2f}  "
            f"modes {out['modes_covered']}/10  KL(hist||uniform) {out['kl_uniform']:.3f}"
        )
        if labels is not None:
            out.update(conditional_scores(f_x, p_x, labels, f_test, _test_labels()))
            per_digit = "  ".join(f"{d}: {out[f'fid_digit_{d}']:.1f}" for d in range(10) if f"fid_digit_{d}" in out)
            log(f"conditional accuracy {100 * out['conditional_accuracy']:.2f}%  FID per digit {per_digit}")
    return out


def conditional_scores(f_x, p_x, labels, f_test, test_labels) -> dict:
    """conditional_accuracy = mean [argmax p(y | x_i) = label_i]; fid_digit_d = FID between the features of the
    samples drawn for digit d and those of the test images of digit d (digits with fewer than 2 samples are
    left out: a covariance needs two)."""
    out = {"conditional_accuracy": float(np.mean(p_x.argmax(axis=1) == labels))}
    for d in range(10):
        mine = labels == d
        if mine.sum() >= 2:
            out[f"fid_digit_{d}"] = float(fid_from_features(f_x[mine], f_test[test_labels == d]))
    return out


def held_out_note(trained_on, valid_size=1000) -> str:
    """Whether the images that choose sigma were held out of a run trained on MNIST train[:trained_on]."""
    last = VALID_START + valid_size - 1
    if trained_on is not None and trained_on <= VALID_START:
        return f"held out: the run trained on images 0..{trained_on - 1:,}"
    seen = "all 60,000" if trained_on is None else f"images 0..{trained_on - 1:,}"
    return f"not held out: the run trained on {seen}, so images {VALID_START:,}..{last:,} were seen in training"


def make_evaluator(
    latent_dim,
    noise="normal",
    device="cpu",
    n=10000,
    seed=1234,
    log=print,
    trained_on=None,
    conditional=False,
    **kwargs,
):
    """A callable (G, epoch) -> scores for ``train(..., evaluator=...)``.

    The noise is drawn once from its own NumPy generator, so evaluating never
    touches minigrad's random stream: a run with --eval-every stays bit for bit
    the same run. ``trained_on``: the run's --limit (None: all training images),
    to say whether the images that choose sigma were held out. ``conditional``: sample i is drawn for digit
    i mod 10 (n / 10 of each), and the conditional scores are added.
    """
    from gan.sampling import SQRT3, generate

    rng = np.random.default_rng(seed)
    if noise == "normal":
        z_host = rng.standard_normal((n, latent_dim))
    else:
        half = 1.0 if noise == "uniform" else SQRT3
        z_host = rng.uniform(-half, half, (n, latent_dim))
    z = minigrad.tensor(z_host.astype(np.float32), device=device)

    def evaluate(G, epoch):
        log(f"evaluating epoch {epoch} on {n} samples ...")
        labels = np.arange(n) % 10 if conditional else None
        scores = evaluate_samples(generate(G, z, labels=labels), device=device, log=log, labels=labels, **kwargs)
        if "parzen_ll" in scores:
            note = held_out_note(trained_on, kwargs.get("valid_size", 1000))
            scores["parzen_valid_held_out"] = note.startswith("held out")
            log(f"parzen sigma images: {note}")
        return scores

    return evaluate


def evaluate_generator(G, config, epoch, n=10000, seed=1234, device="cpu", log=print, **kwargs) -> dict:
    """The scores of generator G of a run with TrainConfig ``config`` at ``epoch``: n samples from noise seeded
    ``seed``; kwargs as evaluate_samples' (parzen, classifier, valid_size, parzen_samples, sigma_grid)."""
    evaluator = make_evaluator(
        config.latent_dim,
        config.noise,
        device,
        n=n,
        seed=seed,
        log=log,
        trained_on=config.limit,
        conditional=config.conditional,
        **kwargs,
    )
    return evaluator(G, epoch)


def reference_scores(n=10000, **kwargs) -> dict:
    """The same scores for n real MNIST training images (the FID floor, the IS ceiling)."""
    _, train = _test_and_valid()
    return evaluate_samples(train[:n], **kwargs)


def format_table(rows) -> str:
    """rows: list of (name, scores dict) -> a plain-text table."""
    head = f"{'model':24s} {'Parzen LL':>16s} {'FID':>8s} {'IS':>6s} {'modes':>6s}"
    lines = [head, "-" * len(head)]
    for name, s in rows:
        ll = f"{s['parzen_ll']:.0f} +- {s['parzen_se']:.1f}" if "parzen_ll" in s else "-"
        fid = f"{s['fid']:.2f}" if "fid" in s else "-"
        is_ = f"{s['inception_score']:.2f}" if "inception_score" in s else "-"
        modes = f"{s['modes_covered']}/10" if "modes_covered" in s else "-"
        lines.append(f"{name:24s} {ll:>16s} {fid:>8s} {is_:>6s} {modes:>6s}")
    for name, s in rows:
        if "conditional_accuracy" in s:
            per_digit = " ".join(f"{s[f'fid_digit_{d}']:.1f}" for d in range(10) if f"fid_digit_{d}" in s)
            lines.append(
                f"{name}: conditional accuracy {100 * s['conditional_accuracy']:.2f}%, FID per digit 0-9: {per_digit}"
            )
    for paper_name, paper_ll, paper_se in PAPER_TABLE_1:
        lines.append(f"{'paper: ' + paper_name:24s} {f'{paper_ll} +- {paper_se}':>16s} {'-':>8s} {'-':>6s} {'-':>6s}")
    return "\n".join(lines)
