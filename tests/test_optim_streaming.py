"""The streamed optimizer updates (minigrad.optim.streaming) against the whole-array updates they replaced.

``_adam_update_whole`` / ``_sgd_update_whole`` below are the CPU kernels of minigrad.optim before
the streaming change (commit 0f6625f), kept verbatim, run on whole arrays with full-size scratch
as that code did. The streamed updates must equal them bit for bit: chunking, threads and the
order in which chunks are taken change which elements run together, never an element's ufuncs.
"""

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad.optim import SGD, Adam, get_num_threads, set_num_threads, streaming

# --- the kernels before the change, verbatim -------------------------------------------------


def _adam_update_whole(p, g, m, v, vmax, s, g2, one_minus_b1, b2, one_minus_b2, eps_hat, neg_step, wd, maximize):
    xp = np
    if g2 is not None:  # g2 = wd * p + g  (or - g when maximizing)
        xp.multiply(p, wd, out=g2)
        (xp.subtract if maximize else xp.add)(g2, g, out=g2)
        g = g2
    # m += (1 - b1) * (g - m), i.e. PyTorch's m.lerp_(g, 1 - b1)
    xp.subtract(g, m, out=s)
    xp.multiply(s, one_minus_b1, out=s)
    xp.add(m, s, out=m)
    # v = b2 * v + (1 - b2) * g^2
    xp.multiply(g, g, out=s)
    xp.multiply(s, one_minus_b2, out=s)
    xp.multiply(v, b2, out=v)
    xp.add(v, s, out=v)
    if vmax is not None:
        xp.maximum(vmax, v, out=vmax)
        v = vmax
    # p += neg_step * m / (sqrt(v) + eps_hat)
    xp.sqrt(v, out=s)
    xp.add(s, eps_hat, out=s)
    xp.divide(m, s, out=s)
    xp.multiply(s, neg_step, out=s)
    xp.add(p, s, out=p)


def _sgd_update_whole(p, g, buf, s, first, neg_lr, wd, momentum, one_minus_dampening, nesterov, maximize):
    xp = np
    d = g
    if wd != 0:  # d = wd * p + g  (or - g when maximizing)
        xp.multiply(p, wd, out=s)
        (xp.subtract if maximize else xp.add)(s, g, out=s)
        d = s
    elif maximize:
        xp.negative(g, out=s)
        d = s
    if buf is not None:
        if first:
            xp.copyto(buf, d)
        else:
            xp.multiply(buf, momentum, out=buf)
            if one_minus_dampening != 1:
                xp.multiply(d, one_minus_dampening, out=s)  # d is no longer needed: no nesterov here
                d = s
            xp.add(buf, d, out=buf)
        if nesterov:  # p -= lr * (d + momentum * buf), as two in-place steps
            xp.multiply(d, neg_lr, out=s)
            xp.add(p, s, out=p)
            xp.multiply(buf, neg_lr * momentum, out=s)
            xp.add(p, s, out=p)
            return
        d = buf
    xp.multiply(d, neg_lr, out=s)
    xp.add(p, s, out=p)


def adam_whole(p0, grads, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, maximize=False):
    """The old Adam.step's arithmetic on one array: (p, m, v, vmax) after len(grads) steps."""
    b1, b2 = betas
    p = p0.copy()
    m, v, vmax = np.zeros_like(p), np.zeros_like(p), np.zeros_like(p)
    s, g2 = np.empty_like(p), np.empty_like(p)
    f = p.dtype.type
    for t, g in enumerate(grads, start=1):
        bc1 = 1.0 - b1**t
        sqrt_bc2 = math.sqrt(1.0 - b2**t)
        args = (
            f(1.0 - b1),
            f(b2),
            f(1.0 - b2),
            f(eps * sqrt_bc2),
            f(-lr * sqrt_bc2 / bc1),
            f(weight_decay),
            bool(maximize),
        )
        needs_g2 = weight_decay != 0 or maximize
        _adam_update_whole(p, g, m, v, vmax if amsgrad else None, s, g2 if needs_g2 else None, *args)
    return p, m, v, vmax


def sgd_whole(p0, grads, lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0, maximize=False):
    p = p0.copy()
    buf = np.empty_like(p) if momentum != 0 else None
    s = np.empty_like(p)
    f = p.dtype.type
    for t, g in enumerate(grads):
        args = (t == 0, f(-lr), f(weight_decay), f(momentum), f(1.0 - dampening), bool(nesterov), bool(maximize))
        _sgd_update_whole(p, g, buf, s, *args)
    return p, buf


# --- the tests --------------------------------------------------------------------------------

SHAPES = [(3, 5), (301, 299), (70000,), (1000, 129)]  # one chunk; several chunks with a ragged tail; ...


def _problem(shape, steps, dtype, seed):
    rng = np.random.default_rng(seed)
    p0 = rng.normal(size=shape).astype(dtype)
    grads = [(rng.normal(size=shape) * 10.0 ** rng.integers(-3, 2)).astype(dtype) for _ in range(steps)]
    grads[1].reshape(-1)[::7] = 0
    return p0, grads


def _feed(opt, params, grads_per_param):
    for t in range(len(grads_per_param[0])):
        for p, gs in zip(params, grads_per_param):
            p.grad = mg.tensor(gs[t])
        opt.step()


@pytest.fixture(params=[1, 2, 3], ids=lambda n: f"{n}threads")
def threads(request):
    old = get_num_threads()
    set_num_threads(request.param)
    yield request.param
    set_num_threads(old)


