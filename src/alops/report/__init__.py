"""Experiment reports: the merge request note, its plots and a self-contained HTML page."""
