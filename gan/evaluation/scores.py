"""Sample-quality metrics on raw arrays (NumPy, or CuPy via ``get_array_module``).

Parzen-window log-likelihood (Goodfellow et al. 2014, the authors' ``parzen_ll.py``)
-------------------------------------------------------------------------------------
A Gaussian Parzen window centred on the N generated samples mu_i (pixels in
[0, 1], flattened to d = 784) gives the density

    log p(x) = logsumexp_i( -||x - mu_i||^2 / (2 sigma^2) ) - log N - (d/2) log(2 pi sigma^2).

sigma is picked from ``logspace(-1, 0, 10)`` by the mean log-likelihood of a
validation set (MNIST train images 50,000..50,999), then the test set's mean
and standard error (std / sqrt(n)) are reported. That grid steps by x1.29, so
``parzen_evaluate`` also searches a grid ``refine`` times finer between the chosen
sigma's neighbours (the coarse points included) and reports its optimum beside
the paper's score; maximising over a superset, its validation log-likelihood is
never below the coarse grid's.

Squared distances come from float64 matrix products,
||x||^2 + ||mu||^2 - 2 x.mu (clamped at 0 against round-off), in chunks of
rows of x and of mu, so memory stays bounded; the logsumexp over mu streams
across the mu chunks. The shift of that logsumexp is the smallest squared
distance seen so far, which is shared by every sigma, so a grid of sigmas
costs one matrix product and one exp per sigma.

Classifier-based metrics
------------------------
- Frechet distance between Gaussians (FID when fitted to classifier features):
  ||mu1 - mu2||^2 + tr(C1 + C2 - 2 (C1^{1/2} C2 C1^{1/2})^{1/2}).
- Inception score: exp(E_x KL(p(y|x) || p(y))).
- Mode coverage: the histogram of predicted classes.
"""

from __future__ import annotations

import math

import numpy as np

from minigrad.backend import as_numpy, get_array_module

DEFAULT_SIGMAS = np.logspace(-1, 0, 10)  # parzen_ll.py: sigma_start=-1, sigma_end=0, cross_val=10
PAPER_SIGMA_GRID = "0.1:1:10"  # DEFAULT_SIGMAS as parse_sigma_grid text (the --sigma-grid default)


# --- Parzen window ---------------------------------------------------------------------------


def _as_rows(name, what, a, xp):
    """``a`` as a float64 (n, d) array of module ``xp``; images (n, H, W) are flattened."""
    a = xp.asarray(a)
    if a.ndim < 2 or a.shape[0] == 0:
        raise ValueError(
            f"{name}: {what} must be a non-empty array of rows (n, d) or images (n, H, W), got shape {tuple(a.shape)}"
        )
    return a.reshape(a.shape[0], -1).astype(xp.float64, copy=False)


def _check_sigmas(name, sigmas):
    s = np.atleast_1d(np.asarray(as_numpy(sigmas), dtype=np.float64))
    if s.ndim != 1 or s.size == 0 or not np.all(np.isfinite(s)) or np.any(s <= 0):
        raise ValueError(f"{name}: sigmas must be a non-empty 1-D list of positive finite numbers, got {sigmas!r}")
    return s


