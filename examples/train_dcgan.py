"""DCGAN (Radford et al. 2016) on MNIST with minigrad directly: conv nets, batch norm, Adam.

dcgan28 is InfoGAN's MNIST nets at half width, trained with two time-scales (G 1e-3, D 2e-4), as
``python -m gan train --model dcgan28`` does; dcgan64 keeps Radford et al.'s 2e-4 for both.

    python examples/train_dcgan.py --epochs 2              # the 28x28 DCGAN
    python examples/train_dcgan.py --model dcgan64 --limit 6400 --device cuda

Same loop as train_mlp_gan.py; the models come from gan.models and start
from DCGAN's initialisation (weights N(0, 0.02), batch-norm gamma N(1, 0.02)).
"""

import argparse

import numpy as np

import minigrad
from gan.batches import BatchIterator
from gan.data import load_dataset
from gan.figures.grids import save_grid
from gan.models import IMAGE_SIZES, build_models
from gan.pixels import signed_unit_to_unit
from minigrad.nn import functional as F


def main():
    p = argparse.ArgumentParser(description="DCGAN on MNIST, written against the library directly")
    p.add_argument("--model", choices=("dcgan28", "dcgan64"), default="dcgan28")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--limit", type=int, default=None, help="use only the first N training images")
    p.add_argument("--device", default="cpu")
    p.add_argument("--out", default="dcgan_samples")
    args = p.parse_args()

    minigrad.manual_seed(0)
    images = load_dataset(split="train", image_size=IMAGE_SIZES[args.model])[: args.limit]
    G, D = (m.to(args.device) for m in build_models(args.model))
    lr_g = 1e-3 if args.model == "dcgan28" else 2e-4
    opt_g = minigrad.optim.Adam(G.parameters(), lr=lr_g, betas=(0.5, 0.999))
    opt_d = minigrad.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    fixed_z = minigrad.randn(64, 100, device=args.device)
    ones = minigrad.ones(args.batch_size, 1, device=args.device)
    zeros = minigrad.zeros(args.batch_size, 1, device=args.device)

    for epoch in range(args.epochs):
        for real in BatchIterator(images, args.batch_size, seed=0).epoch(epoch):
            real = minigrad.tensor(real, device=args.device)
            z = minigrad.randn(args.batch_size, 100, device=args.device)
            with minigrad.no_grad():
                fake = G(z)
            loss_d = F.binary_cross_entropy_with_logits(
                D(real).reshape(-1, 1), ones
            ) + F.binary_cross_entropy_with_logits(D(fake).reshape(-1, 1), zeros)
            opt_d.zero_grad()
            loss_d.backward()
            opt_d.step()

            loss_g = F.binary_cross_entropy_with_logits(D(G(z)).reshape(-1, 1), ones)
            opt_g.zero_grad()
            loss_g.backward()
            opt_g.step()

        print(f"epoch {epoch + 1}: loss_d {loss_d.item():.3f}  loss_g {loss_g.item():.3f}")
        with minigrad.no_grad():
            samples = signed_unit_to_unit(G.eval()(fixed_z).numpy())
        G.train()
        save_grid(np.clip(samples, 0, 1), f"{args.out}/epoch_{epoch + 1:03d}.png")


if __name__ == "__main__":
    main()
