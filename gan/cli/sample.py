"""``python -m gan sample``: images from a trained generator into a .npy file (and a grid)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import minigrad
from gan.cli import shared
from gan.run.checkpoint import checkpoint_path
from minigrad.atomic_write import atomic_write

SUMMARY = "draw images from a trained generator into a .npy file"


def add_arguments(p):
    p.add_argument(
        "--checkpoint", required=True, metavar="PATH", help="a checkpoint.npz, or a run directory holding one"
    )
    p.add_argument("--n", type=shared.positive_int, required=True, help="number of images")
    p.add_argument(
        "--out",
        required=True,
        metavar="FILE.npy",
        help="output: float32 images in [0, 1], shape (N, H, W) for gray, (N, C, H, W) for RGB; a conditional "
        "run also writes their digits to FILE_labels.npy",
    )
    p.add_argument(
        "--grid",
        metavar="FILE.png",
        help="also save the first (up to 64) images as an 8x8 grid (a conditional run: one row of up to 8 per digit)",
    )
    p.add_argument("--seed", type=shared.non_negative_int, default=0, help="seed of the noise (default 0)")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu", help="where to run the generator (default cpu)")
    p.add_argument("--batch-size", type=shared.positive_int, default=500, help="images per forward pass (default 500)")
    p.add_argument("--raw", action="store_true", help="use the last generator iterate, not its --ema average")
    shared.add_label_arguments(p)
    shared.add_threads_argument(p)


def run(p, args):
    from gan.figures import grids
    from gan.sampling import generate, sample_noise

    shared.require_device(p, args.device)
    if not str(args.out).endswith(".npy"):
        p.error(f"--out {args.out}: the file name must end in .npy")
    shared.require_writable(p, "--out", args.out, Path(args.out).parent)
    if args.grid:
        shared.require_writable(p, "--grid", args.grid, Path(args.grid).parent)
    shared.use_threads(args.threads)
    G, cfg, state, _ = shared.load_generator(p, args.checkpoint, args.device, raw=args.raw)
    minigrad.manual_seed(args.seed)
    z = sample_noise(args.n, cfg.latent_dim, cfg.noise, args.device)
    labels = shared.requested_labels(p, args, G, args.n)
    images = generate(G, z, args.batch_size, labels=labels)  # (N, C, H, W) float32 in [0, 1]
    out = Path(args.out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(out, lambda f: np.save(f, images[:, 0] if images.shape[1] == 1 else images))
        if labels is not None:
            atomic_write(out.with_name(out.stem + "_labels.npy"), lambda f: np.save(f, labels))
    except OSError as e:
        p.error(f"--out {out}: {e.strerror or e}")
    if args.grid:
        grid, nrow = images[:64], 8
        if labels is not None:  # one row per digit: the first up to 8 of each digit's block
            nrow = min(8, int(np.sum(labels == labels[0])))
            grid = np.concatenate([images[labels == d][:nrow] for d in dict.fromkeys(labels.tolist())])
        try:
            grids.save_grid(grid, args.grid, nrow=nrow)
        except OSError as e:
            p.error(f"--grid {args.grid}: {e.strerror or e}")
    print(
        f"wrote {args.n} samples of shape {images.shape[1:]} from {checkpoint_path(args.checkpoint)} "
        f"(epoch {state['epoch']}) to {out}" + (f" and a grid to {args.grid}" if args.grid else "")
    )
    return 0
