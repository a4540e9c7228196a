"""The generators and discriminators: the paper's MLPs and two DCGANs, all plain ``nn.Sequential``.

Every discriminator returns one logit per image, shape (N, 1): the losses use
``binary_cross_entropy_with_logits``, which is stable where sigmoid + log is not.
Every generator maps noise (N, latent_dim) to images (N, C, H, W) in its PIXEL_RANGES range.

* ``mlp``      Goodfellow et al. (2014)-style fully connected nets for 28x28 MNIST.
  G: z -> 256 -> 512 -> 1024 -> C*784, LeakyReLU(0.2), tanh.
  D: C*784 -> 512 -> 256 -> 32 -> 1, LeakyReLU(0.2), optional dropout.
* ``dcgan28``  InfoGAN's MNIST nets (Chen et al. 2016) at half width: G z -> 512 -> 64x7x7 -> 32x14x14 ->
  Cx28x28, D Cx28x28 -> 32x14x14 -> 64x7x7 -> 512 -> 1 (BatchNorm, or LayerNorm / none for a critic).
* ``dcgan64``  Radford et al. (2016) for 64x64: G z -> 1024x4x4 -> 512x8x8 -> 256x16x16 ->
  128x32x32 -> Cx64x64; D the mirror image with LeakyReLU(0.2) and no BN on its first layer.

* ``goodfellow2014``  the nets of the authors' released mnist.yaml: G z -> 1200 ReLU -> 1200 ReLU ->
  C*784 sigmoid (images in [0, 1]), weights U(-0.05, 0.05), biases 0 (the output bias is set from the
  data's mean pixels by ``init_output_bias_from_marginals_``); D dropout(0.2) -> Maxout 240 x 5 ->
  dropout(0.5) -> Maxout 240 x 5 -> dropout(0.5) -> Linear 240 -> 1, weights U(-0.005, 0.005), biases 0.

``build_models(..., conditional=True)`` builds the class-conditional G(z, y) and D(x, y) of mlp, dcgan28 and
goodfellow2014 (gan/conditional_models.py).

Every generator except goodfellow2014's maps to [-1, 1]; ``PIXEL_RANGES`` says which (and the data
is scaled to match).

``width`` scales every hidden size (at least 1 unit), so tests can build tiny versions.
The models are ``nn.Sequential`` chains of standard layers so that the benchmarks can build
PyTorch twins of them; ``latent_dim`` and ``image_shape`` are set on each generator.
"""

from __future__ import annotations

import numpy as np

import minigrad
from gan.conditional_models import (
    NUM_CLASSES,
    ConcatDiscriminator,
    ConditionalGenerator,
    ProjectionDiscriminator,
    split_sequential,
)
from minigrad import nn

MODELS = ("mlp", "dcgan28", "dcgan64", "goodfellow2014")
CONDITIONAL_MODELS = ("mlp", "dcgan28", "goodfellow2014")  # the models --conditional builds
IMAGE_SIZES = {"mlp": 28, "dcgan28": 28, "dcgan64": 64, "goodfellow2014": 28}
# The range of the images a generator makes (tanh or sigmoid); the training data is scaled to it.
PIXEL_RANGES = {"mlp": (-1, 1), "dcgan28": (-1, 1), "dcgan64": (-1, 1), "goodfellow2014": (0, 1)}


def image_shape(name: str, channels: int = 1) -> tuple[int, int, int]:
    """(C, H, W) of the images a model generates and discriminates."""
    _check_name(name)
    return (int(channels), IMAGE_SIZES[name], IMAGE_SIZES[name])


def _check_name(name):
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}: choose one of {', '.join(MODELS)}")


def _scaled(n: int, width: float) -> int:
    return max(1, int(round(n * width)))


# --- the paper's fully connected nets --------------------------------------------------------


def mlp_generator(latent_dim=100, channels=1, width=1.0, hidden=(256, 512, 1024)) -> nn.Sequential:
    """z -> hidden... -> C*28*28, LeakyReLU(0.2) between, tanh at the end, reshaped to (N, C, 28, 28)."""
    sizes = [latent_dim] + [_scaled(h, width) for h in hidden]
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), nn.LeakyReLU(0.2)]
    layers += [nn.Linear(sizes[-1], channels * 28 * 28), nn.Tanh(), nn.Unflatten(1, (channels, 28, 28))]
    return nn.Sequential(*layers)


