"""Smoke test of the benchmark suite: `python -m benchmarks --quick` runs every case on tiny sizes.

No torch (no --compare): it checks that each case runs and reports numbers, not how fast.
"""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(args, tmp_path):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_quick_suite_runs_every_case(tmp_path):
    out = tmp_path / "bench.json"
    proc = _run(["-m", "benchmarks", "--quick", "--threads", "1", "--json", str(out)], tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads(out.read_text())
    head, rows = report["header"], report["results"]
    assert head["torch"] is None and head["threads"] == 1 and head["quick"]
    assert head["thread_env_before_numpy"], "python -m benchmarks must pin threads before NumPy loads"
    assert "torch comparison not requested" in proc.stdout
    assert "machine :" in proc.stdout and "threads : 1" in proc.stdout

    listed = _run(["benchmarks/run.py", "--list"], tmp_path)  # the script entry point too
    assert listed.returncode == 0, listed.stderr
    names = listed.stdout.split("\n")
    for name in filter(None, names):
        assert any(r["case"].startswith(name) or name.startswith(r["case"]) for r in rows), name

    assert not [r for r in rows if r["status"] == "error"], [r["note"] for r in rows if r["status"] == "error"]
    skipped = [r for r in rows if r["status"] == "skipped"]
    assert all("cuda" in r["note"] for r in skipped), [(r["case"], r["note"]) for r in skipped]
    for r in rows:
        if r["status"] == "ok":
            assert r["minigrad"] is not None and math.isfinite(r["minigrad"]), r
            assert r["torch"] is None and r["ratio"] is None, r
    by_case = {r["case"]: r for r in rows}
    sgemm = next(r for c, r in by_case.items() if c.startswith("sgemm"))
    assert sgemm["gflops"] > 0
    linear = next(r for c, r in by_case.items() if c.startswith("linear"))
    assert linear["extra"]["pct_of_sgemm"] > 0 and linear["passed"] in (True, False)
    growth = next(r for c, r in by_case.items() if "growth" in c)
    assert growth["unit"] == "MiB" and growth["passed"] in (True, False)
