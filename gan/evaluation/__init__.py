"""Scoring a generator: the scores themselves (Parzen window, FID, Inception Score, modes), the MNIST classifier
they use, and evaluating a generator or a set of samples with them (evaluate)."""
