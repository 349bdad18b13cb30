"""Initialisation: draw every network's starting weights from its own seeded generator.

For a layer with ``fan_in`` inputs and ``fan_out`` outputs, the weight matrix ``W``
(shape ``(fan_in, fan_out)``) is drawn by one of the schemes registered in ``SCHEMES``:

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
``W[0]`` first, from one generator per network, registered in ``GENERATORS``:

* ``legacy``: ``np.random.RandomState(seed)``, the stream of ``np.random.seed(seed)``;
  ``uniform`` with ``low=0, high=1`` gives exactly ``np.random.rand(fan_in, fan_out)``,
  which is how the article drew its weights. NumPy keeps this stream frozen.
* ``pcg64``: ``np.random.default_rng(seed)``, NumPy's modern generator.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..registry import Registry

SCHEMES = Registry("init scheme", "init.scheme", supplied=("rng", "fan_in", "fan_out"))
GENERATORS = Registry("random generator", "init.generator", supplied=("seed",))
DISTRIBUTIONS = ("uniform", "normal")  # of xavier and he


@dataclass
class InitSpec:
    """How to draw one network's weights: the config's ``init`` group, and all ``init_params`` reads.

    ``scheme`` and ``generator`` name registered components; the scheme reads the keys among
    ``distribution, low, high, mean, std, gain`` that its parameters name.
    """

    scheme: str = "uniform"
    generator: str = "legacy"
    seed: int = 42
    distribution: str = "uniform"  # for xavier and he
    low: float = 0.0
    high: float = 1.0
    mean: float = 0.0
    std: float = 1.0
    gain: float = 1.0


@GENERATORS.register("legacy")
def legacy(seed: int) -> np.random.RandomState:
    """``RandomState(seed)``: the stream of ``np.random.seed(seed)``, as the article drew its weights."""
    return np.random.RandomState(seed)


@GENERATORS.register("pcg64")
def pcg64(seed: int) -> np.random.Generator:
    """``default_rng(seed)``: NumPy's modern generator."""
    return np.random.default_rng(seed)


@SCHEMES.register("uniform")
def uniform(rng, fan_in: int, fan_out: int, low: float, high: float) -> np.ndarray:
    """``W ~ U(low, high)``."""
    return rng.uniform(low, high, size=(fan_in, fan_out))


@SCHEMES.register("normal")
def normal(rng, fan_in: int, fan_out: int, mean: float, std: float) -> np.ndarray:
    """``W ~ N(mean, std**2)``."""
    return rng.normal(mean, std, size=(fan_in, fan_out))


def with_variance(rng, fan_in: int, fan_out: int, variance: float, distribution: str, gain: float) -> np.ndarray:
    """``W`` of mean 0 and variance ``gain**2 * variance``: ``U(-a, a)`` with ``a = gain * sqrt(3 * variance)``
    (``U(-a, a)`` has variance ``a**2 / 3``) or ``N(0, s**2)`` with ``s = gain * sqrt(variance)``."""
    if distribution == "uniform":
        a = gain * np.sqrt(3.0 * variance)
        return rng.uniform(-a, a, size=(fan_in, fan_out))
    if distribution == "normal":
        return rng.normal(0.0, gain * np.sqrt(variance), size=(fan_in, fan_out))
    raise ValueError(f"unknown distribution {distribution!r}; one of {', '.join(DISTRIBUTIONS)}")


@SCHEMES.register("xavier")
def xavier(rng, fan_in: int, fan_out: int, distribution: str, gain: float) -> np.ndarray:
    """Xavier/Glorot: variance ``2 / (fan_in + fan_out)``, times ``gain**2``."""
    return with_variance(rng, fan_in, fan_out, 2.0 / (fan_in + fan_out), distribution, gain)


@SCHEMES.register("he")
def he(rng, fan_in: int, fan_out: int, distribution: str, gain: float) -> np.ndarray:
    """He/Kaiming: variance ``2 / fan_in``, times ``gain**2``; for relu."""
    return with_variance(rng, fan_in, fan_out, 2.0 / fan_in, distribution, gain)


def make_generator(kind: str, seed: int):
    """The random source of one network: ``GENERATORS[kind](seed)``."""
    return GENERATORS[kind](seed)


def draw_weights(spec: InitSpec, rng, fan_in: int, fan_out: int) -> np.ndarray:
    """One weight matrix ``W`` of shape ``(fan_in, fan_out)`` drawn as ``spec`` says."""
    return SCHEMES.build(spec.scheme, spec, rng=rng, fan_in=fan_in, fan_out=fan_out)
