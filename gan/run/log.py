"""A run's log files: config.json (every setting) and metrics.jsonl (one JSON record a line, kind "step" or
"epoch"), written atomically or appended a line at a time, read back with damaged lines skipped."""

from __future__ import annotations

import json
from pathlib import Path

from minigrad.atomic_write import atomic_write

CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.jsonl"


def write_json(path: Path, obj) -> None:
    """Atomic JSON write (minigrad.atomic_write)."""
    atomic_write(path, lambda f: f.write(json.dumps(obj, indent=2, sort_keys=True) + "\n"), text=True)


def append_record(path: Path, record: dict) -> None:
    """One record as one line at the end of metrics.jsonl."""
    with open(path, "a") as f:
        f.write(json.dumps(record) + "\n")


def read_metrics(path, warn=None) -> list[dict]:
    """The records of a metrics.jsonl file. A damaged line (cut short by a crash, not JSON, not a record) is
    skipped, and ``warn(message)`` told, when given; the records before and after it are kept. A value that
    is not what a run writes there (a number, or a {name: number} dict, but for the few text and flag
    fields) is dropped from its record the same way, and the rest of the record kept."""
    path = Path(path)
    if not path.is_file():
        return []
    records = []
    for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            reason = None if _is_record(record) else "not a metrics record"
        except ValueError as e:
            reason = f"not JSON ({e.msg if isinstance(e, json.JSONDecodeError) else e})"
        if reason is None:
            for where, value in _drop_bad_values(record):
                if warn is not None:
                    warn(f"{path} line {n}: {where} is {value!r}, not a number; that value is skipped")
            records.append(record)
        elif warn is not None:
            warn(f"{path} line {n} is damaged ({reason}); skipped")
    return records


def truncate_metrics(path, epoch: int, step: int, warn=None) -> None:
    """Rewrite metrics.jsonl (atomically) without the records written after a checkpoint at (epoch, step):
    a resumed run redoes them. Damaged lines are dropped, with ``warn`` told."""
    kept = [
        r
        for r in read_metrics(path, warn=warn)
        if (r["kind"] == "step" and r["step"] <= step) or (r["kind"] == "epoch" and r["epoch"] <= epoch)
    ]
    atomic_write(path, lambda f: f.write("".join(json.dumps(r) + "\n" for r in kept)), text=True)


# the fields a record holds that are not numbers (the evaluator's note on the Parzen sigma images)
_NOT_NUMBERS = {"kind": str, "parzen_valid_images": str, "parzen_valid_held_out": bool}


def _is_number(value) -> bool:
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))


def _drop_bad_values(record) -> list[tuple[str, object]]:
    """Remove from ``record`` each value that is not a number where a run writes one (a {name: number} dict's
    bad entries one by one); returns (where, value) of each."""
    dropped: list[tuple[str, object]] = []
    for key, value in list(record.items()):
        if key in _NOT_NUMBERS:
            if not isinstance(value, _NOT_NUMBERS[key]):
                dropped.append((key, record.pop(key)))
        elif isinstance(value, dict):
            for name, v in list(value.items()):
                if not _is_number(v):
                    dropped.append((f"{key}[{name!r}]", value.pop(name)))
        elif not _is_number(value):
            dropped.append((key, record.pop(key)))
    return dropped


def _is_record(r) -> bool:
    return (
        isinstance(r, dict)
        and r.get("kind") in ("step", "epoch")
        and all(isinstance(r.get(key), int) and not isinstance(r.get(key), bool) for key in ("epoch", "step"))
    )
