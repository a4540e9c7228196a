"""One run per output folder: an advisory lock that the operating system drops when its process dies.

``RunLock(folder).acquire()`` creates the folder if needed and takes an exclusive ``flock`` on
``folder/.run.lock`` (holding the pid, for the message). A second process asking for the same folder
gets RunLocked naming the holder; a run killed with SIGKILL leaves the file but not the lock, so the
next run goes ahead. ``release()`` (or leaving the ``with`` block) drops it, and removes the folder
again when the lock file is all it holds (a run that failed before writing anything leaves nothing).
Where ``fcntl`` is missing (Windows) the lock is a no-op.
"""

from __future__ import annotations

import os
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

FILENAME = ".run.lock"


class RunLocked(RuntimeError):
    """Another live process holds the folder."""


class RunLock:
    def __init__(self, folder):
        self.folder = Path(folder)
        self.path = self.folder / FILENAME
        self.fd = None

    def acquire(self) -> RunLock:
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
                os.close(fd)
                raise RunLocked(
                    f"{self.folder} is in use by another run (pid {holder}); wait for it to finish "
                    f"or choose another folder"
                ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self.fd = fd
        return self

    def release(self) -> None:
        if self.fd is None:
            return
        try:
            if {p.name for p in self.folder.iterdir()} == {FILENAME}:
                self.path.unlink()
                self.folder.rmdir()
        except OSError:
            pass
        os.close(self.fd)  # closing the file drops the flock
        self.fd = None

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()
        return False
