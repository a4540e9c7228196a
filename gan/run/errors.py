"""How a training run ends early: the exceptions `gan train` turns into a message and an exit status."""


class TrainingDiverged(RuntimeError):
    """A loss became nan or inf; the run stopped and its last good checkpoint was left alone."""


class TrainingWriteError(RuntimeError):
    """A file of the run could not be written (a full disk, a lost mount); the last good checkpoint is kept."""


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C: a checkpoint of the state after the last whole step was written."""
