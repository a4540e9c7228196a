"""gan.figures.latent_paths: straight lines and great circles through z, against their closed forms."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gan.figures.latent_paths import latent_path, lerp, slerp


@given(seed=st.integers(0, 2**16), steps=st.integers(2, 9), d=st.integers(2, 40))
def test_both_paths_start_at_z0_and_end_at_z1(seed, steps, d):
    rng = np.random.default_rng(seed)
    z0, z1 = rng.standard_normal((3, d)), rng.standard_normal((3, d))
    for path in ("linear", "slerp"):
        z = latent_path(z0, z1, steps, path)
        assert z.shape == (3, steps, d)
        np.testing.assert_allclose(z[:, 0], z0, atol=1e-12)
        np.testing.assert_allclose(z[:, -1], z1, atol=1e-12)


def test_lerp_is_the_straight_line():
    z0, z1 = np.array([[0.0, 2.0]]), np.array([[4.0, -2.0]])
    np.testing.assert_allclose(lerp(z0, z1, 5)[0], [[0, 2], [1, 1], [2, 0], [3, -1], [4, -2]])


@given(seed=st.integers(0, 2**16), steps=st.integers(2, 9), d=st.integers(2, 40))
def test_slerp_keeps_the_norm_and_moves_it_linearly(seed, steps, d):
    rng = np.random.default_rng(seed)
    z0, z1 = rng.standard_normal((4, d)), rng.standard_normal((4, d))
    z1_same = z1 / np.linalg.norm(z1, axis=1, keepdims=True) * np.linalg.norm(z0, axis=1, keepdims=True)
    norms = np.linalg.norm(slerp(z0, z1_same, steps), axis=2)
    np.testing.assert_allclose(norms, np.repeat(np.linalg.norm(z0, axis=1)[:, None], steps, 1), rtol=1e-12)
    t = np.linspace(0, 1, steps)
    n0, n1 = np.linalg.norm(z0, axis=1)[:, None], np.linalg.norm(z1, axis=1)[:, None]
    np.testing.assert_allclose(np.linalg.norm(slerp(z0, z1, steps), axis=2), (1 - t) * n0 + t * n1, rtol=1e-12)


def test_slerp_walks_the_great_circle_at_constant_angular_speed():
    z = slerp(np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]]), 4)[0]  # a quarter circle in thirds
    angles = np.degrees(np.arctan2(z[:, 1], z[:, 0]))
    np.testing.assert_allclose(angles, [0, 30, 60, 90], atol=1e-12)


def test_slerp_between_parallel_directions_is_the_line():
    z0 = np.array([[1.0, 1.0]])
    np.testing.assert_allclose(slerp(z0, 3 * z0, 3), lerp(z0, 3 * z0, 3), atol=1e-12)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="steps must be at least 2"):
        lerp(np.zeros((1, 2)), np.ones((1, 2)), 1)
    with pytest.raises(ValueError, match=r"\(1, 2\) and \(1, 3\)"):
        slerp(np.zeros((1, 2)), np.ones((1, 3)), 3)
    with pytest.raises(ValueError, match="unknown path 'cubic'"):
        latent_path(np.zeros((1, 2)), np.ones((1, 2)), 3, "cubic")