def mlp_discriminator(channels=1, width=1.0, dropout=0.0, hidden=(512, 256, 32), label_inputs=0) -> nn.Sequential:
    """(N, C, 28, 28) or (N, C*784) -> hidden... -> 1 logit, LeakyReLU(0.2) (and dropout) between.

    ``label_inputs``: extra inputs of the first Linear, for a conditional D that appends one-hot labels after the
    Flatten (gan.conditional_models.ConcatDiscriminator)."""
    sizes = [channels * 28 * 28 + label_inputs] + [_scaled(h, width) for h in hidden]
    layers: list[nn.Module] = [nn.Flatten()]
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), nn.LeakyReLU(0.2)]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(sizes[-1], 1))
    return nn.Sequential(*layers)


# --- the nets of Goodfellow et al. (2014), as their released mnist.yaml has them -----------------


def goodfellow2014_generator(latent_dim=100, channels=1, width=1.0) -> nn.Sequential:
    """z -> 1200 ReLU -> 1200 ReLU -> C*784 sigmoid -> (N, C, 28, 28) in [0, 1]; W ~ U(-0.05, 0.05), b = 0."""
    h = _scaled(1200, width)
    G = nn.Sequential(
        nn.Linear(latent_dim, h),
        nn.ReLU(),
        nn.Linear(h, h),
        nn.ReLU(),
        nn.Linear(h, channels * 28 * 28),
        nn.Sigmoid(),
        nn.Unflatten(1, (channels, 28, 28)),
    )
    _uniform_init_(G, 0.05)
    return G


def goodfellow2014_discriminator(channels=1, width=1.0, label_inputs=0) -> nn.Sequential:
    """Dropout on every layer's input (kept with 0.8 for the image, 0.5 after; inverted, scaled 1/keep),
    Maxout 240 x 5 twice, Linear 240 -> 1 logit; W ~ U(-0.005, 0.005), b = 0. ``label_inputs``: extra inputs of
    the first Maxout, for one-hot labels appended after the input dropout."""
    u = _scaled(240, width)
    D = nn.Sequential(
        nn.Flatten(),
        nn.Dropout(0.2),
        nn.Maxout(channels * 28 * 28 + label_inputs, u, 5),
        nn.Dropout(0.5),
        nn.Maxout(u, u, 5),
        nn.Dropout(0.5),
        nn.Linear(u, 1),
    )
    _uniform_init_(D, 0.005)
    return D


def _uniform_init_(module, irange):
    """pylearn2's ``irange``: every weight U(-irange, irange), every bias 0."""
    for m in module.modules():
        if isinstance(m, (nn.Linear, nn.Maxout)):
            nn.init.uniform_(m.weight, -irange, irange)
            nn.init.zeros_(m.bias)


def init_output_bias_from_marginals_(G, images, eps=1e-7) -> None:
    """Set G's last Linear bias to logit(clip(mean pixel, eps, 1 - eps)) over the training images
    (pylearn2's init_sigmoid_bias_from_marginals): at the start, G's output is the mean image."""
    x = np.asarray(images, dtype=np.float64).reshape(len(images), -1)
    p = np.clip(x.mean(axis=0), eps, 1 - eps)
    last = [m for m in G.modules() if isinstance(m, nn.Linear)][-1]
    if last.bias.shape != p.shape:
        raise ValueError(
            f"init_output_bias_from_marginals_: {p.size} pixels per image but the output layer has "
            f"{last.bias.shape[0]} units"
        )
    logit = np.log(p / (1 - p))
    with minigrad.no_grad():
        last.bias.copy_(minigrad.tensor(logit, dtype=last.bias.dtype, device=last.bias.device))


# --- DCGAN for 28x28 -------------------------------------------------------------------------


def dcgan28_generator(latent_dim=100, channels=1, width=1.0) -> nn.Sequential:
    """The InfoGAN MNIST generator (Chen et al. 2016; DeZero's GAN example) at half width (width 2 is InfoGAN's):
    z -> Linear 512w -> BN, ReLU -> Linear 64w*7*7 -> BN, ReLU -> (64w, 7, 7) -> ConvT 4/2/1 -> BN, ReLU
    -> (32w, 14, 14) -> ConvT 4/2/1 -> tanh -> (C, 28, 28)."""
    f, c1, c2 = _scaled(512, width), _scaled(64, width), _scaled(32, width)
    return nn.Sequential(
        nn.Linear(latent_dim, f, bias=False),  # no bias before BatchNorm: its beta is the bias
        nn.BatchNorm1d(f),
        nn.ReLU(),
        nn.Linear(f, c1 * 7 * 7, bias=False),
        nn.BatchNorm1d(c1 * 7 * 7),
        nn.ReLU(),
        nn.Unflatten(1, (c1, 7, 7)),
        nn.ConvTranspose2d(c1, c2, 4, 2, 1, bias=False),
        nn.BatchNorm2d(c2),
        nn.ReLU(),
        nn.ConvTranspose2d(c2, channels, 4, 2, 1),
        nn.Tanh(),
    )


