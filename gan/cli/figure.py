"""``python -m gan figure``: the figures of Goodfellow et al. (2014) for a trained generator.

python -m gan figure nearest --checkpoint RUN --out fig2.png        # Figure 2: samples and their nearest
python -m gan figure interpolate --checkpoint RUN --out fig3.png    # Figure 3: walks through z
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import minigrad
from gan.cli.shared import (
    Parser,
    add_label_arguments,
    add_threads_argument,
    load_generator,
    non_negative_int,
    positive_int,
    requested_labels,
    require_device,
    require_writable,
    use_threads,
)

SUMMARY = "draw the paper's Figure 2 (samples beside their nearest training image) or Figure 3 (walks through z)"


def _add_common(p, rows):
    p.add_argument(
        "--checkpoint", required=True, metavar="PATH", help="a checkpoint.npz, or a run directory holding one"
    )
    p.add_argument("--out", required=True, metavar="FILE.png", help="where to write the figure")
    p.add_argument("--rows", type=positive_int, default=rows, help=f"rows of the figure (default {rows})")
    p.add_argument("--seed", type=non_negative_int, default=0, help="seed of the noise (default 0)")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu", help="where to run the generator (default cpu)")
    p.add_argument("--raw", action="store_true", help="use the last generator iterate, not its --ema average")
    add_label_arguments(p, "each row")
    add_threads_argument(p)


def add_arguments(p):
    sub = p.add_subparsers(dest="figure", metavar="FIGURE", parser_class=Parser)
    sub.required = True
    n = sub.add_parser(
        "nearest",
        help="Figure 2: rows of samples, each ending with the training image nearest (L2) to the sample beside it",
        description="Figure 2 of Goodfellow et al. (2014): rows of samples, each row ending with the training image "
        "(of those the run trained on) nearest in pixel space to the row's last sample, outlined in yellow; then "
        "the memorisation check: the distances of --n samples to their nearest training image against those of "
        "--n test images.",
    )
    _add_common(n, rows=6)
    n.add_argument("--cols", type=positive_int, default=5, help="samples per row, before the neighbour (default 5)")
    n.add_argument(
        "--n",
        type=non_negative_int,
        default=1000,
        help="samples (and test images) of the memorisation check (default 1000; 0 skips it)",
    )
    n.add_argument("--distances", metavar="FILE.png", help="also draw the memorisation check's two histograms")
    i = sub.add_parser(
        "interpolate",
        help="Figure 3: rows of G(z) along paths between pairs of z",
        description="Figure 3 of Goodfellow et al. (2014): each row is G along a path from one z to another.",
    )
    _add_common(i, rows=8)
    i.add_argument("--steps", type=positive_int, default=9, help="images per row, both ends included (default 9)")
    i.add_argument(
        "--path",
        choices=("linear", "slerp"),
        default="linear",
        help="linear: the paper's straight line; slerp: the great circle (keeps the norm of Gaussian z) "
        "(default linear)",
    )


def _row_labels(p, args, G, rows: int, per_row: int):
    """Each row's digit, repeated along the row (None for an unconditional G)."""
    digits = requested_labels(p, args, G, rows, per_block=False)
    return None if digits is None else np.repeat(digits, per_row)


def run(p, args):
    require_device(p, args.device)
    require_writable(p, "--out", args.out, Path(args.out).parent)
    if getattr(args, "distances", None):
        require_writable(p, "--distances", args.distances, Path(args.distances).parent)
    if args.figure == "interpolate" and args.steps < 2:
        p.error(f"--steps {args.steps}: a path needs at least its two ends")
    use_threads(args.threads)
    G, cfg, state, averaged = load_generator(p, args.checkpoint, args.device, raw=args.raw)
    minigrad.manual_seed(args.seed)
    name = f"{cfg.model}{' cond.' if cfg.conditional else ''}{' EMA' if averaged else ''}, epoch {state['epoch']}"
    try:
        if args.figure == "nearest":
            return _nearest(p, args, G, cfg, name, state["epoch"])
        return _interpolate(p, args, G, cfg, state["epoch"])
    except OSError as e:
        p.error(f"cannot write the figure: {e.strerror or e}")


def _nearest(p, args, G, cfg, name, epoch):
    from gan.data import DataError, load_dataset
    from gan.evaluation.nearest_neighbours import memorisation_check, nearest_neighbours
    from gan.figures import grids, paper_figures
    from gan.sampling import generate, sample_noise

    rows, cols = args.rows, args.cols
    labels = _row_labels(p, args, G, rows, cols)
    samples = generate(G, sample_noise(rows * cols, cfg.latent_dim, cfg.noise, args.device), labels=labels)
    train = load_dataset(cfg.data_dir, "train", cfg.image_size, cfg.channels, (0, 1), cfg.limit)
    idx, dist = nearest_neighbours(samples[cols - 1 :: cols], train)
    images = paper_figures.nearest_figure_images(samples, train[idx], rows, cols)
    grids.save_grid(images, args.out, nrow=cols + 1, title=f"epoch {epoch}")
    print(
        f"wrote {args.out}: {rows} rows of {cols} samples, each ending with the nearest of {len(train):,} training "
        "images to the sample beside it"
    )
    print("row  training image  L2 distance")
    for r, (i, d) in enumerate(zip(idx, dist)):
        print(f"{r:3d}  {int(i):14d}  {d:11.3f}")
    if args.n:
        try:
            test = load_dataset(cfg.data_dir, "test", cfg.image_size, cfg.channels, (0, 1), args.n)
        except DataError as e:
            print(f"no memorisation check: the run's data has no test images to compare with ({e})")
            return 0
        n = min(args.n, len(test))
        many_labels = None if labels is None else np.arange(n) % 10
        many = generate(G, sample_noise(n, cfg.latent_dim, cfg.noise, args.device), labels=many_labels)
        check = memorisation_check(many, train, test[:n])
        print(
            f"memorisation check, distance to the nearest training image (1% / 5% / 50% quantiles): "
            f"{n} samples {check['samples_q01']:.2f} / {check['samples_q05']:.2f} / {check['samples_q50']:.2f}, "
            f"{n} test images {check['test_q01']:.2f} / {check['test_q05']:.2f} / {check['test_q50']:.2f}; "
            f"median ratio {check['ratio_median']:.2f} (well below 1 would mean copies of training images)"
        )
        if args.distances:
            paper_figures.distance_histogram(check, args.distances, title=f"{name}: nearest training image")
            print(f"wrote {args.distances}")
    return 0


def _interpolate(p, args, G, cfg, epoch):
    from gan.figures import grids, paper_figures
    from gan.sampling import sample_noise

    z = sample_noise(2 * args.rows, cfg.latent_dim, cfg.noise, "cpu").numpy()
    labels = requested_labels(p, args, G, args.rows, per_block=False)
    images = paper_figures.interpolation_images(
        G, z[: args.rows], z[args.rows :], args.steps, args.path, labels=labels, device=args.device
    )
    grids.save_grid(images, args.out, nrow=args.steps, title=f"epoch {epoch}, {args.path}")
    print(f"wrote {args.out}: {args.rows} rows of {args.steps} images along {args.path} paths between pairs of z")
    return 0
