"""Seeded minibatches whose order depends only on (seed, epoch), so a resumed run sees the same batches."""

from __future__ import annotations

import numpy as np


class BatchIterator:
    """Seeded minibatches over the first axis of an array (or a tuple of equally long arrays).

    Epoch e shuffles with its own generator, numpy.random.default_rng([seed, e]), so its order
    depends only on (seed, e): resuming a run at epoch e (even mid-epoch, with ``start``)
    reproduces the batches bit for bit without replaying earlier epochs.

        it = BatchIterator(x, 64, seed=0)
        for e in range(start_epoch, epochs):
            for xb in it.epoch(e):
                ...
    """

    def __init__(self, data, batch_size: int, seed: int, shuffle: bool = True, drop_last: bool = True):
        self.is_tuple = isinstance(data, (tuple, list))
        self.arrays = tuple(data) if self.is_tuple else (data,)
        if not self.arrays:
            raise ValueError("BatchIterator: no arrays given")
        n = len(self.arrays[0])
        if any(len(a) != n for a in self.arrays):
            raise ValueError(f"BatchIterator: arrays differ in length: {[len(a) for a in self.arrays]}")
        if int(batch_size) < 1:
            raise ValueError(f"BatchIterator: batch_size must be >= 1, got {batch_size}")
        if drop_last and n < batch_size:
            raise ValueError(f"BatchIterator: {n} samples make no full batch of {batch_size} (drop_last=True)")
        self.num_samples, self.batch_size = n, int(batch_size)
        self.seed, self.shuffle, self.drop_last = int(seed), shuffle, drop_last
        self.next_epoch = 0  # used by plain iteration: `for batch in it` runs one epoch and advances

    def __len__(self) -> int:
        """Batches per epoch."""
        full, rest = divmod(self.num_samples, self.batch_size)
        return full + (1 if rest and not self.drop_last else 0)

    def order(self, epoch: int) -> np.ndarray:
        """The sample indices of epoch `epoch`, in visiting order (all of them, even if drop_last)."""
        if not self.shuffle:
            return np.arange(self.num_samples)
        return np.random.default_rng([self.seed, int(epoch)]).permutation(self.num_samples)

    def epoch(self, epoch: int, start: int = 0):
        """Iterator over epoch `epoch`'s batches, beginning at batch `start` (to resume mid-epoch)."""
        idx = self.order(epoch)
        for b in range(int(start), len(self)):
            sel = idx[b * self.batch_size : (b + 1) * self.batch_size]
            batch = tuple(a[sel] for a in self.arrays)
            yield batch if self.is_tuple else batch[0]

    def __iter__(self):
        e = self.next_epoch
        self.next_epoch += 1
        return self.epoch(e)
