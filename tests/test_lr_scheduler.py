"""minigrad.optim.lr_scheduler against closed forms, PyTorch's step/initial-step semantics, state_dict
round trips, and SGD reading lr and momentum from param_groups at every step."""

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad.optim import SGD
from minigrad.optim.lr_scheduler import ExponentialLR, LambdaLR, LRScheduler, MultiplicativeLR, StepLR


def make_opt(lrs=(0.1,)):
    groups = [{"params": [mg.zeros(2, requires_grad=True)], "lr": lr} for lr in lrs]
    return SGD(groups, lr=0.5, momentum=0.9)


def lrs_over(sched, steps):
    """[lrs after construction, after step 1, ..., after step `steps`]."""
    out = [sched.get_last_lr()]
    for _ in range(steps):
        sched.step()
        out.append(sched.get_last_lr())
    return out


def test_step_lr_closed_form():
    opt = make_opt((0.1, 0.3))
    got = lrs_over(StepLR(opt, step_size=3, gamma=0.5), 10)
    for t, lrs in enumerate(got):
        assert lrs == pytest.approx([0.1 * 0.5 ** (t // 3), 0.3 * 0.5 ** (t // 3)], rel=1e-15)
    assert [g["lr"] for g in opt.param_groups] == got[-1]


def test_exponential_lr_closed_form():
    got = lrs_over(ExponentialLR(make_opt(), gamma=0.9), 8)
    assert [lr[0] for lr in got] == pytest.approx([0.1 * 0.9**t for t in range(9)], rel=1e-14)


def test_lambda_lr_per_group_and_multiplicative_lr():
    opt = make_opt((0.1, 1.0))
    got = lrs_over(LambdaLR(opt, [lambda t: 1 / (t + 1), lambda t: 0.5**t]), 5)
    assert got == [pytest.approx([0.1 / (t + 1), 0.5**t]) for t in range(6)]
    got = lrs_over(MultiplicativeLR(make_opt(), lambda t: 0.5 if t % 2 else 1.0), 4)
    assert [lr[0] for lr in got] == pytest.approx([0.1, 0.05, 0.05, 0.025, 0.025])


def test_constructor_makes_the_initial_step():
    opt = make_opt((0.2,))
    sched = LambdaLR(opt, lambda t: 3.0 + t)  # the value at t = 0 is applied at once, as in PyTorch
    assert sched.last_epoch == 0 and sched._step_count == 1
    assert opt.param_groups[0]["lr"] == pytest.approx(0.6) and opt.param_groups[0]["initial_lr"] == 0.2
    assert sched.base_lrs == [0.2]
    # a second scheduler on the same optimizer keeps the recorded initial_lr
    assert StepLR(opt, 2).base_lrs == [0.2]


def test_last_epoch_resume_needs_initial_lr():
    with pytest.raises(KeyError, match=r"'initial_lr' is not specified in param_groups\[0\]"):
        StepLR(make_opt(), 2, last_epoch=4)
    opt = make_opt()
    opt.param_groups[0]["initial_lr"] = 0.1
    sched = ExponentialLR(opt, 0.5, last_epoch=2)  # steps to epoch 3 from the group's current lr
    assert sched.last_epoch == 3 and sched.get_last_lr() == [pytest.approx(0.05)]


def test_step_with_epoch_is_deprecated_and_uses_the_closed_form():
    sched = StepLR(make_opt(), step_size=2, gamma=0.1)
    with pytest.warns(UserWarning, match="deprecated"):
        sched.step(5)
    assert sched.last_epoch == 5 and sched.get_last_lr() == [pytest.approx(0.1 * 0.1**2)]


class Decay:
    def __init__(self, factor):
        self.factor = factor

    def __call__(self, t):
        return self.factor**-t


def test_state_dict_excludes_optimizer_and_lambdas_and_resumes_exactly():
    opt = make_opt((0.1, 0.2))
    sched = LambdaLR(opt, [lambda t: 0.9**t, Decay(1.5)])
    for _ in range(4):
        sched.step()
    sd = sched.state_dict()
    assert "optimizer" not in sd
    assert sd["lr_lambdas"] == [None, {"factor": 1.5}]  # a function is not saved, a callable object's dict is
    assert sd["last_epoch"] == 4 and sd["base_lrs"] == [0.1, 0.2]
    rest = lrs_over(sched, 3)[1:]

    opt2 = make_opt((0.1, 0.2))
    fresh = LambdaLR(opt2, [lambda t: 0.9**t, Decay(7.0)])
    opt2.load_state_dict(opt.state_dict())  # the optimizer's state (and its initial_lr) travels separately
    fresh.load_state_dict(sd)
    assert fresh.lr_lambdas[1].factor == 1.5 and fresh.last_epoch == 7 - 3
    assert lrs_over(fresh, 3)[1:] == rest  # bit for bit

    step_sd = StepLR(make_opt(), 3, 0.5).state_dict()
    assert set(step_sd) == {"step_size", "gamma", "base_lrs", "last_epoch", "_step_count", "_last_lr"}


def test_bad_arguments():
    with pytest.raises(TypeError, match="is not an Optimizer"):
        StepLR(object(), 2)
    with pytest.raises(ValueError, match="expected 2 lr_lambdas"):
        LambdaLR(make_opt((0.1, 0.2)), [lambda t: 1.0])
    with pytest.raises(ValueError, match="step_size must be a positive integer"):
        StepLR(make_opt(), 0)
    with pytest.raises(NotImplementedError):
        LRScheduler(make_opt())


def test_sgd_reads_lr_and_momentum_from_param_groups_each_step():
    """Changing group['lr'] and group['momentum'] between steps (as schedules do) changes the update:
    buf_t = m_t buf_{t-1} + g_t, p -= lr_t buf_t, with the hyper-parameters of step t."""
    p = mg.tensor([1.0, -2.0], dtype=mg.float64, requires_grad=True)
    opt = SGD([p], lr=0.1, momentum=0.5)
    grads = [np.array([0.5, 1.0]), np.array([-1.0, 2.0]), np.array([3.0, 0.25])]
    lrs, moms = [0.1, 0.05, 0.01], [0.5, 0.6, 0.7]
    ref, buf = np.array([1.0, -2.0]), None
    for g, lr, m in zip(grads, lrs, moms):
        opt.param_groups[0]["lr"], opt.param_groups[0]["momentum"] = lr, m
        p.grad = mg.tensor(g, dtype=mg.float64)
        opt.step()
        buf = g.copy() if buf is None else m * buf + g
        ref = ref - lr * buf
    np.testing.assert_allclose(p.numpy(), ref, rtol=1e-15)


def test_exponential_decay_with_floor_as_lambda_lr():
    """The recipe of Goodfellow et al.: lr_t = max(0.1 / 1.000004^t, 1e-6), one step per minibatch."""
    opt = make_opt((0.1,))
    sched = LambdaLR(opt, lambda t: max(1.000004**-t, 1e-6 / 0.1))
    for _ in range(1000):
        sched.step()
    assert sched.get_last_lr()[0] == pytest.approx(0.1 / 1.000004**1000, rel=1e-13)
    sched.last_epoch = 3_000_000 - 1  # past the floor: 1.000004^3e6 = e^12 > 1e5
    sched.step()
    assert sched.get_last_lr()[0] == pytest.approx(1e-6) and math.isclose(0.1 / 1.000004**3e6, 6.1e-7, rel_tol=0.01)
