"""Activation functions and their derivatives.

Each activation ``f`` is applied elementwise, ``a = f(z)``. Backpropagation needs
``f'(z)``; for all four functions here it can be written with the *output* ``a``
alone, which is what the forward pass keeps, so ``derivative`` takes ``a``. Each is
registered in ``ACTIVATIONS`` under the name ``model.activation`` gives it:

=========  ===========================  =========================
name       f(z)                         f'(z) written with a
=========  ===========================  =========================
sigmoid    1 / (1 + exp(-z))            a * (1 - a)
tanh       tanh(z)                      1 - a**2
relu       max(z, 0)                    1 where a > 0, else 0
identity   z                            1
=========  ===========================  =========================
"""

from __future__ import annotations

import numpy as np

from ..registry import Registry

ACTIVATIONS = Registry("activation", "model.activation")


@ACTIVATIONS.register("sigmoid")
class Sigmoid:
    """``a = 1 / (1 + exp(-z))``, ``da/dz = a * (1 - a)``."""

    @staticmethod
    def forward(z: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-z))

    @staticmethod
    def derivative(a: np.ndarray) -> np.ndarray:
        return a * (1.0 - a)


@ACTIVATIONS.register("tanh")
class Tanh:
    """``a = tanh(z)``, ``da/dz = 1 - a**2``."""

    @staticmethod
    def forward(z: np.ndarray) -> np.ndarray:
        return np.tanh(z)

    @staticmethod
    def derivative(a: np.ndarray) -> np.ndarray:
        return 1.0 - a * a


@ACTIVATIONS.register("relu")
class ReLU:
    """``a = max(z, 0)``, ``da/dz = 1 if a > 0 else 0`` (0 at the kink)."""

    @staticmethod
    def forward(z: np.ndarray) -> np.ndarray:
        return np.maximum(z, 0.0)

    @staticmethod
    def derivative(a: np.ndarray) -> np.ndarray:
        return (a > 0.0).astype(a.dtype)


@ACTIVATIONS.register("identity")
class Identity:
    """``a = z``, ``da/dz = 1``."""

    @staticmethod
    def forward(z: np.ndarray) -> np.ndarray:
        return z

    @staticmethod
    def derivative(a: np.ndarray) -> np.ndarray:
        return np.ones_like(a)
