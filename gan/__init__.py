"""gan: the GANs of Goodfellow et al. (2014) and DCGAN (Radford et al. 2016) on MNIST, built on minigrad.

Modules: data (MNIST, batches), pixels (image value ranges), models (generators and discriminators),
losses, sampling (noise, drawing images), train (the Trainer and Algorithm 1's step), step_statistics, progress,
stop_signals, runlog (config.json, metrics.jsonl), run_errors, checkpoint, config, plots (grids, GIF, curves),
metrics / evaluation / classifier (scores), cli (``python -m gan train|sample|evaluate``). Submodules are
imported on demand, so ``import gan`` is cheap.
"""
