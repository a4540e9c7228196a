"""Nearest neighbours in pixel space: Figure 2's "nearest training example" and the memorisation check.

For queries q_i and references r_j (images flattened to rows),

    ||q_i - r_j||^2 = ||q_i||^2 - 2 q_i . r_j + ||r_j||^2,

so one chunk of queries against one chunk of references is one matrix product (BLAS) plus two broadcast
additions; the running minimum over reference chunks keeps memory at chunk x chunk. The winner's distance is
then recomputed directly, in float64, so the reported distance carries no cancellation error of the expansion.

A generator that memorised its training set draws samples that sit closer to training images than unseen
images of the same distribution do; ``memorisation_check`` compares the two distributions of distances.
"""

from __future__ import annotations

from typing import Any

import numpy as np

CHUNK = 2048  # queries (and references) per matrix product: 2048 x 2048 float32 distances, 16 MiB


def _rows(name: str, a) -> np.ndarray:
    x = np.asarray(a, dtype=np.float32)
    if x.ndim < 2 or x.shape[0] == 0:
        raise ValueError(f"nearest_neighbours: {name} must be a non-empty batch (N, ...), got shape {x.shape}")
    return x.reshape(len(x), -1)


def nearest_neighbours(queries, references, chunk: int = CHUNK) -> tuple[np.ndarray, np.ndarray]:
    """For each query, the index of its nearest reference (L2 over all pixels) and the distance to it.

    queries (N, ...) and references (M, ...) with equal per-item sizes; returns (int64 (N,), float64 (N,)).
    """
    q, r = _rows("queries", queries), _rows("references", references)
    if q.shape[1] != r.shape[1]:
        raise ValueError(
            f"nearest_neighbours: queries have {q.shape[1]} values each and references {r.shape[1]}: "
            f"shapes {np.shape(queries)} and {np.shape(references)}"
        )
    chunk = max(1, int(chunk))
    r_sq = np.einsum("ij,ij->i", r, r)
    best = np.empty(len(q), dtype=np.int64)
    for i in range(0, len(q), chunk):
        qc = q[i : i + chunk]
        q_sq = np.einsum("ij,ij->i", qc, qc)
        best_d = np.full(len(qc), np.inf, dtype=np.float32)
        best_j = np.zeros(len(qc), dtype=np.int64)
        for j in range(0, len(r), chunk):
            d = q_sq[:, None] - 2.0 * (qc @ r[j : j + chunk].T) + r_sq[None, j : j + chunk]
            k = d.argmin(axis=1)
            dk = d[np.arange(len(qc)), k]
            better = dk < best_d
            best_d[better], best_j[better] = dk[better], k[better] + j
        best[i : i + chunk] = best_j
    diff = q.astype(np.float64) - r[best].astype(np.float64)
    return best, np.sqrt(np.einsum("ij,ij->i", diff, diff))


def memorisation_check(samples, train, test, chunk: int = CHUNK) -> dict:
    """Nearest-training-image distances of ``samples`` beside those of ``test`` images (never trained on).

    Returns the two distance arrays and their quantiles; ``ratio_median`` = median sample distance / median test
    distance: well below 1 means the samples sit closer to the training set than unseen data does.
    """
    _, d_samples = nearest_neighbours(samples, train, chunk)
    _, d_test = nearest_neighbours(test, train, chunk)
    quantiles = (0.01, 0.05, 0.5)
    out: dict[str, Any] = dict(samples=d_samples, test=d_test)
    for name, d in (("samples", d_samples), ("test", d_test)):
        for qtl in quantiles:
            out[f"{name}_q{int(qtl * 100):02d}"] = float(np.quantile(d, qtl))
    out["ratio_median"] = out["samples_q50"] / out["test_q50"]
    return out
