"""``python -m gan plot``: redraw a run's loss and score curves from its metrics.jsonl, or draw several runs'
score curves on one figure."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from gan.cli.shared import add_threads_argument, positive_int, require_writable, use_threads

SUMMARY = (
    "redraw a run's loss and score curves from its metrics.jsonl (e.g. from a later epoch on), or draw several "
    "runs' score curves on one figure"
)


def add_arguments(p):
    p.add_argument(
        "runs",
        nargs="+",
        metavar="RUN",
        help="a run directory (its metrics.jsonl and config.json); with several, their score curves go on one "
        "figure (--scores) and no losses are drawn",
    )
    p.add_argument(
        "--label",
        action="append",
        metavar="NAME",
        help="a run's name in the legend, once per RUN in their order (default: the folders' names)",
    )
    p.add_argument(
        "--from-epoch",
        type=positive_int,
        default=1,
        metavar="N",
        help="draw epochs N on (the first epochs' low scores flatten a long run's curve; default 1)",
    )
    p.add_argument(
        "--scores",
        metavar="FILE.png",
        help="where to draw the score curves (default RUN/scores.png; needed with several RUNs)",
    )
    p.add_argument("--losses", metavar="FILE.png", help="where to draw the loss curves (default RUN/losses.png)")
    p.add_argument(
        "--real",
        action="store_true",
        help="add real MNIST's scores as lines (computed as `evaluate --reference` does, in about 15 s)",
    )
    add_threads_argument(p, use="the --real scores (drawing alone uses one)")


def _read_run(p, arg, warn):
    """(config, records) of the run folder ``arg``; usage errors for a folder that is not a run."""
    from gan.run.log import CONFIG_FILE, METRICS_FILE, read_metrics

    run = Path(arg)
    if (run / METRICS_FILE).is_dir():
        p.error(f"RUN {arg}: {run / METRICS_FILE} is a folder, not a file")
    if not (run / METRICS_FILE).is_file():
        p.error(f"RUN {arg}: no {METRICS_FILE} there (not a run directory?)")
    try:
        config = json.loads((run / CONFIG_FILE).read_text())
        problem = None if isinstance(config, dict) else "not a JSON object"
    except (OSError, ValueError) as e:
        problem = getattr(e, "strerror", None) or str(e)
    if problem:  # titles say "?", and D's outputs are plotted as probabilities
        warn(f"{run / CONFIG_FILE}: cannot read the run's settings ({problem}); drawing without them")
        config = {}
    records = read_metrics(run / METRICS_FILE, warn=warn)
    if not records:
        p.error(f"RUN {arg}: {run / METRICS_FILE} holds no records yet")
    return config, records


def _real_lines(threads):
    """{metric: [(value, label)]}: real MNIST's scores, computed as ``evaluate --reference`` does."""
    from gan.evaluation import evaluate

    use_threads(threads)
    real = evaluate.reference_scores()
    return {key: [(real[key], f"real MNIST: {real[key]:.3g}")] for key in ("parzen_ll", "fid", "inception_score")}


def run(p, args):
    from gan.figures import curves
    from gan.run.log import METRICS_FILE

    def warn(message):
        print(f"warning: {message}", file=sys.stderr)

    if args.label is not None and len(args.label) != len(args.runs):
        p.error(f"--label: given {len(args.label)} times for {len(args.runs)} RUNs (once per RUN, in their order)")
    if len(args.runs) > 1:
        if args.losses:
            p.error("--losses: draws one run's losses; give one RUN, or leave --losses out to compare scores")
        if not args.scores:
            p.error(f"--scores FILE.png: needed with several RUNs ({len(args.runs)} given)")
    runs = []
    for arg in args.runs:
        config, records = _read_run(p, arg, warn)
        last = max(r["epoch"] for r in records)
        records = [r for r in records if r["epoch"] >= args.from_epoch]
        if not records:
            p.error(
                f"--from-epoch {args.from_epoch}: {Path(arg) / METRICS_FILE} has no records of epoch "
                f"{args.from_epoch} or later (its last epoch is {last})"
            )
        runs.append((config, records))
    labels = args.label or [Path(arg).resolve().name for arg in args.runs]
    if len(runs) > 1:
        path = Path(args.scores)
        require_writable(p, "--scores", path, path.parent)
        references = _real_lines(args.threads) if args.real else {}
        names = sorted({config.get("preset") or config.get("model", "?") for config, _ in runs})
        title = f"{', '.join(names)}: {len(runs)} runs"
        drawn = curves.plot_runs_scores(
            [(label, records) for label, (_, records) in zip(labels, runs)], path, title, references
        )
        if drawn is None:
            p.error(f"no scores from epoch {args.from_epoch} on in any RUN (train with --eval-every N to score)")
        print(f"wrote {drawn}")
        return 0
    run = Path(args.runs[0])
    config, records = runs[0]
    outputs = {"--losses": Path(args.losses or run / "losses.png"), "--scores": Path(args.scores or run / "scores.png")}
    for flag, path in outputs.items():
        require_writable(p, flag, path, path.parent)
    references = _real_lines(args.threads) if args.real else {}
    losses, scores = curves.plot_run(records, config, outputs["--losses"], outputs["--scores"], references)
    print(f"wrote {losses}")
    if scores is None:
        print(f"no scores from epoch {args.from_epoch} on (train with --eval-every N to score the run)")
    else:
        print(f"wrote {scores}")
    return 0