def parzen_log_likelihood_grid(x, mu, sigmas, batch_size=1000, mu_batch_size=5000):
    """log p(x) under the Parzen window on ``mu`` for every sigma in ``sigmas``.

    x: (n, d) points to score; mu: (N, d) window centres (the generated samples);
    rows may also be images, which are flattened. Returns a float64 NumPy array of
    shape (len(sigmas), n). ``batch_size`` rows of x and ``mu_batch_size`` rows of
    mu are processed at a time (a (batch_size, mu_batch_size) float64 block).
    """
    name = "parzen_log_likelihood_grid"
    xp = get_array_module(x, mu)
    x = _as_rows(name, "x", x, xp)
    mu = _as_rows(name, "mu", mu, xp)
    if x.shape[1] != mu.shape[1]:
        raise ValueError(
            f"{name}: x and mu must have the same dimension, got x {tuple(x.shape)} and mu {tuple(mu.shape)}"
        )
    sig = _check_sigmas(name, sigmas)
    if int(batch_size) < 1 or int(mu_batch_size) < 1:
        raise ValueError(f"{name}: batch sizes must be >= 1, got {batch_size}, {mu_batch_size}")
    batch_size, mu_batch_size = int(batch_size), int(mu_batch_size)
    n, d = x.shape
    n_mu = mu.shape[0]
    neg_inv_2s2 = [-0.5 / (s * s) for s in sig]  # python floats: keep float64, no device round trips

    mu_sq = (mu * mu).sum(axis=1)
    out = np.empty((len(sig), n), dtype=np.float64)
    for i0 in range(0, n, batch_size):
        xc = x[i0 : i0 + batch_size]
        x_sq = (xc * xc).sum(axis=1)
        rows = xc.shape[0]
        dmin = xp.full(rows, xp.inf, dtype=xp.float64)  # running min_i ||x - mu_i||^2
        acc = xp.zeros((len(sig), rows), dtype=xp.float64)  # running sum_i exp(-(D_i - dmin) / 2s^2)
        for j0 in range(0, n_mu, mu_batch_size):
            mc = mu[j0 : j0 + mu_batch_size]
            dist = xc @ mc.T  # (rows, m) squared distances, built in place
            dist *= -2.0
            dist += x_sq[:, None]
            dist += mu_sq[None, j0 : j0 + mu_batch_size]
            xp.maximum(dist, 0.0, out=dist)  # round-off can make tiny distances negative
            new_min = xp.minimum(dmin, dist.min(axis=1))
            shift = dmin - new_min  # >= 0; inf on the first chunk -> rescale by 0
            dist -= new_min[:, None]
            buf = xp.empty_like(dist)
            for k, c in enumerate(neg_inv_2s2):
                acc[k] *= xp.exp(shift * c)  # re-base the old sum on the new minimum
                xp.multiply(dist, c, out=buf)
                xp.exp(buf, out=buf)  # all exponents <= 0: no overflow
                acc[k] += buf.sum(axis=1)
            dmin = new_min
        for k, (s, c) in enumerate(zip(sig, neg_inv_2s2)):
            # acc >= 1 (the nearest centre contributes exp(0)), so the log is finite
            ll = dmin * c + xp.log(acc[k]) - math.log(n_mu) - 0.5 * d * math.log(2.0 * math.pi * s * s)
            out[k, i0 : i0 + rows] = as_numpy(ll)
    return out


def parzen_log_likelihood(x, mu, sigma, batch_size=1000, mu_batch_size=5000):
    """Per-example log p(x) (float64 NumPy array of len(x)) under the Parzen window on ``mu``.

    log p(x) = logsumexp_i(-||x - mu_i||^2 / (2 sigma^2)) - log N - (d/2) log(2 pi sigma^2).
    """
    if np.ndim(sigma) != 0:
        raise ValueError(
            f"parzen_log_likelihood: sigma must be one number, got {sigma!r} "
            "(use parzen_log_likelihood_grid for several)"
        )
    return parzen_log_likelihood_grid(x, mu, [sigma], batch_size, mu_batch_size)[0]


def parse_sigma_grid(text: str) -> np.ndarray:
    """``"LO:HI:N"`` -> N sigmas evenly spaced in log from LO to HI: ``logspace(log10 LO, log10 HI, N)``.

    ``"0.1:1:10"`` is parzen_ll.py's grid, ``DEFAULT_SIGMAS`` bit for bit. Raises ValueError naming the
    expected form on anything else (0 < LO < HI, N >= 2; or LO == HI with N == 1).
    """
    parts = str(text).split(":")
    try:
        lo, hi, n = float(parts[0]), float(parts[1]), int(parts[2])
        if len(parts) != 3:
            raise ValueError
    except (ValueError, IndexError):
        raise ValueError(f"sigma grid must be LO:HI:N (e.g. 0.1:1:10), got {text!r}") from None
    if not (0 < lo <= hi and math.isfinite(hi) and n >= 1 and (n == 1) == (lo == hi)):
        raise ValueError(f"sigma grid LO:HI:N needs 0 < LO < HI and N >= 2 (or LO == HI and N == 1), got {text!r}")
    return np.logspace(np.log10(lo), np.log10(hi), n)


