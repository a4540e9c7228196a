"""Stopping a training run cleanly on Ctrl-C (SIGINT) or SIGTERM: after the current step, with a checkpoint."""

from __future__ import annotations

import signal
import sys
import threading


class StopSignals:
    """While active (main thread only), the first Ctrl-C (or SIGTERM, as sent by `timeout` and job
    schedulers) sets ``.requested`` and training stops after the current step, with a checkpoint; a second
    one raises KeyboardInterrupt at once."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self):
        self.requested = False
        self.previous = {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self.previous = {sig: signal.signal(sig, self._handler) for sig in self.SIGNALS}
        return self

    def _handler(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        print(
            "stopping after the current step (a checkpoint will be written; interrupt again to abort)",
            file=sys.stderr,
            flush=True,
        )

    def __exit__(self, *exc):
        for sig, previous in self.previous.items():
            signal.signal(sig, previous)
        return False
