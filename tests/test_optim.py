"""minigrad.optim against update rules written out in NumPy float64 here.

The references below are plain transcriptions of PyTorch's documented
algorithms (torch.optim.SGD / torch.optim.Adam), independent of the in-place
formulation the library uses.
"""

import numpy as np
import pytest

import minigrad as mg
from minigrad.optim import SGD, Adam, Optimizer, get_num_threads, set_num_threads

# --- references -----------------------------------------------------------------------


def sgd_reference(p0, grads, lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0, maximize=False):
    p = p0.astype(np.float64).copy()
    buf = None
    for g in grads:
        g = g.astype(np.float64)
        if maximize:
            g = -g
        g = g + weight_decay * p
        if momentum != 0:
            buf = g.copy() if buf is None else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        p = p - lr * g
    return p


def adam_reference(p0, grads, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, maximize=False):
    b1, b2 = betas
    p = p0.astype(np.float64).copy()
    m = np.zeros_like(p)
    v = np.zeros_like(p)
    v_max = np.zeros_like(p)
    for t, g in enumerate(grads, start=1):
        g = g.astype(np.float64)
        if maximize:
            g = -g
        g = g + weight_decay * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat = m / (1 - b1**t)
        if amsgrad:
            v_max = np.maximum(v_max, v)
            v_hat = v_max / (1 - b2**t)
        else:
            v_hat = v / (1 - b2**t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
    return p, m, v


def run_steps(opt, params, grads_per_param):
    """Feed precomputed gradients: grads_per_param[i][t] is param i's grad at step t."""
    for t in range(len(grads_per_param[0])):
        for p, gs in zip(params, grads_per_param):
            p.grad = mg.tensor(gs[t], dtype=p.dtype, device=p.device)
        opt.step()


def make_problem(shape, steps, dtype, rng):
    p0 = rng.normal(size=shape).astype(dtype)
    # gradients of varying scale and sign, some exactly zero
    grads = [(rng.normal(size=shape) * 10.0 ** rng.integers(-2, 2)).astype(dtype) for _ in range(steps)]
    grads[1][..., 0] = 0
    return p0, grads


# --- update rules -----------------------------------------------------------------------


SGD_CASES = [
    dict(),
    dict(momentum=0.9),
    dict(momentum=0.9, dampening=0.3),
    dict(momentum=0.8, nesterov=True),
    dict(weight_decay=0.1),
    dict(momentum=0.9, weight_decay=0.05, nesterov=True),
    dict(momentum=0.5, dampening=0.5, weight_decay=0.01, maximize=True),
    dict(maximize=True),
]


@pytest.mark.parametrize("kw", SGD_CASES, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()) or "plain")
def test_sgd_matches_reference(kw, device):
    rng = np.random.default_rng(1)
    p0, grads = make_problem((3, 4), 5, np.float64, rng)
    p = mg.tensor(p0, device=device, requires_grad=True)
    run_steps(SGD([p], lr=0.05, **kw), [p], [grads])
    np.testing.assert_allclose(p.numpy(), sgd_reference(p0, grads, 0.05, **kw), rtol=1e-12, atol=1e-14)


ADAM_CASES = [
    dict(),
    dict(betas=(0.5, 0.99), eps=1e-6),
    dict(weight_decay=0.1),
    dict(amsgrad=True),
    dict(amsgrad=True, weight_decay=0.01, betas=(0.8, 0.9)),
    dict(maximize=True),
    dict(maximize=True, weight_decay=0.2, amsgrad=True),
]


