"""gan: the GANs of Goodfellow et al. (2014) and DCGAN (Radford et al. 2016) on MNIST, built on minigrad.

``gan.train(...)``, ``gan.resume(run_dir)`` and ``gan.evaluate(run_dir)`` (gan.api) do what ``python -m gan``'s
commands do, from Python; ``gan.TrainConfig`` holds a run's settings.

The GAN itself lives at the top: data (MNIST, batches), pixels (image value ranges), models (generators and
discriminators), losses, penalties, sampling (noise, drawing images), config (TrainConfig) and presets.
Sub-packages hold the rest, one job each:

- training: the Trainer and Algorithm 1's step, optimizers, step statistics, progress, stop signals, EMA
- run: a run's folder (writable checks, lock, config.json and metrics.jsonl, checkpoint, errors)
- evaluation: scores (Parzen, FID, IS, modes), the MNIST classifier, evaluating a generator
- figures: image grids and GIFs, loss and score curves
- cli: ``python -m gan train|sample|evaluate|plot``, one module per command, over the same code as gan.api

Submodules are imported on demand, so ``import gan`` is cheap.
"""

import importlib

_EXPORTS = {"train": "gan.api", "resume": "gan.api", "evaluate": "gan.api", "TrainConfig": "gan.config"}
__all__ = list(_EXPORTS)


def __getattr__(name):  # the API is imported when first used: ``import gan`` stays cheap
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'gan' has no attribute {name!r}")
