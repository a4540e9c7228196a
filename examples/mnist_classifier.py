"""Train the MNIST classifier that gan's FID / Inception Score use, with minigrad alone.

    python examples/mnist_classifier.py            # 8 epochs on the CPU, writes gan/assets/mnist_classifier.npz
    python examples/mnist_classifier.py --device cuda

Seeded: the same command on the same backend gives the same weights. It
prints the test accuracy (the shipped weights reach >= 99.0%) and the file's
SHA-256, which goes into gan/evaluation/classifier.py's WEIGHTS_SHA256.
"""

import argparse
import time

import numpy as np

import minigrad
from gan.batches import BatchIterator
from gan.data import load_mnist, sha256_file
from gan.evaluation.classifier import WEIGHTS_PATH, MNISTClassifier, classify
from gan.pixels import uint8_to_signed_unit, uint8_to_unit
from minigrad.nn import functional as F


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--lr-decay", type=float, default=0.6, help="lr factor per epoch after the second")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--out", default=str(WEIGHTS_PATH))
    args = p.parse_args()

    minigrad.manual_seed(args.seed)
    train_x, train_y = load_mnist("train")
    test_x, test_y = load_mnist("test")
    x = uint8_to_signed_unit(train_x)[:, None]  # (N, 1, 28, 28)
    model = MNISTClassifier().to(args.device)
    opt = minigrad.optim.Adam(model.parameters(), lr=args.lr)
    batches = BatchIterator(np.arange(len(x)), args.batch_size, seed=args.seed)

    for epoch in range(args.epochs):
        for group in opt.param_groups:  # step decay: the last epochs fine-tune
            group["lr"] = args.lr * args.lr_decay ** max(0, epoch - 1)
        model.train()
        t0, total = time.time(), 0.0
        for idx in batches.epoch(epoch):
            xb = minigrad.tensor(x[idx], device=args.device)
            yb = minigrad.tensor(train_y[idx].astype(np.int64), device=args.device)
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item()
        model.eval()
        _, probs = classify(model, uint8_to_unit(test_x), device=args.device)
        acc = (probs.argmax(1) == test_y).mean()
        print(
            f"epoch {epoch + 1}: train loss {total / len(batches):.4f}  test accuracy {acc:.4%}  "
            f"({time.time() - t0:.0f} s)"
        )

    minigrad.save(model.cpu().state_dict(), args.out)
    print(f"wrote {args.out}  sha256 {sha256_file(args.out)}")


if __name__ == "__main__":
    main()
