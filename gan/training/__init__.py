"""Training a GAN: the Trainer and Algorithm 1's step (trainer), optimizers, step statistics, progress, stop
signals and the generator's weight average (ema)."""
