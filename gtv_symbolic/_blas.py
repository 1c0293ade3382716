"""BLAS thread limits through :mod:`threadpoolctl` (numpy's and scipy's OpenBLAS alike).

The ensembles solve many small (<= 1000 x 1000) systems; on a shared 2-core machine a
multi-threaded OpenBLAS spin-waits and is 5-20x slower on these than one thread. The
package's numerics are written so that results do not depend on the thread count
(tested with limits 1 and 2).
"""

from __future__ import annotations

from contextlib import contextmanager

__all__ = ["blas_threads"]


@contextmanager
def blas_threads(n: int = 1):
    """Context manager limiting every loaded BLAS to ``n`` threads (restored on exit).

    >>> import numpy as np
    >>> with blas_threads(1):
    ...     float(np.ones((2, 2)) @ np.ones(2) @ np.ones(2))
    4.0
    """
    from threadpoolctl import threadpool_limits

    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n (BLAS threads) must be an integer >= 1, got {n!r}")
    with threadpool_limits(limits=n, user_api="blas"):
        yield
