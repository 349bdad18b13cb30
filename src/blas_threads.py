"""One BLAS thread for the entry point: the harness never calls BLAS, so it needs no pool of them.

NumPy's wheels ship OpenBLAS, which starts a pool of worker threads (one per core) when NumPy is
imported; the workers wait for work by spinning, so a process that never multiplies a matrix
still burns CPU time on them: ``python -m src.bench`` printed 0.33 s of CPU for the article's
textbook script as it runs and 0.22 s with one BLAS thread, on this machine's 2 cores. The
harness's maths needs no BLAS: every sum is ``summation.sum_in_order`` (element-wise ufuncs)
and the wide layers use ``np.einsum`` without ``optimize``, which never calls BLAS either. So
the entry point asks OpenBLAS for one thread (the calling one: no pool), which changes no
number, only the time the process spends.

It must run before NumPy is first imported (OpenBLAS reads the variable once, when it starts),
and a value the user set is kept. Processes that the run starts (shards) inherit it.
"""

from __future__ import annotations

import os

VARIABLE = "OPENBLAS_NUM_THREADS"


def one_blas_thread() -> None:
    """Ask OpenBLAS for no thread pool, unless the environment already says how many threads to use."""
    os.environ.setdefault(VARIABLE, "1")
