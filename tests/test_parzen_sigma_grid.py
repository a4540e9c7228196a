"""The Parzen sigma grid (issue 30): LO:HI:N grids, the fine search around the chosen sigma, and the
guarantee that a finer grid never scores below the paper's on the same samples."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gan.evaluation import scores

PAPER_GRID = np.logspace(-1, 0, 10)  # parzen_ll.py: sigma_start=-1, sigma_end=0, cross_val=10


def _sets(seed, d=6):
    """Window centres, test and validation points in [0, 1]^d whose validation optimum is inside the paper's grid."""
    rng = np.random.default_rng(seed)
    mu = rng.random((25, d))
    near = lambda n: np.clip(mu[rng.integers(0, 25, n)] + 0.25 * rng.standard_normal((n, d)), 0, 1)  # noqa: E731
    return mu, near(30), near(12)


def test_parse_sigma_grid_default_is_the_papers_grid_bit_for_bit():
    np.testing.assert_array_equal(scores.parse_sigma_grid("0.1:1:10"), PAPER_GRID)
    np.testing.assert_array_equal(scores.parse_sigma_grid("0.1:1:10"), scores.DEFAULT_SIGMAS)
    g = scores.parse_sigma_grid("0.05:2:41")
    assert len(g) == 41 and g[0] == pytest.approx(0.05) and g[-1] == pytest.approx(2.0)
    np.testing.assert_allclose(np.diff(np.log(g)), math.log(40) / 40)  # evenly spaced in log
    np.testing.assert_allclose(scores.parse_sigma_grid("0.3:0.3:1"), [0.3])


@pytest.mark.parametrize("bad", ["0.1:1", "0.1:1:10:2", "a:1:10", "0:1:10", "1:0.1:10", "0.1:1:1", "0.1:1:0", "-1:1:3"])
def test_parse_sigma_grid_refuses_bad_text(bad):
    with pytest.raises(ValueError, match="LO:HI:N"):
        scores.parse_sigma_grid(bad)


def test_refine_sigmas_keeps_the_coarse_points_and_steps_evenly_in_log():
    fine = scores.refine_sigmas(PAPER_GRID, 4, factor=4)
    assert len(fine) == 9
    assert fine[0] == PAPER_GRID[3] and fine[4] == PAPER_GRID[4] and fine[8] == PAPER_GRID[5]  # exact
    np.testing.assert_allclose(np.diff(np.log(fine)), math.log(10) / 9 / 4)
    # at the ends of the grid the fine search stops at the end point
    np.testing.assert_array_equal(scores.refine_sigmas(PAPER_GRID, 0, 4)[[0, -1]], PAPER_GRID[[0, 1]])
    np.testing.assert_array_equal(scores.refine_sigmas(PAPER_GRID, 9, 4)[[0, -1]], PAPER_GRID[[8, 9]])
    assert len(scores.refine_sigmas(PAPER_GRID, 9, 4)) == 5


def test_default_reproduces_the_papers_protocol_exactly():
    # today's computation, written out: sigma by the largest mean validation LL on the paper's grid, then
    # the test LL at that one sigma
    mu, test, valid = _sets(1)
    valid_ll = scores.parzen_log_likelihood_grid(valid, mu, PAPER_GRID).mean(axis=1)
    sigma = PAPER_GRID[int(np.argmax(valid_ll))]
    ll = scores.parzen_log_likelihood(test, mu, sigma)
    r = scores.parzen_evaluate(mu, test, valid)
    assert r["sigma"] == sigma
    assert r["mean_ll"] == float(ll.mean()) and r["std_err"] == float(ll.std() / math.sqrt(len(ll)))
    np.testing.assert_array_equal(r["valid_ll_per_sigma"], valid_ll)
    assert r["valid_ll"] == valid_ll.max()
    spelled = scores.parzen_evaluate(mu, test, valid, sigmas=scores.parse_sigma_grid("0.1:1:10"))
    assert (spelled["sigma"], spelled["mean_ll"], spelled["std_err"]) == (r["sigma"], r["mean_ll"], r["std_err"])
    plain = scores.parzen_evaluate(mu, test, valid, refine=1)  # no fine search: the same paper numbers
    assert (plain["sigma"], plain["mean_ll"], plain["std_err"]) == (r["sigma"], r["mean_ll"], r["std_err"])
    assert "fine_sigma" not in plain


