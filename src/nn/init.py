"""Initialisation: draw every network's starting weights from its own seeded generator.

For a layer with ``fan_in`` inputs and ``fan_out`` outputs, the weight matrix ``W``
(shape ``(fan_in, fan_out)``) is drawn from

==========  ==========================================================
scheme      distribution of each entry of W
==========  ==========================================================
uniform     U(low, high)
normal      N(mean, std**2)
xavier      U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out))   (uniform)
            N(0, s**2), s = gain * sqrt(2 / (fan_in + fan_out))   (normal)
he          U(-a, a), a = gain * sqrt(6 / fan_in)                 (uniform)
            N(0, s**2), s = gain * sqrt(2 / fan_in)               (normal)
==========  ==========================================================

Biases start at zero, so they take no draws. Weights are drawn layer by layer,
``W[0]`` first, from one generator per network:

* ``legacy``: ``np.random.RandomState(seed)``, the stream of ``np.random.seed(seed)``;
  ``uniform`` with ``low=0, high=1`` gives exactly ``np.random.rand(fan_in, fan_out)``,
  which is how the article drew its weights. NumPy keeps this stream frozen.
* ``pcg64``: ``np.random.default_rng(seed)``, NumPy's modern generator.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class InitSpec:
    """How to draw one network's weights (plain values, no Hydra)."""

    seed: int = 42
    scheme: str = "uniform"
    generator: str = "legacy"
    distribution: str = "uniform"  # for xavier and he
    low: float = 0.0
    high: float = 1.0
    mean: float = 0.0
    std: float = 1.0
    gain: float = 1.0


def make_generator(kind: str, seed: int):
    """The random source of one network: ``RandomState(seed)`` or ``default_rng(seed)``."""
    if kind == "legacy":
        return np.random.RandomState(seed)
    if kind == "pcg64":
        return np.random.default_rng(seed)
    raise ValueError(f"unknown generator {kind!r}")


def draw_weights(spec: InitSpec, rng, fan_in: int, fan_out: int) -> np.ndarray:
    """One weight matrix ``W`` of shape ``(fan_in, fan_out)`` drawn as ``spec`` says."""
    shape = (fan_in, fan_out)
    if spec.scheme == "uniform":
        return rng.uniform(spec.low, spec.high, size=shape)
    if spec.scheme == "normal":
        return rng.normal(spec.mean, spec.std, size=shape)
    if spec.scheme == "xavier":
        variance = 2.0 / (fan_in + fan_out)
    elif spec.scheme == "he":
        variance = 2.0 / fan_in
    else:
        raise ValueError(f"unknown init scheme {spec.scheme!r}")
    if spec.distribution == "uniform":
        a = spec.gain * np.sqrt(3.0 * variance)  # U(-a, a) has variance a**2 / 3
        return rng.uniform(-a, a, size=shape)
    return rng.normal(0.0, spec.gain * np.sqrt(variance), size=shape)
