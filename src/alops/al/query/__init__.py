"""Choose which unlabelled samples to label next.

:func:`query` selects a batch from a pool of class probabilities (an array, or a
scores file read chunk by chunk through :class:`FilePool`) with one of
:data:`STRATEGIES`; :mod:`.select` is ``alops al query`` (alops.yaml, the
batch files of :mod:`.batch`). This package imports numpy: import it where it
is used, not at the top of a command module.
"""

from __future__ import annotations

from alops.al.query.kcenter import k_center
from alops.al.query.pool import ArrayPool, Chunk, FilePool, Pool
from alops.al.query.result import STRATEGIES, QueryResult, Selected, Strategy
from alops.al.query.run import query

__all__ = [
    "STRATEGIES",
    "ArrayPool",
    "Chunk",
    "FilePool",
    "Pool",
    "QueryResult",
    "Selected",
    "Strategy",
    "k_center",
    "query",
]
