"""One iteration of GAN training: Algorithm 1's alternating updates, or both players' from one forward pass.

    alternating (Algorithm 1 of Goodfellow et al. 2014), for k steps:
        x ~ data minibatch,  z ~ p_z (noise),  fake = G(z) without a graph
        update D by descending  L_D = BCE(D(x), 1 - s) + BCE(D(fake), 0)
                              = -[log D(x) + log(1 - D(G(z)))]  (s = 0: the paper's value V(D, G))
    then z ~ p_z;  update G by descending
        nonsaturating (default): L_G = -log D(G(z))       (BCE(D(G(z)), 1); the paper's Sec. 3 advice)
        minimax:                 L_G = log(1 - D(G(z)))   (-BCE(D(G(z)), 0); V(D, G) as written)

    simultaneous (the released code of Goodfellow et al.): both losses from one forward pass, both players step.

With ``amp`` (gan.training.mixed_precision, ``--amp``) each forward and its loss run under autocast and each player
backs up and steps through its own GradScaler; D's outputs are cast to float32 before the losses.

D outputs logits l and D(x) = sigmoid(l); every loss works on logits, where it is stable. The step is kept lean:
D's parameters are frozen (requires_grad False) during the G step, so no D weight gradients are computed there,
and the statistics a step returns stay on the device (reading them is a sync on a GPU).
"""

from __future__ import annotations

import contextlib
from typing import Any, NamedTuple

import minigrad
from gan.config import CRITIC_LOSSES
from gan.losses import d_loss_for, g_loss_for
from gan.penalties import gradient_penalty, r1_penalty
from gan.sampling import sample_noise
from gan.training.mixed_precision import MixedPrecision
from minigrad import backend


class StepResult(NamedTuple):
    """What one iteration reports, as 0-d device arrays (no host sync).

    The D numbers are those of the last D update: loss_d includes the penalties; d_real and d_fake are mean
    D(x) and mean D(G(z)), where D(.) is the sigmoid of D's output for the BCE losses and the critic value itself
    for hinge and wgan-gp; penalty is the mean over the k D updates of the penalty added to their losses,
    gp_grad_norm the mean over them of WGAN-GP's mean ||grad D(x_hat)|| (0 without WGAN-GP).
    """

    loss_d: Any
    loss_g: Any
    d_real: Any
    d_fake: Any
    penalty: Any
    gp_grad_norm: Any

    @classmethod
    def of(cls, loss: str, loss_d, loss_g, real_out, fake_out, penalty_sum=None, norm_sum=None, d_updates=1):
        """The result of a step from its last D update's losses and outputs (Tensors) and the sums over its
        ``d_updates`` D updates of the penalties and WGAN-GP gradient norms (arrays, None when there were none)."""
        zero = backend.get_array_module(loss_d.data).zeros((), dtype=loss_d.data.dtype)
        return cls(
            loss_d.data,
            loss_g.data,
            _mean_output(loss, real_out.data),
            _mean_output(loss, fake_out.data),
            zero if penalty_sum is None else penalty_sum / d_updates,
            zero if norm_sum is None else norm_sum / d_updates,
        )


def alternating_step(
    cfg, G, D, opt_g, opt_d, reals, d_updates_before: int = 0, ema=None, amp=None, labels=None
) -> StepResult:
    """k = len(reals) discriminator updates (one real batch each), then one generator update (Algorithm 1).

    The D loss is ``cfg.loss``'s (gan.losses.d_loss_for), plus WGAN-GP's gradient penalty on interpolates and,
    with ``cfg.r1``, R1 on the real batch every ``cfg.r1_every`` D updates (counted from ``d_updates_before``,
    the D updates of the run before this step), scaled by that interval. ``ema``: updated after G's step.
    ``amp``: a MixedPrecision (None: float32, plain backward and step).
    ``labels``: a conditional run's labels, one array per real batch: G(z, y) and D(x, y) see the real batch's,
    and the G step draws the last batch's.
    """
    amp = amp or MixedPrecision(False, cfg.device)
    real_target = 1.0 - cfg.label_smoothing
    penalty_sum = None  # of the penalties added to the k D losses, for the log
    norm_sum = None  # of WGAN-GP's mean gradient norms at the interpolates, for the log
    for i, x in enumerate(reals):
        y = None if labels is None else labels[i]
        with minigrad.no_grad(), amp.autocast():  # the D step needs no graph through G
            fake = _call(G, sample_noise(len(x), cfg.latent_dim, cfg.noise, cfg.device), y)
        lazy_r1 = cfg.r1 > 0 and (d_updates_before + i) % cfg.r1_every == 0
        if lazy_r1:
            x.requires_grad_()
        with amp.autocast():
            real_logits, fake_logits = amp.float32(_call(D, x, y)), amp.float32(_call(D, fake, y))
            loss_d = d_loss_for(cfg.loss, real_logits, fake_logits, real_target, cfg.d_loss)
            penalty = None
            if cfg.loss == "wgan-gp":
                penalty, norm = gradient_penalty(_with_labels(D, y), x, fake, cfg.gp_lambda)
                norm_sum = norm.data if norm_sum is None else norm_sum + norm.data
            if lazy_r1:
                r1 = r1_penalty(real_logits, x, cfg.r1 * cfg.r1_every)
                penalty = r1 if penalty is None else penalty + r1
            if penalty is not None:
                loss_d = loss_d + penalty
                penalty_sum = penalty.data if penalty_sum is None else penalty_sum + penalty.data
        opt_d.zero_grad()
        amp.backward("d", loss_d)
        amp.step("d", opt_d)
    with frozen(D.parameters()):  # the G step: backward computes gradients for G's weights only
        y = None if labels is None else labels[-1]
        z = sample_noise(len(reals[-1]), cfg.latent_dim, cfg.noise, cfg.device)
        with amp.autocast():
            loss_g = g_loss_for(cfg.loss, amp.float32(_call(D, _call(G, z, y), y)))
        opt_g.zero_grad()
        amp.backward("g", loss_g)
        amp.step("g", opt_g)
        if ema is not None:
            ema.update()
    return StepResult.of(cfg.loss, loss_d, loss_g, real_logits, fake_logits, penalty_sum, norm_sum, len(reals))


