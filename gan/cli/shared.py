"""What the commands of ``python -m gan`` share: the parser that reports usage errors in one line, argument
types, the checks every command makes (device, writable paths), the thread policy, and loading a generator."""

from __future__ import annotations

import argparse
import sys
import warnings

import numpy as np

import minigrad
from gan.config import ConfigError
from gan.run.checkpoint import CheckpointError
from gan.run.checkpoint import load_generator as checkpoint_generator

EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 1, 2, 130


class Parser(argparse.ArgumentParser):
    """Usage errors as one line, ``prog: error: message``, exit code 2."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def flag_spelling(field: str, *value) -> str:
    """A TrainConfig setting as the command line spells it: ``--batch-size``, or with a value ``--model mlp``
    (for ConfigError.message)."""
    flag = "--" + field.replace("_", "-")
    return f"{flag} {value[0]}" if value else flag


def spoken(e: Exception) -> str:
    """An error's message for the command line: the settings of a ConfigError or CheckpointError as flags."""
    return e.message(flag_spelling) if isinstance(e, (ConfigError, CheckpointError)) else str(e)


def int_at_least(low, what):
    """An argparse ``type``: an integer >= low, else a usage error saying ``expected <what>``."""

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < low:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return value

    return parse


positive_int = int_at_least(1, "a positive integer")
non_negative_int = int_at_least(0, "a non-negative integer")


def require_writable(p, flag, value, folder):
    """A usage error unless files can be written in ``folder`` (for ``flag value``)."""
    from gan.run.folder import unwritable_reason

    reason = unwritable_reason(folder)
    if reason:
        p.error(f"{flag} {value}: cannot write there: {reason}")


def require_device(p, device):
    """A usage error for --device cuda on a machine without CUDA."""
    if device == "cuda" and not minigrad.cuda.is_available():
        p.error("--device cuda requested but CUDA is not available (install CuPy: pip install 'minigrad[gpu]')")


def add_threads_argument(p, use="matrix products and optimizer updates"):
    p.add_argument(
        "--threads",
        type=positive_int,
        metavar="N",
        help=f"CPU threads for {use} (default: as many as the cores other processes leave idle, measured at "
        "start; at least 1, and never more than the CPUs this process may use)",
    )


def use_threads(requested, previous=None):
    """Set minigrad's CPU threads: --threads N, else the idle-core policy (and, when resuming, at most the
    run's own count, so that on a quiet machine the continuation is the same bit for bit); returns the count.

    N above the CPUs this process may use is capped there, with a note: more threads than CPUs only
    queue (--threads 100000 ran 30x slower, and 2**70 hung building one optimizer task per thread)."""
    from minigrad import threads

    n = requested
    cpus = len(threads.usable_cpus())
    if n is not None and n > cpus:
        print(f"note: --threads {n} is more than the {cpus} CPUs this process may use; using {cpus}", file=sys.stderr)
        n = cpus
    if n is None:
        n = threads.recommended_num_threads()
        if isinstance(previous, int) and previous >= 1:
            n = min(n, previous)
    with warnings.catch_warnings():  # an unknown BLAS: the optimizer threads are still set
        warnings.simplefilter("ignore", RuntimeWarning)
        threads.set_num_threads(n)
    return n


def parse_labels(text: str) -> list[int]:
    """An argparse ``type`` for --labels: "0-9", "3,5,7" or "0-2,8" -> the digits in that order."""
    out: list[int] = []
    try:
        for part in text.split(","):
            lo, _, hi = part.strip().partition("-")
            out.extend(range(int(lo), int(hi) + 1) if hi else [int(lo)])
    except ValueError:
        out = []
    if not out or any(not 0 <= d <= 9 for d in out):
        raise argparse.ArgumentTypeError(f"expected digits 0-9 as a list or ranges, e.g. 0-9 or 3,5,7; got {text!r}")
    return out


def add_label_arguments(p, what="images"):
    g = p.add_mutually_exclusive_group()
    g.add_argument("--label", type=parse_labels, metavar="D", help=f"a conditional run: draw {what} of digit D")
    g.add_argument(
        "--labels",
        type=parse_labels,
        metavar="LIST",
        help=f"a conditional run: draw {what} of these digits in turn, equally many of each (e.g. 0-9 or 3,5,7; "
        "default 0-9)",
    )


def requested_labels(p, args, G, n: int, per_block: bool = True):
    """The (n,) labels --label / --labels ask of a conditional G (default: 0-9), or None for an unconditional one
    (a usage error if labels were asked of it). per_block: each digit's images together (digit-major), else the
    digits in turn."""
    asked = args.label or args.labels
    if not getattr(G, "num_classes", 0):
        if asked:
            p.error(f"--label/--labels: {args.checkpoint} is not a conditional run (train it with --conditional)")
        return None
    digits = np.asarray(asked or list(range(10)), dtype=np.int64)
    if per_block:
        return np.repeat(digits, -(-n // len(digits)))[:n]
    return np.resize(digits, n)


def load_generator(p, checkpoint, device, raw=False):
    """gan.run.checkpoint.load_generator for ``--checkpoint``: a usage error if it cannot be read."""
    try:
        return checkpoint_generator(checkpoint, device, raw)
    except (CheckpointError, ConfigError) as e:
        p.error(f"--checkpoint {checkpoint}: {spoken(e)}")
