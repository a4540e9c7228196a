"""Figures: image grids, PNG and GIF files (grids), loss and score curves and a run's two figures (curves), and
the off-screen canvas and atomic writes they share (canvas)."""