ADAM_CASES = [
    dict(),
    dict(betas=(0.5, 0.999)),
    dict(weight_decay=0.05),
    dict(amsgrad=True),
    dict(maximize=True, weight_decay=0.01, amsgrad=True, betas=(0.8, 0.9), eps=1e-6),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kw", ADAM_CASES, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()) or "plain")
def test_streamed_adam_equals_the_whole_array_update_bit_for_bit(kw, dtype, threads):
    problems = [_problem(shape, 5, dtype, seed) for seed, shape in enumerate(SHAPES)]
    params = [mg.tensor(p0, requires_grad=True) for p0, _ in problems]
    opt = Adam(params, lr=3e-3, **kw)
    _feed(opt, params, [grads for _, grads in problems])
    for p, (p0, grads) in zip(params, problems):
        ref_p, ref_m, ref_v, ref_vmax = adam_whole(p0, grads, 3e-3, **kw)
        assert p.dtype == dtype
        np.testing.assert_array_equal(p.numpy(), ref_p)
        np.testing.assert_array_equal(opt.state[p]["exp_avg"].numpy(), ref_m)
        np.testing.assert_array_equal(opt.state[p]["exp_avg_sq"].numpy(), ref_v)
        if kw.get("amsgrad"):
            np.testing.assert_array_equal(opt.state[p]["max_exp_avg_sq"].numpy(), ref_vmax)


SGD_CASES = [
    dict(),
    dict(momentum=0.9),
    dict(momentum=0.9, dampening=0.3, weight_decay=0.01),
    dict(momentum=0.8, nesterov=True, weight_decay=0.1),
    dict(momentum=0.5, maximize=True),
    dict(maximize=True),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kw", SGD_CASES, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()) or "plain")
def test_streamed_sgd_equals_the_whole_array_update_bit_for_bit(kw, dtype, threads):
    problems = [_problem(shape, 4, dtype, seed) for seed, shape in enumerate(SHAPES)]
    params = [mg.tensor(p0, requires_grad=True) for p0, _ in problems]
    opt = SGD(params, lr=0.01, **kw)
    _feed(opt, params, [grads for _, grads in problems])
    for p, (p0, grads) in zip(params, problems):
        ref_p, ref_buf = sgd_whole(p0, grads, 0.01, **kw)
        np.testing.assert_array_equal(p.numpy(), ref_p)
        if ref_buf is not None:
            np.testing.assert_array_equal(opt.state[p]["momentum_buffer"].numpy(), ref_buf)


def test_non_contiguous_and_broadcast_gradients_run_whole_and_match(threads):
    """A parameter view with strides and a read-only broadcast gradient take the whole-array path."""
    p0, grads = _problem((400, 300), 3, np.float32, 7)
    base = mg.tensor(np.asfortranarray(p0), requires_grad=True)  # Fortran order: not C-contiguous
    opt = Adam([base], lr=1e-2)
    for g in grads:
        base.grad = mg.Tensor(np.broadcast_to(g[:1], g.shape))
        opt.step()
    ref_p = adam_whole(p0, [np.ascontiguousarray(np.broadcast_to(g[:1], g.shape)) for g in grads], 1e-2)[0]
    np.testing.assert_array_equal(base.numpy(), ref_p)


def test_stream_visits_every_element_once_and_runs_in_chunks(monkeypatch, threads):
    """A kernel that counts its calls and marks its elements: every element once, in chunk-sized calls."""
    monkeypatch.setattr(streaming, "CHUNK_BYTES", 4096)
    monkeypatch.setattr(streaming, "MIN_THREADED_ELEMENTS", 1)
    a, b = np.zeros(10_000, np.float64), np.zeros((7, 3), np.float64)
    calls = []

    def mark(x, s):
        calls.append(x.size)
        assert s.size == x.size and s.dtype == x.dtype
        x += 1

    streaming.stream(mark, [((a, streaming.SCRATCH), ()), ((b, streaming.SCRATCH), ())])
    assert (a == 1).all() and (b == 1).all()
    assert max(calls) == 4096 // 8 and sum(calls) == a.size + b.size
    assert len(calls) == math.ceil(a.size / 512) + 1


def test_a_worker_error_reaches_the_caller(monkeypatch):
    monkeypatch.setattr(streaming, "CHUNK_BYTES", 4096)
    monkeypatch.setattr(streaming, "MIN_THREADED_ELEMENTS", 1)
    old = get_num_threads()
    set_num_threads(2)

    def boom(x):
        if x[0] == 3.0:
            raise FloatingPointError("chunk 3")

    a = np.repeat(np.arange(8.0), 512)
    try:
        with pytest.raises(FloatingPointError, match="chunk 3"):
            streaming.stream(boom, [((a,), ())])
    finally:
        set_num_threads(old)


def test_default_threads_are_decided_at_first_use_from_the_environment(monkeypatch):
    monkeypatch.setattr(streaming, "_num_threads", None)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.delenv("MINIGRAD_NUM_THREADS", raising=False)
    assert streaming.default_num_threads() == 1
    assert streaming._num_threads is None  # asking the default decides nothing
    monkeypatch.setenv("MINIGRAD_NUM_THREADS", "3")
    assert get_num_threads() == 3 and streaming._num_threads == 3
    monkeypatch.setattr(streaming, "_num_threads", None)
    monkeypatch.delenv("MINIGRAD_NUM_THREADS")
    monkeypatch.delenv("OMP_NUM_THREADS")
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    cores = len(streaming.os.sched_getaffinity(0))
    assert get_num_threads() == min(cores, streaming.MAX_DEFAULT_THREADS)


def test_importing_minigrad_starts_no_thread():
    import subprocess
    import sys

    code = "import threading, minigrad, minigrad.optim; print(threading.active_count())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "1"
