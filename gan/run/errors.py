"""How a run cannot start, or ends early: the exceptions that `gan train` turns into a message and an exit code."""


class TrainingDiverged(RuntimeError):
    """A loss became nan or inf; the run stopped and its last good checkpoint was left alone."""


class TrainingWriteError(RuntimeError):
    """A file of the run could not be written (a full disk, a lost mount); the last good checkpoint is kept."""


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C: a checkpoint of the state after the last whole step was written."""


class RunFolderError(ValueError):
    """A folder that cannot hold the run asked for (``folder``: the folder). The CLI reports it as a usage
    error naming its flag."""

    def __init__(self, folder, reason: str):
        self.folder, self.reason = folder, reason
        super().__init__(f"{folder}: {reason}")


class NotAFolder(RunFolderError):
    """The folder to resume does not exist, or the output folder of a new run is a file."""


class RunExists(RunFolderError):
    """A new run's output folder already holds a run (its checkpoint)."""

    def __init__(self, folder):
        super().__init__(folder, "already holds a run; continue it with gan.resume or choose another outdir")


class ResumeError(RunFolderError):
    """A run that cannot be continued as asked."""


class SettingsFixed(ResumeError):
    """Settings given that a resumed run cannot change (``fields``); only ``resumable`` may."""

    def __init__(self, folder, fields, resumable):
        self.fields, self.resumable = tuple(fields), tuple(resumable)
        super().__init__(
            folder,
            f"{', '.join(self.fields)} cannot be changed when resuming: the run's settings come from its "
            f"checkpoint (only {', '.join(self.resumable)} may)",
        )


class UnreadableCheckpoint(ResumeError):
    """The run's checkpoint cannot be loaded (damaged, from another version, or for a missing device);
    ``cause``: the CheckpointError, ConfigError or RuntimeError that says why."""

    def __init__(self, folder, cause: Exception):
        self.cause = cause
        super().__init__(folder, str(cause))


class ForeignCheckpoint(ResumeError):
    """The folder's config.json and its checkpoint describe two runs (``diffs``: 'key a vs b' per setting)."""

    def __init__(self, folder, diffs):
        self.diffs = tuple(diffs)
        super().__init__(
            folder,
            f"its checkpoint's settings differ from its config.json ({', '.join(self.diffs)}): the checkpoint "
            f"comes from another run",
        )


class BlockedRunFile(RunFolderError):
    """A file the run rewrites whole exists in its folder as a folder (or another non-file): no atomic rename
    can replace it."""


class AverageKept(ResumeError):
    """ema=0 asked of a run that keeps an average of its generator (``decay``, ``updates``): it would be dropped."""

    def __init__(self, folder, decay: float, updates: int):
        self.decay, self.updates = decay, updates
        super().__init__(
            folder,
            f"keeps an average of its generator (ema {decay}, {updates} updates) that ema=0 would drop from its "
            f"checkpoint; resume without changing ema to keep it, or start a new run",
        )


class AlreadyTrained(ResumeError):
    """``epochs`` asked is not more than the ``trained`` epochs the run has done."""

    def __init__(self, folder, epochs: int, trained: int):
        self.epochs, self.trained = epochs, trained
        super().__init__(
            folder, f"has already trained {trained} epochs; give a larger epochs than {epochs} to continue it"
        )
