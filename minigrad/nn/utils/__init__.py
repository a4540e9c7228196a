"""``minigrad.nn.utils``: helpers that act on modules, as ``torch.nn.utils``.

from minigrad import nn
D = nn.utils.spectral_norm(nn.Linear(784, 1))
"""

from minigrad.nn.utils.spectral_norm import remove_spectral_norm, spectral_norm

__all__ = ["remove_spectral_norm", "spectral_norm"]
