"""The MNIST classifier behind the sample-quality scores (FID, Inception Score, modes).

A small LeNet-style convnet built and trained with minigrad itself
(``examples/mnist_classifier.py`` reproduces the shipped weights). Strided
convolutions stand in for LeNet's pooling. The 128-d penultimate layer gives
the features for the Frechet distance; the softmax gives p(y|x).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import minigrad
from gan.data import sha256_file
from gan.pixels import unit_to_signed_unit
from minigrad import backend, nn

WEIGHTS_PATH = Path(__file__).parent.parent / "assets" / "mnist_classifier.npz"
# SHA-256 of the shipped weights; examples/mnist_classifier.py prints it after training.
WEIGHTS_SHA256 = "c95416c2ae9014e9897a51de9212b3deb9092d5b8cac6aab4bf157d94fe95e4e"
FEATURE_DIM = 128


class ClassifierWeightsError(ValueError):
    """The classifier weight file is missing, altered or truncated."""


class MNISTClassifier(nn.Module):
    """28x28 -> conv 5x5/2 (32) -> conv 5x5/2 (64) -> 3136 -> 128 (features) -> 10 logits."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, 5, stride=2, padding=2),
            nn.ReLU(),
            nn.Conv2d(32, 64, 5, stride=2, padding=2),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(64 * 7 * 7, FEATURE_DIM),
            nn.ReLU(),
        )
        self.dropout = nn.Dropout(0.3)
        self.head = nn.Linear(FEATURE_DIM, 10)

    def forward(self, x):
        return self.head(self.dropout(self.features(x)))


def load_classifier(path=None, device="cpu", verify=True) -> MNISTClassifier:
    """The trained classifier in eval mode; the shipped file's SHA-256 is checked first."""
    path = Path(path) if path is not None else WEIGHTS_PATH
    if not path.is_file():
        raise ClassifierWeightsError(f"classifier weights not found: {path} (run examples/mnist_classifier.py)")
    if verify and path == WEIGHTS_PATH:
        digest = sha256_file(path)
        if digest != WEIGHTS_SHA256:
            raise ClassifierWeightsError(
                f"classifier weights {path} have SHA-256 {digest}, expected {WEIGHTS_SHA256}: "
                f"the file is altered or truncated"
            )
    # building the net draws initial weights from minigrad's generator; put its state back, so that scoring a
    # run (--eval-every, --final-scores) leaves the run's random stream, and so the run itself, unchanged
    state = backend.get_rng_state()
    try:
        model = MNISTClassifier()
    finally:
        backend.set_rng_state(state)
    model.load_state_dict(minigrad.load(path, map_location="cpu"))
    return model.to(device).eval()


def to_classifier_input(images):
    """(N, 28, 28) or (N, 1, 28, 28) images in [0, 1] -> float32 (N, 1, 28, 28) in [-1, 1]."""
    x = np.asarray(images, dtype=np.float32)
    if x.ndim == 3:
        x = x[:, None]
    if x.shape[1:] != (1, 28, 28):
        raise ValueError(f"classifier: expected images of shape (N, 28, 28) or (N, 1, 28, 28), got {x.shape}")
    return unit_to_signed_unit(x)


@minigrad.no_grad()
def classify(model, images, batch_size=500, device="cpu"):
    """Penultimate features (N, 128) and class probabilities (N, 10), both float64 NumPy."""
    x = to_classifier_input(images)
    feats, probs = [], []
    for i in range(0, len(x), batch_size):
        xb = minigrad.tensor(x[i : i + batch_size], device=device)
        f = model.features(xb)
        p = model.head(f).softmax(dim=1)
        feats.append(f.numpy().astype(np.float64))
        probs.append(p.numpy().astype(np.float64))
    return np.concatenate(feats), np.concatenate(probs)