def refine_sigmas(sigmas, i: int, factor: int = 4) -> np.ndarray:
    """The grid ``factor`` times finer (evenly in log) from sigmas[i - 1] to sigmas[i + 1].

    The coarse points in that range are kept bit for bit, so a search over this grid can only match or beat
    sigmas[i]; at an end of the grid it stops at sigmas[i].
    """
    sig = _check_sigmas("refine_sigmas", sigmas)
    if int(factor) < 1:
        raise ValueError(f"refine_sigmas: factor must be >= 1, got {factor}")
    lo, hi = max(i - 1, 0), min(i + 1, len(sig) - 1)
    out = [sig[lo]]
    for a, b in zip(sig[lo:hi], sig[lo + 1 : hi + 1]):
        inner = np.exp(np.linspace(np.log(a), np.log(b), int(factor) + 1)[1:-1])
        out.extend([*inner, b])
    return np.array(out)


def select_sigma(valid, mu, sigmas=DEFAULT_SIGMAS, **batch_sizes):
    """(best_sigma, mean_ll_per_sigma): the sigma with the largest mean validation log-likelihood."""
    sig = _check_sigmas("select_sigma", sigmas)
    mean_ll = parzen_log_likelihood_grid(valid, mu, sig, **batch_sizes).mean(axis=1)
    return float(sig[int(np.argmax(mean_ll))]), mean_ll


def parzen_evaluate(samples, test, valid, sigmas=None, refine=4, **batch_sizes):
    """The paper's protocol: sigma chosen on ``valid``, then the mean log-likelihood of ``test``.

    samples: generated images in [0, 1] (the paper uses 10,000), the window centres;
    valid: MNIST train images 50,000..50,999; test: the 10,000 MNIST test images.
    Returns dict(sigma, mean_ll, std_err = std / sqrt(n_test), valid_ll_per_sigma, sigmas,
    valid_ll (at sigma), neighbours: [(sigma, valid_ll)] of the grid points beside sigma), and with
    ``refine`` > 1 the optimum of ``refine_sigmas(sigmas, chosen, refine)``: fine_sigma, fine_valid_ll
    (>= valid_ll), fine_mean_ll, fine_std_err, fine_sigmas. The paper's numbers come from the same
    computations as without the fine search.
    """
    sig = DEFAULT_SIGMAS if sigmas is None else _check_sigmas("parzen_evaluate", sigmas)
    sigma, valid_ll = select_sigma(valid, samples, sig, **batch_sizes)
    i = int(np.argmax(valid_ll))
    out = {
        "sigma": sigma,
        "valid_ll_per_sigma": valid_ll,
        "sigmas": np.array(sig),
        "valid_ll": float(valid_ll[i]),
        "neighbours": [(float(sig[j]), float(valid_ll[j])) for j in (i - 1, i + 1) if 0 <= j < len(sig)],
    }
    test_sigmas = [sigma]
    if refine and int(refine) > 1:
        fine = refine_sigmas(sig, i, int(refine))
        fine_ll = np.empty(len(fine))
        coarse = np.isin(fine, sig)  # the coarse points keep their coarse values
        fine_ll[coarse] = [valid_ll[int(np.flatnonzero(sig == s)[0])] for s in fine[coarse]]
        fine_ll[~coarse] = parzen_log_likelihood_grid(valid, samples, fine[~coarse], **batch_sizes).mean(axis=1)
        j = int(np.argmax(fine_ll))
        out.update(fine_sigma=float(fine[j]), fine_valid_ll=float(fine_ll[j]), fine_sigmas=fine)
        out["fine_valid_ll_per_sigma"] = fine_ll
        if fine[j] != sigma:
            test_sigmas.append(float(fine[j]))
    # one pass for both sigmas: each sigma's sum is computed on its own, so the paper's number is unchanged
    lls = parzen_log_likelihood_grid(test, samples, test_sigmas, **batch_sizes)
    for key, ll in (("", lls[0]), ("fine_", lls[-1])):
        if key == "" or "fine_sigma" in out:
            out[f"{key}mean_ll"] = float(ll.mean())
            out[f"{key}std_err"] = float(ll.std() / math.sqrt(len(ll)))  # parzen_ll.py: ll.std() / sqrt(n), ddof=0
    return out


