"""The streamed optimizer updates (minigrad.optim.streaming) against the whole-array updates they replaced.

The reference is the same optimizer with its update runner swapped for ``_run_whole``: each
parameter's kernel once over the whole arrays with full-size scratch, as minigrad.optim ran
before the streaming change (commit 0f6625f). The streamed updates must equal it bit for bit:
chunking, threads and the order in which chunks are taken change which elements run together,
never an element's ufuncs. (The kernels' arithmetic itself is checked against PyTorch's
documented rules in tests/test_optim.py.)
"""

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad.optim import SGD, Adam, get_num_threads, set_num_threads, streaming


def _run_whole(kernel, jobs):
    """Each job's kernel once over its whole arrays, a full-size array for every SCRATCH entry."""
    for arrays, args in jobs:
        kernel(*(np.empty_like(arrays[0]) if a is streaming.SCRATCH else a for a in arrays), *args)


def _whole(opt_cls, p0s, grads_per_param, **kw):
    """``opt_cls`` over fresh copies of ``p0s`` fed the same gradients, run whole: (params, optimizer)."""
    params = [mg.tensor(p0.copy(), requires_grad=True) for p0 in p0s]
    opt = opt_cls(params, **kw)
    opt._apply = _run_whole
    _feed(opt, params, grads_per_param)
    return params, opt


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


def _assert_same_updates(params, opt, ref_params, ref_opt):
    """Every parameter and every state entry (moments, buffers, step counts) equal bit for bit."""
    for p, r in zip(params, ref_params):
        np.testing.assert_array_equal(p.numpy(), r.numpy())
        state, ref_state = opt.state.get(p, {}), ref_opt.state.get(r, {})  # SGD keeps none without momentum
        assert state.keys() == ref_state.keys()
        for name, ref in ref_state.items():
            got = state[name]
            np.testing.assert_array_equal(*(x.numpy() if isinstance(x, mg.Tensor) else x for x in (got, ref)))


def _check_streamed_equals_whole(opt_cls, steps, dtype, **kw):
    problems = [_problem(shape, steps, dtype, seed) for seed, shape in enumerate(SHAPES)]
    p0s, grads_per_param = [p0 for p0, _ in problems], [grads for _, grads in problems]
    ref_params, ref_opt = _whole(opt_cls, p0s, grads_per_param, **kw)
    params = [mg.tensor(p0, requires_grad=True) for p0 in p0s]
    opt = opt_cls(params, **kw)
    _feed(opt, params, grads_per_param)
    assert all(p.dtype == dtype for p in params)
    _assert_same_updates(params, opt, ref_params, ref_opt)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kw", ADAM_CASES, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()) or "plain")
def test_streamed_adam_equals_the_whole_array_update_bit_for_bit(kw, dtype, threads):
    _check_streamed_equals_whole(Adam, 5, dtype, lr=3e-3, **kw)


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
    _check_streamed_equals_whole(SGD, 4, dtype, lr=0.01, **kw)


def test_non_contiguous_and_broadcast_gradients_run_whole_and_match(threads):
    """A parameter view with strides and a read-only broadcast gradient take the whole-array path."""
    p0, grads = _problem((400, 300), 3, np.float32, 7)
    ref_params, ref_opt = _whole(
        Adam, [p0], [[np.ascontiguousarray(np.broadcast_to(g[:1], g.shape)) for g in grads]], lr=1e-2
    )
    base = mg.tensor(np.asfortranarray(p0), requires_grad=True)  # Fortran order: not C-contiguous
    opt = Adam([base], lr=1e-2)
    for g in grads:
        base.grad = mg.Tensor(np.broadcast_to(g[:1], g.shape))
        opt.step()
    _assert_same_updates([base], opt, ref_params, ref_opt)


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
