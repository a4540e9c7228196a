"""gan: the GANs of Goodfellow et al. (2014) and DCGAN (Radford et al. 2016) on MNIST, built on minigrad.

The GAN itself lives at the top: data (MNIST, batches), pixels (image value ranges), models (generators and
discriminators), losses, penalties, sampling (noise, drawing images), config (TrainConfig) and presets.
Sub-packages hold the rest, one job each:

- training: the Trainer and Algorithm 1's step, optimizers, step statistics, progress, stop signals, EMA
- run: a run's folder (writable checks, lock, config.json and metrics.jsonl, checkpoint, errors)
- evaluation: scores (Parzen, FID, IS, modes), the MNIST classifier, evaluating a generator
- figures: image grids and GIFs, loss and score curves
- cli: ``python -m gan train|sample|evaluate|plot``, one module per command

Submodules are imported on demand, so ``import gan`` is cheap.
"""
