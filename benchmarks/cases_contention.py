"""A shared CPU: `python -m gan train` beside processes that keep every core busy.

OpenBLAS workers busy-wait for each other at every matrix product, so when another process
holds a core, a pool as large as the machine stalls at each GEMM until the descheduled worker
runs again. The case runs the same short mlp run (``--limit steps*128``, one epoch, batch 128)
as a user would, in a fresh process:

- alone, with default settings (the idle-core thread policy of minigrad.threads);
- beside ``busy`` processes (``while True: pass``, one per core), with ``--threads <all cores>``
  (what a BLAS pool sized to the machine does: the behaviour before the policy);
- beside the same busy processes, with default settings (the policy).

The main number is the policy's wall time beside the busy processes; the note has the others.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.cases import Case, Result

ROOT = Path(__file__).resolve().parent.parent


def _train_run(steps, extra=()) -> tuple[float, int | None]:
    """Wall seconds of one `python -m gan train` run of ``steps`` mlp steps, and its recorded threads."""
    with tempfile.TemporaryDirectory(prefix="bench-contention-") as d:
        out = Path(d) / "run"
        argv = [
            sys.executable,
            "-m",
            "gan",
            "train",
            "--limit",
            str(steps * 128),
            "--epochs",
            "1",
            "--quiet",
            "--outdir",
            str(out),
            *extra,
        ]
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
        t0 = time.perf_counter()
        subprocess.run(argv, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wall = time.perf_counter() - t0
        return wall, json.loads((out / "config.json").read_text()).get("threads")


def shared_cpu(ctx, steps=60) -> Result:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    busy_n = cores
    if ctx.quick:
        steps, busy_n = 3, 1
    alone = None if ctx.quick else _train_run(steps)
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(busy_n)]
    try:
        time.sleep(0.5)  # let them take the cores before the policy looks
        fixed = None if ctx.quick else _train_run(steps, ("--threads", str(cores)))
        policy = _train_run(steps)
    finally:
        for p in busy:
            p.kill()
            p.wait()
    r = Result("", minigrad=policy[0], unit="s", target="(info)")
    r.extra.update(
        steps=steps, busy_processes=busy_n, cores=cores, policy_busy=policy, fixed_busy=fixed, policy_alone=alone
    )
    parts = [f"beside {busy_n} busy: policy ({policy[1]} threads) {policy[0]:.1f} s"]
    if fixed is not None:
        parts.append(f"--threads {cores} {fixed[0]:.1f} s")
    if alone is not None:
        parts.append(f"alone: policy ({alone[1]} threads) {alone[0]:.1f} s")
    r.note = "; ".join(parts)
    return r


CASES = [Case("gan train mlp 60 steps, cores shared", shared_cpu, dict(steps=60))]
