"""An exponential moving average (EMA) of the generator's weights, used to draw samples.

After every generator step, for each parameter p and its average a:

    a <- d * a + (1 - d) * p,        d = min(decay, (1 + t) / (10 + t))   (t = updates so far)

The warm-up in d (as in TensorFlow's ExponentialMovingAverage) keeps the early average from
clinging to the random initial weights. Averaging the iterates of a GAN's generator damps the
oscillation of the two-player game, so the averaged generator draws cleaner, steadier samples
than the last iterate (Yazici et al. 2019, "The unusual effectiveness of averaging in GAN
training"). Buffers (BatchNorm running statistics) are copied, not averaged. Training itself is
unchanged: the average is read only for sample grids, evaluation and ``sample``.
"""

from __future__ import annotations

from minigrad.backend import get_array_module
from minigrad.optim.streaming import SCRATCH, stream


class GeneratorEMA:
    """``average`` is a second generator (same architecture) holding the EMA of ``source``'s weights."""

    def __init__(self, source, average, decay: float, updates: int = 0):
        if not 0.0 < decay < 1.0:
            raise ValueError(f"GeneratorEMA: decay must be in (0, 1), got {decay}")
        self.source, self.average, self.decay, self.updates = source, average, float(decay), int(updates)
        self.average.eval()
        self._pairs = list(zip(average.parameters(), source.parameters()))
        self._buffers = list(zip(average.buffers(), source.buffers()))
        for a, _ in self._pairs:
            a.requires_grad = False

    def copy_from_source(self) -> None:
        """Start the average at the source's current weights."""
        self.average.load_state_dict(self.source.state_dict())

    def update(self) -> None:
        d = min(self.decay, (1.0 + self.updates) / (10.0 + self.updates))
        # a - (1 - d) (a - p) == d a + (1 - d) p, in place and in a's dtype, streamed through the cache
        stream(_ema_kernel, [((a.data, p.data, SCRATCH), (a.data.dtype.type(1.0 - d),)) for a, p in self._pairs])
        for a, b in self._buffers:
            a.data[...] = b.data
        self.updates += 1


def _ema_kernel(a, p, s, one_minus_d):
    """``a -= (1 - d) * (a - p)`` in place; ``s`` is scratch."""
    xp = get_array_module(a)
    xp.subtract(a, p, out=s)
    xp.multiply(one_minus_d, s, out=s)
    xp.subtract(a, s, out=a)
