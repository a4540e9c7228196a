"""What a gradient penalty costs: one critic step with and without WGAN-GP's double backward.

    OPENBLAS_NUM_THREADS=1 python3 -m benchmarks.bench_higher_order

The critic is the Radford-style discriminator dcgan28 had until 2026-12-01, without BatchNorm (a WGAN-GP critic),
batch 64, float32.
"plain" is forward + backward of the critic's score on real and fake images; "with penalty"
adds the interpolates' forward, the gradient with create_graph=True, the penalty and the
backward through it. Times are the median CPU time of a step (one BLAS thread); peak traced
memory is Python-side allocations (tracemalloc, which sees NumPy's buffers) during one step.
"""

import time
import tracemalloc

import numpy as np

import minigrad as mg
from minigrad import nn
from minigrad.autograd import grad


def critic():
    """The old dcgan28 discriminator without BatchNorm: two 4/2/1 convolutions with LeakyReLU, then Linear."""
    layers = []
    for c_in, c_out in ((1, 64), (64, 128)):
        layers += [nn.Conv2d(c_in, c_out, 4, 2, 1), nn.LeakyReLU(0.2)]
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(128 * 7 * 7, 1))


def main(repeat=7):
    mg.manual_seed(0)
    d = critic()
    real, fake = mg.randn(64, 1, 28, 28), mg.randn(64, 1, 28, 28)

    def plain():
        d.zero_grad()
        (d(fake).mean() - d(real).mean()).backward()

    def penalised():
        d.zero_grad()
        alpha = mg.rand(64, 1, 1, 1)
        x_hat = (alpha * real + (1 - alpha) * fake).requires_grad_()
        (g,) = grad(d(x_hat).sum(), x_hat, create_graph=True)
        gp = 10 * (((g.reshape(64, -1) ** 2).sum(1) + 1e-12).sqrt() - 1).pow(2).mean()
        (d(fake).mean() - d(real).mean() + gp).backward()

    rows = []
    for name, step in (("plain", plain), ("with penalty", penalised)):
        for _ in range(2):
            step()
        times = []
        for _ in range(repeat):
            t = time.process_time()  # CPU seconds: steadier than wall time on a shared machine
            step()
            times.append(time.process_time() - t)
        tracemalloc.start()
        step()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        rows.append((name, 1e3 * float(np.median(times)), peak / 2**20))
    for name, ms, mib in rows:
        print(f"{name:14s} {ms:8.1f} ms CPU   peak {mib:6.1f} MiB")
    print(f"ratio          {rows[1][1] / rows[0][1]:8.2f} x time   {rows[1][2] / rows[0][2]:6.2f} x memory")


if __name__ == "__main__":
    main()
