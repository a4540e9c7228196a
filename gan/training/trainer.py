"""The training loop: a run of Algorithm 1 of Goodfellow et al. (2014) with minigrad (its step: gan.training.steps).

Both players use Adam (lr 2e-4, betas (0.5, 0.999), Radford et al.), or SGD with schedules
(gan.training.optimizers). Per-step statistics stay on the device in a small buffer that is read back every few
steps (not every step: on a GPU a read is a sync), and per-parameter gradient norms are computed only at logging
steps.

A run writes config.json, metrics.jsonl, samples/epoch_NNN.png, progress.gif, losses.png and
checkpoint.npz to its output directory (see docs/gan/guide.md / ``python -m gan train --help``).
"""

from __future__ import annotations

import copy
import sys
import time
import warnings
from pathlib import Path

import numpy as np

import minigrad
from gan.batches import BatchIterator
from gan.config import CRITIC_LOSSES, ConfigError, TrainConfig
from gan.data import load_labels
from gan.models import build_models, init_output_bias_from_marginals_
from gan.run.checkpoint import FILENAME as CHECKPOINT_FILE
from gan.run.checkpoint import GRID_SIZE, CheckpointError, load_checkpoint, load_weights, save_checkpoint
from gan.run.errors import TrainingDiverged, TrainingInterrupted, TrainingWriteError
from gan.run.folder import default_outdir
from gan.run.log import CONFIG_FILE, write_json
from gan.sampling import sample_noise
from gan.training.ema import GeneratorEMA
from gan.training.mixed_precision import MixedPrecision
from gan.training.optimizers import build_optimizers, momentum_at, set_momentum
from gan.training.progress import EpochProgress
from gan.training.run_outputs import RunOutputs
from gan.training.step_statistics import StepStatistics, grad_norms
from gan.training.steps import StepResult, alternating_step, simultaneous_step
from gan.training.stop_signals import StopSignals
from gan.training.training_set import load_training_images
from minigrad import backend
from minigrad.autograd import AnomalyError, set_detect_anomaly

_SYNC_EVERY = 25  # read the per-step statistics back at least this often


# --- the loop -----------------------------------------------------------------------------------


def _one_line(anomaly: AnomalyError) -> str:
    """An AnomalyError's report in one line: what the op did and the user's line that created it (its stack of
    minigrad and gan frames is left out of a message that ends a run)."""
    lines = [line.strip() for line in str(anomaly).splitlines() if line.strip()]
    site = next((line for line in lines[1:] if line.lower().startswith(("created at", "forward created at"))), None)
    return lines[0].rstrip(".") + (f"; {site[0].lower()}{site[1:]}" if site else "")


