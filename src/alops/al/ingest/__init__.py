"""``alops al ingest``: accepted labels into the labelled set as one atomic data version (see :mod:`.journal`)."""

from __future__ import annotations

from alops.al.ingest.report import IngestReport, Recovered
from alops.al.ingest.run import ingest, recover

__all__ = ["IngestReport", "Recovered", "ingest", "recover"]
