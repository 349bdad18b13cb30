"""Adding in a fixed order, so that a network's numbers never depend on its population.

Floating-point addition is not associative: ``(a + b) + c`` and ``a + (b + c)`` can differ in
the last bit. NumPy chooses how to add up an axis from the array's shape and memory layout
(whole slices one after another, or pairwise within a contiguous run), and so does a library
matmul, so one network's sum and the same sum inside a population of many could be added in
different orders. Every sum in the core is written as ``sum_in_order(term for ...)`` instead,
the code's own spelling of the formula's sigma.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def sum_in_order(terms: Sequence[np.ndarray], out: np.ndarray | None = None) -> np.ndarray:
    """``terms[0] + terms[1] + ...``, added one after the other in that order.

    The total goes into ``out`` when it is given: an array the caller reuses, or the first term
    itself, whose memory then holds the running total (each term is read once, before it is
    overwritten). Without ``out`` it goes into a new array. A single term is its own total: it is
    returned as it is, unless ``out`` is another array.
    """
    if len(terms) == 1:
        if out is None or out is terms[0]:
            return terms[0]
        np.copyto(out, terms[0])
        return out
    total = np.add(terms[0], terms[1], out=out)
    for term in terms[2:]:
        np.add(total, term, out=total)  # total += term (the ufunc call costs less than the operator)
    return total


def total_over_samples(values: np.ndarray) -> np.ndarray:
    """``sum_n sum_k values[..., n, k, p]``: over samples, then outputs; shaped ``values[..., p]``.

    (With one sample and one output, that is ``values`` itself, seen without its two axes.)
    """
    over_samples = sum_in_order([values[..., n, :, :] for n in range(values.shape[-3])])
    return sum_in_order([over_samples[..., k, :] for k in range(over_samples.shape[-2])])
