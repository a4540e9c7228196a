"""Memory cases: peak resident memory of a 2-epoch mlp GAN run, and its growth per epoch.

Each framework runs in a fresh subprocess (``python -m benchmarks.memory
--framework minigrad|torch ...``) so that nothing else in the suite counts:
it loads the first N MNIST images, trains the mlp GAN for 2 epochs with the
benchmark's ``gan_step``, and prints JSON with VmRSS (resident now) and
VmHWM (peak resident) from /proc/self/status after each epoch. The peak is
reset (/proc/self/clear_refs) once the data is loaded, so it is the peak of
training, not of decompressing MNIST. Growth = peak after epoch 2 - peak
after epoch 1: a loop that frees its graphs reaches its peak in epoch 1 and
never passes it. A second case runs the real ``gan train`` loop (minigrad
only) for 7 epochs and reports the slope of its peak over epochs 3-7.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
from pathlib import Path

from benchmarks.cases import Case, CaseSkipped, Result
from benchmarks.timing import pin_thread_env

GROWTH_TOLERANCE_MIB = 1.0  # page-granular allocator noise; a leaked graph is far bigger


def _status_mib(field: str) -> float:
    """A 'VmXXX: N kB' line of /proc/self/status, in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def _reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); False where not allowed."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _worker(args) -> dict:
    """Train the mlp GAN for ``args.epochs`` epochs on ``args.images`` images; memory after each."""
    import numpy as np

    import minigrad
    import minigrad.optim

    minigrad.allocator.keep_freed_memory()  # as python -m gan does
    from benchmarks.cases import Context
    from benchmarks.cases_training import LATENT_DIM, Framework, build_pair, gan_step
    from gan.batches import BatchIterator
    from gan.data import load_mnist
    from gan.pixels import uint8_to_signed_unit

    torch = None
    if args.framework == "torch":
        import torch

        torch.set_num_threads(args.threads)
    minigrad.optim.set_num_threads(args.threads)
    minigrad.manual_seed(0)
    images = uint8_to_signed_unit(np.array(load_mnist("train")[0][: args.images])).reshape(args.images, 1, 28, 28)
    mg, th = build_pair(Context(torch=torch), "mlp")
    if torch is None:
        fw, models, as_batch = Framework.of_minigrad("cpu"), mg, minigrad.tensor
    else:
        fw, models, as_batch = Framework.of_torch(torch, "cpu"), th, torch.from_numpy
        torch.manual_seed(0)
    del mg, th
    batches = BatchIterator(images, args.batch, seed=0)
    gc.collect()
    out = {
        "framework": args.framework,
        "peak_reset": _reset_peak(),
        "rss_before_mib": _status_mib("VmRSS"),
        "rss_mib": [],
        "peak_mib": [],
    }
    for epoch in range(args.epochs):
        for xb in batches.epoch(epoch):
            gan_step(fw, *models, as_batch(xb), LATENT_DIM)
        out["rss_mib"].append(_status_mib("VmRSS"))
        out["peak_mib"].append(_status_mib("VmHWM"))
    return out


def _trainer_worker(args) -> dict:
    """The real loop: gan.training.trainer.train on the mlp, memory read after each epoch's loop.

    The reading is taken by the Trainer's public ``evaluator`` hook (called after the
    epoch's steps, before its sample grid, plots and checkpoint are written).
    """
    import tempfile

    import minigrad.optim
    from gan.config import TrainConfig
    from gan.training.trainer import train

    minigrad.optim.set_num_threads(args.threads)
    minigrad.allocator.keep_freed_memory()  # as python -m gan does
    out = {"framework": "gan-train", "rss_mib": [], "peak_mib": []}

    def evaluator(G, epoch):
        if epoch == 1:  # the first pass: data loaded, models built; start the peak afresh
            out["peak_reset"] = _reset_peak()
            out["rss_before_mib"] = _status_mib("VmRSS")
        out["rss_mib"].append(_status_mib("VmRSS"))
        out["peak_mib"].append(_status_mib("VmHWM"))
        return {}

    with tempfile.TemporaryDirectory(prefix="bench-memory-") as outdir:
        cfg = TrainConfig(
            model="mlp",
            epochs=args.epochs,
            batch_size=args.batch,
            limit=args.images,
            outdir=outdir,
            quiet=True,
            eval_every=1,
        )
        train(cfg, evaluator=evaluator)
    return out


