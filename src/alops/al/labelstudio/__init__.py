"""Label Studio for the active-learning loop: export a batch as tasks, pull the annotations back (label-studio-sdk)."""

from __future__ import annotations

from alops.al.labelstudio.exporting import ExportReport, export_batch
from alops.al.labelstudio.pulling import pull

__all__ = ["ExportReport", "export_batch", "pull"]
