"""Atomic file writes: the whole new file or the old one, never half of either.

``atomic_write(path, write)`` calls ``write(f)`` on a temporary file next to ``path``
(``.<name>.<random hex>.tmp``, same folder so the rename cannot cross file systems),
flushes it to disk, renames it over ``path`` and syncs the folder. Any error (a full disk,
an exception in ``write``, Ctrl-C) removes the temporary file and leaves ``path`` as it was;
an OSError is re-raised naming ``path`` (or its missing or unwritable folder), not the
temporary name. A process killed mid-write leaves its temporary file behind:
``remove_temp_files(folder)`` deletes those in a folder.

minigrad.save and minigrad.viz.draw write through it, and so does every file of a gan run.
"""

from __future__ import annotations

import errno
import os
import re
import uuid
from pathlib import Path


def _temp_name(path: str) -> str:
    directory, name = os.path.split(path)
    return os.path.join(directory, f".{name}.{uuid.uuid4().hex}.tmp")


_TEMP_NAME = re.compile(r"\..+\.[0-9a-f]{32}\.tmp")


def temp_files(folder) -> list[Path]:
    """Temporary files that interrupted atomic writes left in ``folder`` (a killed process leaves one)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if _TEMP_NAME.fullmatch(p.name) and p.is_file())


def remove_temp_files(folder) -> int:
    """Delete the temporary files of interrupted atomic writes in ``folder``; returns how many.

    Only safe while nothing else is writing there (gan takes the folder's run lock first).
    """
    removed = 0
    for tmp in temp_files(folder):
        try:
            tmp.unlink()
            removed += 1
        except FileNotFoundError:
            pass
    return removed


def _os_error(e: OSError, path: str, directory: str) -> OSError:
    """``e`` restated about ``path`` (not the temporary file), the same OSError subclass."""
    if e.errno == errno.ENOENT and not os.path.isdir(directory):
        msg = f"cannot write {path}: the folder {directory} does not exist"
    elif e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        msg = f"cannot write {path}: the folder {directory} is not writable ({e.strerror})"
    else:
        msg = f"cannot write {path}: {e.strerror or e}"
    return type(e)(e.errno, msg)


def atomic_write(path, write, *, text: bool = False) -> Path:
    """Write ``path`` atomically: ``write(f)`` fills an open temporary file (binary, or text with ``text``)."""
    path = os.fsdecode(os.fspath(path))
    directory = os.path.dirname(os.path.abspath(path))
    tmp = _temp_name(path)
    try:
        # mode 0o666 lets the umask decide permissions, as for a plain open()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as e:
        raise _os_error(e, path, directory) from None
    try:
        with os.fdopen(fd, "w" if text else "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(e, OSError) and e.errno is not None:
            raise _os_error(e, path, directory) from e
        raise
    _fsync_directory(directory)
    return Path(path)


def _fsync_directory(directory):
    """Make the rename itself durable (where the OS allows opening a directory)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
