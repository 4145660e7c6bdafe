"""Active learning: choose which unlabelled samples to label next.

:func:`query` selects a batch from a pool of class probabilities (an array, or a
scores file read chunk by chunk through :class:`FilePool`) with one of
:data:`STRATEGIES`. This package imports numpy: import it where it is used, not at
the top of a command module.
"""

from __future__ import annotations

from alops.al.kcenter import k_center
from alops.al.pool import ArrayPool, Chunk, FilePool, Pool
from alops.al.query import query
from alops.al.result import STRATEGIES, QueryResult, Selected, Strategy

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
