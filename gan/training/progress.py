"""One epoch's clock and progress bar: the seconds and images per second that go into the records, and the
tqdm bar with the live losses (only when shown)."""

from __future__ import annotations

import time


class EpochProgress:
    """Counts the images and time of one epoch, of the current log interval, and moves the bar.

    ``seconds`` and ``images``: what an interrupted invocation had already done of this epoch.
    """

    def __init__(self, show: bool, total: int, initial: int, desc: str, file, seconds: float = 0.0, images: int = 0):
        self.bar = _progress_bar(show, total, initial, desc, file)
        self.seconds_before, self.images = seconds, images
        self.t_epoch = self.t_interval = time.perf_counter()
        self.interval_images = 0

    def count(self, images: int) -> None:
        """A step over ``images`` training images is done."""
        self.images += images
        self.interval_images += images

    def show(self, postfix: dict, desc: str) -> None:
        """The bar's live numbers and description (drawn at its next update)."""
        if self.bar is not None:
            self.bar.set_postfix(postfix, refresh=False)
            self.bar.set_description(desc, refresh=False)

    def tick(self) -> None:
        if self.bar is not None:
            self.bar.update(1)

    def end_interval(self) -> tuple[float, float]:
        """(now, images per second of the log interval that ends now); the next interval starts."""
        now = time.perf_counter()
        rate = round(self.interval_images / max(now - self.t_interval, 1e-9), 1)
        self.t_interval, self.interval_images = now, 0
        return now, rate

    def epoch_seconds(self, now: float | None = None) -> float:
        """Seconds spent on this epoch, over every invocation."""
        return self.seconds_before + (time.perf_counter() if now is None else now) - self.t_epoch

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def _progress_bar(show, total, initial, desc, file):
    if not show:
        return None
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, desc=desc, file=file, dynamic_ncols=True, leave=True)