def test_neighbours_and_fine_optimum_against_brute_force():
    mu, test, valid = _sets(2)
    r = scores.parzen_evaluate(mu, test, valid)
    i = int(np.argmax(r["valid_ll_per_sigma"]))
    assert 0 < i < 9  # the data put the optimum inside the grid, so it has two neighbours
    assert r["neighbours"] == [
        (float(PAPER_GRID[i - 1]), float(r["valid_ll_per_sigma"][i - 1])),
        (float(PAPER_GRID[i + 1]), float(r["valid_ll_per_sigma"][i + 1])),
    ]
    fine = np.exp(np.linspace(math.log(PAPER_GRID[i - 1]), math.log(PAPER_GRID[i + 1]), 9))
    brute = scores.parzen_log_likelihood_grid(valid, mu, fine).mean(axis=1)
    np.testing.assert_allclose(r["fine_valid_ll_per_sigma"], brute, rtol=1e-12)
    assert r["fine_sigma"] == pytest.approx(fine[int(np.argmax(brute))], rel=1e-12)
    assert r["fine_valid_ll"] == pytest.approx(brute.max(), rel=1e-12)
    ll = scores.parzen_log_likelihood(test, mu, r["fine_sigma"])
    assert r["fine_mean_ll"] == pytest.approx(ll.mean(), rel=1e-12)
    assert r["fine_std_err"] == pytest.approx(ll.std() / math.sqrt(len(ll)), rel=1e-10)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), spread=st.floats(0.05, 0.6), refine=st.integers(2, 8))
def test_a_finer_grid_never_scores_below_the_coarse_one(seed, spread, refine):
    # The score a grid maximises is the mean validation LL. The fine search's grid contains the chosen
    # coarse sigma bit for bit (asserted), and a maximum over a superset is never smaller.
    rng = np.random.default_rng(seed)
    mu = rng.random((20, 5))
    valid = np.clip(mu[rng.integers(0, 20, 10)] + spread * rng.standard_normal((10, 5)), 0, 1)
    r = scores.parzen_evaluate(mu, valid[:4], valid, refine=refine)
    assert r["sigma"] in set(r["fine_sigmas"].tolist())
    assert r["fine_valid_ll"] >= r["valid_ll"]
    # a user's finer LO:HI:N grid on the same range holds the paper's points when (N - 1) is a multiple of 9
    fine_grid = scores.parse_sigma_grid(f"0.1:1:{9 * refine + 1}")
    np.testing.assert_allclose(fine_grid[::refine], PAPER_GRID, rtol=1e-14)  # the coarse points, to round-off
    r_fine = scores.parzen_evaluate(mu, valid[:4], valid, sigmas=fine_grid, refine=1)
    # round-off in the grid points moves each point's LL by ~1e-14 relative at most
    assert r_fine["valid_ll"] >= r["valid_ll"] - 1e-9 * abs(r["valid_ll"])


def test_evaluate_cli_sigma_grid_writes_the_log_and_keeps_the_papers_score(tmp_path, capsys):
    import json

    from gan import cli
    from gan.data import load_mnist
    from gan.evaluation.evaluate import VALID_START
    from gan.pixels import uint8_to_unit

    train, _ = load_mnist("train")
    test, _ = load_mnist("test")
    images = uint8_to_unit(train[:64])
    samples = tmp_path / "tiny.npy"
    np.save(samples, images)
    common = ["evaluate", "--samples", str(samples), "--valid-size", "50", "--no-classifier"]
    assert cli.main([*common, "--out", str(tmp_path / "paper.json")]) == 0
    assert cli.main([*common, "--sigma-grid", "0.1:1:37", "--out", str(tmp_path / "fine.json")]) == 0
    paper = json.loads((tmp_path / "paper.json").read_text())
    fine = json.loads((tmp_path / "fine.json").read_text())
    # the default is today's protocol on the paper's grid, number for number
    valid = uint8_to_unit(train[VALID_START : VALID_START + 50]).reshape(50, -1)
    r = scores.parzen_evaluate(images.reshape(64, -1), uint8_to_unit(test).reshape(len(test), -1), valid, refine=1)
    assert (paper["parzen_ll"], paper["parzen_se"], paper["parzen_sigma"]) == (r["mean_ll"], r["std_err"], r["sigma"])
    assert paper["parzen_sigma_grid"] == "0.1:1:10" and fine["parzen_sigma_grid"] == "0.1:1:37"
    got = np.array(paper["parzen_valid_ll_per_sigma"])
    np.testing.assert_array_equal(got[:, 0], PAPER_GRID)
    np.testing.assert_array_equal(got[:, 1], r["valid_ll_per_sigma"])
    i = int(np.argmax(got[:, 1]))
    assert paper["parzen_valid_ll"] == got[i, 1]
    assert paper["parzen_neighbours"] == [list(got[j]) for j in (i - 1, i + 1) if 0 <= j < 10]
    assert paper["parzen_fine_valid_ll"] >= paper["parzen_valid_ll"]
    assert len(fine["parzen_valid_ll_per_sigma"]) == 37
    assert fine["parzen_valid_ll"] >= paper["parzen_valid_ll"] - 1e-9 * abs(paper["parzen_valid_ll"])


@pytest.mark.parametrize("bad", ["0.1:1", "1:0.1:5", "x"])
def test_evaluate_cli_refuses_a_bad_sigma_grid(bad, capsys):
    from gan import cli

    with pytest.raises(SystemExit) as e:
        cli.main(["evaluate", "--reference", "--sigma-grid", bad])
    assert e.value.code == 2 and "--sigma-grid" in capsys.readouterr().err
