"""Training cases: one full GAN step (D step + G step), and `gan train` throughput.

The step is Algorithm 1 of Goodfellow et al. (2014) with the non-saturating
generator loss, written once (``gan_step``) against a small namespace of
framework functions, so minigrad and torch run literally the same code:

    D step: fake = G(z) under no_grad;  L_D = BCE(D(x), 1) + BCE(D(fake), 0)
    G step: L_G = BCE(D(G(z')), 1)      (non-saturating: maximise log D(G(z)))

both with Adam(lr=2e-4, betas=(0.5, 0.999)) and BCE on logits; as in
gan.training.trainer's Trainer.train_step, D's parameters are frozen during the G step
(no D weight gradients there). The torch models are twins of the minigrad
ones (same layers, same initial weights). With ``amp`` both frameworks run
the forwards and losses under autocast (float16) and each player's update
through its own GradScaler, as ``gan train --amp`` does.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass

import minigrad
import minigrad.nn.functional
import minigrad.optim
from benchmarks.cases import Case, CaseSkipped, Result
from benchmarks.torch_twins import twin

LATENT_DIM = 100
LR, BETAS = 2e-4, (0.5, 0.999)


@dataclass
class Framework:
    """The handful of names a GAN step needs, from minigrad or from torch."""

    randn: object
    no_grad: object
    ones_like: object
    zeros_like: object
    bce_with_logits: object
    device: object
    autocast: object  # autocast(enabled) -> a context manager, float16 on the framework's device
    grad_scaler: object  # grad_scaler() -> a GradScaler on that device

    @classmethod
    def of_minigrad(cls, device):
        F = minigrad.nn.functional
        return cls(
            minigrad.randn,
            minigrad.no_grad,
            minigrad.ones_like,
            minigrad.zeros_like,
            F.binary_cross_entropy_with_logits,
            device,
            lambda enabled: minigrad.amp.autocast(device, enabled=enabled),
            lambda: minigrad.amp.GradScaler(device),
        )

    @classmethod
    def of_torch(cls, torch, device):
        return cls(
            torch.randn,
            torch.no_grad,
            torch.ones_like,
            torch.zeros_like,
            torch.nn.functional.binary_cross_entropy_with_logits,
            torch.device(device),
            lambda enabled: torch.autocast(device, dtype=torch.float16, enabled=enabled),
            lambda: torch.amp.GradScaler(device),
        )


def gan_step(fw: Framework, G, D, opt_g, opt_d, real, latent_dim=LATENT_DIM, scalers=None):
    """One D step on real + fake, then one G step (non-saturating loss); returns (L_D, L_G) tensors.

    ``scalers`` (D's, G's): run under autocast and step each player through its GradScaler.
    """
    b = real.shape[0]
    amp = scalers is not None
    # D step: maximise log D(x) + log(1 - D(G(z)))
    with fw.no_grad(), fw.autocast(amp):
        fake = G(fw.randn(b, latent_dim, device=fw.device))
    with fw.autocast(amp):
        d_real, d_fake = D(real), D(fake)
        loss_d = fw.bce_with_logits(d_real, fw.ones_like(d_real)) + fw.bce_with_logits(d_fake, fw.zeros_like(d_fake))
    opt_d.zero_grad()
    _update(loss_d, opt_d, scalers[0] if amp else None)
    # G step: maximise log D(G(z)), i.e. minimise BCE(D(G(z)), 1); D frozen
    d_params = list(D.parameters())
    for p in d_params:
        p.requires_grad = False
    with fw.autocast(amp):
        d_gen = D(G(fw.randn(b, latent_dim, device=fw.device)))
        loss_g = fw.bce_with_logits(d_gen, fw.ones_like(d_gen))
    opt_g.zero_grad()
    _update(loss_g, opt_g, scalers[1] if amp else None)
    for p in d_params:
        p.requires_grad = True
    return loss_d, loss_g


def _update(loss, opt, scaler):
    """backward and step, through ``scaler`` when given (scale, step, update)."""
    if scaler is None:
        loss.backward()
        opt.step()
        return
    scaler.scale(loss).backward()
    scaler.step(opt)
    scaler.update()


def build_pair(ctx, model: str, width: float = 1.0):
    """((G, D, opt_g, opt_d) for minigrad, the same for torch or None): twins with equal weights."""
    try:
        from gan.models import build_models
    except ImportError as e:
        raise CaseSkipped(f"gan.models is not available ({e})") from e
    G, D = build_models(model, latent_dim=LATENT_DIM, channels=1, width=width)
    G.to(ctx.device)
    D.to(ctx.device)
    mg = (
        G,
        D,
        minigrad.optim.Adam(G.parameters(), lr=LR, betas=BETAS),
        minigrad.optim.Adam(D.parameters(), lr=LR, betas=BETAS),
    )
    if ctx.torch is None:
        return mg, None
    torch = ctx.torch
    tG, tD = twin(G, torch, ctx.device), twin(D, torch, ctx.device)
    th = (
        tG,
        tD,
        torch.optim.Adam(tG.parameters(), lr=LR, betas=BETAS),
        torch.optim.Adam(tD.parameters(), lr=LR, betas=BETAS),
    )
    return mg, th


def _real_batch(ctx, model, batch):
    """Random images in [-1, 1) of the model's shape (the step's cost does not depend on content)."""
    from gan.models import image_shape

    x = minigrad.rand(batch, *image_shape(model), device=ctx.device) * 2 - 1
    tx = None
    if ctx.torch is not None:
        tx = ctx.torch.from_numpy(x.numpy().copy()).to(ctx.torch_device)
    return x, tx


def training_step(ctx, model, batch, limit=None, amp=False) -> Result:
    """One full GAN training step (D step + G step) of ``model`` at ``batch``; ``amp``: under autocast."""
    if model == "dcgan64" and batch > 16 and ctx.device != "cuda":
        raise CaseSkipped("dcgan64 at this batch runs on --device cuda only")
    width = 1.0
    if ctx.quick:
        batch, width = min(batch, 4), (1.0 if model == "mlp" else 0.125)
    mg, th = build_pair(ctx, model, width)
    x, tx = _real_batch(ctx, model, batch)
    mg_fw = Framework.of_minigrad(ctx.device)
    mg_scalers = (mg_fw.grad_scaler(), mg_fw.grad_scaler()) if amp else None
    mg_fn = lambda: gan_step(mg_fw, *mg, x, scalers=mg_scalers)  # noqa: E731
    th_fn = None
    if th is not None:
        th_fw = Framework.of_torch(ctx.torch, ctx.device)
        th_scalers = (th_fw.grad_scaler(), th_fw.grad_scaler()) if amp else None
        th_fn = lambda: gan_step(th_fw, *th, tx, scalers=th_scalers)  # noqa: E731
    big = model == "dcgan64" and ctx.device == "cpu"
    r = ctx.compare(mg_fn, th_fn, repeat=5 if big else 10, budget_s=60 if big else 20)
    r.extra["images_per_s"] = batch / (r.minigrad * 1e-3)
    r.note = (
        f"{r.extra['images_per_s']:.0f} img/s"
        + (f" (torch {batch / (r.torch * 1e-3):.0f})" if r.torch else "")
        + (f"; {r.note}" if r.note else "")
    )
    return r.check_ratio(limit) if limit else r


# --- `gan train` throughput ----------------------------------------------------------------------


def train_throughput(ctx, model="mlp", steps=200, batch=64) -> Result:
    """Images per second of the real ``gan train`` loop (gan.training.trainer.Trainer) over ``steps`` steps.

    One epoch of ``--limit steps*batch`` images. The main number is the loop's own rate
    (the epoch record's images_per_sec: steps, data batches, loss bookkeeping and logging);
    the note adds the end-to-end rate including data loading, the sample grid, the plots and
    the checkpoint. The torch column runs the same number of ``gan_step`` calls of the twins
    over the same BatchIterator (a bare loop).
    """
    if ctx.quick:
        steps = 3
    try:
        from gan.batches import BatchIterator
        from gan.config import TrainConfig
        from gan.training.trainer import train
    except ImportError as e:
        raise CaseSkipped(f"gan.training.trainer is not available ({e})") from e
    with tempfile.TemporaryDirectory(prefix="bench-gan-train-") as outdir:
        cfg = TrainConfig(
            model=model,
            epochs=1,
            batch_size=batch,
            limit=steps * batch,
            device=ctx.device,
            outdir=outdir,
            quiet=True,
            log_every=100,
        )
        ctx.sync()
        t0 = time.perf_counter()
        record = train(cfg)
        ctx.sync()
        wall = time.perf_counter() - t0
    images = steps * batch
    r = Result("", minigrad=record["images_per_sec"], unit="img/s")
    r.extra.update(record=record, wall_s=wall, steps=steps, batch=batch)
    r.note = f"end to end (load, loop, figures, checkpoint): {images / wall:.0f} img/s in {wall:.1f} s"
    if ctx.torch is not None:
        import numpy as np

        from gan.training.trainer import load_training_images

        _, (tG, tD, tg, td) = build_pair(ctx, model)
        th_fw = Framework.of_torch(ctx.torch, ctx.device)
        data = load_training_images(cfg)
        ctx.sync()
        t0 = time.perf_counter()
        for xb in BatchIterator(data, batch, seed=0).epoch(0):
            gan_step(th_fw, tG, tD, tg, td, ctx.torch.from_numpy(np.ascontiguousarray(xb)).to(ctx.torch_device))
        ctx.sync()
        r.torch = images / (time.perf_counter() - t0)
    return r.check_ratio(1.1)


CASES = [
    Case("GAN step mlp b64 (D+G)", training_step, dict(model="mlp", batch=64, limit=1.0)),
    Case("GAN step mlp b128 (D+G)", training_step, dict(model="mlp", batch=128, limit=1.0)),
    Case("GAN step dcgan28 b64 (D+G)", training_step, dict(model="dcgan28", batch=64, limit=1.0)),
    Case("GAN step dcgan64 b16 (D+G)", training_step, dict(model="dcgan64", batch=16)),
    Case("GAN step dcgan64 b64 (D+G, cuda)", training_step, dict(model="dcgan64", batch=64)),
    Case("GAN step dcgan64 b64 (D+G, cuda, amp)", training_step, dict(model="dcgan64", batch=64, amp=True)),
    Case("gan train mlp b64, 200 steps", train_throughput, dict(model="mlp", steps=200, batch=64)),
]
