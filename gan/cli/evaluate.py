"""``python -m gan evaluate``: score a checkpoint's generator, a .npy of samples, or real MNIST."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from gan.cli.shared import (
    add_threads_argument,
    load_generator,
    non_negative_int,
    positive_int,
    require_device,
    require_writable,
    use_threads,
)
from gan.evaluation.scores import PAPER_SIGMA_GRID, parse_sigma_grid
from gan.run.checkpoint import checkpoint_path
from minigrad.atomic_write import atomic_write

SUMMARY = (
    "score a generator: Parzen-window log-likelihood (the paper's Table 1), classifier FID, Inception Score and modes"
)


def sigma_grid(text):
    """An argparse ``type``: LO:HI:N, checked by parse_sigma_grid and kept as text for eval.json."""
    try:
        parse_sigma_grid(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return text


def add_arguments(p):
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--checkpoint", metavar="PATH", help="score the generator of a checkpoint (or run directory)")
    src.add_argument(
        "--samples",
        metavar="FILE.npy",
        help="score images from a .npy file: (N, H, W) or (N, C, H, W) in [0, 1], as written by `sample`",
    )
    src.add_argument(
        "--reference",
        action="store_true",
        help="score 10,000 real MNIST training images instead (the real-data row: the FID floor and the IS ceiling)",
    )
    p.add_argument(
        "--n",
        type=positive_int,
        default=10000,
        help="samples to draw from a checkpoint; also the Parzen window size (default 10000, the paper's)",
    )
    p.add_argument(
        "--valid-size",
        type=positive_int,
        default=1000,
        help="validation images for choosing sigma (MNIST train 50,000 on; default 1000, the paper's)",
    )
    p.add_argument(
        "--sigma-grid",
        type=sigma_grid,
        default=PAPER_SIGMA_GRID,
        metavar="LO:HI:N",
        help="the Parzen window widths sigma is chosen from: N values evenly spaced in log from LO to HI (default "
        f"{PAPER_SIGMA_GRID}, the paper's logspace(-1, 0, 10), so scores compare with Table 1); eval.json also "
        "gets each sigma's validation log-likelihood and the optimum of a 4x finer grid around the chosen one",
    )
    p.add_argument("--no-parzen", action="store_true", help="skip the Parzen-window log-likelihood")
    p.add_argument("--no-classifier", action="store_true", help="skip FID, Inception Score and modes")
    p.add_argument(
        "--seed", type=non_negative_int, default=1234, help="seed of the noise for --checkpoint (default 1234)"
    )
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu", help="where to compute (default cpu)")
    p.add_argument(
        "--raw",
        action="store_true",
        help="with --checkpoint of an --ema run: score the last generator iterate, not the average",
    )
    p.add_argument(
        "--out",
        metavar="FILE.json",
        help="where to write the scores (default: eval.json beside the "
        "checkpoint or samples file, or ./eval.json; eval_raw.json for --raw of an --ema run)",
    )
    add_threads_argument(p)


def run(p, args):
    from gan.evaluation import evaluate

    require_device(p, args.device)
    if args.no_parzen and args.no_classifier:
        p.error("--no-parzen and --no-classifier together leave nothing to score")
    if args.out:
        require_writable(p, "--out", args.out, Path(args.out).parent)
    use_threads(args.threads)
    kwargs = dict(
        parzen=not args.no_parzen,
        classifier=not args.no_classifier,
        valid_size=args.valid_size,
        parzen_samples=args.n,
        sigma_grid=args.sigma_grid,
        device=args.device,
    )
    if args.checkpoint:
        G, cfg, state, averaged = load_generator(p, args.checkpoint, args.device, raw=args.raw)
        name = f"{cfg.model}{' cond.' if cfg.conditional else ''}{' EMA' if averaged else ''} (epoch {state['epoch']})"
        try:
            scores = evaluate.evaluate_generator(G, cfg, state["epoch"], n=args.n, seed=args.seed, **kwargs)
        except ValueError as e:  # e.g. a diverged generator's NaN images
            p.error(f"--checkpoint {args.checkpoint}: {e}")
        # the last iterate's scores must not overwrite the average's
        default_out = checkpoint_path(args.checkpoint).parent / (
            "eval_raw.json" if args.raw and "generator_ema" in state else "eval.json"
        )
    elif args.samples:
        try:
            images = np.load(args.samples, allow_pickle=False)
        except (OSError, ValueError) as e:
            p.error(f"--samples {args.samples}: cannot read it as a .npy array ({e})")
        try:
            scores = evaluate.evaluate_samples(images, **kwargs)
        except ValueError as e:
            p.error(f"--samples {args.samples}: {e}")
        name, default_out = Path(args.samples).stem, Path(args.samples).with_name("eval.json")
    else:
        name, scores = "real MNIST (train[:10000])", evaluate.reference_scores(**kwargs)
        default_out = Path("eval.json")
    print(evaluate.format_table([(name, scores)]))
    out = Path(args.out) if args.out else default_out
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(out, lambda f: f.write(json.dumps({"name": name, **scores}, indent=2) + "\n"), text=True)
    except OSError as e:
        p.error(f"--out {out}: {e.strerror or e}")
    print(f"wrote {out}")
    return 0
