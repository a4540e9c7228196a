"""The benchmark runner: ``python -m benchmarks`` or ``python benchmarks/run.py``.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m benchmarks --compare torch --json bench.json

Thread pinning: OPENBLAS/OMP/MKL_NUM_THREADS are set from --threads before
NumPy (or torch) is imported, threadpoolctl limits every BLAS/OpenMP pool it
finds, and torch.set_num_threads(N) is called, so both frameworks get the
same number of cores. Every time is a median of interleaved samples taken
after warm-up; ratios are minigrad / torch from the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import time
import traceback
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.timing import OPENBLAS_TUNING_VARS, THREAD_VARS, ThreadLimits, pin_thread_env  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--threads", type=int, default=2, help="BLAS/OpenMP threads for both frameworks (default 2)")
    p.add_argument("--json", metavar="FILE", help="write the header and every number to FILE")
    p.add_argument("--compare", choices=("torch",), help="fill the torch column (skipped if torch is missing)")
    p.add_argument(
        "--cases",
        metavar="PATTERN",
        action="append",
        default=[],
        help="run only cases whose name contains PATTERN (or matches it as a glob); repeatable, or comma separated",
    )
    p.add_argument("--repeat", type=int, help="samples per case (default: per case, within a time budget)")
    p.add_argument("--quick", action="store_true", help="tiny sizes and 2 samples (the smoke test)")
    p.add_argument("--list", action="store_true", help="list the cases and exit")
    args = p.parse_args(argv)
    args.cases = [c.strip() for pat in args.cases for c in pat.split(",") if c.strip()]
    if args.threads < 1:
        p.error("--threads must be >= 1")
    return args


# --- header -------------------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _cpu_flags() -> set[str]:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("flags", "Features")):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def _isa() -> str:
    """The widest x86 vector ISA the CPU reports (AVX-512 / AVX2 / AVX / SSE), or the machine name."""
    flags = _cpu_flags()
    for flag, name in (("avx512f", "AVX-512"), ("avx2", "AVX2"), ("avx", "AVX"), ("sse4_2", "SSE4.2")):
        if flag in flags:
            extra = sorted(f for f in flags if f.startswith(("avx512_bf16", "avx512_vnni", "amx")))
            return name + (f" ({', '.join(extra)})" if name == "AVX-512" and extra else "")
    return platform.machine()


def _physical_cores() -> int | None:
    """Distinct (package, core) pairs in /proc/cpuinfo: cores without SMT siblings."""
    try:
        pairs, package = set(), None
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("physical id"):
                package = line.split(":", 1)[1].strip()
            elif line.startswith("core id"):
                pairs.add((package, line.split(":", 1)[1].strip()))
        return len(pairs) or None
    except OSError:
        return None


def _openblas_core() -> str | None:
    """The kernel the loaded OpenBLAS picked at run time (openblas_get_corename), where there is one."""
    import ctypes

    try:
        with open("/proc/self/maps") as f:
            paths = sorted({line.split()[-1] for line in f if "openblas" in line.lower() and "/" in line})
    except OSError:
        return None
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in ("openblas_get_corename", "scipy_openblas_get_corename64_", "openblas_get_corename64_"):
            fn = getattr(lib, name, None)
            if fn is not None:
                fn.restype = ctypes.c_char_p
                return fn().decode()
    return None


def _mem_total_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return None


def _numpy_blas() -> str:
    import numpy as np

    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas.get('name')} {blas.get('version')}"
    except Exception:  # older NumPy: no dict mode
        return "unknown"


def _torch_blas(torch) -> str | None:
    """torch's BLAS, CPU kernel level and intra-op threads (torch links MKL statically: threadpoolctl can't see it)."""
    if torch is None:
        return None
    blas = re.search(r"BLAS_INFO=(\w+)", torch.__config__.show())
    cap = torch.backends.cpu.get_cpu_capability() if hasattr(torch.backends, "cpu") else "?"
    return f"BLAS_INFO={blas.group(1) if blas else '?'}, CPU capability {cap}, {torch.get_num_threads()} threads"


def header(args, torch, env_pinned: bool, limits: ThreadLimits) -> dict:
    import numpy as np

    import minigrad

    cupy = minigrad.backend.cupy_module()
    h = {
        "cpu": _cpu_model(),
        "isa": _isa(),
        "physical_cores": _physical_cores(),
        "logical_cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "mem_total_gib": _mem_total_gib(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "minigrad": minigrad.__version__,
        "torch": getattr(torch, "__version__", None),
        "cupy": getattr(cupy, "__version__", None),
        "numpy_blas": _numpy_blas(),
        "numpy_blas_kernel": _openblas_core(),
        "threadpools": ThreadLimits.pools(),
        "torch_blas": _torch_blas(torch),
        "env": {v: os.environ.get(v) for v in OPENBLAS_TUNING_VARS + THREAD_VARS},
        "threads": args.threads,
        "thread_env_before_numpy": env_pinned,
        "threadpoolctl": limits.threadpoolctl,
        "device": args.device,
        "quick": args.quick,
        "repeat": args.repeat,
        "time": time.strftime("%Y-%m-%d %H:%M:%S"),
        "load_average_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
    }
    if args.device == "cuda":
        props = cupy.cuda.runtime.getDeviceProperties(0)
        h["gpu"] = props["name"].decode() if isinstance(props["name"], bytes) else str(props["name"])
    h["summary"] = machine_summary(h)
    return h


def machine_summary(h: dict) -> str:
    """One line naming the machine, printed above every table and saved with it."""
    torch = f"; torch {h['torch']}: {h['torch_blas']}" if h["torch_blas"] else ""
    gpu = f"; GPU {h['gpu']}" if h.get("gpu") else ""
    return (
        f"{h['cpu']}, {h['isa']}, {h['physical_cores'] or '?'} cores / {h['logical_cores']} logical "
        f"({h['usable_cores']} usable); numpy {h['numpy']}: {h['numpy_blas']}, kernel {h['numpy_blas_kernel'] or '?'}"
        f"{torch}{gpu}; {h['threads']} threads; {h['time']}{_load_note(h)}"
    )


def _load_note(h: dict) -> str:
    """The 1-minute load average when the run started, flagged when other work kept the cores busy."""
    load, cores = h.get("load_average_1min"), h.get("usable_cores") or h.get("logical_cores")
    if load is None:
        return ""
    busy = cores is not None and load > 0.5 * cores
    return f"; load average {load:.1f}" + (" (UNDER LOAD: other processes were running)" if busy else " (quiet)")


def format_header(h: dict) -> str:
    mem = f", {h['mem_total_gib']:.0f} GiB" if h["mem_total_gib"] else ""
    lines = [
        f"machine : {h['cpu']}, {h['isa']}, {h['physical_cores'] or '?'} cores, {h['logical_cores']} logical "
        f"({h['usable_cores']} usable){mem}" + (f"; GPU {h['gpu']}" if h.get("gpu") else ""),
        f"versions: python {h['python']}, numpy {h['numpy']}, minigrad {h['minigrad']}, "
        f"torch {h['torch'] or '-'}, cupy {h['cupy'] or '-'}",
        f"blas    : numpy built with {h['numpy_blas']}, run-time kernel {h['numpy_blas_kernel'] or '?'}",
    ]
    for pool in h["threadpools"]:
        lines.append(
            "          {library}: {internal_api} {version}, kernel {kernel}, {num_threads} threads".format(
                library=pool.get("library"),
                internal_api=pool.get("internal_api"),
                version=pool.get("version"),
                kernel=pool.get("architecture") or pool.get("threading_layer") or "-",
                num_threads=pool.get("num_threads"),
            )
        )
    if h["torch_blas"]:
        lines.append(f"          torch: {h['torch_blas']}")
    tuning = ", ".join(f"{k}={h['env'][k] if h['env'][k] is not None else '(unset)'}" for k in OPENBLAS_TUNING_VARS)
    lines.append(f"env     : {tuning}")
    if any(h["env"][k] is not None for k in OPENBLAS_TUNING_VARS):
        lines.append(
            "          note: these pick an older OpenBLAS kernel; for fair numbers run "
            "`env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m benchmarks ...`"
        )
    how = "env set before numpy import" if h["thread_env_before_numpy"] else "numpy was imported first: env too late"
    how += ", threadpoolctl limits" if h["threadpoolctl"] else ", no threadpoolctl"
    how += ", torch.set_num_threads" if h["torch"] else ""
    lines.append(f"threads : {h['threads']} ({how})")
    quick = "   [QUICK: tiny sizes, names show the full sizes]" if h["quick"] else ""
    lines.append(f"device  : {h['device']}" + quick)
    return "\n".join(lines)


# --- table --------------------------------------------------------------------------------------


def _num(v, digits=2) -> str:
    if v is None:
        return "-"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 100:
        return f"{v:.1f}"
    return f"{v:.{digits}f}"


def _verdict(r) -> str:
    if r.status != "ok":
        return r.status.upper()
    return {True: "PASS", False: "FAIL", None: "n/a" if r.target and "info" not in r.target else ""}[r.passed]


def format_table(results) -> str:
    cols = ["case", "minigrad", "torch", "unit", "ratio", "GF/s mg", "GF/s torch", "target", "result", "note"]
    rows = []
    for r in results:
        rows.append(
            [
                r.case,
                _num(r.minigrad),
                _num(r.torch),
                r.unit if r.status == "ok" else "",
                _num(r.ratio) if r.ratio is not None else "-",
                _num(r.gflops, 1),
                _num(r.torch_gflops, 1),
                r.target,
                _verdict(r),
                r.note,
            ]
        )
    widths = [max(len(str(row[i])) for row in rows + [cols]) for i in range(len(cols) - 1)]
    right = {1, 2, 4, 5, 6}

    def line(row):
        cells = [str(c).rjust(w) if i in right else str(c).ljust(w) for i, (c, w) in enumerate(zip(row, widths))]
        return "  ".join(cells + [str(row[-1])]).rstrip()

    sep = "  ".join("-" * w for w in widths)
    return "\n".join([line(cols), sep] + [line(row) for row in rows])


# --- running ------------------------------------------------------------------------------------


def _import_torch(args):
    """(torch module or None, note for the table)."""
    if args.compare != "torch":
        return None, "torch comparison not requested (--compare torch)"
    try:
        import torch
    except Exception as e:  # ImportError, or a broken install
        return None, f"torch comparison skipped: cannot import torch ({type(e).__name__}: {e})"
    if args.device == "cuda" and not torch.cuda.is_available():
        return None, "torch comparison skipped: torch has no CUDA"
    return torch, ""


def run_case(case, ctx):
    """The case's results (a list); a skip or an error becomes a row, never a crash."""
    from benchmarks.cases import CaseSkipped, Result

    t0 = time.perf_counter()
    try:
        out = case.fn(ctx, **case.params)
        results = out if isinstance(out, list) else [out]
    except CaseSkipped as e:
        results = [Result(case.name, status="skipped", note=str(e))]
    except Exception as e:
        tb = traceback.format_exc()
        results = [Result(case.name, status="error", note=f"{type(e).__name__}: {e}", extra={"traceback": tb})]
        print(tb, file=sys.stderr)
    for r in results:
        r.case = r.case or case.name
        r.extra["wall_s"] = time.perf_counter() - t0
    return results