class Trainer:
    """One GAN run: models, optimizers, data, output directory; ``run()`` trains to cfg.epochs.

    resume: a state from gan.run.checkpoint.load_checkpoint (models, optimizers, RNG, fixed noise and
    the position in the data are restored, so the continuation is the same as an uninterrupted
    run, bit for bit on the CPU). evaluator: optional callable(G, epoch) -> dict of scores, called
    every cfg.eval_every epochs and, with cfg.final_scores, at the last epoch; its scores go into that
    epoch's record.
    """

    def __init__(self, cfg: TrainConfig, resume: dict | None = None, evaluator=None, stdout=None):
        self.cfg = cfg.validate()
        if cfg.outdir is None:
            cfg.outdir = default_outdir(cfg.model)
        if cfg.device == "cuda" and not minigrad.cuda.is_available():
            raise ConfigError("{device=cuda} requested but CUDA is not available (CuPy missing or no GPU)", config=cfg)
        self.stdout = stdout or sys.stdout
        self.evaluator = evaluator
        self.outdir = Path(cfg.outdir)
        self.ckpt_path = self.outdir / CHECKPOINT_FILE
        self.outputs = RunOutputs(cfg, self.outdir, self._warn)  # metrics.jsonl, figures, TensorBoard
        self.metrics_path, self.samples_dir = self.outputs.metrics_path, self.outputs.samples_dir

        minigrad.manual_seed(cfg.seed)
        self.data = load_training_images(cfg)
        self.batch_size, self.k = cfg.iteration()
        # a conditional run's batches are (images, labels): the same shuffle draws both
        self.labels = load_labels(cfg.data_dir, "train", cfg.limit) if cfg.conditional else None
        data = self.data if self.labels is None else (self.data, self.labels)
        self.batches = BatchIterator(data, self.batch_size, seed=cfg.seed)
        self.iters_per_epoch = len(self.batches) // self.k
        G, D = build_models(
            cfg.model,
            cfg.latent_dim,
            cfg.channels,
            cfg.width,
            cfg.dropout,
            cfg.d_norm,
            cfg.spectral_norm,
            conditional=cfg.conditional,
        )
        if cfg.model == "goodfellow2014":  # G starts at the mean training image
            init_output_bias_from_marginals_(G, self.data)
        self.G, self.D = G.to(cfg.device), D.to(cfg.device)
        self.opt_g, self.opt_d, self.schedulers = build_optimizers(cfg, G, D)
        self.amp = MixedPrecision(cfg.amp, cfg.device)
        self.unlogged = () if cfg.loss == "wgan-gp" else ("gp_grad_norm",)  # no interpolates, no norm to log
        self.ema = None
        if cfg.ema:
            # a copy, not a new build_models: that would draw from the RNG and change the run
            self.ema = GeneratorEMA(self.G, copy.deepcopy(self.G), cfg.ema)
        self.fixed_noise = sample_noise(GRID_SIZE, cfg.latent_dim, cfg.noise, cfg.device)
        self.epoch, self.batch, self.step, self.seconds_before = 0, 0, 0, 0.0
        self.epoch_sums: dict = {}
        self.saved_at: tuple[int, int] | None = None  # (epoch, step) of the checkpoint on disk
        if resume is not None:
            self._restore(resume)
        else:
            self.outdir.mkdir(parents=True, exist_ok=True)
            self.outputs.forget_after(0, 0)  # a run killed before its first checkpoint left records: start over
        self.outputs.read()
        self._write_config()
        self.outputs.open_tensorboard(self.step, resumed=resume is not None)

    @property
    def tensorboard_dir(self) -> Path:
        """Where --tensorboard writes: its folder, or the run's tb/."""
        return self.outputs.tensorboard_dir

    @property
    def sample_generator(self):
        """The generator that draws the grids and is scored: the weight average with --ema, else G."""
        return self.G if self.ema is None else self.ema.average

    @property
    def sampler(self):
        """Deprecated: ``sample_generator`` (the name said "a sampler" of a model that is a generator)."""
        warnings.warn("Trainer.sampler is deprecated: use Trainer.sample_generator", DeprecationWarning, stacklevel=2)
        return self.sample_generator

    # -- state ---------------------------------------------------------------------------------
    def _restore(self, state):
        cfg = self.cfg
        load_weights(self.G, state, "generator")  # CheckpointError when they do not fit the config's models
        load_weights(self.D, state, "discriminator")
        load_weights(self.opt_g, state, "opt_g")
        load_weights(self.opt_d, state, "opt_d")
        if self.amp.enabled:
            if "scalers" not in state:
                raise CheckpointError("the run's config has --amp but its checkpoint keeps no GradScaler state")
            load_weights(self.amp, state, "scalers")
        for sched, saved in zip(self.schedulers, state.get("schedulers", [])):
            sched.load_state_dict(saved)
        if self.ema is not None:
            if "generator_ema" in state:
                load_weights(self.ema.average, state, "generator_ema")
                self.ema.updates = int(state["ema_updates"])
            else:  # --ema switched on when resuming: the average starts here
                self.ema.copy_from_source()
        self.fixed_noise = state["fixed_noise"].to(cfg.device)
        backend.set_rng_state(state["rng_state"])
        self.epoch, self.batch, self.step = state["epoch"], state["batch"], state["step"]
        self.seconds_before = state["seconds"]
        self.epoch_sums = dict(state["epoch_sums"])
        self.saved_at = (self.epoch, self.step)
        self.outputs.forget_after(self.epoch, self.step)  # the run died later

    def _write_config(self):
        info = dict(
            self.cfg.to_dict(),
            minigrad_version=minigrad.__version__,
            numpy_version=np.__version__,
            num_images=int(len(self.data)),
            iterations_per_epoch=self.iters_per_epoch,
            image_shape=list(self.G.image_shape),
            threads=minigrad.get_num_threads(),
        )
        write_json(self.outdir / CONFIG_FILE, info)

    def save(self, epoch_sums=None):
        save_checkpoint(
            self.ckpt_path,
            config=self.cfg.to_dict(),
            G=self.G,
            D=self.D,
            opt_g=self.opt_g,
            opt_d=self.opt_d,
            epoch=self.epoch,
            batch=self.batch,
            step=self.step,
            fixed_noise=self.fixed_noise,
            epoch_sums=epoch_sums or {},
            seconds=self.seconds_before + time.perf_counter() - self.t_start,
            ema=self.ema,
            schedulers=self.schedulers,
            scalers=self.amp.state_dict(),
        )
        self.saved_at = (self.epoch, self.step)

    def _log(self, record):
        self.outputs.log(record, {"g": self.opt_g, "d": self.opt_d}, {"G": self.G, "D": self.D})

    def _warn(self, msg):
        print(f"warning: {msg}", file=sys.stderr, flush=True)

    def _print(self, msg):
        if not self.cfg.quiet:
            print(msg, file=self.stdout, flush=True)

    # -- one iteration -------------------------------------------------------------------------
    def _real(self, batch):
        return minigrad.Tensor(batch if self.cfg.device == "cpu" else backend.to_device(batch, self.cfg.device))

    def _split(self, batch):
        """(images, labels on the device) of a conditional run's batch; (images, None) otherwise."""
        if self.labels is None:
            return batch, None
        xb, yb = batch
        return xb, (yb if self.cfg.device == "cpu" else backend.to_device(yb, self.cfg.device))

    def train_step(self, real_batches) -> StepResult:
        """One iteration: ``alternating_step`` or ``simultaneous_step`` (--updates), then the schedules."""
        if self.cfg.updates == "simultaneous":
            out = self.simultaneous_step(real_batches[0])
        else:
            out = self.alternating_step(real_batches)
        for sched in self.schedulers:
            sched.step()
        return out

    def alternating_step(self, real_batches) -> StepResult:
        """k discriminator updates (one real batch each), then one generator update: steps.alternating_step."""
        split = [self._split(batch) for batch in real_batches]
        reals, d_updates_before = [self._real(xb) for xb, _ in split], self.step * self.k
        labels = None if self.labels is None else [y for _, y in split]
        return alternating_step(
            self.cfg, self.G, self.D, self.opt_g, self.opt_d, reals, d_updates_before, self.ema, self.amp, labels
        )

    def simultaneous_step(self, batch) -> StepResult:
        """Both players' gradients from one forward pass, then both step: steps.simultaneous_step."""
        xb, y = self._split(batch)
        return simultaneous_step(
            self.cfg, self.G, self.D, self.opt_g, self.opt_d, self._real(xb), self.ema, self.amp, y
        )

    # -- the run -------------------------------------------------------------------------------
    def run(self) -> dict:
        """Train until cfg.epochs; returns the last epoch record (or {} when nothing was left to do)."""
        cfg = self.cfg
        self.t_start = time.perf_counter()
        self.step_at_start = self.step
        if self.epoch >= cfg.epochs:
            self._print(
                f"{self.outdir}: already trained for {self.epoch} epochs (--epochs {cfg.epochs}); nothing to do"
            )
            return {}
        self._print(
            f"training {cfg.model}{f' (--preset {cfg.preset})' if cfg.preset else ''} on {len(self.data)} images "
            f"of shape {tuple(self.data.shape[1:])}, "
            f"{self.iters_per_epoch} iterations per epoch, device {cfg.device}; writing to {self.outdir}"
        )
        show_bar = not cfg.quiet and self.stdout.isatty()
        if (cfg.eval_every or cfg.final_scores) and self.evaluator is None:
            flag = f"--eval-every {cfg.eval_every}" if cfg.eval_every else "--final-scores"
            self._print(f"note: {flag} is set but no evaluator is wired in; not evaluating")
        last = {}
        with StopSignals() as stop, set_detect_anomaly(cfg.detect_anomaly):
            try:
                while self.epoch < cfg.epochs:
                    try:
                        last = self._run_epoch(stop, show_bar)
                    except AnomalyError as e:  # raised at the op that made the nan/inf, before any loss shows it
                        raise TrainingDiverged(
                            f"training diverged at step {self.step + 1} (epoch {self.epoch + 1}): {_one_line(e)}"
                        ) from None
            except TrainingDiverged as e:
                raise TrainingDiverged(f"{e}; stopped, {self._kept()}") from None
            except OSError as e:  # a checkpoint, figure or log line could not be written
                raise TrainingWriteError(
                    f"{e.strerror or e}; stopped, {self._kept()}"
                    + (f"; continue with --resume {self.outdir}" if self.saved_at else "")
                ) from e
            finally:
                self.outputs.close()
        return last

    def _kept(self) -> str:
        """Which checkpoint a stopped run leaves, for its message."""
        if not self.saved_at:
            return "no checkpoint had been written yet"
        return (
            f"the last good checkpoint (epoch {self.saved_at[0]}, step {self.saved_at[1]}) is kept in {self.ckpt_path}"
        )

    def _run_epoch(self, stop, show_bar):
        cfg, k = self.cfg, self.k
        epoch = self.epoch + 1  # 1-based in files and messages
        stats = StepStatistics(backend.xp_for(cfg.device), min(cfg.log_every, _SYNC_EVERY))
        sums = self.epoch_sums or {}
        stats.restore(sums)
        first = self.batch // k
        if cfg.final_momentum is not None:  # the momentum schedule, through param_groups
            set_momentum((self.opt_g, self.opt_d), momentum_at(cfg, epoch))
        batches = self.batches.epoch(self.epoch, start=self.batch)
        with EpochProgress(
            show_bar,
            self.iters_per_epoch,
            first,
            f"epoch {epoch}/{cfg.epochs}",
            self.stdout,
            seconds=sums.get("seconds", 0.0),
            images=sums.get("images", 0),
        ) as progress:
            for _ in range(self.iters_per_epoch - first):
                out = self.train_step([next(batches) for _ in range(k)])
                self.step += 1
                self.batch += k
                progress.count(k * self.batch_size)
                full = stats.add(self.step, *out)
                logging_step = self.step % cfg.log_every == 0
                if full or logging_step or stop.requested:
                    stats.flush(epoch)
                    progress.show(
                        stats.interval_means(self.unlogged) if stats.interval["n"] else {},
                        f"epoch {epoch}/{cfg.epochs}{self._run_left()}",
                    )
                if logging_step:
                    now, images_per_sec = progress.end_interval()
                    means = stats.interval_means(self.unlogged)
                    self._log(self._record("step", epoch, means, now, images_per_sec=images_per_sec))
                    stats.next_interval()
                progress.tick()
                if stop.requested:
                    self._interrupt(stats, progress.epoch_seconds(), progress.images)
        stats.flush(epoch)
        now = time.perf_counter()
        seconds, images = progress.epoch_seconds(now), progress.images
        self.epoch, self.batch, self.epoch_sums = epoch, 0, {}
        record = self._record(
            "epoch",
            epoch,
            stats.epoch_means(self.unlogged),
            now,
            epoch_seconds=round(seconds, 3),
            images_per_sec=round(images / max(seconds, 1e-9), 1),
        )
        scored = (cfg.eval_every and epoch % cfg.eval_every == 0) or (cfg.final_scores and epoch == cfg.epochs)
        if scored and self.evaluator is not None:
            record.update(self.evaluator(self.sample_generator, epoch))
        num_classes = None if self.labels is None else self.G.num_classes
        self.outputs.save_sample_grids(self.sample_generator, self.fixed_noise, epoch, self.step, num_classes)
        self._log(record)
        self.outputs.plot_curves()
        self.save()
        d = "f" if cfg.loss in CRITIC_LOSSES else "D"  # the critic value itself, or a probability
        self._print(
            f"epoch {epoch}/{cfg.epochs}  step {self.step}  loss_d {record['loss_d']:.4f}  "
            f"loss_g {record['loss_g']:.4f}  {d}(x) {record['d_real']:.3f}  {d}(G(z)) {record['d_fake']:.3f}  "
            f"{seconds:.1f} s ({record['images_per_sec']:.0f} img/s){self._run_left()}"
        )
        return record

    def _record(self, kind: str, epoch: int, means: dict, now: float, **timing) -> dict:
        """A metrics.jsonl record: the statistics' means, both players' gradient norms (and, with --amp, their
        loss scales and skipped steps), the run's seconds at ``now`` (a perf_counter reading), then ``timing``."""
        grads = dict(grad_norm_d=grad_norms(self.D), grad_norm_g=grad_norms(self.G), **self.amp.record())
        seconds = round(self.seconds_before + now - self.t_start, 3)
        return dict(kind=kind, epoch=epoch, step=self.step, **means, **grads, seconds=seconds, **timing)

    def _run_left(self) -> str:
        """', run 0:12:34 left': the whole run's remaining time at this invocation's pace ('' before a step
        or at the end)."""
        done = self.step - self.step_at_start
        left_steps = self.cfg.epochs * self.iters_per_epoch - self.step
        if done <= 0 or left_steps <= 0:
            return ""
        left = round(left_steps * (time.perf_counter() - self.t_start) / done)
        return f", run {left // 3600}:{left // 60 % 60:02d}:{left % 60:02d} left"

    def _interrupt(self, stats, epoch_seconds, epoch_images):
        """Ctrl-C: checkpoint the state after this whole step (mid-epoch) and stop."""
        sums = dict(stats.epoch, seconds=epoch_seconds, images=epoch_images)
        sums.update({f"interval_{key}": value for key, value in stats.interval.items()})
        self.save(epoch_sums=sums)
        raise TrainingInterrupted(
            f"interrupted at step {self.step} (epoch {self.epoch + 1}); checkpoint "
            f"written to {self.ckpt_path}; continue with --resume {self.outdir}"
        )


def train(cfg: TrainConfig, resume=None, evaluator=None, stdout=None) -> dict:
    """Run (or, with resume=RUN_DIR or a loaded checkpoint, continue) a GAN training run.

    Returns the last epoch's record. Raises TrainingDiverged on a nan/inf loss (the last good
    checkpoint is kept) and TrainingInterrupted after Ctrl-C (a checkpoint is written).
    """
    if resume is not None and not isinstance(resume, dict):
        resume = load_checkpoint(resume, map_location=cfg.device)
    return Trainer(cfg, resume=resume, evaluator=evaluator, stdout=stdout).run()
