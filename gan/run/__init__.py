"""A run's folder on disk: writable checks (folder), the lock against a second live run (lock), config.json and
metrics.jsonl (log), the checkpoint, and the errors a run ends with."""