# --- Frechet distance ---------------------------------------------------------------------------


def _sqrtm_psd(c, xp):
    """Symmetric PSD square root via eigh; negative (round-off) eigenvalues are clipped to 0."""
    w, v = xp.linalg.eigh(c)
    return (v * xp.sqrt(xp.maximum(w, 0.0))) @ v.T


def frechet_distance(mu1, cov1, mu2, cov2):
    """||mu1 - mu2||^2 + tr(C1 + C2 - 2 (C1^{1/2} C2 C1^{1/2})^{1/2}) in float64 (a python float).

    tr(C1 C2)^{1/2} is computed as the sum of square roots of the eigenvalues of the
    symmetric PSD matrix C1^{1/2} C2 C1^{1/2}, which avoids a non-symmetric sqrtm.
    """
    name = "frechet_distance"
    xp = get_array_module(mu1, cov1, mu2, cov2)
    m1, m2 = (xp.asarray(a, dtype=xp.float64) for a in (mu1, mu2))
    c1, c2 = (xp.asarray(a, dtype=xp.float64) for a in (cov1, cov2))
    k = m1.shape[0] if m1.ndim == 1 else -1
    if m1.ndim != 1 or m2.shape != (k,) or c1.shape != (k, k) or c2.shape != (k, k):
        raise ValueError(
            f"{name}: expected mu1, mu2 of shape (k,) and cov1, cov2 of shape (k, k), got "
            f"{tuple(m1.shape)}, {tuple(c1.shape)}, {tuple(m2.shape)}, {tuple(c2.shape)}"
        )
    c1 = 0.5 * (c1 + c1.T)
    c2 = 0.5 * (c2 + c2.T)
    s1 = _sqrtm_psd(c1, xp)
    m = s1 @ c2 @ s1
    tr_covmean = xp.sqrt(xp.maximum(xp.linalg.eigvalsh(0.5 * (m + m.T)), 0.0)).sum()
    diff = m1 - m2
    fd = float(diff @ diff + xp.trace(c1) + xp.trace(c2) - 2.0 * tr_covmean)
    return max(fd, 0.0)  # a squared distance: round-off can only push it slightly below 0


def feature_statistics(features):
    """(mean, cov) of (n, k) features as float64 NumPy arrays; cov with ddof=1 like the FID code."""
    xp = get_array_module(features)
    f = xp.asarray(features)
    if f.ndim != 2 or f.shape[0] < 2:
        raise ValueError(f"feature_statistics: features must be (n, k) with n >= 2, got shape {tuple(f.shape)}")
    f = f.astype(xp.float64, copy=False)
    mean = f.mean(axis=0)
    centred = f - mean
    cov = centred.T @ centred / (f.shape[0] - 1)
    return as_numpy(mean), as_numpy(cov)


def fid_from_features(f1, f2):
    """Frechet distance between Gaussians fitted to two (n, k) feature sets."""
    if np.ndim(f1) != 2 or np.ndim(f2) != 2 or f1.shape[1] != f2.shape[1]:
        raise ValueError(
            f"fid_from_features: features must be (n1, k) and (n2, k), got shapes "
            f"{tuple(np.shape(f1))} and {tuple(np.shape(f2))}"
        )
    return frechet_distance(*feature_statistics(f1), *feature_statistics(f2))


