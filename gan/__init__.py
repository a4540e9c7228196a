"""gan: the GANs of Goodfellow et al. (2014) and DCGAN (Radford et al. 2016) on MNIST, built on minigrad.

Modules: data (MNIST, batches), models (generators and discriminators), train (Algorithm 1),
checkpoint, config, plots (grids, GIF, curves), metrics / evaluation / classifier (scores),
cli (``python -m gan train|sample``). Submodules are imported on demand, so ``import gan`` is cheap.
"""
