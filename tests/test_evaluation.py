"""gan.evaluation.evaluate on small inputs: real digits must outscore noise on every metric."""

import numpy as np
import pytest

from gan.data import load_mnist
from gan.evaluation import evaluate


@pytest.fixture(scope="module")
def scores():
    train, _ = load_mnist("train")
    real = train[:300] / 255.0
    noise = np.random.default_rng(0).random((300, 28, 28))
    kw = dict(sigma_grid="0.1:1:4", valid_size=200, log=lambda *_: None)
    return evaluate.evaluate_samples(real, **kw), evaluate.evaluate_samples(noise, **kw)


def test_real_digits_beat_noise(scores):
    real, noise = scores
    assert real["parzen_ll"] > noise["parzen_ll"]
    assert real["fid"] < noise["fid"]
    assert real["inception_score"] > noise["inception_score"]
    assert real["modes_covered"] == 10
    assert real["kl_uniform"] < 0.1


def test_scores_are_finite_numbers(scores):
    for s in scores:
        for key in ("parzen_ll", "parzen_se", "parzen_sigma", "fid", "inception_score", "kl_uniform"):
            assert np.isfinite(s[key]), key


def test_images_outside_unit_range_are_refused():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        evaluate.as_28x28_gray(np.full((2, 28, 28), -1.0))


def test_64px_samples_are_resized_to_28():
    x = evaluate.as_28x28_gray(np.full((3, 1, 64, 64), 0.5, dtype=np.float32))
    assert x.shape == (3, 28, 28)
    np.testing.assert_allclose(x, 0.5, atol=1e-6)


def test_table_lists_the_paper_rows():
    text = evaluate.format_table(
        [("mlp", {"parzen_ll": 230.0, "parzen_se": 2.0, "fid": 1.0, "inception_score": 9.0, "modes_covered": 10})]
    )
    assert "Adversarial nets" in text and "225 +- 2" in text and "230 +- 2.0" in text


def test_evaluate_cli_on_a_tiny_sample_file(tmp_path, capsys):
    import json

    from gan import cli

    train, _ = load_mnist("train")
    samples = tmp_path / "tiny.npy"
    np.save(samples, (train[:64] / 255.0).astype(np.float32))
    assert cli.main(["evaluate", "--samples", str(samples), "--valid-size", "50"]) == 0
    out = capsys.readouterr().out
    assert "Adversarial nets" in out and "tiny" in out
    scores = json.loads((tmp_path / "eval.json").read_text())
    assert scores["n_samples"] == 64
    for key in ("parzen_ll", "parzen_se", "fid", "inception_score", "modes_covered"):
        assert key in scores


def test_evaluate_cli_rejects_a_bad_sample_file(tmp_path):
    from gan import cli

    bad = tmp_path / "bad.npy"
    np.save(bad, np.full((4, 28, 28), 3.0, dtype=np.float32))
    with pytest.raises(SystemExit) as e:
        cli.main(["evaluate", "--samples", str(bad)])
    assert e.value.code == 2


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_evaluate_samples_with_nan_or_inf_says_so(bad, tmp_path, capsys):
    from gan import cli

    x = np.random.default_rng(0).uniform(0, 1, (20, 28, 28)).astype(np.float32)
    x[3, 4, 5] = bad
    x[7] = bad
    np.save(tmp_path / "s.npy", x)
    with pytest.raises(SystemExit) as e:
        cli.main(["evaluate", "--samples", str(tmp_path / "s.npy"), "--no-parzen"])
    err = capsys.readouterr().err.strip()
    assert e.value.code == 2 and len(err.splitlines()) == 1, err
    assert "785 pixel values are NaN or infinite (in 2 of 20 images; the first at index (3, 4, 5))" in err, err
