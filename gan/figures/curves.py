"""Curves: the losses and D's mean outputs over steps (plot_losses), the evaluation scores over epochs
(plot_scores, or several runs' on one figure with compare_scores), and a run's two figures from its metrics.jsonl
records (plot_run): losses.png, and scores.png with Table 1's line for adversarial nets on the Parzen panel. The
trainer plots them after every epoch; ``python -m gan plot`` plots them again, e.g. from a later epoch on, or
several runs' scores side by side."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gan.config import CRITIC_LOSSES
from gan.evaluation.evaluate import PAPER_TABLE_1
from gan.figures.canvas import new_figure, save_figure


def moving_average(y, window: int) -> np.ndarray:
    """Trailing mean over the last `window` values (fewer at the start), same length as y."""
    y = np.asarray(y, dtype=np.float64)
    c = np.concatenate([[0.0], np.cumsum(y)])
    i = np.arange(1, len(y) + 1)
    lo = np.maximum(0, i - window)
    return (c[i] - c[lo]) / (i - lo)


def _column(records, key):
    return np.array([float(r[key]) if r.get(key) is not None else np.nan for r in records])


def _plot_series(ax, x, y, label, color):
    """Raw values thin; a moving average on top once there are enough points to be noisy."""
    if len(y) > 50:
        ax.plot(x, y, color=color, alpha=0.25, linewidth=0.7)
        ax.plot(x, moving_average(y, max(2, len(y) // 50)), color=color, linewidth=1.5, label=label)
    else:
        ax.plot(x, y, color=color, linewidth=1.5, marker="." if len(y) < 20 else None, label=label)


def plot_losses(records, path, title=None, critic=False) -> Path:
    """Training curves -> PNG with two panels: the losses, and the discriminator's outputs.

    records: dicts with 'step', 'loss_d', 'loss_g', 'd_real' (mean D(x)) and 'd_fake' (mean
    D(G(z))); missing values are skipped. At the game's equilibrium D = 1/2 everywhere
    (Goodfellow et al. 2014, Prop. 1), drawn as a dashed line. critic=True: the outputs are
    unbounded critic values f (hinge, WGAN), drawn on their own scale without that line.
    """
    records = list(records)
    if not records:
        raise ValueError("plot_losses: no records")
    if any("step" not in r for r in records):
        raise ValueError("plot_losses: every record needs a 'step' key")
    step = _column(records, "step")
    fig = new_figure(figsize=(8, 6.5))
    ax_loss, ax_d = fig.subplots(2, 1, sharex=True)
    for key, label, color in (("loss_d", "D loss", "tab:blue"), ("loss_g", "G loss", "tab:orange")):
        if any(key in r for r in records):
            _plot_series(ax_loss, step, _column(records, key), label, color)
    ax_loss.set_ylabel("loss")
    d = "f" if critic else "D"
    for key, label, color in (("d_real", f"{d}(x), real", "tab:green"), ("d_fake", f"{d}(G(z)), fake", "tab:red")):
        if any(key in r for r in records):
            _plot_series(ax_d, step, _column(records, key), label, color)
    if critic:
        ax_d.set_ylabel("mean critic output")
    else:
        ax_d.axhline(0.5, color="gray", linestyle="--", linewidth=1, label="equilibrium 1/2")
        ax_d.set_ylim(-0.02, 1.02)
        ax_d.set_ylabel("mean discriminator output")
    ax_d.set_xlabel("step")
    for ax in (ax_loss, ax_d):
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="best", fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return save_figure(fig, path, 100)


# key -> (panel title, key of its error bar, which direction is better)
SCORE_PANELS = {
    "parzen_ll": ("Parzen window log-likelihood (nats)", "parzen_se", "higher is better"),
    "fid": ("FID (MNIST classifier features)", None, "lower is better"),
    "inception_score": ("Inception score (MNIST classifier)", "inception_score_std", "higher is better"),
    "modes_covered": ("digit classes covered", None, "of 10"),
}


def plot_scores(records, path, references=None, title=None) -> Path:
    """Evaluation scores over epochs -> PNG, one panel per metric present in the records.

    records: dicts with 'epoch' and any of 'parzen_ll' (error bars from 'parzen_se'), 'fid',
    'inception_score', 'modes_covered'. references: optional {metric: [(value, label), ...]}
    drawn as dashed lines, e.g. {'parzen_ll': [(225, 'paper: adversarial nets')]}.
    """
    return compare_scores([("model", records)], path, references=references, title=title)


def compare_scores(runs, path, references=None, title=None) -> Path:
    """Several runs' evaluation scores over epochs -> PNG: one panel per metric present in any run, one line
    (with error bars where the records have them) per run, in the order given.

    runs: [(label, records), ...], records as ``plot_scores`` takes them; references as there.
    """
    runs = [(label, list(records)) for label, records in runs]
    if not runs:
        raise ValueError("compare_scores: no runs")
    for label, records in runs:
        if any("epoch" not in r for r in records):
            raise ValueError(f"compare_scores: every record needs an 'epoch' key ({label})")
    present = [k for k in SCORE_PANELS if any(r.get(k) is not None for _, records in runs for r in records)]
    if not present:
        raise ValueError(f"compare_scores: the records hold none of the metrics {list(SCORE_PANELS)}")
    references = references or {}
    fig = new_figure(figsize=(4.2 * len(present), 3.6 + 0.25 * max(0, len(runs) - 3)))
    axes = np.atleast_1d(fig.subplots(1, len(present)))
    for ax, key in zip(axes, present):
        name, err_key, better = SCORE_PANELS[key]
        for label, records in runs:
            rows = [r for r in records if r.get(key) is not None]
            if not rows:
                continue
            x, y = _column(rows, "epoch"), _column(rows, key)
            has_err = err_key and any(r.get(err_key) is not None for r in rows)
            err = _column(rows, err_key) if has_err else None
            ax.errorbar(x, y, yerr=err, marker="o", markersize=4, capsize=3, linewidth=1.5, label=label)
        for value, label in references.get(key, ()):
            ax.axhline(value, color="gray", linestyle="--", linewidth=1, label=label)
        if key == "modes_covered":
            ax.set_ylim(-0.3, 10.3)
        ax.set_title(f"{name}\n({better})", fontsize=9)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        if len(ax.get_legend_handles_labels()[0]) > 1:
            ax.legend(loc="best", fontsize=7)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return save_figure(fig, path, 100)


PAPER_PARZEN = next(ll for name, ll, _ in PAPER_TABLE_1 if name == "Adversarial nets")
TABLE_1_LINES = {"parzen_ll": [(PAPER_PARZEN, f"paper, Table 1: {PAPER_PARZEN}")]}


def _with_table_1(references) -> dict:
    """{metric: [(value, label), ...]} for every score panel: Table 1's line first, then ``references``'."""
    return {key: list(TABLE_1_LINES.get(key, [])) + list((references or {}).get(key, [])) for key in SCORE_PANELS}


def scored(records) -> list[dict]:
    """The epoch records that hold at least one score."""
    return [r for r in records if r["kind"] == "epoch" and any(r.get(key) is not None for key in SCORE_PANELS)]


def plot_run_losses(records, path, title=None, critic=False) -> Path:
    """losses.png: the step records, or the epoch records while there are fewer than two steps (and some epoch);
    ``critic``: D's outputs are critic values (hinge, wgan-gp), not probabilities."""
    steps = [r for r in records if r["kind"] == "step"]
    epochs = [r for r in records if r["kind"] == "epoch"]
    rows = steps if len(steps) >= 2 or not epochs else epochs
    return plot_losses(rows, path, title, critic=critic)