D_NORMS = ("batch", "layer", "none")


def _norm_layer(kind: str, shape: tuple[int, ...]) -> list:
    """The normalisation after a discriminator layer whose output (per sample) has ``shape``: BatchNorm over the
    channel (shape[0]), LayerNorm over the whole sample (per-sample, so a gradient penalty stays per-sample), or none.
    """
    if kind == "batch":
        return [nn.BatchNorm2d(shape[0]) if len(shape) == 3 else nn.BatchNorm1d(shape[0])]
    if kind == "layer":
        return [nn.LayerNorm(shape)]
    if kind == "none":
        return []
    raise ValueError(f"unknown discriminator normalisation {kind!r}: choose one of {', '.join(D_NORMS)}")


def dcgan28_discriminator(channels=1, width=1.0, norm="batch") -> nn.Sequential:
    """The InfoGAN MNIST discriminator at half width: (C, 28, 28) -> Conv 4/2/1 -> LeakyReLU -> (32w, 14, 14)
    -> Conv 4/2/1 -> norm, LeakyReLU -> (64w, 7, 7) -> Linear 512w -> norm, LeakyReLU -> Linear -> 1 logit.

    ``norm``: "batch" (InfoGAN's), "layer" (nn.LayerNorm over each sample; a WGAN-GP critic) or "none"."""
    c1, c2, f = _scaled(32, width), _scaled(64, width), _scaled(512, width)
    bias = norm == "none"  # a normalisation's beta is the bias
    return nn.Sequential(
        nn.Conv2d(channels, c1, 4, 2, 1),
        nn.LeakyReLU(0.2),
        nn.Conv2d(c1, c2, 4, 2, 1, bias=bias),
        *_norm_layer(norm, (c2, 7, 7)),
        nn.LeakyReLU(0.2),
        nn.Flatten(),
        nn.Linear(c2 * 7 * 7, f, bias=bias),
        *_norm_layer(norm, (f,)),
        nn.LeakyReLU(0.2),
        nn.Linear(f, 1),
    )


# --- DCGAN for 64x64 (Radford et al. 2016, Figure 1) -------------------------------------------


def dcgan64_generator(latent_dim=100, channels=1, width=1.0) -> nn.Sequential:
    """(N, 100) -> (N, 100, 1, 1) -> ConvT 4/1/0 -> 1024w x4x4 -> ConvT 4/2/1 x4 -> C x64x64, BN+ReLU, tanh."""
    chans = [_scaled(c, width) for c in (1024, 512, 256, 128)]
    layers = [
        nn.Unflatten(1, (latent_dim, 1, 1)),
        nn.ConvTranspose2d(latent_dim, chans[0], 4, 1, 0, bias=False),
        nn.BatchNorm2d(chans[0]),
        nn.ReLU(),
    ]
    for a, b in zip(chans[:-1], chans[1:]):
        layers += [nn.ConvTranspose2d(a, b, 4, 2, 1, bias=False), nn.BatchNorm2d(b), nn.ReLU()]
    layers += [nn.ConvTranspose2d(chans[-1], channels, 4, 2, 1, bias=False), nn.Tanh()]
    return nn.Sequential(*layers)


def dcgan64_discriminator(channels=1, width=1.0) -> nn.Sequential:
    """C x64x64 -> Conv 4/2/1 x4 (128w..1024w; BN from the second) LeakyReLU(0.2) -> Conv 4/1/0 -> 1 logit."""
    chans = [_scaled(c, width) for c in (128, 256, 512, 1024)]
    layers = [nn.Conv2d(channels, chans[0], 4, 2, 1, bias=False), nn.LeakyReLU(0.2)]
    for a, b in zip(chans[:-1], chans[1:]):
        layers += [nn.Conv2d(a, b, 4, 2, 1, bias=False), nn.BatchNorm2d(b), nn.LeakyReLU(0.2)]
    layers += [nn.Conv2d(chans[-1], 1, 4, 1, 0, bias=False), nn.Flatten()]
    return nn.Sequential(*layers)