def simultaneous_step(cfg, G, D, opt_g, opt_d, x, ema=None, amp=None, labels=None) -> StepResult:
    """Both players' gradients from one forward pass, then both step (k = 1; the released code's update).

    fake = G(z); l_r = D(x), l_f = D(fake) with one draw of D's dropout masks; L_D on (l_r, l_f) gives
    D's gradient, L_G on the same l_f gives G's: backward of L_G stops at D's input (D frozen), and
    that input gradient continues into G (scaled by G's scale under ``amp``). Neither update sees the other's step.
    ``labels``: a conditional run's labels of x, which the fakes get too.
    """
    amp = amp or MixedPrecision(False, cfg.device)
    with amp.autocast():
        fake = _call(G, sample_noise(len(x), cfg.latent_dim, cfg.noise, cfg.device), labels)
        fake_in = fake.detach().requires_grad_()  # D's graph ends here; G's resumes from its gradient
        real_logits, fake_logits = amp.float32(_call(D, x, labels)), amp.float32(_call(D, fake_in, labels))
        loss_d = d_loss_for(cfg.loss, real_logits, fake_logits, 1.0 - cfg.label_smoothing, cfg.d_loss)
        loss_g = g_loss_for(cfg.loss, fake_logits)
    opt_d.zero_grad()
    opt_g.zero_grad()
    amp.backward("d", loss_d, retain_graph=True)  # the fake pass is needed again for L_G
    fake_in.grad = None  # dL_D/d fake: not G's gradient
    with frozen(D.parameters()):
        amp.backward("g", loss_g)  # only to fake_in: D's gradients stay those of L_D
    fake.backward(fake_in.grad)
    amp.step("d", opt_d)
    amp.step("g", opt_g)
    if ema is not None:
        ema.update()
    return StepResult.of(cfg.loss, loss_d, loss_g, real_logits, fake_logits)


def _call(net, inputs, labels):
    """net(inputs), or net(inputs, labels) for a conditional run's G or D."""
    return net(inputs) if labels is None else net(inputs, labels)


def _with_labels(D, labels):
    """D itself, or x -> D(x, labels) for a conditional D (the penalties call D on images alone)."""
    return D if labels is None else (lambda inputs: D(inputs, labels))


@contextlib.contextmanager
def frozen(params):
    """requires_grad False for ``params`` inside the block, so backward computes no gradients for them."""
    params = list(params)
    for p in params:
        p.requires_grad = False
    try:
        yield
    finally:
        for p in params:
            p.requires_grad = True


def _mean_output(loss, out):
    """The log's mean D output: mean sigmoid(l) for the BCE losses, the mean critic value f for hinge and wgan-gp
    (a sigmoid of an unbounded critic value means nothing)."""
    return out.mean() if loss in CRITIC_LOSSES else _mean_sigmoid(out)


def _mean_sigmoid(logits):
    """mean sigmoid(l) as a 0-d device array; sigmoid(l) = (1 + tanh(l / 2)) / 2 never overflows."""
    xp = backend.get_array_module(logits)
    half = logits.dtype.type(0.5)
    return (xp.tanh(logits * half).mean() + 1) * half