def plot_run_scores(records, path, title=None, references=None) -> Path | None:
    """scores.png from the scored epoch records (None, and no file, when there are none), with Table 1's line
    and any ``references`` ({metric: [(value, label), ...]}) as dashed lines."""
    rows = scored(records)
    if not rows:
        return None
    lines = _with_table_1(references)
    return plot_scores(rows, path, references=lines, title=title)


def plot_runs_scores(runs, path, title=None, references=None) -> Path | None:
    """One scores figure of several runs ([(label, records), ...], each run's scored epoch records drawn as a
    line), with Table 1's line and any ``references``; None, and no file, when no run has scores."""
    runs = [(label, scored(records)) for label, records in runs]
    if not any(rows for _, rows in runs):
        return None
    lines = _with_table_1(references)
    return compare_scores([(label, rows) for label, rows in runs if rows], path, references=lines, title=title)


def plot_run(records, config: dict, losses_path, scores_path, references=None) -> tuple[Path, Path | None]:
    """Both figures of a run with settings ``config`` (config.json's dict), titled from it, D's outputs plotted as
    critic values for hinge and wgan-gp; returns (losses.png, scores.png or None when nothing was scored)."""
    losses_title, scores_title = titles(config, records)
    critic = config.get("loss") in CRITIC_LOSSES
    return (
        plot_run_losses(records, losses_path, title=losses_title, critic=critic),
        plot_run_scores(records, scores_path, title=scores_title, references=references),
    )


def titles(config: dict, records) -> tuple[str, str]:
    """(losses title, scores title) of a run with settings ``config`` (config.json's dict): the model or preset,
    the G loss, which generator was scored (the weight average with --ema, else the last iterate), the epochs."""
    name = config.get("preset") or config.get("model", "?")
    epochs = [r["epoch"] for r in scored(records)] or [0]
    scored_g = "EMA generator" if config.get("ema") else "last iterate"
    return (
        f"{name}, {config.get('loss', '?')} generator loss",
        f"{name}, {scored_g}, epochs {min(epochs)}-{max(epochs)}",
    )
