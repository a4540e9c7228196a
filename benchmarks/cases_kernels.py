"""Kernel cases: sgemm ceiling, Linear, every DCGAN conv layer, BatchNorm2d, Adam.

Each fwd+bwd case times ``layer(x).backward(gy)`` with a fixed output
gradient ``gy``, the input needing a gradient too, and all gradients reset
to None before each call, in both frameworks. The torch layer is the twin
of the minigrad layer (same weights, see torch_twins).
"""

from __future__ import annotations

import minigrad
import minigrad.nn
import minigrad.optim
from benchmarks.cases import Case, Result
from benchmarks.torch_twins import twin

# --- helpers ----------------------------------------------------------------------------------


def _mg_randn(ctx, *shape, requires_grad=False):
    return minigrad.randn(*shape, device=ctx.device, requires_grad=requires_grad)


def _to_torch(ctx, t, requires_grad=False):
    """A torch tensor with the values of minigrad tensor ``t``, on the run's device."""
    torch = ctx.torch
    out = torch.from_numpy(t.numpy().copy()).to(ctx.torch_device)
    return out.requires_grad_(requires_grad)


def _fwd_bwd(layer, x, gy):
    """One forward + backward of ``layer`` (either framework): dx, dW, db."""
    params = list(layer.parameters())

    def step():
        x.grad = None
        for p in params:
            p.grad = None
        layer(x).backward(gy)

    return step


def _layer_pair(ctx, mg_layer, x_shape):
    """(minigrad step, torch step or None) timing fwd+bwd of a layer on random input."""
    mg_layer.to(ctx.device)
    x = _mg_randn(ctx, *x_shape, requires_grad=True)
    with minigrad.no_grad():
        gy = minigrad.randn_like(mg_layer(x))
    mg_step = _fwd_bwd(mg_layer, x, gy)
    if ctx.torch is None:
        return mg_step, None
    t_layer = twin(mg_layer, ctx.torch, ctx.device)
    torch_step = _fwd_bwd(t_layer, _to_torch(ctx, x, requires_grad=True), _to_torch(ctx, gy))
    return mg_step, torch_step


# --- sgemm ceiling ----------------------------------------------------------------------------


def sgemm(ctx, n=1024) -> Result:
    """C = A @ B for float32 n x n: NumPy's (CuPy's on cuda) vs torch's GFLOP/s, out= preallocated."""
    if ctx.quick:
        n = 64
    xp = minigrad.backend.xp_for(ctx.device)
    a, b = (minigrad.randn(n, n, device=ctx.device).data for _ in range(2))
    c = xp.empty((n, n), dtype=xp.float32)
    fns = {"minigrad": lambda: xp.matmul(a, b, out=c)}
    torch_fn = None
    if ctx.torch is not None:
        torch = ctx.torch
        ta, tb = (torch.randn(n, n, device=ctx.torch_device) for _ in range(2))
        tc = torch.empty(n, n, device=ctx.torch_device)
        torch_fn = lambda: torch.mm(ta, tb, out=tc)  # noqa: E731
    r = ctx.compare(fns["minigrad"], torch_fn, flop=2.0 * n**3, repeat=20)
    r.target = "ceiling (info)"
    ctx.cache["sgemm"] = r
    return r


def _sgemm_ceiling(ctx) -> Result:
    """The sgemm row of this run (measured now if --cases skipped it)."""
    if "sgemm" not in ctx.cache:
        sgemm(ctx)
    return ctx.cache["sgemm"]


# --- layers -----------------------------------------------------------------------------------


def linear(ctx, batch=128, n_in=1024, n_out=784) -> Result:
    """Linear n_in -> n_out fwd+bwd: 3 GEMMs (y, dx, dW) of 2*B*in*out flop each."""
    if ctx.quick:
        batch, n_in, n_out = 8, 32, 16
    mg_step, torch_step = _layer_pair(ctx, minigrad.nn.Linear(n_in, n_out), (batch, n_in))
    r = ctx.compare(mg_step, torch_step, flop=3 * 2.0 * batch * n_in * n_out, repeat=20)
    ceiling = _sgemm_ceiling(ctx)
    if r.gflops and ceiling.gflops:
        r.extra["pct_of_sgemm"] = 100.0 * r.gflops / ceiling.gflops
        if r.torch_gflops and ceiling.torch_gflops:
            r.extra["torch_pct_of_sgemm"] = 100.0 * r.torch_gflops / ceiling.torch_gflops
        r.target = ">= 80% sgemm"
        r.passed = r.extra["pct_of_sgemm"] >= 80.0
        r.note = (
            f"{r.extra['pct_of_sgemm']:.0f}% of sgemm"
            + (f" (torch {r.extra['torch_pct_of_sgemm']:.0f}%)" if "torch_pct_of_sgemm" in r.extra else "")
            + (f"; {r.note}" if r.note else "")
        )
    return r


