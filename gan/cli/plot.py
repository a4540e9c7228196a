"""``python -m gan plot``: redraw a run's loss and score curves from its metrics.jsonl."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from gan.cli.shared import add_threads_argument, positive_int, require_writable, use_threads

SUMMARY = "redraw a run's loss and score curves from its metrics.jsonl (e.g. from a later epoch on)"


def add_arguments(p):
    p.add_argument("run", metavar="RUN", help="a run directory (its metrics.jsonl and config.json)")
    p.add_argument(
        "--from-epoch",
        type=positive_int,
        default=1,
        metavar="N",
        help="draw epochs N on (the first epochs' low scores flatten a long run's curve; default 1)",
    )
    p.add_argument("--scores", metavar="FILE.png", help="where to draw the score curves (default RUN/scores.png)")
    p.add_argument("--losses", metavar="FILE.png", help="where to draw the loss curves (default RUN/losses.png)")
    p.add_argument(
        "--real",
        action="store_true",
        help="add real MNIST's scores as lines (computed as `evaluate --reference` does, in about 15 s)",
    )
    add_threads_argument(p, use="the --real scores (drawing alone uses one)")


def run(p, args):
    from gan.figures import curves
    from gan.run.log import CONFIG_FILE, METRICS_FILE, read_metrics

    run = Path(args.run)
    if (run / METRICS_FILE).is_dir():
        p.error(f"RUN {args.run}: {run / METRICS_FILE} is a folder, not a file")
    if not (run / METRICS_FILE).is_file():
        p.error(f"RUN {args.run}: no {METRICS_FILE} there (not a run directory?)")

    def warn(message):
        print(f"warning: {message}", file=sys.stderr)

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
        p.error(f"RUN {args.run}: {run / METRICS_FILE} holds no records yet")
    last = max(r["epoch"] for r in records)
    records = [r for r in records if r["epoch"] >= args.from_epoch]
    if not records:
        p.error(
            f"--from-epoch {args.from_epoch}: {run / METRICS_FILE} has no records of epoch {args.from_epoch} "
            f"or later (its last epoch is {last})"
        )
    outputs = {"--losses": Path(args.losses or run / "losses.png"), "--scores": Path(args.scores or run / "scores.png")}
    for flag, path in outputs.items():
        require_writable(p, flag, path, path.parent)
    references = {}
    if args.real:
        from gan.evaluation import evaluate

        use_threads(args.threads)
        real = evaluate.reference_scores()
        references = {
            key: [(real[key], f"real MNIST: {real[key]:.3g}")] for key in ("parzen_ll", "fid", "inception_score")
        }
    losses, scores = curves.plot_run(records, config, outputs["--losses"], outputs["--scores"], references)
    print(f"wrote {losses}")
    if scores is None:
        print(f"no scores from epoch {args.from_epoch} on (train with --eval-every N to score the run)")
    else:
        print(f"wrote {scores}")
    return 0
