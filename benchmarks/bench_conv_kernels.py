"""Time minigrad's raw conv kernels (forward + backward) at the DCGAN layer sizes.

Compares with PyTorch CPU (torch.nn.functional.conv2d / conv_transpose2d with
autograd) when torch is importable. Both sides use the same number of threads
(default 2) and compute all three gradients (x, w, b).

    OPENBLAS_NUM_THREADS=2 OMP_NUM_THREADS=2 python3 benchmarks/bench_conv_kernels.py

Reports the median wall time of the repeats after warm-up, GFLOP/s (a
forward conv costs 2*N*O*OH*OW*C*kh*kw flops, backward twice that) and the
ratio minigrad / torch of the medians (lower is better; < 1.5 is the project's
target). The ratio of the fastest repeats is printed too: on a machine shared
with other jobs it is the steadier of the two.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

# run from a checkout without installing: make the repo root importable
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# (name, kind, batch, C_in, C_out, kernel, stride, padding, input H=W)
LAYERS = [
    ("dcgan28 D conv1", "conv", 64, 1, 64, 4, 2, 1, 28),
    ("dcgan28 D conv2", "conv", 64, 64, 128, 4, 2, 1, 14),
    ("dcgan28 G convT1", "convT", 64, 128, 64, 4, 2, 1, 7),
    ("dcgan28 G convT2", "convT", 64, 64, 1, 4, 2, 1, 14),
    ("dcgan64 G convT1", "convT", 16, 100, 1024, 4, 1, 0, 1),
    ("dcgan64 G convT2", "convT", 16, 1024, 512, 4, 2, 1, 4),
    ("dcgan64 G convT3", "convT", 16, 512, 256, 4, 2, 1, 8),
    ("dcgan64 G convT4", "convT", 16, 256, 128, 4, 2, 1, 16),
    ("dcgan64 G convT5", "convT", 16, 128, 1, 4, 2, 1, 32),
    ("dcgan64 D conv1", "conv", 16, 1, 128, 4, 2, 1, 64),
    ("dcgan64 D conv2", "conv", 16, 128, 256, 4, 2, 1, 32),
    ("dcgan64 D conv3", "conv", 16, 256, 512, 4, 2, 1, 16),
    ("dcgan64 D conv4", "conv", 16, 512, 1024, 4, 2, 1, 8),
    ("dcgan64 D conv5", "conv", 16, 1024, 1, 4, 1, 0, 4),
]


def _time_blocks(fns, warmup, min_repeats, min_time, rounds=2):
    """Wall times (lists of seconds) of each step function.

    Each function runs in its own block (warm-up, then repeats), and the blocks
    alternate for ``rounds`` rounds so a burst of load on the machine hits all of
    them alike. Blocks rather than interleaved single calls: after a call, the
    BLAS / OpenMP worker threads of one library keep spinning for a while and
    would steal the cores from the other's next call.
    """
    times = [[] for _ in fns]
    for _ in range(rounds):
        for fn, ts in zip(fns, times):
            time.sleep(0.05)          # let the other library's spinning threads go idle
            for _ in range(warmup):
                fn()
            start = time.perf_counter()
            n = 0
            while n < min_repeats or time.perf_counter() - start < min_time / rounds:
                t0 = time.perf_counter()
                fn()
                ts.append(time.perf_counter() - t0)
                n += 1
    return times


def _setup(layer, np, dtype):
    name, kind, n, cin, cout, k, s, p, size = layer
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, cin, size, size), dtype=dtype)
    if kind == "conv":
        w = rng.standard_normal((cout, cin, k, k), dtype=dtype) * 0.02
        out = (size + 2 * p - k) // s + 1
        flops_fwd = 2 * n * cout * out * out * cin * k * k
    else:
        w = rng.standard_normal((cin, cout, k, k), dtype=dtype) * 0.02
        out = (size - 1) * s - 2 * p + k
        flops_fwd = 2 * n * cin * size * size * cout * k * k
    b = rng.standard_normal(cout, dtype=dtype)
    gy = rng.standard_normal((n, cout, out, out), dtype=dtype)
    return x, w, b, gy, 3 * flops_fwd


def minigrad_step(layer, x, w, b, gy):
    from minigrad.kernels import (conv2d_backward, conv2d_forward, conv_transpose2d_backward,
                                  conv_transpose2d_forward)
    _, kind, _, _, _, k, s, p, _ = layer
    st, pd, dl = (s, s), (p, p), (1, 1)
    if kind == "conv":
        def step():
            y, cols = conv2d_forward(x, w, b, st, pd, dl)
            return conv2d_backward(gy, x.shape, w, cols, st, pd, dl)
    else:
        def step():
            conv_transpose2d_forward(x, w, b, st, pd, (0, 0), dl)
            return conv_transpose2d_backward(gy, x, w, st, pd, (0, 0), dl, True, True, True)
    return step


def torch_step(layer, torch, x, w, b, gy):
    import torch.nn.functional as F
    _, kind, _, _, _, k, s, p, _ = layer
    xt, wt, bt = (torch.from_numpy(a).requires_grad_() for a in (x, w, b))
    gyt = torch.from_numpy(gy)
    conv = F.conv2d if kind == "conv" else F.conv_transpose2d

    def step():
        xt.grad = wt.grad = bt.grad = None
        y = conv(xt, wt, bt, stride=s, padding=p)
        y.backward(gyt)
    return step


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2, help="BLAS / torch threads (default 2)")
    ap.add_argument("--warmup", type=int, default=2, help="untimed calls before each block of repeats")
    ap.add_argument("--repeats", type=int, default=3, help="minimum timed repeats per block")
    ap.add_argument("--rounds", type=int, default=2, help="blocks per library and layer, alternating")
    ap.add_argument("--min-time", type=float, default=0.4, help="minimum timed seconds per layer and library")
    ap.add_argument("--filter", default="", help="only layers whose name contains this text")
    ap.add_argument("--no-torch", action="store_true", help="skip the PyTorch comparison")
    args = ap.parse_args(argv)

    # BLAS reads its thread count at load time: set it before numpy is imported.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, str(args.threads))
    import numpy as np
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(args.threads)
    except ImportError:
        pass
    torch = None
    if not args.no_torch:
        try:
            import torch
            torch.set_num_threads(args.threads)
        except ImportError:
            print("torch not importable: timing minigrad only", file=sys.stderr)

    print(f"threads={args.threads} numpy={np.__version__}" + (f" torch={torch.__version__}" if torch else ""))
    head = f"{'layer':<18} {'kind':<5} {'in':>16} {'minigrad ms':>11} {'GF/s':>6}"
    if torch:
        head += f" {'torch ms':>9} {'GF/s':>6} {'ratio':>6} {'(min)':>6}"
    print(head)
    ratios = []
    for layer in LAYERS:
        if args.filter not in layer[0]:
            continue
        x, w, b, gy, flops = _setup(layer, np, np.float32)
        fns = [minigrad_step(layer, x, w, b, gy)]
        if torch:
            fns.append(torch_step(layer, torch, x, w, b, gy))
        times = _time_blocks(fns, args.warmup, args.repeats, args.min_time, args.rounds)
        t_mg = statistics.median(times[0])
        name, kind, n, cin, cout, k, s, p, size = layer
        line = (f"{name:<18} {kind:<5} {f'{n}x{cin}x{size}x{size}':>16} {t_mg * 1e3:11.2f} "
                f"{flops / t_mg / 1e9:6.1f}")
        if torch:
            t_t = statistics.median(times[1])
            ratio_min = min(times[0]) / min(times[1])
            ratios.append((t_mg / t_t, ratio_min))
            line += f" {t_t * 1e3:9.2f} {flops / t_t / 1e9:6.1f} {t_mg / t_t:6.2f} {ratio_min:6.2f}"
        print(line, flush=True)
    if ratios:
        for label, rs in (("medians", [r[0] for r in ratios]), ("fastest", [r[1] for r in ratios])):
            print(f"ratio minigrad/torch ({label}): max {max(rs):.2f}, geometric mean "
                  f"{float(np.exp(np.mean(np.log(rs)))):.2f}")


if __name__ == "__main__":
    main()
