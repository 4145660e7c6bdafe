"""splitmix64's output function on numpy ``uint64`` arrays: well-mixed keys from counters.

The dev-set sampler keys its rows with it and the active-learning query breaks
ties with it; both add their seeded offset to a row counter first. Changing a
constant here changes every dev set and every batch, so tests pin its values.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt


def mix(z: npt.NDArray[Any]) -> npt.NDArray[np.uint64]:
    """``z`` (``uint64``, changed in place) mixed by splitmix64's finalizer; uint64 arithmetic wraps, as it wants."""
    z ^= z >> np.uint64(30)
    z *= np.uint64(0xBF58476D1CE4E5B9)
    z ^= z >> np.uint64(27)
    z *= np.uint64(0x94D049BB133111EB)
    z ^= z >> np.uint64(31)
    return z