def main(argv=None) -> int:
    args = parse_args(argv)
    env_pinned = pin_thread_env(args.threads)  # before NumPy loads, when it has not yet

    from benchmarks.cases import Context
    from benchmarks.registry import all_cases

    cases = [c for c in all_cases() if c.matches(args.cases)]
    if args.list:
        print("\n".join(c.name for c in cases))
        return 0
    if not cases:
        print(f"no case matches {args.cases}", file=sys.stderr)
        return 2

    import minigrad
    import minigrad.optim

    if args.device == "cuda" and not minigrad.cuda.is_available():
        print("--device cuda: CUDA is not available (CuPy missing or no GPU)", file=sys.stderr)
        return 2
    torch, torch_note = _import_torch(args)
    limits = ThreadLimits(args.threads)
    limits.apply(torch)
    minigrad.optim.set_num_threads(args.threads)
    minigrad.allocator.keep_freed_memory()  # opt-in speed switch, as python -m gan makes it

    head = header(args, torch, env_pinned, limits)
    print(format_header(head))
    if torch_note:
        print(torch_note)
    print(flush=True)

    ctx = Context(
        device=args.device,
        quick=args.quick,
        repeat=args.repeat,
        threads=args.threads,
        torch=torch,
        torch_note="no torch" if torch is None else "",
    )
    results = []
    for case in cases:
        print(f"  running {case.name} ...", file=sys.stderr, flush=True)
        minigrad.manual_seed(0)
        if torch is not None:
            torch.manual_seed(0)
        results.extend(run_case(case, ctx))

    print(head["summary"])
    print(format_table(results))
    misses = [r.case for r in results if r.passed is False]
    errors = [r.case for r in results if r.status == "error"]
    print(
        f"\n{len(results)} rows: {sum(r.passed is True for r in results)} pass, {len(misses)} miss their "
        f"target, {len(errors)} errors" + ("" if torch else " (ratios need --compare torch)")
    )
    if args.json:
        payload = {"header": head, "torch_note": torch_note, "results": [r.as_dict() for r in results]}
        Path(args.json).write_text(json.dumps(payload, indent=1, default=str))
        print(f"wrote {args.json}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
