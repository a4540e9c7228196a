"""The mlp GAN step as a user who copies the README's loop runs it: no speed switch called.

The suite's own process calls ``keep_freed_memory()`` and ``set_num_threads`` up front, so this
case runs in a fresh interpreter (``python -m benchmarks.cases_defaults``) that calls neither:
minigrad decides its update threads and its malloc tuning at the first optimizer step, and torch
keeps its own defaults. The BLAS thread variables are set to the run's ``--threads`` before
either library loads, as on a machine with that many cores. Both frameworks are timed in that
one process, interleaved, like every other case.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from benchmarks.cases import Case, CaseSkipped, Result
from benchmarks.timing import pin_thread_env


def _worker(args) -> dict:
    import minigrad
    from benchmarks.cases import Context
    from benchmarks.cases_training import training_step

    torch = None
    if args.torch:
        try:
            import torch
        except ImportError:
            torch = None
    ctx = Context(quick=args.quick, repeat=args.repeat, threads=args.threads, torch=torch)
    minigrad.manual_seed(0)
    if torch is not None:
        torch.manual_seed(0)
    r = training_step(ctx, "mlp", args.batch)
    return {
        "minigrad": r.minigrad,
        "torch": r.torch,
        "note": r.note,
        "optim_threads": minigrad.optim.get_num_threads(),
        "keeps_freed_memory": minigrad.allocator._applied,
        "torch_threads": torch.get_num_threads() if torch is not None else None,
    }


def mlp_step_defaults(ctx, batch=64) -> Result:
    """``GAN step mlp`` in a fresh process that calls no speed switch."""
    if ctx.device != "cpu":
        raise CaseSkipped("the switches are CPU-only: run with --device cpu")
    cmd = [sys.executable, "-m", "benchmarks.cases_defaults", "--batch", str(batch), "--threads", str(ctx.threads)]
    cmd += ["--torch"] if ctx.torch is not None else []
    cmd += ["--quick"] if ctx.quick else []
    cmd += ["--repeat", str(ctx.repeat)] if ctx.repeat is not None else []
    root = Path(__file__).resolve().parent.parent
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")])))
    for var in ("MINIGRAD_NUM_THREADS", "MINIGRAD_KEEP_FREED_MEMORY"):
        env.pop(var, None)
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=root, env=env, timeout=900)
    if proc.returncode != 0:
        raise RuntimeError(f"defaults worker failed with exit code {proc.returncode}:\n{proc.stderr[-2000:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    r = Result("", minigrad=out["minigrad"], torch=out["torch"])
    r.extra.update(out)
    r.note = (
        f"{out['note']}; decided at the first step: {out['optim_threads']} update thread(s), "
        f"freed memory kept: {out['keeps_freed_memory']}"
    )
    return r.check_ratio(1.0)


CASES = [Case("GAN step mlp b64 (D+G), no switches", mlp_step_defaults, dict(batch=64))]


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description="defaults worker of the benchmark suite (see module docstring)")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeat", type=int)
    p.add_argument("--torch", action="store_true")
    p.add_argument("--quick", action="store_true")
    args = p.parse_args(argv)
    pin_thread_env(args.threads)  # before NumPy is imported
    print(json.dumps(_worker(args)))


if __name__ == "__main__":
    main()
