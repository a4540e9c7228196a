"""Time one Adam step over ~3M float32 parameters: minigrad vs PyTorch.

    python benchmarks/bench_adam.py [--threads 2] [--repeats 50] [--device cpu|cuda]

Prints the median milliseconds per step and minigrad's time as a ratio of
PyTorch's (torch.optim.Adam with foreach=False, and with its default). The
torch columns are skipped when torch is not installed. Both libraries get
the same number of CPU threads.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

# run from a checkout without installing: make the repo root importable
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import minigrad as mg  # noqa: E402

SHAPES = [(1024, 784), (1024,), (1024, 1024), (1024,), (784, 1024), (784,), (256, 1024), (256,)]


def median_ms(step, repeats, sync):
    step()  # warm up: allocates state and scratch buffers
    sync()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        step()
        sync()
        times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times)


def bench_minigrad(params, grads, repeats, device, **kw):
    ps = [mg.tensor(p, device=device, requires_grad=True) for p in params]
    for p, g in zip(ps, grads):
        p.grad = mg.tensor(g, device=device)
    opt = mg.optim.Adam(ps, lr=1e-3, **kw)
    return median_ms(opt.step, repeats, mg.cuda.synchronize)


def bench_torch(torch, params, grads, repeats, device, foreach, **kw):
    ps = [torch.nn.Parameter(torch.from_numpy(p.copy()).to(device)) for p in params]
    for p, g in zip(ps, grads):
        p.grad = torch.from_numpy(g.copy()).to(device)
    opt = torch.optim.Adam(ps, lr=1e-3, foreach=foreach, **kw)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    with torch.no_grad():
        return median_ms(opt.step, repeats, sync)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    args = parser.parse_args()

    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None:
        torch.set_num_threads(args.threads)
    mg.optim.set_num_threads(args.threads)

    rng = np.random.default_rng(0)
    params = [rng.standard_normal(s, dtype=np.float32) for s in SHAPES]
    grads = [rng.standard_normal(s, dtype=np.float32) for s in SHAPES]
    n = sum(p.size for p in params)
    print(f"Adam step over {n / 1e6:.2f}M float32 parameters in {len(SHAPES)} tensors, "
          f"on {args.device}, {args.threads} CPU thread(s), median of {args.repeats}")
    header = f"{'variant':<22}{'minigrad ms':>12}"
    if torch is not None:
        header += f"{'torch(foreach=False)':>22}{'ratio':>7}{'torch(default)':>16}{'ratio':>7}"
    else:
        header += "   (torch not installed: no comparison)"
    print(header)
    variants = [("adam", {}), ("adam weight_decay", dict(weight_decay=1e-2)), ("adam amsgrad", dict(amsgrad=True))]
    for name, kw in variants:
        ours = bench_minigrad(params, grads, args.repeats, args.device, **kw)
        line = f"{name:<22}{ours:>12.2f}"
        if torch is not None:
            plain = bench_torch(torch, params, grads, args.repeats, args.device, False, **kw)
            default = bench_torch(torch, params, grads, args.repeats, args.device, None, **kw)
            line += f"{plain:>22.2f}{ours / plain:>7.2f}{default:>16.2f}{ours / default:>7.2f}"
        print(line)


if __name__ == "__main__":
    main()
