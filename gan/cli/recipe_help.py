"""The defaults that depend on the model and the loss, written for --help from gan.config.recipe_defaults itself,
so that the help cannot drift from what a run gets."""

from __future__ import annotations

from gan.config import LOSSES, recipe_defaults
from gan.models import MODELS


def number(value) -> str:
    """A default as the help writes it: 2e-4 for small rates, else the shortest form (0.999, 128, 0)."""
    if isinstance(value, float) and 0 < abs(value) < 1e-2:
        mantissa, exponent = f"{value:.0e}".split("e")
        return f"{mantissa}e{int(exponent)}"
    return f"{value:g}" if isinstance(value, float) else str(value)


def recipe_help(key: str, none: str = "") -> str:
    """'default 128; 64 for dcgan28' or 'default 2e-4; 1e-4 with --loss wgan-gp': recipe_defaults' value of
    ``key`` for the first model and loss, then each model and each loss whose recipe differs (a loss's setting
    wins over a model's). ``none``: how a None value is written (e.g. '--lr' for per-player rates)."""
    base_model, base_loss = MODELS[0], LOSSES[0]
    base = recipe_defaults(base_model, base_loss)[key]

    def text(value):
        return none if value is None else number(value)

    parts = [text(base)]
    for model in MODELS:
        value = recipe_defaults(model, base_loss)[key]
        if value != base:
            parts.append(f"{text(value)} for {model}")
    for loss in LOSSES:
        value = recipe_defaults(base_model, loss)[key]
        if value != base:
            parts.append(f"{text(value)} with --loss {loss}")
    return "default " + "; ".join(parts)