@pytest.mark.parametrize("kw", ADAM_CASES, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()) or "plain")
def test_adam_matches_reference(kw, device):
    rng = np.random.default_rng(2)
    p0, grads = make_problem((4, 3), 6, np.float64, rng)
    p = mg.tensor(p0, device=device, requires_grad=True)
    opt = Adam([p], lr=0.01, **kw)
    run_steps(opt, [p], [grads])
    ref_p, ref_m, ref_v = adam_reference(p0, grads, 0.01, **kw)
    np.testing.assert_allclose(p.numpy(), ref_p, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(opt.state[p]["exp_avg"].numpy(), ref_m, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(opt.state[p]["exp_avg_sq"].numpy(), ref_v, rtol=1e-12, atol=1e-14)
    assert opt.state[p]["step"] == 6 and isinstance(opt.state[p]["step"], int)


@pytest.mark.parametrize(
    "opt_cls,kw",
    [(Adam, dict(lr=1e-3, amsgrad=True, weight_decay=0.01)), (SGD, dict(lr=0.1, momentum=0.9, nesterov=True))],
)
def test_float32_stays_float32_and_is_accurate(opt_cls, kw, device):
    rng = np.random.default_rng(3)
    p0, grads = make_problem((5, 7), 4, np.float32, rng)
    p = mg.tensor(p0, device=device, requires_grad=True)
    opt = opt_cls([p], **kw)
    run_steps(opt, [p], [grads])
    assert p.dtype == np.float32 and p.data.dtype == np.float32
    for value in opt.state[p].values():
        if isinstance(value, mg.Tensor):
            assert value.dtype == np.float32
    ref = adam_reference(p0, grads, **kw)[0] if opt_cls is Adam else sgd_reference(p0, grads, **kw)
    np.testing.assert_allclose(p.numpy(), ref, rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_large_parameters_split_across_threads(threads):
    """A parameter above the split threshold is updated in slices by several threads."""
    rng = np.random.default_rng(4)
    p0, grads = make_problem((301, 299), 3, np.float64, rng)  # 89,999 elements: slices of unequal size
    old = get_num_threads()
    set_num_threads(threads)
    try:
        pa = mg.tensor(p0, requires_grad=True)
        ps = mg.tensor(p0, requires_grad=True)
        small = mg.tensor(p0[:3, :3], requires_grad=True)  # small one: done whole, in the main thread
        run_steps(Adam([pa, small], lr=0.01, amsgrad=True), [pa, small], [grads, [g[:3, :3] for g in grads]])
        run_steps(SGD([ps], lr=0.01, momentum=0.9, dampening=0.1), [ps], [grads])
    finally:
        set_num_threads(old)
    np.testing.assert_allclose(pa.numpy(), adam_reference(p0, grads, 0.01, amsgrad=True)[0], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(
        small.numpy(),
        adam_reference(p0[:3, :3], [g[:3, :3] for g in grads], 0.01, amsgrad=True)[0],
        rtol=1e-12,
        atol=1e-14,
    )
    np.testing.assert_allclose(
        ps.numpy(), sgd_reference(p0, grads, 0.01, momentum=0.9, dampening=0.1), rtol=1e-12, atol=1e-14
    )


def test_set_num_threads_rejects_zero():
    with pytest.raises(ValueError, match="set_num_threads"):
        set_num_threads(0)


def test_non_contiguous_parameter_is_updated_in_place():
    base = np.random.default_rng(5).normal(size=(300, 400))
    p = mg.Tensor(base.T, requires_grad=True)  # Fortran-ordered view: updated whole, not in slices
    p0 = p.numpy().copy()
    g = np.ones((400, 300))
    p.grad = mg.tensor(g)
    Adam([p], lr=0.1).step()
    np.testing.assert_allclose(base.T, adam_reference(p0, [g], 0.1)[0], rtol=1e-12)


def test_param_groups_have_their_own_hyperparameters(device):
    rng = np.random.default_rng(6)
    (a0, ga), (b0, gb) = make_problem((3,), 3, np.float64, rng), make_problem((2, 2), 3, np.float64, rng)
    a = mg.tensor(a0, device=device, requires_grad=True)
    b = mg.tensor(b0, device=device, requires_grad=True)
    opt = SGD([{"params": [a]}, {"params": [b], "lr": 0.01, "momentum": 0.5}], lr=0.1)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[0]["momentum"] == 0.0
    assert opt.param_groups[1]["lr"] == 0.01 and opt.param_groups[1]["nesterov"] is False
    run_steps(opt, [a, b], [ga, gb])
    np.testing.assert_allclose(a.numpy(), sgd_reference(a0, ga, 0.1), rtol=1e-12)
    np.testing.assert_allclose(b.numpy(), sgd_reference(b0, gb, 0.01, momentum=0.5), rtol=1e-12)


def test_add_param_group_and_lr_change_take_effect():
    a = mg.tensor([1.0, 2.0], dtype=mg.float64, requires_grad=True)
    b = mg.tensor([3.0], dtype=mg.float64, requires_grad=True)
    opt = SGD([a], lr=0.5)
    opt.add_param_group({"params": b, "lr": 0.25})
    a.grad, b.grad = mg.tensor([1.0, 1.0], dtype=mg.float64), mg.tensor([1.0], dtype=mg.float64)
    opt.step()
    opt.param_groups[0]["lr"] = 0.1  # a schedule edits the group in place
    opt.step()
    np.testing.assert_allclose(a.numpy(), [1.0 - 0.5 - 0.1, 2.0 - 0.5 - 0.1])
    np.testing.assert_allclose(b.numpy(), [3.0 - 0.25 - 0.25])


def test_parameters_without_grad_are_skipped():
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = mg.tensor([3.0, 4.0], requires_grad=True)
    opt = Adam([a, b], lr=0.1)
    a.grad = mg.tensor([1.0, -1.0])
    opt.step()
    np.testing.assert_array_equal(b.numpy(), np.array([3.0, 4.0], np.float32))
    assert b not in opt.state and opt.state[a]["step"] == 1


def test_zero_grad_to_none_and_in_place(device):
    p = mg.tensor([1.0, 2.0, 3.0], device=device, requires_grad=True)
    q = mg.tensor([1.0], device=device, requires_grad=True)  # never gets a grad
    opt = SGD([p, q], lr=0.1)
    (p * p).sum().backward()
    grad = p.grad
    opt.zero_grad(set_to_none=False)
    assert p.grad is grad and q.grad is None
    np.testing.assert_array_equal(p.grad.numpy(), np.zeros(3, np.float32))
    (p * p).sum().backward()  # accumulates onto the zeros
    np.testing.assert_allclose(p.grad.numpy(), 2 * p.numpy())
    opt.zero_grad()
    assert p.grad is None


def test_closure_is_called_and_its_loss_returned():
    p = mg.tensor([2.0], requires_grad=True)
    opt = SGD([p], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.item() == 4.0
    np.testing.assert_allclose(p.numpy(), [2.0 - 0.25 * 4.0])


# --- state_dict -------------------------------------------------------------------------


def quadratic_grads(params, targets):
    """Real backward passes: loss = sum((p - target)^2 * |p|)."""
    for p in params:
        p.grad = None
    loss = sum(((p - t) * (p - t) * p.abs()).sum() for p, t in zip(params, targets))
    loss.backward()


def make_model(device, seed=7):
    rng = np.random.default_rng(seed)
    shapes = [(4, 3), (3,), (2, 2)]
    params = [mg.tensor(rng.normal(size=s).astype(np.float32), device=device, requires_grad=True) for s in shapes]
    targets = [mg.tensor(rng.normal(size=s).astype(np.float32), device=device) for s in shapes]
    return params, targets


OPTIMIZERS = [
    (Adam, lambda ps: [{"params": ps[:2], "lr": 0.01, "amsgrad": True}, {"params": ps[2:], "weight_decay": 0.1}]),
    (
        SGD,
        lambda ps: [
            {"params": ps[:1], "lr": 0.05, "momentum": 0.9, "nesterov": True},
            {"params": ps[1:], "lr": 0.02, "momentum": 0.5, "dampening": 0.2},
        ],
    ),
]


@pytest.mark.parametrize("opt_cls,groups", OPTIMIZERS, ids=["Adam", "SGD"])
@pytest.mark.parametrize("via_file", [False, True], ids=["in_memory", "via_save_load"])
def test_state_dict_resume_is_bit_identical(opt_cls, groups, via_file, device, tmp_path):
    # six uninterrupted steps
    params, targets = make_model(device)
    opt = opt_cls(groups(params), lr=0.003)
    for _ in range(6):
        quadratic_grads(params, targets)
        opt.step()
    expected = [p.numpy().copy() for p in params]

    # three steps, checkpoint, fresh optimizer and parameter objects, three more
    params, targets = make_model(device)
    opt = opt_cls(groups(params), lr=0.003)
    for _ in range(3):
        quadratic_grads(params, targets)
        opt.step()
    checkpoint = {"params": [p.data.copy() for p in params], "optim": opt.state_dict()}
    if via_file:
        mg.save(checkpoint, tmp_path / "ckpt.npz")
        checkpoint = mg.load(tmp_path / "ckpt.npz")
    for _ in range(2):  # keep training the old optimizer: the snapshot must not change
        quadratic_grads(params, targets)
        opt.step()
    resumed = [mg.tensor(np.zeros(p.shape, np.float32), device=device, requires_grad=True) for p in params]
    for r, saved in zip(resumed, checkpoint["params"]):
        r.data[...] = saved
    # built with defaults only (lr=1.0, no per-group settings): every hyper-parameter comes from the checkpoint
    opt2 = opt_cls([{"params": g["params"]} for g in groups(resumed)], lr=1.0)
    opt2.load_state_dict(checkpoint["optim"])
    for _ in range(3):
        quadratic_grads(resumed, targets)
        opt2.step()
    for r, e in zip(resumed, expected):
        np.testing.assert_array_equal(r.numpy(), e)

    def settings(gs):
        return [{k: v for k, v in g.items() if k != "params"} for g in gs]

    assert settings(opt2.param_groups) == settings(checkpoint["optim"]["param_groups"])


def test_state_dict_layout():
    params, targets = make_model("cpu")
    opt = Adam([{"params": params[:2]}, {"params": params[2:], "lr": 0.1}], betas=[0.8, 0.9])
    quadratic_grads(params, targets)
    params[1].grad = None  # no state for it
    opt.step()
    sd = opt.state_dict()
    assert set(sd) == {"state", "param_groups"}
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert sd["param_groups"][0]["betas"] == (0.8, 0.9) and sd["param_groups"][1]["lr"] == 0.1
    assert sorted(sd["state"]) == [0, 2]
    s0 = sd["state"][0]
    assert s0["step"] == 1 and type(s0["step"]) is int
    assert s0["exp_avg"].shape == (4, 3) and s0["exp_avg"].dtype == np.float32
    assert s0["exp_avg"].data is not opt.state[params[0]]["exp_avg"].data  # a snapshot


def test_load_state_dict_mismatches_raise():
    params, targets = make_model("cpu")
    opt = Adam([{"params": params[:2]}, {"params": params[2:]}])
    quadratic_grads(params, targets)
    opt.step()
    sd = opt.state_dict()
    with pytest.raises(ValueError, match="2 parameter group.*optimizer has 1"):
        Adam(params).load_state_dict(sd)
    with pytest.raises(ValueError, match="group 0 has 2 parameter.*1 in the optimizer"):
        Adam([{"params": params[:1]}, {"params": params[1:]}]).load_state_dict(sd)
    swapped = [mg.tensor(np.zeros(s), requires_grad=True) for s in [(3,), (4, 3), (2, 2)]]
    with pytest.raises(ValueError, match=r"state\[0\]\['exp_avg'\] has shape \(4, 3\).*\(3,\)"):
        Adam([{"params": swapped[:2]}, {"params": swapped[2:]}]).load_state_dict(sd)
    bad = {"state": {7: sd["state"][0]}, "param_groups": sd["param_groups"]}
    with pytest.raises(ValueError, match="index 7"):
        Adam([{"params": params[:2]}, {"params": params[2:]}]).load_state_dict(bad)
    with pytest.raises(ValueError, match="'state' and 'param_groups'"):
        opt.load_state_dict({"state": {}})
    bad_lr = {"state": {}, "param_groups": [dict(g, lr=-1.0) for g in sd["param_groups"]]}
    with pytest.raises(ValueError, match="lr=-1.0"):
        opt.load_state_dict(bad_lr)
    assert opt.param_groups[0]["lr"] == 1e-3 and opt.state  # failed loads change nothing


def test_load_state_dict_fills_keys_an_older_checkpoint_lacks():
    p = mg.zeros(2, requires_grad=True)
    opt = Adam([p], lr=0.1)
    old = opt.state_dict()
    del old["param_groups"][0]["maximize"]
    old["param_groups"][0]["lr"] = 0.5
    opt.load_state_dict(old)
    assert opt.param_groups[0]["lr"] == 0.5 and opt.param_groups[0]["maximize"] is False
    p.grad = mg.ones(2)
    opt.step()


# --- argument checking -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "kw,match",
    [
        (dict(lr=-0.1), "lr=-0.1"),
        (dict(betas=(1.0, 0.999)), "beta1=1.0"),
        (dict(betas=(0.9, -0.1)), "beta2=-0.1"),
        (dict(eps=-1e-8), "eps=-1e-08"),
        (dict(weight_decay=-1), "weight_decay=-1"),
    ],
)
def test_adam_rejects_invalid_hyperparameters(kw, match):
    with pytest.raises(ValueError, match=match):
        Adam([mg.zeros(2, requires_grad=True)], **kw)


@pytest.mark.parametrize(
    "kw,match",
    [
        (dict(lr=-1.0), "lr=-1.0"),
        (dict(momentum=-0.5), "momentum=-0.5"),
        (dict(weight_decay=-0.5), "weight_decay=-0.5"),
        (dict(nesterov=True), "nesterov.*momentum=0"),
        (dict(nesterov=True, momentum=0.9, dampening=0.1), "nesterov.*dampening=0.1"),
    ],
)
def test_sgd_rejects_invalid_hyperparameters(kw, match):
    with pytest.raises(ValueError, match=match):
        SGD([mg.zeros(2, requires_grad=True)], **kw)


def test_positional_hyperparameters_follow_pytorch_order():
    """SGD(params, lr, momentum, dampening, weight_decay, nesterov); Adam(params, lr, betas, eps, weight_decay,
    amsgrad)."""
    p = mg.zeros(2, requires_grad=True)
    g = SGD([p], 0.1, 0.9, 0.0, 1e-4, True).param_groups[0]
    assert (g["lr"], g["momentum"], g["dampening"], g["weight_decay"], g["nesterov"]) == (0.1, 0.9, 0.0, 1e-4, True)
    g = Adam([p], 0.01, (0.5, 0.9), 1e-6, 0.1, True).param_groups[0]
    assert (g["lr"], g["betas"], g["eps"], g["weight_decay"], g["amsgrad"]) == (0.01, (0.5, 0.9), 1e-6, 0.1, True)


def test_sgd_default_lr_and_group_validation():
    p = mg.zeros(2, requires_grad=True)
    assert SGD([p]).param_groups[0]["lr"] == 1e-3
    with pytest.raises(ValueError, match="lr=-2"):
        SGD([{"params": [p], "lr": -2}], lr=0.1)


def test_invalid_parameters_are_rejected():
    p = mg.zeros(3, requires_grad=True)
    with pytest.raises(TypeError, match="single Tensor"):
        SGD(p, lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        Adam([])
    with pytest.raises(TypeError, match="dtype int64"):
        SGD([mg.tensor([1, 2], dtype=mg.int64)], lr=0.1)
    with pytest.raises(ValueError, match="not a leaf"):
        SGD([p * 2], lr=0.1)
    with pytest.raises(ValueError, match="more than once"):
        SGD([p, p], lr=0.1)
    with pytest.raises(ValueError, match="more than once"):
        SGD([{"params": [p]}, {"params": [p]}], lr=0.1)
    with pytest.raises(TypeError, match="parameter 0 is a ndarray"):
        SGD([np.zeros(3)], lr=0.1)
    assert isinstance(SGD([p], lr=0.1), Optimizer)


def test_gradient_shape_mismatch_is_reported():
    p = mg.zeros(3, requires_grad=True)
    p.grad = mg.zeros(4)
    with pytest.raises(ValueError, match=r"gradient shape \(4,\).*\(3,\)"):
        Adam([p]).step()
