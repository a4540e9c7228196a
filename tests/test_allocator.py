"""minigrad.allocator: the malloc tuning is applied on glibc at import, and can be switched off."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
glibc_only = pytest.mark.skipif(not sys.platform.startswith("linux") or os.confstr("CS_GNU_LIBC_VERSION") is None,
                                reason="mallopt tuning applies to glibc on Linux only")


def _applied(env_value):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("MINIGRAD_KEEP_FREED_MEMORY", None)
    if env_value is not None:
        env["MINIGRAD_KEEP_FREED_MEMORY"] = env_value
    out = subprocess.run([sys.executable, "-c", "import minigrad; print(minigrad.allocator.keep_freed_memory())"],
                         env=env, capture_output=True, text=True, check=True).stdout
    return out.strip()


@glibc_only
def test_applied_at_import_and_switched_off_by_the_environment():
    assert _applied(None) == "True"
    assert _applied("0") == "False"
