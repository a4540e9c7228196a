"""Class-conditional generators and discriminators: p(x | c), the paper's first extension (Section 7: "adding c
as input to both G and D"; Mirza & Osindero 2014 built it on MNIST).

Every conditional net takes the labels as a second argument, ``G(z, y)`` and ``D(x, y)``, y an integer array
or tensor of shape (N,) with values in 0..num_classes-1.

* Generators (every model): G(z, y) = body([z, onehot(y)]); the body is the unconditional generator built with
  latent_dim + num_classes inputs, so its first Linear learns one embedding column per class.
* ``ConcatDiscriminator`` (mlp, goodfellow2014): D(x, y) = head([stem(x), onehot(y)]); stem flattens (and, for
  goodfellow2014, drops out) the image, head is the rest of the unconditional net with num_classes more inputs.
* ``ProjectionDiscriminator`` (dcgan28; Miyato & Koyama 2018): with phi(x) the features before the last layer,

      D(x, y) = psi(phi(x)) + <e_y, phi(x)>,        e_y = row y of an embedding matrix E (num_classes, features)

  the logit of the log density ratio log p(y | x) r(x) / q(y | x) q(x) when both conditionals are
  log-linear in phi. The label acts on D's last features instead of its pixels, which a convolutional D with
  labels concatenated as constant input maps must carry through every convolution.
"""

from __future__ import annotations

import minigrad
from minigrad import backend, nn

NUM_CLASSES = 10  # MNIST's digits


def _label_array(labels, num_classes: int, xp):
    """``labels`` (tensor, array or sequence of ints, shape (N,)) as an integer array of module xp, checked."""
    y = labels.data if isinstance(labels, minigrad.Tensor) else labels
    y = xp.asarray(y)
    if y.ndim != 1 or y.dtype.kind not in "iu":
        raise ValueError(f"conditional net: labels must be integers of shape (N,), got {y.dtype} of shape {y.shape}")
    if y.size and (int(y.min()) < 0 or int(y.max()) >= num_classes):
        raise ValueError(
            f"conditional net: labels must lie in 0..{num_classes - 1}, got values in {int(y.min())}..{int(y.max())}"
        )
    return y


def one_hot(labels, num_classes: int, like: minigrad.Tensor) -> minigrad.Tensor:
    """(N, num_classes) one-hot rows of ``labels``, a constant in ``like``'s dtype on ``like``'s device."""
    xp = backend.get_array_module(like.data)
    y = _label_array(labels, num_classes, xp)
    if y.shape[0] != like.shape[0]:
        raise ValueError(f"conditional net: {y.shape[0]} labels for a batch of {like.shape[0]}")
    return minigrad.Tensor(xp.eye(num_classes, dtype=like.data.dtype)[y])


class ConditionalGenerator(nn.Module):
    """G(z, y) = body([z, onehot(y)]): ``body`` takes latent_dim + num_classes inputs."""

    def __init__(self, body: nn.Module, num_classes: int = NUM_CLASSES):
        super().__init__()
        self.body, self.num_classes = body, int(num_classes)

    def forward(self, z, labels):
        return self.body(minigrad.cat([z, one_hot(labels, self.num_classes, z)], dim=1))


class ConcatDiscriminator(nn.Module):
    """D(x, y) = head([stem(x), onehot(y)]): ``stem`` maps images to flat (N, F) rows, ``head`` takes F +
    num_classes inputs to one logit."""

    def __init__(self, stem: nn.Module, head: nn.Module, num_classes: int = NUM_CLASSES):
        super().__init__()
        self.stem, self.head, self.num_classes = stem, head, int(num_classes)

    def forward(self, x, labels):
        h = self.stem(x)
        return self.head(minigrad.cat([h, one_hot(labels, self.num_classes, h)], dim=1))


class ProjectionDiscriminator(nn.Module):
    """D(x, y) = psi(phi(x)) + sum_j E[y, j] phi(x)_j (Miyato & Koyama 2018): ``features`` is phi, (N, F) rows;
    ``psi`` an nn.Linear(F, 1); the embedding E is an nn.Linear(num_classes, F) without bias applied to one-hot
    rows (its weight's column y is e_y)."""

    def __init__(self, features: nn.Module, psi: nn.Module, num_features: int, num_classes: int = NUM_CLASSES):
        super().__init__()
        self.features, self.psi, self.num_classes = features, psi, int(num_classes)
        self.embed = nn.Linear(self.num_classes, int(num_features), bias=False)

    def forward(self, x, labels):
        phi = self.features(x)
        projection = (self.embed(one_hot(labels, self.num_classes, phi)) * phi).sum(dim=1, keepdim=True)
        return self.psi(phi) + projection


def split_sequential(seq: nn.Sequential, at: int) -> tuple[nn.Sequential, nn.Sequential]:
    """(seq[:at], seq[at:]) as two Sequentials sharing seq's modules."""
    layers = list(seq)
    return nn.Sequential(*layers[:at]), nn.Sequential(*layers[at:])
