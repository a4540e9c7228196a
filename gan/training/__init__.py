"""Training a GAN: the Trainer and Algorithm 1's step (trainer), its training images (training_set), what a run
writes as it goes (run_outputs), optimizers, step statistics, progress, stop signals and the generator's weight
average (ema)."""