def run_worker(framework: str, images: int, epochs: int, batch: int, threads: int) -> dict:
    """Run the worker in a fresh interpreter; its JSON result."""
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.memory",
        "--framework",
        framework,
        "--images",
        str(images),
        "--epochs",
        str(epochs),
        "--batch",
        str(batch),
        "--threads",
        str(threads),
    ]
    root = Path(__file__).resolve().parent.parent
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")])))
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=root, env=env, timeout=900)
    if proc.returncode != 0:
        raise RuntimeError(
            f"memory worker ({framework}) failed with exit code {proc.returncode}:\n{proc.stderr[-2000:]}"
        )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def peak_memory(ctx, images=12800, epochs=2, batch=64) -> list[Result]:
    """Peak RSS of a 2-epoch mlp run (ratio to torch) and its growth from epoch 1 to 2."""
    if ctx.device != "cpu":
        raise CaseSkipped("host-memory case: run with --device cpu")
    if not Path("/proc/self/status").exists():
        raise CaseSkipped("needs /proc/self/status (Linux)")
    if ctx.quick:
        images, batch = 256, 64
    mg = run_worker("minigrad", images, epochs, batch, ctx.threads)
    th = run_worker("torch", images, epochs, batch, ctx.threads) if ctx.torch is not None else None
    peak = Result("", minigrad=mg["peak_mib"][-1], torch=th["peak_mib"][-1] if th else None, unit="MiB")
    peak.extra.update(minigrad=mg, torch=th)
    peak.note = f"whole process; RSS before training (imports, data, models): {mg['rss_before_mib']:.0f} MiB" + (
        f" (torch {th['rss_before_mib']:.0f})" if th else ""
    )
    peak.check_ratio(1.0)
    # what training itself adds: torch's larger libraries would otherwise flatter minigrad
    train = Result(
        "",
        minigrad=mg["peak_mib"][-1] - mg["rss_before_mib"],
        torch=(th["peak_mib"][-1] - th["rss_before_mib"]) if th else None,
        unit="MiB",
    )
    train.target, train.note = "(info)", "peak - RSS before training"
    growth = Result(
        "",
        minigrad=mg["peak_mib"][-1] - mg["peak_mib"][0],
        torch=(th["peak_mib"][-1] - th["peak_mib"][0]) if th else None,
        unit="MiB",
    )
    growth.extra.update(minigrad_rss=mg["rss_mib"], torch_rss=th["rss_mib"] if th else None)
    growth.target = f"<= {GROWTH_TOLERANCE_MIB:g} MiB"
    growth.passed = growth.minigrad <= GROWTH_TOLERANCE_MIB
    rss_growth = mg["rss_mib"][-1] - mg["rss_mib"][0]
    growth.note = f"peak(epoch 2) - peak(epoch 1); RSS at epoch ends grew {rss_growth:+.1f} MiB"
    peak.extra.update(images=images, batch=batch, epochs=epochs)  # row name: the Case's
    train.case = "  training's share of the peak"
    growth.case = "  peak growth epoch 1 -> 2"
    return [peak, train, growth]


def growth_slope(values: list[float]) -> float:
    """Least-squares slope of ``values`` against their index (MiB per epoch)."""
    n = len(values)
    mean_x, mean_y = (n - 1) / 2, sum(values) / n
    sxx = sum((i - mean_x) ** 2 for i in range(n))
    return sum((i - mean_x) * (v - mean_y) for i, v in enumerate(values)) / sxx


def train_loop_growth(ctx, images=12800, epochs=7, batch=64, warmup=2) -> Result:
    """Peak-RSS growth of the real ``gan train`` loop (minigrad): the slope over epochs 3..N.

    Measured after each epoch's steps; epoch 1 starts the peak afresh, and the first two epochs
    pay first-time costs (importing matplotlib for the figures written after them, the allocator
    reaching its working set: the peak rose 130 -> 167 -> 172 MiB, then stayed flat), so they are
    left out (``warmup``). A single epoch-to-epoch difference of the peak moved by a few MiB from
    run to run (issue 28 saw 3.66 MiB once, where epoch 3 still paid first-time costs); the
    least-squares slope over the five epochs after the warm-up does not, and a leak (a graph
    kept per step) shows as tens of MiB per epoch. Includes the loop's figures and checkpoints.
    """
    if ctx.device != "cpu":
        raise CaseSkipped("host-memory case: run with --device cpu")
    if ctx.quick:
        images, epochs, warmup = 256, 3, 1
    run = run_worker("gan-train", images, epochs, batch, ctx.threads)
    peaks = run["peak_mib"][warmup:]
    r = Result("", minigrad=growth_slope(peaks), unit="MiB")
    r.extra.update(run=run, images=images, batch=batch, epochs=epochs)
    r.target = f"<= {GROWTH_TOLERANCE_MIB:g} MiB/epoch"
    r.passed = r.minigrad <= GROWTH_TOLERANCE_MIB
    rss = run["rss_mib"]
    r.note = (
        f"least-squares slope of the peak over epochs {warmup + 1}-{epochs}, MiB per epoch; peaks "
        f"{', '.join(f'{v:.1f}' for v in run['peak_mib'])} MiB; RSS after each epoch's steps: "
        f"{', '.join(f'{v:.0f}' for v in rss)} MiB"
    )
    return r


CASES = [
    Case("peak RSS mlp 2 epochs x 12800 images", peak_memory),
    Case("gan train mlp peak growth per epoch (slope, epochs 3-7)", train_loop_growth),
]


def main(argv=None):
    p = argparse.ArgumentParser(description="memory worker of the benchmark suite (see module docstring)")
    p.add_argument(
        "--framework",
        choices=("minigrad", "torch", "gan-train"),
        required=True,
        help="the benchmark loop in minigrad or torch, or the real gan.training.trainer loop (minigrad)",
    )
    p.add_argument("--images", type=int, default=12800)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)
    pin_thread_env(args.threads)  # before NumPy is imported
    print(json.dumps(_trainer_worker(args) if args.framework == "gan-train" else _worker(args)))


if __name__ == "__main__":
    main()
