"""Losses: the training objective ``L(o, y)`` and its gradient ``dL/do``.

``o`` are the networks' outputs ``o[n, k, p]`` (sample ``n``, output ``k``, network ``p``) and
``y`` the targets ``y[n, k, 0]`` (or ``y[n, k, p]``); a leading epoch axis is allowed too.

Each loss is a small class, registered in ``LOSSES`` under the name ``loss.name`` gives it, with
the error ``e(o, y)`` of one output of one sample (``value``) and its derivative ``de/do``
(``gradient``):

====================  =====================================  ==========================
name                  e(o, y)                                de/do
====================  =====================================  ==========================
half_squared_error    0.5 * (o - y)**2                       o - y
squared_error         (o - y)**2                             2 * (o - y)
binary_cross_entropy  -(y * log(o) + (1 - y) * log(1 - o))   (o - y) / (o * (1 - o))
====================  =====================================  ==========================

``Loss`` adds them up over every element, the ``N`` samples and the ``K`` outputs (reduction
``sum``), or averages them over those ``N * K`` elements (reduction ``mean``, as PyTorch's and
Keras's losses do, so that ``squared_error`` with ``mean`` is exactly the ``mse`` metric).

The article's objective is ``half_squared_error`` with reduction ``sum``, so its output
delta is ``(o - y) * o * (1 - o)``. Cross entropy clips ``o`` to ``[EPS, 1 - EPS]`` so that a
saturated sigmoid gives a large but finite loss.
"""

from __future__ import annotations

import numpy as np

from ..errors import ConfigError
from ..registry import Registry
from .summation import total_over_samples

EPS = 1e-12
REDUCTIONS = ("sum", "mean")
LOSSES = Registry("loss", "loss.name")


@LOSSES.register("half_squared_error")
class HalfSquaredError:
    """``e = 0.5 * (o - y)**2``, ``de/do = o - y``: the article's objective."""

    @staticmethod
    def value(o: np.ndarray, y: np.ndarray) -> np.ndarray:
        return 0.5 * (o - y) ** 2

    @staticmethod
    def gradient(o: np.ndarray, y: np.ndarray) -> np.ndarray:
        return o - y


@LOSSES.register("squared_error")
class SquaredError:
    """``e = (o - y)**2``, ``de/do = 2 * (o - y)``."""

    @staticmethod
    def value(o: np.ndarray, y: np.ndarray) -> np.ndarray:
        return (o - y) ** 2

    @staticmethod
    def gradient(o: np.ndarray, y: np.ndarray) -> np.ndarray:
        return 2.0 * (o - y)


@LOSSES.register("binary_cross_entropy")
class BinaryCrossEntropy:
    """``e = -(y * log(o) + (1 - y) * log(1 - o))``, ``de/do = (o - y) / (o * (1 - o))``, ``o`` clipped to
    ``[EPS, 1 - EPS]``."""

    @staticmethod
    def value(o: np.ndarray, y: np.ndarray) -> np.ndarray:
        o = np.clip(o, EPS, 1.0 - EPS)
        return -(y * np.log(o) + (1.0 - y) * np.log(1.0 - o))

    @staticmethod
    def gradient(o: np.ndarray, y: np.ndarray) -> np.ndarray:
        o = np.clip(o, EPS, 1.0 - EPS)
        return (o - y) / (o * (1.0 - o))


class Loss:
    """The registered loss ``name``, reduced over every element of the ``N`` samples and ``K`` outputs.

    ``value(o, y)`` is ``L = sum_n sum_k e(o[n, k], y[n, k])`` (``sum``) or that sum divided by
    ``N * K`` (``mean``), one number per network: ``L[p]`` (or ``L[epoch, p]``).
    ``gradient(o, y)`` is ``dL/do = de/do`` (``sum``) or ``de/do * (1 / (N * K))`` (``mean``), shaped like
    ``o``. (The value divides, as the ``mse`` metric does, so that the two are equal to the last bit; the
    gradient multiplies by the reciprocal, as it always has, so that one-output runs keep their numbers.)
    """

    def __init__(self, name: str, reduction: str = "sum"):
        if reduction not in REDUCTIONS:
            raise ConfigError("loss.reduction", reduction, f"one of {', '.join(REDUCTIONS)}")
        self.name = name
        self.error = LOSSES[name]
        self.reduction = reduction

    def value(self, o: np.ndarray, y: np.ndarray) -> np.ndarray:
        total = total_over_samples(self.error.value(o, y))
        return total if self.reduction == "sum" else total / (o.shape[-3] * o.shape[-2])

    def gradient(self, o: np.ndarray, y: np.ndarray) -> np.ndarray:
        g = self.error.gradient(o, y)
        return g if self.reduction == "sum" else g * (1.0 / (o.shape[-3] * o.shape[-2]))
