"""Activation functions and their derivatives.

Each activation ``f`` is applied elementwise, ``a = f(z)``. Backpropagation needs
``f'(z)``; for all four functions here it can be written with the *output* ``a``
alone, which is what the forward pass keeps, so ``derivative`` takes ``a``. Both write
into ``out`` when it is given (it may be the argument itself), so a training loop can reuse
its arrays every epoch; the numbers are the same either way. Each is registered in
``ACTIVATIONS`` under the name ``model.activation`` gives it:

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
ONE = np.array(1.0)  # the 1 of the formulas, made an array once: NumPy takes a Python 1.0 in each call at a cost


@ACTIVATIONS.register("sigmoid")
class Sigmoid:
    """``a = 1 / (1 + exp(-z))``, ``da/dz = a * (1 - a)``."""

    @staticmethod
    def forward(z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        out = np.negative(z, out=out)  # 1 / (1 + exp(-z)), one step at a time
        np.exp(out, out=out)
        np.add(ONE, out, out=out)
        return np.divide(ONE, out, out=out)

    @staticmethod
    def derivative(a: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        out = np.subtract(ONE, a, out=out)  # a * (1 - a)
        return np.multiply(a, out, out=out)


@ACTIVATIONS.register("tanh")
class Tanh:
    """``a = tanh(z)``, ``da/dz = 1 - a**2``."""

    @staticmethod
    def forward(z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        return np.tanh(z, out=out)

    @staticmethod
    def derivative(a: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        out = np.multiply(a, a, out=out)  # 1 - a * a
        return np.subtract(ONE, out, out=out)


@ACTIVATIONS.register("relu")
class ReLU:
    """``a = max(z, 0)``, ``da/dz = 1 if a > 0 else 0`` (0 at the kink)."""

    @staticmethod
    def forward(z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        return np.maximum(z, 0.0, out=out)

    @staticmethod
    def derivative(a: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        if out is None:
            return (a > 0.0).astype(a.dtype)
        return np.greater(a, 0.0, out=out)  # True and False written as 1.0 and 0.0


@ACTIVATIONS.register("identity")
class Identity:
    """``a = z``, ``da/dz = 1``."""

    @staticmethod
    def forward(z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        if out is None or out is z:
            return z
        np.copyto(out, z)
        return out

    @staticmethod
    def derivative(a: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        if out is None:
            return np.ones_like(a)
        out.fill(1.0)
        return out
