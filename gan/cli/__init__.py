"""``python -m gan``: train a GAN on MNIST, and draw samples from a trained one.

    python -m gan train                          # dcgan28, --preset quick: clean digits in minutes
    python -m gan train --model mlp              # the paper's MLP GAN (Algorithm 1, Adam)
    python -m gan train --model dcgan28 --epochs 5 --outdir runs/dc
    python -m gan train --resume runs/dc --epochs 10
    python -m gan sample --checkpoint runs/dc --n 1000 --out samples.npy --grid samples.png
    python -m gan plot runs/dc --from-epoch 3
    python -m gan figure nearest --checkpoint runs/dc --out fig2.png

``main(argv)`` returns the exit code: 0 success, 1 a failure at run time (bad data, divergence),
2 bad command-line input, 130 interrupted by Ctrl-C (after writing a checkpoint).
"""

from __future__ import annotations

import minigrad
from gan.cli import evaluate, figure, plot, sample, train
from gan.cli.shared import EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_USAGE, Parser

# name -> the module that adds its arguments (add_arguments) and runs it (run); its SUMMARY is the one-line help
SUBCOMMANDS = {"train": train, "sample": sample, "evaluate": evaluate, "plot": plot, "figure": figure}


def build_parser():
    parser = Parser(prog="python -m gan", description="GANs on MNIST with minigrad.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True
    subparsers = {}
    for name, command in SUBCOMMANDS.items():
        sp = sub.add_parser(name, help=command.SUMMARY, description=command.SUMMARY)
        command.add_arguments(sp)
        sp.set_defaults(func=command.run)
        subparsers[name] = sp
    return parser, subparsers


def main(argv=None) -> int:
    # the CLI opts in to minigrad's speed switches (a library import changes nothing outside the library);
    # each command sets the thread count (--threads, or the shared-CPU policy) once its arguments are checked
    minigrad.allocator.keep_freed_memory()
    parser, subparsers = build_parser()
    args = parser.parse_args(argv)
    return int(args.func(subparsers[args.command], args) or 0)
