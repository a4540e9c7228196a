"""``minigrad.optim``: optimizers with PyTorch's update rules and API.

opt = minigrad.optim.Adam(model.parameters(), lr=2e-4, betas=(0.5, 0.999))
opt.zero_grad(); loss.backward(); opt.step()
"""

from minigrad.optim import lr_scheduler
from minigrad.optim.adam import Adam
from minigrad.optim.optimizer import Optimizer, get_num_threads, set_num_threads
from minigrad.optim.sgd import SGD

__all__ = ["Adam", "Optimizer", "SGD", "get_num_threads", "lr_scheduler", "set_num_threads"]
