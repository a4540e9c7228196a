"""A run's two curve figures from its metrics.jsonl records: losses.png (the losses and D's mean outputs) and
scores.png (the ``--eval-every`` scores, with Table 1's line for adversarial nets on the Parzen panel). The
trainer draws them after every epoch; ``python -m gan plot`` redraws them, e.g. from a later epoch on."""

from __future__ import annotations

from pathlib import Path

from gan.config import CRITIC_LOSSES
from gan.evaluation.evaluate import PAPER_TABLE_1
from gan.figures import grids

PAPER_PARZEN = next(ll for name, ll, _ in PAPER_TABLE_1 if name == "Adversarial nets")
TABLE_1_LINES = {"parzen_ll": [(PAPER_PARZEN, f"paper, Table 1: {PAPER_PARZEN}")]}


def scored(records) -> list[dict]:
    """The epoch records that hold at least one score."""
    return [r for r in records if r["kind"] == "epoch" and any(r.get(key) is not None for key in grids.SCORE_METRICS)]


def draw_losses(records, path, title=None, critic=False) -> Path:
    """losses.png: the step records, or the epoch records while there are fewer than two steps (and some epoch);
    ``critic``: D's outputs are critic values (hinge, wgan-gp), not probabilities."""
    steps = [r for r in records if r["kind"] == "step"]
    epochs = [r for r in records if r["kind"] == "epoch"]
    rows = steps if len(steps) >= 2 or not epochs else epochs
    return grids.plot_losses(rows, path, title, critic=critic)


def draw_scores(records, path, title=None, references=None) -> Path | None:
    """scores.png from the scored epoch records (None, and no file, when there are none), with Table 1's line
    and any ``references`` ({metric: [(value, label), ...]}) as dashed lines."""
    rows = scored(records)
    if not rows:
        return None
    lines = {
        key: list(TABLE_1_LINES.get(key, [])) + list((references or {}).get(key, [])) for key in grids.SCORE_METRICS
    }
    return grids.plot_scores(rows, path, references=lines, title=title)


def draw(records, config: dict, losses_path, scores_path, references=None) -> tuple[Path, Path | None]:
    """Both figures of a run with settings ``config`` (config.json's dict), titled from it, D's outputs drawn as
    critic values for hinge and wgan-gp; returns (losses.png, scores.png or None when nothing was scored)."""
    losses_title, scores_title = titles(config, records)
    critic = config.get("loss") in CRITIC_LOSSES
    return (
        draw_losses(records, losses_path, title=losses_title, critic=critic),
        draw_scores(records, scores_path, title=scores_title, references=references),
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
