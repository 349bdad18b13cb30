"""Losses: the training objective ``L(o, y)`` and its gradient ``dL/do``.

``o`` are the networks' outputs ``o[n, k, p]`` (sample ``n``, output ``k``, network ``p``) and
``y`` the targets ``y[n, k, 0]`` (or ``y[n, k, p]``); a leading epoch axis is allowed too. Each loss sums a per-sample error ``e(o, y)`` over the samples
(reduction ``sum``) or averages it (reduction ``mean``):

====================  =====================================  ==========================
name                  e(o, y)                                de/do
====================  =====================================  ==========================
half_squared_error    0.5 * (o - y)**2                       o - y
squared_error         (o - y)**2                             2 * (o - y)
binary_cross_entropy  -(y * log(o) + (1 - y) * log(1 - o))   (o - y) / (o * (1 - o))
====================  =====================================  ==========================

The article's objective is ``half_squared_error`` with reduction ``sum``, so its output
delta is ``(o - y) * o * (1 - o)``. ``squared_error`` with ``mean`` is the usual MSE.
Cross entropy clips ``o`` to ``[eps, 1 - eps]`` so that a saturated sigmoid gives a
large but finite loss.
"""

from __future__ import annotations

import numpy as np

from .summation import total_over_samples

EPS = 1e-12


def per_sample_error(name: str, o: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``e(o, y)`` for every output, same shape as ``o``."""
    if name == "half_squared_error":
        return 0.5 * (o - y) ** 2
    if name == "squared_error":
        return (o - y) ** 2
    if name == "binary_cross_entropy":
        o = np.clip(o, EPS, 1.0 - EPS)
        return -(y * np.log(o) + (1.0 - y) * np.log(1.0 - o))
    raise ValueError(f"unknown loss {name!r}")


def per_sample_gradient(name: str, o: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``de/do`` for every output, same shape as ``o``."""
    if name == "half_squared_error":
        return o - y
    if name == "squared_error":
        return 2.0 * (o - y)
    if name == "binary_cross_entropy":
        o = np.clip(o, EPS, 1.0 - EPS)
        return (o - y) / (o * (1.0 - o))
    raise ValueError(f"unknown loss {name!r}")


class Loss:
    """A named loss with a reduction over the ``N`` samples (axis ``-3``).

    ``value(o, y)`` is ``L = sum_n e(o_n, y_n)`` (``sum``) or ``L = (1/N) sum_n e`` (``mean``),
    summed over the ``k`` outputs, one number per network: ``L[p]`` (or ``L[epoch, p]``).
    ``gradient(o, y)`` is ``dL/do``, shaped like ``o``.
    """

    def __init__(self, name: str, reduction: str = "sum"):
        self.name = name
        self.reduction = reduction

    def _scale(self, n_samples: int) -> float:
        return 1.0 if self.reduction == "sum" else 1.0 / n_samples

    def value(self, o: np.ndarray, y: np.ndarray) -> np.ndarray:
        e = per_sample_error(self.name, o, y)
        return total_over_samples(e) * self._scale(o.shape[-3])

    def gradient(self, o: np.ndarray, y: np.ndarray) -> np.ndarray:
        g = per_sample_gradient(self.name, o, y)
        return g if self.reduction == "sum" else g * self._scale(o.shape[-3])
