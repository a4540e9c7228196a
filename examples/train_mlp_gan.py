"""The GAN of Goodfellow et al. (2014) on MNIST with minigrad directly: no CLI, no Trainer.

    python examples/train_mlp_gan.py --epochs 5

Algorithm 1 of the paper, spelled out: for each minibatch, one discriminator
step on real and generated images, then one generator step with the
non-saturating loss -log D(G(z)). Dropout 0.3 in D (the paper used dropout), and
samples drawn from an exponential moving average of G's weights (gan.training.ema): the
settings of the README's best row. Writes a sample grid per epoch.
"""

import argparse
import copy

import numpy as np

import minigrad
from gan.batches import BatchIterator
from gan.data import load_dataset
from gan.figures.grids import save_grid
from gan.models import build_models
from gan.pixels import signed_unit_to_unit
from gan.training.ema import GeneratorEMA
from minigrad.nn import functional as F


def main():
    p = argparse.ArgumentParser(description="MLP GAN on MNIST, written against the library directly")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--limit", type=int, default=None, help="use only the first N training images")
    p.add_argument("--out", default="mlp_gan_samples")
    args = p.parse_args()

    minigrad.manual_seed(0)
    images = load_dataset(split="train")[: args.limit]  # float32 in [-1, 1]
    G, D = build_models("mlp", dropout=0.3)  # 100 -> 256 -> 512 -> 1024 -> 784 ; 784 -> 512 -> 256 -> 32 -> 1
    G_avg = GeneratorEMA(G, copy.deepcopy(G), decay=0.999)  # a <- 0.999 a + 0.001 w after each G step
    opt_g = minigrad.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = minigrad.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    fixed_z = minigrad.randn(64, 100)
    batches = BatchIterator(images, args.batch_size, seed=0)
    ones = minigrad.ones(args.batch_size, 1)
    zeros = minigrad.zeros(args.batch_size, 1)

    for epoch in range(args.epochs):
        for real in batches.epoch(epoch):
            real = minigrad.tensor(real)
            z = minigrad.randn(args.batch_size, 100)

            # discriminator: maximise log D(x) + log(1 - D(G(z))); the fake batch needs no G graph
            with minigrad.no_grad():
                fake = G(z)
            loss_d = F.binary_cross_entropy_with_logits(D(real), ones) + F.binary_cross_entropy_with_logits(
                D(fake), zeros
            )
            opt_d.zero_grad()
            loss_d.backward()
            opt_d.step()

            # generator: minimise -log D(G(z)) (the paper's non-saturating variant)
            loss_g = F.binary_cross_entropy_with_logits(D(G(z)), ones)
            opt_g.zero_grad()
            loss_g.backward()
            opt_g.step()
            G_avg.update()

        print(f"epoch {epoch + 1}: loss_d {loss_d.item():.3f}  loss_g {loss_g.item():.3f}")
        with minigrad.no_grad():  # the average is always in eval mode
            samples = signed_unit_to_unit(G_avg.average(fixed_z).numpy())
        save_grid(np.clip(samples, 0, 1), f"{args.out}/epoch_{epoch + 1:03d}.png")


if __name__ == "__main__":
    main()
