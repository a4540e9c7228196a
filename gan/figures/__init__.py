"""Figures: image grids, PNG and GIF files (grids), and a run's loss and score curves (curves)."""
