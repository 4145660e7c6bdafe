"""How many threads BLAS may use while alops selects a batch."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """One BLAS thread for the duration: the matrix products of a query are small (a block of ~4,000 rows).

    OpenBLAS splits even those across its threads and then waits for all of them; on a
    2-core machine shared with other work, k-center ran 10x slower with 2 threads than with 1.
    """
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    with threadpool_limits(limits=1, user_api="blas"):
        yield
