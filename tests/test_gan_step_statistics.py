"""gan.training.step_statistics: the per-step sums behind every step and epoch record, against sums taken by hand."""

import numpy as np
import pytest

from gan.run.errors import TrainingDiverged
from gan.training.step_statistics import STATISTICS, StepStatistics, means


def _rows(n, seed=0):
    return np.random.default_rng(seed).random((n, len(STATISTICS))).astype(np.float32)


def test_interval_and_epoch_means_are_the_rows_means():
    rows = _rows(7)
    stats = StepStatistics(np, 3)  # flushed every 3 rows, as the trainer does when the buffer fills
    for i, row in enumerate(rows):
        if stats.add(i + 1, *row):
            stats.flush(epoch=1)
        if i == 3:  # a log interval ends after step 4
            np.testing.assert_allclose(list(stats.interval_means().values()), rows[:3].mean(axis=0), rtol=1e-6)
            stats.next_interval()
    stats.flush(epoch=1)
    assert stats.epoch["n"] == 7 and stats.interval["n"] == 4  # rows 4..7 (row 4 was in the buffer at step 4)
    np.testing.assert_allclose(list(stats.epoch_means().values()), rows.astype(np.float64).mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(list(stats.interval_means().values()), rows[3:].mean(axis=0), rtol=1e-6)
    assert list(stats.epoch_means(skip=("gp_grad_norm",))) == [k for k in STATISTICS if k != "gp_grad_norm"]


def test_a_nan_stops_naming_the_step_and_statistic():
    stats = StepStatistics(np, 4)
    row = _rows(1)[0]
    row[STATISTICS.index("loss_g")] = np.nan
    stats.add(11, *_rows(1)[0])
    stats.add(12, *row)
    with pytest.raises(TrainingDiverged, match=r"step 12 \(epoch 3\): loss_g = nan"):
        stats.flush(epoch=3)


def test_restored_sums_continue_and_a_statistic_they_lack_is_left_out():
    rows = _rows(6, seed=1)
    saved = {key: float(s) for key, s in zip(STATISTICS, rows[:4].astype(np.float64).sum(axis=0))} | {"n": 4}
    saved |= {f"interval_{key}": value for key, value in saved.items()}
    old = {k: v for k, v in saved.items() if not k.endswith("gp_grad_norm")}  # a checkpoint from before the column
    for sums, unknown in ((saved, set()), (old, {"gp_grad_norm"})):
        stats = StepStatistics(np, 8)
        stats.restore(sums)
        for i, row in enumerate(rows[4:]):
            stats.add(5 + i, *row)
        stats.flush(epoch=2)
        expected = dict(zip(STATISTICS, rows.astype(np.float64).mean(axis=0)))
        for got in (stats.epoch_means(), stats.interval_means()):
            assert set(got) == set(STATISTICS) - unknown
            assert got == pytest.approx({k: v for k, v in expected.items() if k not in unknown}, rel=1e-6)
        stats.next_interval()  # a new interval counts every statistic again
        stats.add(7, *rows[0])
        stats.flush(epoch=2)
        assert set(stats.interval_means()) == set(STATISTICS)
        assert set(stats.epoch_means()) == set(STATISTICS) - unknown  # the epoch stays without it


def test_means_before_any_step_are_zeros():
    assert means(StepStatistics.zero()) == dict.fromkeys(STATISTICS, 0.0)
