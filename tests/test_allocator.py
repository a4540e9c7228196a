"""minigrad.allocator: the malloc tuning is opt-in (import minigrad leaves malloc alone), and can be switched off."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
glibc_only = pytest.mark.skipif(
    not sys.platform.startswith("linux") or os.confstr("CS_GNU_LIBC_VERSION") is None,
    reason="mallopt tuning applies to glibc on Linux only",
)


def _run(code, env_value=None):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("MINIGRAD_KEEP_FREED_MEMORY", None)
    env.pop("MINIGRAD_NUM_THREADS", None)
    if env_value is not None:
        env["MINIGRAD_KEEP_FREED_MEMORY"] = env_value
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()


@glibc_only
def test_applied_when_called_and_switched_off_by_the_environment():
    assert _run("import minigrad; print(minigrad.allocator.keep_freed_memory())") == "True"
    assert _run("import minigrad; print(minigrad.allocator.keep_freed_memory())", "0") == "False"


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts threads through /proc")
def test_import_minigrad_changes_nothing_outside_the_library():
    # no malloc tuning, no thread started, no optimizer pool: numpy's own threads are counted before
    code = (
        "import os, numpy, threading; before = len(os.listdir('/proc/self/task')); "
        "import minigrad, minigrad.optim; "
        "print(minigrad.allocator._applied, len(os.listdir('/proc/self/task')) - before, "
        "threading.active_count(), minigrad.optim.streaming._num_threads)"
    )
    assert _run(code) == "None 0 1 None"


@glibc_only
def test_the_first_optimizer_step_keeps_freed_memory_unless_switched_off():
    code = (
        "import minigrad; p = minigrad.nn.Parameter(minigrad.zeros(3)); opt = minigrad.optim.SGD([p], lr=0.1)\n"
        "before = minigrad.allocator._applied; p.grad = minigrad.ones(3); opt.step()\n"
        "print(before, minigrad.allocator._applied)"
    )
    assert _run(code) == "None True"
    assert _run(code, "0") == "None False"


@glibc_only
def test_the_gan_cli_opts_in():
    code = (
        "import contextlib, io, minigrad, minigrad.optim; from gan import cli\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try: cli.main(['evaluate', '--help'])\n"
        "    except SystemExit: pass\n"
        "print(minigrad.allocator._applied)"
    )
    assert _run(code) == "True"
