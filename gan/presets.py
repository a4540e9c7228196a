"""Named sets of training settings: ``python -m gan train --preset NAME`` (explicit flags still win).

``goodfellow2014`` is the recipe of the authors' released configuration for MNIST (mnist.yaml of
github.com/goodfeli/adversarial): the paper's nets (maxout discriminator with dropout, sigmoid
generator), noise U(-sqrt 3, sqrt 3)^100, training images 0..49,999 in [0, 1] (50,000.. are the
validation images on which the Parzen sigma is chosen), d_loss = 0.5 (BCE(D(x), 1) + BCE(D(G(z)), 0)),
g_loss = BCE(D(G(z)), 1) on the same dropped-out pass of D, both players updated together (k = 1),
SGD with batch 100, lr 0.1 divided by 1.000004 after every minibatch (floor 1e-6), momentum 0.5
at epoch 1 rising linearly to 0.7 at epoch 250.

``quick`` is what ``python -m gan train`` runs when neither --model nor --preset is given: dcgan28
(InfoGAN's MNIST nets) at a quarter of InfoGAN's width for 3 epochs, scored at the end: clean digits
within about three minutes on a 2-core CPU (benchmarks/README.md, "The first run").
"""

from __future__ import annotations

PRESETS = {
    "goodfellow2014": dict(
        model="goodfellow2014",
        noise="uniform_sqrt3",
        latent_dim=100,
        limit=50000,
        updates="simultaneous",
        k=1,
        loss="nonsaturating",
        d_loss="mean",
        optimizer="sgd",
        batch_size=100,
        lr=0.1,
        lr_decay=1.000004,
        min_lr=1e-6,
        momentum=0.5,
        final_momentum=0.7,
        momentum_saturate=250,
    ),
    "quick": dict(model="dcgan28", width=0.5, epochs=3, final_scores=True),
}
DEFAULT = "quick"  # the recipe of `python -m gan train` without --model or --preset

SUMMARIES = {
    "goodfellow2014": "the released mnist.yaml of Goodfellow et al. (2014): maxout D with dropout, sigmoid G, "
    "simultaneous SGD updates, decaying lr, rising momentum",
    "quick": "the default without --model: dcgan28 at a quarter of InfoGAN's width, 3 epochs, scored at the end "
    "(under 3 minutes on 2 CPU cores)",
}


def describe(name: str) -> str:
    """One line per preset for --help: what it is and every setting it makes."""
    settings = ", ".join(
        f"--{key.replace('_', '-')}" + ("" if value is True else f" {value}") for key, value in PRESETS[name].items()
    )
    return f"{name}: {SUMMARIES[name]}; sets {settings}"