def conv(ctx, transposed, cin, cout, k, stride, pad, size, batch) -> Result:
    """Conv2d / ConvTranspose2d fwd+bwd (dx, dW, db) on a (batch, cin, size, size) input.

    Flop of the forward: 2 * N * Cin * Cout * k^2 * P, where P is the number of
    output positions of a Conv2d or input positions of a ConvTranspose2d (the
    transposed conv is the conv's backward); dx and dW cost the same again each.
    """
    if ctx.quick:
        batch, cin, cout = 2, max(1, cin // 16), max(1, cout // 16)
    Layer = minigrad.nn.ConvTranspose2d if transposed else minigrad.nn.Conv2d
    layer = Layer(cin, cout, k, stride, pad)
    positions = size * size if transposed else ((size + 2 * pad - k) // stride + 1) ** 2
    mg_step, torch_step = _layer_pair(ctx, layer, (batch, cin, size, size))
    flop = 3 * 2.0 * batch * cin * cout * k * k * positions
    r = ctx.compare(mg_step, torch_step, flop=flop, repeat=10)
    return r.check_ratio(1.2)


def batchnorm2d(ctx, shape=(64, 128, 14, 14)) -> Result:
    """BatchNorm2d in training mode, fwd+bwd (dx, dgamma, dbeta), running stats updated."""
    if ctx.quick:
        shape = (4, 8, 6, 6)
    mg_step, torch_step = _layer_pair(ctx, minigrad.nn.BatchNorm2d(shape[1]), shape)
    r = ctx.compare(mg_step, torch_step, repeat=20)
    r.target = "(info)"
    return r


ADAM_SHAPES = [(1024, 1024), (1024,), (1024, 1024), (1024,), (1024, 880), (880,)]  # 3.0M parameters


def adam(ctx, shapes=tuple(ADAM_SHAPES)) -> Result:
    """One Adam step (default hyper-parameters) over parameters with fixed random gradients."""
    if ctx.quick:
        shapes = [(64, 32), (32,)]
    params = [minigrad.nn.Parameter(_mg_randn(ctx, *s)) for s in shapes]
    for p in params:
        p.grad = _mg_randn(ctx, *p.shape)
    opt = minigrad.optim.Adam(params, lr=1e-3)
    torch_step = None
    if ctx.torch is not None:
        torch = ctx.torch
        tparams = [_to_torch(ctx, p, requires_grad=True) for p in params]
        for tp, p in zip(tparams, params):
            tp.grad = _to_torch(ctx, p.grad)
        torch_step = torch.optim.Adam(tparams, lr=1e-3).step
    n = sum(p.data.size for p in params)
    r = ctx.compare(opt.step, torch_step, repeat=20)
    r.extra["parameters"] = int(n)
    r.check_ratio(1.0)
    return r


# --- the registry -----------------------------------------------------------------------------

# (model, batch, role, transposed, cin, cout, k, stride, pad, input size) of every conv layer; the first four
# dcgan28 rows are the Radford-style nets dcgan28 had until 2026-12-01, kept for comparison with earlier tables.
CONV_LAYERS = [
    ("dcgan28", 64, "D", False, 1, 64, 4, 2, 1, 28),
    ("dcgan28", 64, "D", False, 64, 128, 4, 2, 1, 14),
    ("dcgan28", 64, "G", True, 128, 64, 4, 2, 1, 7),
    ("dcgan28", 64, "G", True, 64, 1, 4, 2, 1, 14),
    ("dcgan28", 64, "D", False, 32, 64, 4, 2, 1, 14),  # the middle layers of today's dcgan28 (InfoGAN's, half width)
    ("dcgan28", 64, "G", True, 64, 32, 4, 2, 1, 7),
    ("dcgan64", 16, "G", True, 100, 1024, 4, 1, 0, 1),
    ("dcgan64", 16, "G", True, 1024, 512, 4, 2, 1, 4),
    ("dcgan64", 16, "G", True, 512, 256, 4, 2, 1, 8),
    ("dcgan64", 16, "G", True, 256, 128, 4, 2, 1, 16),
    ("dcgan64", 16, "G", True, 128, 1, 4, 2, 1, 32),
    ("dcgan64", 16, "D", False, 1, 128, 4, 2, 1, 64),
    ("dcgan64", 16, "D", False, 128, 256, 4, 2, 1, 32),
    ("dcgan64", 16, "D", False, 256, 512, 4, 2, 1, 16),
    ("dcgan64", 16, "D", False, 512, 1024, 4, 2, 1, 8),
    ("dcgan64", 16, "D", False, 1024, 1, 4, 1, 0, 4),
]


def _conv_cases() -> list[Case]:
    cases = []
    for model, batch, role, transposed, cin, cout, k, s, p, size in CONV_LAYERS:
        kind = "ConvT" if transposed else "Conv"
        name = f"{model} {role} {kind}({cin},{cout},{k},{s},{p})@{size} b{batch} fwd+bwd"
        cases.append(
            Case(
                name,
                conv,
                dict(transposed=transposed, cin=cin, cout=cout, k=k, stride=s, pad=p, size=size, batch=batch),
            )
        )
    return cases


CASES = [
    Case("sgemm 1024^3 float32 (numpy/cupy matmul)", sgemm),
    Case("linear 128x1024->784 fwd+bwd", linear),
    *_conv_cases(),
    Case("batchnorm2d 64x128x14x14 fwd+bwd", batchnorm2d),
    Case("adam step 3.0M params", adam),
]