# --- class-probability metrics --------------------------------------------------------------------


def _check_probs(name, probs, xp):
    p = xp.asarray(probs)
    if p.ndim != 2 or p.shape[0] == 0:
        raise ValueError(f"{name}: probs must be (n, num_classes) with n >= 1, got shape {tuple(p.shape)}")
    p = p.astype(xp.float64, copy=False)
    bad_sum = float(xp.abs(p.sum(axis=1) - 1.0).max())
    if float(p.min()) < 0 or bad_sum > 1e-3:
        raise ValueError(
            f"{name}: rows of probs must be probabilities (>= 0, summing to 1), got min "
            f"{float(p.min()):.3g} and max |row sum - 1| {bad_sum:.3g} (softmax the logits first)"
        )
    return p


def _mean_kl_exp(p, xp):
    """exp(mean_x KL(p(y|x) || p(y))) with p(y) the mean of the rows; 0 log 0 = 0."""
    py = p.mean(axis=0, keepdims=True)
    tiny = np.finfo(np.float64).tiny  # inside the logs; the masked terms never use it
    terms = xp.where(p > 0, p * (xp.log(xp.maximum(p, tiny)) - xp.log(xp.maximum(py, tiny))), 0.0)
    return math.exp(float(terms.sum(axis=1).mean()))


def inception_score(probs, splits=1):
    """Inception score exp(E_x KL(p(y|x) || p(y))) from (n, C) class probabilities.

    With splits > 1 the rows are cut into ``splits`` consecutive parts as in the
    original IS code and (mean, std) of the per-part scores is returned; with
    splits == 1 a single python float.
    """
    xp = get_array_module(probs)
    p = _check_probs("inception_score", probs, xp)
    n = p.shape[0]
    if int(splits) != splits or not 1 <= splits <= n:
        raise ValueError(f"inception_score: splits must be an integer in [1, n={n}], got {splits!r}")
    splits = int(splits)
    if splits == 1:
        return _mean_kl_exp(p, xp)
    scores = [_mean_kl_exp(p[i * n // splits : (i + 1) * n // splits], xp) for i in range(splits)]
    return float(np.mean(scores)), float(np.std(scores))


def mode_coverage(probs_or_labels, num_classes=10, threshold=0.01):
    """Predicted-class histogram statistics.

    probs_or_labels: (n, num_classes) probabilities (class = argmax) or (n,) integer labels.
    Returns dict(modes_covered = number of classes holding at least ``threshold`` of the
    samples, class_histogram = counts per class, class_fractions,
    kl_from_uniform = sum_c q_c log(q_c * num_classes) with 0 log 0 = 0).
    """
    name = "mode_coverage"
    a = as_numpy(probs_or_labels)
    if a.ndim == 2:
        if a.shape[1] != num_classes or a.shape[0] == 0:
            raise ValueError(f"{name}: probs must be (n, {num_classes}) with n >= 1, got shape {a.shape}")
        labels = a.argmax(axis=1)
    elif a.ndim == 1 and a.size > 0 and np.issubdtype(a.dtype, np.integer):
        labels = a
        if labels.min() < 0 or labels.max() >= num_classes:
            raise ValueError(
                f"{name}: labels must be in [0, {num_classes}), got range [{labels.min()}, {labels.max()}]"
            )
    else:
        raise ValueError(
            f"{name}: expected (n, {num_classes}) probabilities or (n,) integer labels, "
            f"got shape {a.shape} dtype {a.dtype}"
        )
    counts = np.bincount(labels, minlength=num_classes).astype(np.int64)
    q = counts / counts.sum()
    nz = q > 0
    kl = float(np.sum(q[nz] * np.log(q[nz] * num_classes)))
    return {
        "modes_covered": int(np.sum(q >= threshold)),
        "class_histogram": counts,
        "class_fractions": q,
        "kl_from_uniform": kl,
    }
