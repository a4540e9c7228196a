"""A run's folder: a new one's default name, whether files can be written in a folder, and whether the run's
own files can be rewritten there (asked before a run loads its data, so a bad --outdir or a damaged run folder
fails at once)."""

from __future__ import annotations

import errno
import itertools
import os
import time
import uuid
from pathlib import Path

# the files a run rewrites whole (its checkpoint, log, settings and figures)
RUN_FILES = ("checkpoint.npz", "config.json", "metrics.jsonl", "losses.png", "scores.png", "progress.gif")


def unwritable_reason(folder) -> str | None:
    """Why files cannot be written in ``folder`` (created with its parents as needed), or None when they can.

    Tried, not guessed from permission bits: a probe file is created and removed in the nearest folder
    that exists (root ignores permission bits; read-only mounts and full quotas show only when tried).
    """
    folder = Path(folder).absolute()
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is a file, not a folder"
    probe = existing / f".write-probe-{uuid.uuid4().hex}"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as e:
        if e.errno == errno.EROFS:
            return f"{existing} is on a read-only file system"
        if e.errno in (errno.EACCES, errno.EPERM):
            return f"no permission to write in {existing}"
        return f"cannot write in {existing} ({e.strerror or e})"
    os.close(fd)
    os.unlink(probe)
    return None


def default_outdir(model: str, root: str = "runs") -> str:
    """A new folder root/<model>-<YYYYmmdd-HHMMSS>, created here: mkdir is atomic, so two runs started in
    the same second get two folders (the second one's name ends in -2)."""
    base = os.path.join(root, f"{model}-{time.strftime('%Y%m%d-%H%M%S')}")
    os.makedirs(root, exist_ok=True)
    for i in itertools.count(1):
        path = base if i == 1 else f"{base}-{i}"
        try:
            os.mkdir(path)
            return path
        except FileExistsError:
            continue
    raise AssertionError("unreachable: itertools.count never ends")


def blocked_run_file(folder) -> str | None:
    """Why one of a run's files in ``folder`` cannot be rewritten: it exists as a folder (or another non-file,
    which the atomic rename cannot replace), or None."""
    for name in RUN_FILES:
        path = Path(folder) / name
        if (path.exists() or path.is_symlink()) and not path.is_file():
            return f"{path} is {'a folder' if path.is_dir() else 'not a regular file'}, not a file; move it away"
    return None
