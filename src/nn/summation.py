"""Adding in a fixed order, so that a network's numbers never depend on its population.

Floating-point addition is not associative: ``(a + b) + c`` and ``a + (b + c)`` can differ in
the last bit. NumPy chooses how to add up an axis from the array's shape (whole slices one
after another, or pairwise within a contiguous run), so a sum for one network alone and the
same sum inside a population of many could be added in different orders. Every sum over
samples, units or outputs in the core goes through ``sum_in_order`` instead.
"""

from __future__ import annotations

import numpy as np


def sum_in_order(terms: np.ndarray) -> np.ndarray:
    """``terms[0] + terms[1] + ...`` over the first axis, added one after the other in that order.

    With the terms laid out one after another in memory (C order), ``np.add.reduce`` over the
    first axis adds whole slices in turn, as long as a term has more than one element; single
    numbers (or terms interleaved in memory) it may add pairwise, in another order.
    """
    terms = np.ascontiguousarray(terms)
    if terms[0].size > 1:
        return np.add.reduce(terms, axis=0)
    total = terms[0].copy()
    for term in terms[1:]:
        total += term
    return total


def total_over_samples(values: np.ndarray) -> np.ndarray:
    """``sum_n sum_k values[..., n, k, p]``: over samples, then outputs, in order; shape ``values[..., p]``."""
    over_samples = sum_in_order(np.moveaxis(values, -3, 0))  # [..., k, p]
    return sum_in_order(np.moveaxis(over_samples, -2, 0))  # [..., p]