def _conditional(name: str, G: nn.Sequential, D: nn.Sequential) -> tuple[nn.Module, nn.Module]:
    """The conditional G(z, y), D(x, y) around the nets ``build_models`` made with label inputs."""
    if name == "dcgan28":
        features, psi = split_sequential(D, len(D) - 1)
        head: nn.Module = ProjectionDiscriminator(features, psi[0], psi[0].in_features, NUM_CLASSES)
    else:
        head = ConcatDiscriminator(*split_sequential(D, 2 if name == "goodfellow2014" else 1), NUM_CLASSES)
    return ConditionalGenerator(G, NUM_CLASSES), head


# --- initialisation and the factory ----------------------------------------------------------


def dcgan_init_(module) -> None:
    """Radford et al.'s initialisation: conv/linear weights ~ N(0, 0.02), biases 0; BN gamma ~ N(1, 0.02), beta 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)) and m.affine:  # LayerNorm keeps its ones and zeros
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


def build_models(
    name: str,
    latent_dim: int = 100,
    channels: int = 1,
    width: float = 1.0,
    dropout: float = 0.0,
    d_norm: str | None = None,
    spectral_norm: bool = False,
    conditional: bool = False,
):
    """(generator, discriminator) of model ``name`` (one of MODELS), on the CPU.

    The generator maps (N, latent_dim) noise to (N, *image_shape(name, channels)) images in
    PIXEL_RANGES[name] (G.pixel_range); the discriminator maps such images to (N, 1) logits. ``dropout`` (mlp only)
    is the drop probability after each hidden layer of the discriminator (goodfellow2014's dropout is
    built in). ``d_norm`` (dcgan28 only; None: "batch") is the discriminator's normalisation, and
    ``spectral_norm`` wraps every linear and conv layer of the discriminator in ``nn.utils.spectral_norm``.

    ``conditional`` (mlp, dcgan28, goodfellow2014): G(z, y) and D(x, y) of gan.conditional_models, for labels y
    in 0..9: G's first layer takes [z, onehot(y)]; the MLP discriminators append onehot(y) to the flattened
    (for goodfellow2014: dropped-out) image, dcgan28's is a projection discriminator on its last features.
    """
    _check_name(name)
    if int(latent_dim) < 1 or int(channels) < 1 or not width > 0:
        raise ValueError(
            f"build_models: latent_dim, channels and width must be positive, got "
            f"latent_dim={latent_dim}, channels={channels}, width={width}"
        )
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"build_models: dropout must be in [0, 1), got {dropout}")
    if dropout and name != "mlp":
        raise ValueError(f"build_models: dropout is an option of the mlp discriminator, not of {name}")
    if d_norm is not None and name != "dcgan28":
        raise ValueError(f"build_models: d_norm is an option of the dcgan28 discriminator, not of {name}")
    if conditional and name not in CONDITIONAL_MODELS:
        raise ValueError(f"build_models: conditional is an option of {', '.join(CONDITIONAL_MODELS)}, not of {name}")
    latent_dim, channels = int(latent_dim), int(channels)
    labels = NUM_CLASSES if conditional else 0  # extra inputs taking one-hot labels
    if name == "mlp":
        g_net = mlp_generator(latent_dim + labels, channels, width)
        d_net = mlp_discriminator(channels, width, dropout, label_inputs=labels)
    elif name == "goodfellow2014":
        g_net = goodfellow2014_generator(latent_dim + labels, channels, width)
        d_net = goodfellow2014_discriminator(channels, width, label_inputs=labels)
    elif name == "dcgan28":
        g_net = dcgan28_generator(latent_dim + labels, channels, width)
        d_net = dcgan28_discriminator(channels, width, d_norm or "batch")
    else:
        g_net, d_net = dcgan64_generator(latent_dim, channels, width), dcgan64_discriminator(channels, width)
    G, D = _conditional(name, g_net, d_net) if conditional else (g_net, d_net)
    if name in ("dcgan28", "dcgan64"):
        dcgan_init_(G)
        dcgan_init_(D)
    if spectral_norm:
        for m in list(D.modules()):
            if isinstance(m, (nn.Conv2d, nn.Linear, nn.Maxout)):
                nn.utils.spectral_norm(m)
    # plain attributes (not registered state): what samplers need to know about G
    G.latent_dim = latent_dim
    G.image_shape = image_shape(name, channels)
    G.pixel_range = PIXEL_RANGES[name]
    G.num_classes = D.num_classes = NUM_CLASSES if conditional else 0  # 0: unconditional, G(z) and D(x)
    D.image_shape = G.image_shape
    return G, D
