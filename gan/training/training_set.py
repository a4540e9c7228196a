"""A run's training images: the first --limit images of its dataset, resized to its model's size and scaled
to its model's pixel range."""

from __future__ import annotations

import numpy as np

from gan.config import ConfigError, TrainConfig
from gan.data import load_dataset
from gan.models import PIXEL_RANGES


def load_training_images(cfg: TrainConfig) -> np.ndarray:
    """float32 (N, C, S, S) in the model's pixel range ([-1, 1], or [0, 1] for goodfellow2014): the first
    cfg.limit images, resized to the model's size S.

    The limit is applied before resizing, so a quick 64x64 run does not resize all of MNIST, and each
    image of a folder is resized on its own.
    """
    x = load_dataset(
        cfg.data_dir,
        "train",
        image_size=cfg.image_size,
        channels=cfg.channels,
        limit=cfg.limit,
        value_range=PIXEL_RANGES[cfg.model],
    )
    batch_size, k = cfg.iteration()
    if len(x) < batch_size * k:
        raise ConfigError(
            f"the training set has {len(x)} images, fewer than one iteration needs ({k} x batch size {batch_size})"
        )
    return x
