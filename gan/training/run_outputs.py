"""What a training run writes as it goes, besides its checkpoint and config.json: metrics.jsonl, the epoch
grids samples/epoch_NNN.png with progress.gif, losses.png and scores.png, and with --tensorboard its event files.

The Trainer owns one RunOutputs; a resumed run first drops what its earlier process wrote after the checkpoint
(``forget_after``), so that the continuation writes those records, grids and events again.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import minigrad
from gan.config import TrainConfig
from gan.figures import curves, grids
from gan.run.log import METRICS_FILE, append_record, read_metrics, truncate_metrics
from gan.sampling import digit_rows, generate
from minigrad.atomic_write import remove_temp_files

if TYPE_CHECKING:
    from gan.training.tensorboard import TensorBoardWriter

GRID_COLUMNS = 8  # the epoch grids: 8 x 8 samples, or 8 per digit for a conditional run
GIF_MAX_FRAMES = 60  # progress.gif shows at most this many epochs (its size and memory stay bounded)


class RunOutputs:
    """The metrics log, figures and TensorBoard events of the run in ``outdir`` (``warn``: callable(msg))."""

    def __init__(self, cfg: TrainConfig, outdir: Path, warn):
        self.cfg, self.outdir, self._warn = cfg, outdir, warn
        self.metrics_path = outdir / METRICS_FILE
        self.samples_dir = outdir / "samples"
        self.records: list = []
        self.tb: TensorBoardWriter | None = None  # with --tensorboard, from open_tensorboard

    @property
    def tensorboard_dir(self) -> Path:
        """Where --tensorboard writes: its folder, or the run's tb/."""
        return Path(self.cfg.tensorboard) if self.cfg.tensorboard else self.outdir / "tb"

    def forget_after(self, epoch, step):
        """Drop the records and grids written after (epoch, step): this run writes them again."""
        if self.metrics_path.exists():
            truncate_metrics(self.metrics_path, epoch, step, warn=self._warn)
        for png in self.samples_dir.glob("epoch_*.png"):  # grids of epochs the checkpoint has not seen
            if int(png.stem.split("_")[1]) > epoch:
                png.unlink()

    def read(self):
        """Clear the temporary files of a run killed mid-write (the CLI holds the lock) and read its records."""
        for folder in (self.outdir, self.samples_dir):
            remove_temp_files(folder)
        self.records = read_metrics(self.metrics_path)

    def open_tensorboard(self, step: int, resumed: bool):
        """With --tensorboard, start its writer at ``step``: a resumed run drops the events written after it."""
        if self.cfg.tensorboard is None:
            return
        from gan.training.tensorboard import TensorBoardWriter

        self.tb = TensorBoardWriter(self.tensorboard_dir, purge_step=step + 1 if resumed else None)
        if not resumed:
            self.tb.settings(self.cfg.to_dict())

    def log(self, record, optimizers: dict, nets: dict):
        """Append ``record`` to metrics.jsonl (and TensorBoard: at step records also the ``optimizers``' settings
        and the ``nets``' histograms)."""
        self.records.append(record)
        append_record(self.metrics_path, record)
        if self.tb is not None:
            self.tb.record(record)
            if record["kind"] == "step":  # every --log-every steps: learning rates, momentum, histograms
                self.tb.optimizer_settings(optimizers, record["step"])
                self.tb.histograms(nets, record["step"])
            else:
                self.tb.flush()

    def save_sample_grids(self, generator, fixed_noise, epoch: int, step: int, num_classes: int | None):
        """The epoch's grid from ``fixed_noise`` (one row per digit when ``num_classes``), and progress.gif."""
        if num_classes is None:
            images, title = generate(generator, fixed_noise), f"epoch {epoch}"
        else:  # one row per digit; each column keeps its z, so a column shows one style across the digits
            labels = digit_rows(GRID_COLUMNS, num_classes)
            noise = minigrad.cat([fixed_noise[:GRID_COLUMNS]] * num_classes)
            images, title = generate(generator, noise, labels=labels), f"epoch {epoch}, rows: digits 0-9"
        grids.save_grid(images, self.samples_dir / f"epoch_{epoch:03d}.png", nrow=GRID_COLUMNS, title=title)
        if self.tb is not None:
            self.tb.image("samples", grids.image_grid(images, nrow=GRID_COLUMNS), step)
        frames = sorted(self.samples_dir.glob("epoch_*.png"))
        frames = grids.evenly_spaced(frames, GIF_MAX_FRAMES)
        grids.save_gif(
            frames, self.outdir / "progress.gif", duration_ms=[300] * (len(frames) - 1) + [1500]
        )  # hold the last frame

    def plot_curves(self):
        curves.plot_run(self.records, self.cfg.to_dict(), self.outdir / "losses.png", self.outdir / "scores.png")

    def close(self):
        if self.tb is not None:
            self.tb.close()
