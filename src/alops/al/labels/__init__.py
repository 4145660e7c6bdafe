"""Label files read into validated labels: plain CSV/JSONL and Label Studio's JSON, JSON-MIN and CSV exports.

:func:`read_labels` is the one entry point (``alops al ingest`` calls it inside its
transaction); it is pure: it reads one file and writes nothing.
"""

from __future__ import annotations

from alops.al.labels.model import Label, LabelFile, Rejected
from alops.al.labels.validate import read_labels

__all__ = ["Label", "LabelFile", "Rejected", "read_labels"]
