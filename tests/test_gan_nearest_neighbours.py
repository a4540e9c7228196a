"""gan.evaluation.nearest_neighbours: the chunked matrix-product search against a brute-force loop."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gan.evaluation.nearest_neighbours import memorisation_check, nearest_neighbours


def _brute_force(queries, references):
    """For each query, loop over every reference: the index and distance of the closest (first on a tie)."""
    idx, dist = [], []
    for q in queries.reshape(len(queries), -1).astype(np.float64):
        best_j, best_d = -1, np.inf
        for j, r in enumerate(references.reshape(len(references), -1).astype(np.float64)):
            d = np.sqrt(((q - r) ** 2).sum())
            if d < best_d:
                best_j, best_d = j, d
        idx.append(best_j)
        dist.append(best_d)
    return np.array(idx), np.array(dist)


@given(n=st.integers(1, 9), m=st.integers(1, 13), chunk=st.integers(1, 7), seed=st.integers(0, 2**16))
def test_matches_a_brute_force_loop(n, m, chunk, seed):
    rng = np.random.default_rng(seed)
    # distinct references on an integer lattice plus small noise: no two distances tie within float32 error
    references = rng.integers(0, 4, (m, 2, 3, 3)).astype(np.float32) + rng.uniform(0, 0.2, (m, 2, 3, 3))
    queries = rng.uniform(0, 4, (n, 2, 3, 3)).astype(np.float32)
    want_idx, want_dist = _brute_force(queries, references)
    d_all = np.sort(np.linalg.norm(queries.reshape(n, 1, -1) - references.reshape(1, m, -1), axis=2), axis=1)
    clear = m == 1 or np.all(d_all[:, 1] - d_all[:, 0] > 1e-3)  # the winner is unambiguous in float32
    idx, dist = nearest_neighbours(queries, references, chunk=chunk)
    assert idx.dtype == np.int64 and dist.dtype == np.float64
    np.testing.assert_allclose(dist, want_dist, rtol=1e-5, atol=1e-5)
    if clear:
        np.testing.assert_array_equal(idx, want_idx)


def test_an_image_in_the_references_is_its_own_neighbour_at_distance_zero():
    rng = np.random.default_rng(0)
    train = rng.uniform(0, 1, (300, 28, 28)).astype(np.float32)
    idx, dist = nearest_neighbours(train[[5, 250, 17]], train, chunk=64)
    np.testing.assert_array_equal(idx, [5, 250, 17])
    np.testing.assert_array_equal(dist, 0.0)


def test_memorisation_check_sees_copies_of_training_images():
    rng = np.random.default_rng(1)
    train, test = rng.uniform(0, 1, (200, 49)), rng.uniform(0, 1, (50, 49))
    copies = train[:50] + rng.normal(0, 0.01, (50, 49))  # a generator that memorised
    check = memorisation_check(copies, train, test)
    assert check["ratio_median"] < 0.1
    assert check["samples_q50"] == pytest.approx(np.median(check["samples"]))
    fresh = memorisation_check(rng.uniform(0, 1, (50, 49)), train, test)
    assert 0.8 < fresh["ratio_median"] < 1.25  # as far from the training set as unseen data


def test_bad_shapes_are_named():
    with pytest.raises(ValueError, match=r"784 values each and references 49"):
        nearest_neighbours(np.zeros((2, 28, 28)), np.zeros((3, 7, 7)))
    with pytest.raises(ValueError, match="non-empty"):
        nearest_neighbours(np.zeros((0, 4)), np.zeros((3, 4)))
