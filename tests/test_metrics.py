"""gan.evaluation.scores against independent references: naive loops and closed forms."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gan.evaluation import scores
from minigrad.backend import to_device


def naive_parzen(x, mu, sigma):
    """Per-pair double loop with an explicit max-shifted logsumexp."""
    n_mu, d = mu.shape
    out = []
    for xi in x:
        a = [-sum((float(xi[k]) - float(m[k])) ** 2 for k in range(d)) / (2 * sigma**2) for m in mu]
        top = max(a)
        lse = top + math.log(sum(math.exp(v - top) for v in a))
        out.append(lse - math.log(n_mu) - 0.5 * d * math.log(2 * math.pi * sigma**2))
    return np.array(out)


SIGMAS = [0.05, 0.2, 0.7, 2.0]


def test_parzen_matches_naive_loop(device):
    rng = np.random.default_rng(1)
    x, mu = rng.random((7, 5)), rng.random((11, 5))
    for sigma in SIGMAS:
        got = scores.parzen_log_likelihood(
            to_device(x, device), to_device(mu, device), sigma, batch_size=3, mu_batch_size=4
        )
        assert isinstance(got, np.ndarray) and got.dtype == np.float64 and got.shape == (7,)
        np.testing.assert_allclose(got, naive_parzen(x, mu, sigma), rtol=1e-10, atol=1e-8)
    grid = scores.parzen_log_likelihood_grid(to_device(x, device), to_device(mu, device), SIGMAS)
    np.testing.assert_allclose(grid, [naive_parzen(x, mu, s) for s in SIGMAS], rtol=1e-10, atol=1e-8)


def test_parzen_underflow_needs_logsumexp(device):
    # Points ~100 apart with sigma 0.1: every exp(-D / 2 sigma^2) is exp(-5e5) == 0 in float64,
    # so only a shifted logsumexp gives a finite answer.
    rng = np.random.default_rng(2)
    x = rng.random((7, 5)) + 100.0
    mu = rng.random((11, 5))
    mu[5:] += 30.0  # spread the centres over different scales, in different mu chunks
    sigma = 0.1
    assert np.all(np.exp(-((x[:, None] - mu[None]) ** 2).sum(-1) / (2 * sigma**2)) == 0)
    ref = naive_parzen(x, mu, sigma)
    assert np.all(np.isfinite(ref))
    got = scores.parzen_log_likelihood(to_device(x, device), to_device(mu, device), sigma, mu_batch_size=3)
    np.testing.assert_allclose(got, ref, rtol=1e-9)


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 9), st.integers(1, 12), st.integers(1, 6), st.integers(0, 2**32 - 1), st.sampled_from(SIGMAS))
def test_parzen_property_vs_naive(n, n_mu, d, seed, sigma):
    rng = np.random.default_rng(seed)
    x, mu = rng.random((n, d)), rng.random((n_mu, d))
    got = scores.parzen_log_likelihood(
        x.astype(np.float32), mu.astype(np.float32), sigma, batch_size=2, mu_batch_size=5
    )
    ref = naive_parzen(x.astype(np.float32), mu.astype(np.float32), sigma)
    np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-7)


def test_parzen_chunking_invariance():
    rng = np.random.default_rng(3)
    x, mu = rng.random((23, 13)), rng.random((37, 13))
    sig = [0.1, 0.3, 1.0]
    ref = scores.parzen_log_likelihood_grid(x, mu, sig, batch_size=1000, mu_batch_size=1000)
    for bs, mbs in [(1, 1), (5, 7), (23, 36), (4, 37), (100, 2)]:
        np.testing.assert_allclose(
            scores.parzen_log_likelihood_grid(x, mu, sig, batch_size=bs, mu_batch_size=mbs), ref, rtol=1e-12, atol=1e-10
        )


def test_parzen_images_are_flattened():
    rng = np.random.default_rng(4)
    x, mu = rng.random((3, 4, 4)), rng.random((5, 4, 4))
    np.testing.assert_allclose(
        scores.parzen_log_likelihood(x, mu, 0.3), naive_parzen(x.reshape(3, 16), mu.reshape(5, 16), 0.3), rtol=1e-10
    )


def test_parzen_bad_input():
    with pytest.raises(ValueError, match="same dimension"):
        scores.parzen_log_likelihood(np.zeros((2, 3)), np.zeros((2, 4)), 0.1)
    with pytest.raises(ValueError, match="positive"):
        scores.parzen_log_likelihood_grid(np.zeros((2, 3)), np.zeros((2, 3)), [0.1, 0.0])
    with pytest.raises(ValueError, match="parzen_log_likelihood_grid: x"):
        scores.parzen_log_likelihood(np.zeros(3), np.zeros((2, 3)), 0.1)


def test_select_sigma_picks_brute_force_argmax():
    # Validation points lie at distance ~0.3 from the centres in d=4 (noise of std 0.15 per
    # coordinate), so the likelihood peaks at sigma ~0.15, inside the grid rather than at an end.
    rng = np.random.default_rng(5)
    mu = rng.random((12, 4)) * 10
    valid = mu[rng.integers(0, 12, size=9)] + 0.15 * rng.standard_normal((9, 4))
    sigmas = np.logspace(-2, 0.5, 9)
    best, mean_ll = scores.select_sigma(valid, mu, sigmas)
    brute = np.array([naive_parzen(valid, mu, s).mean() for s in sigmas])
    np.testing.assert_allclose(mean_ll, brute, rtol=1e-10)
    assert best == sigmas[np.argmax(brute)]
    assert 0 < np.argmax(brute) < len(sigmas) - 1  # the data make an interior optimum


def test_parzen_evaluate():
    rng = np.random.default_rng(6)
    samples, test, valid = rng.random((20, 6)), rng.random((15, 6)), rng.random((8, 6))
    r = scores.parzen_evaluate(samples, test, valid)
    brute_valid = np.array([naive_parzen(valid, samples, s).mean() for s in np.logspace(-1, 0, 10)])
    assert r["sigma"] == pytest.approx(np.logspace(-1, 0, 10)[np.argmax(brute_valid)])
    ll = naive_parzen(test, samples, r["sigma"])
    assert r["mean_ll"] == pytest.approx(ll.mean(), rel=1e-10)
    assert r["std_err"] == pytest.approx(ll.std() / math.sqrt(15), rel=1e-8)
    np.testing.assert_allclose(r["valid_ll_per_sigma"], brute_valid, rtol=1e-10)


# --- FID ---------------------------------------------------------------------------------------


def _random_cov(rng, k):
    a = rng.standard_normal((k, k))
    return a @ a.T / k + 0.1 * np.eye(k)


def test_fid_self_is_zero(device):
    rng = np.random.default_rng(7)
    f = rng.standard_normal((200, 8)) @ rng.standard_normal((8, 8))
    fid = scores.fid_from_features(to_device(f, device), to_device(f, device))
    _, cov = scores.feature_statistics(f)
    assert isinstance(fid, float)
    assert abs(fid) < 1e-6 * np.trace(cov)


def test_feature_statistics_matches_numpy():
    rng = np.random.default_rng(8)
    f = rng.standard_normal((30, 5)).astype(np.float32)
    mean, cov = scores.feature_statistics(f)
    assert mean.dtype == cov.dtype == np.float64
    np.testing.assert_allclose(mean, f.astype(np.float64).mean(0), rtol=1e-12)
    np.testing.assert_allclose(cov, np.cov(f.astype(np.float64), rowvar=False), rtol=1e-10)


def test_fid_mean_shift_equals_squared_norm_and_grows(device):
    rng = np.random.default_rng(9)
    k = 6
    mu, cov = rng.standard_normal(k), _random_cov(rng, k)
    direction = rng.standard_normal(k)
    values = []
    for t in [0.0, 0.5, 1.0, 2.0, 4.0]:
        shift = t * direction
        fid = scores.frechet_distance(*(to_device(a, device) for a in (mu, cov, mu + shift, cov)))
        assert fid == pytest.approx(shift @ shift, abs=1e-8 * np.trace(cov))
        values.append(fid)
    assert all(b > a for a, b in zip(values, values[1:]))


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 6), st.integers(0, 2**32 - 1))
def test_fid_diagonal_closed_form(k, seed):
    rng = np.random.default_rng(seed)
    m1, m2 = rng.standard_normal(k), rng.standard_normal(k)
    a, b = rng.uniform(0.05, 3.0, k), rng.uniform(0.05, 3.0, k)
    ref = np.sum((m1 - m2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    assert scores.frechet_distance(m1, np.diag(a), m2, np.diag(b)) == pytest.approx(ref, rel=1e-9, abs=1e-10)


def test_fid_commuting_covariances_closed_form():
    # C1 = Q diag(a) Q^T, C2 = Q diag(b) Q^T share eigenvectors, so the sqrt term is sum sqrt(a b).
    rng = np.random.default_rng(10)
    q, _ = np.linalg.qr(rng.standard_normal((5, 5)))
    a, b = rng.uniform(0.1, 2, 5), rng.uniform(0.1, 2, 5)
    fid = scores.frechet_distance(np.zeros(5), q @ np.diag(a) @ q.T, np.zeros(5), q @ np.diag(b) @ q.T)
    assert fid == pytest.approx(np.sum((np.sqrt(a) - np.sqrt(b)) ** 2), rel=1e-9)


def test_fid_bad_shapes():
    with pytest.raises(ValueError, match="frechet_distance"):
        scores.frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))
    with pytest.raises(ValueError, match="fid_from_features"):
        scores.fid_from_features(np.zeros((5, 3)), np.zeros((5, 4)))


# --- Inception score and mode coverage ----------------------------------------------------------


def naive_is(p):
    py = p.mean(0)
    kl = [sum(pi[c] * math.log(pi[c] / py[c]) for c in range(len(py)) if pi[c] > 0) for pi in p]
    return math.exp(np.mean(kl))


def test_inception_score_extremes(device):
    uniform = np.full((50, 10), 0.1)
    assert scores.inception_score(to_device(uniform, device)) == pytest.approx(1.0, abs=1e-12)
    onehot = np.eye(10)[np.arange(100) % 10]  # exact zeros must not give nan
    assert scores.inception_score(to_device(onehot, device)) == pytest.approx(10.0, rel=1e-12)
    collapsed = np.eye(10)[np.zeros(30, dtype=int)]
    assert scores.inception_score(collapsed) == pytest.approx(1.0, abs=1e-12)


@settings(max_examples=20, deadline=None)
@given(st.integers(2, 20), st.integers(2, 6), st.integers(0, 2**32 - 1))
def test_inception_score_vs_naive(n, c, seed):
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.full(c, 0.5), size=n)
    p[0, 0] = 0.0  # include an exact zero
    p[0] /= p[0].sum()
    assert scores.inception_score(p.astype(np.float32)) == pytest.approx(naive_is(p), rel=1e-5)


def test_inception_score_splits():
    rng = np.random.default_rng(11)
    p = rng.dirichlet(np.full(4, 0.3), size=23)
    mean, std = scores.inception_score(p, splits=3)
    parts = [naive_is(p[i * 23 // 3 : (i + 1) * 23 // 3]) for i in range(3)]
    assert mean == pytest.approx(np.mean(parts), rel=1e-10)
    assert std == pytest.approx(np.std(parts), rel=1e-8)
    with pytest.raises(ValueError, match="inception_score"):
        scores.inception_score(np.full((4, 3), 0.5))  # rows do not sum to 1


def test_mode_coverage():
    balanced = np.eye(10)[np.arange(200) % 10] * 0.9 + 0.01
    r = scores.mode_coverage(balanced)
    assert r["modes_covered"] == 10
    np.testing.assert_array_equal(r["class_histogram"], np.full(10, 20))
    assert r["kl_from_uniform"] == pytest.approx(0.0, abs=1e-12)

    # 3 classes only, with 1 sample in 200 (0.5%) of a 4th: below the 1% threshold
    labels = np.array([0] * 100 + [3] * 60 + [7] * 39 + [9])
    r = scores.mode_coverage(labels)
    assert r["modes_covered"] == 3
    np.testing.assert_array_equal(r["class_histogram"], [100, 0, 0, 60, 0, 0, 0, 39, 0, 1])
    q = np.array([100, 60, 39, 1]) / 200
    assert r["kl_from_uniform"] == pytest.approx(np.sum(q * np.log(q / 0.1)), rel=1e-12)
    # exactly 1% counts as covered
    assert scores.mode_coverage(np.array([0] * 99 + [1]), threshold=0.01)["modes_covered"] == 2
    # collapse onto one class: KL = log 10
    assert scores.mode_coverage(np.zeros(10, dtype=int))["kl_from_uniform"] == pytest.approx(math.log(10))
    with pytest.raises(ValueError, match="mode_coverage"):
        scores.mode_coverage(np.array([0, 10]))
