"""Optimisers: turn gradients ``g = dL/dp`` into updates of the parameters ``p``.

Hyperparameters are arrays of shape ``(P,)``, one value per network, so that a population
can mix learning rates: they broadcast against the last axis of ``W[i, j, p]``.

==========  ===============================================================
name        update, for each parameter p with gradient g
==========  ===============================================================
sgd         p <- p - lr * g
momentum    v <- mu * v + g;  p <- p - lr * v
            (nesterov: p <- p - lr * (g + mu * v))
rmsprop     s <- rho * s + (1 - rho) * g**2;  p <- p - lr * g / (sqrt(s) + eps)
adam        m <- beta1 * m + (1 - beta1) * g;  v <- beta2 * v + (1 - beta2) * g**2
            m_hat = m / (1 - beta1**t);  v_hat = v / (1 - beta2**t)
            p <- p - lr * m_hat / (sqrt(v_hat) + eps)
==========  ===============================================================
"""

from __future__ import annotations

import numpy as np

from ..registry import Registry
from .network import Params

OPTIMIZERS = Registry("optimizer", "optimizer.name")  # each reads the config keys its constructor names


def per_network(values) -> np.ndarray:
    """A hyperparameter for each network, shaped ``(P,)`` to broadcast over ``W[i, j, p]``."""
    return np.asarray(values, dtype=np.float64).reshape(-1)


@OPTIMIZERS.register("sgd")
class SGD:
    """Plain gradient descent: ``p <- p - lr * g``."""

    def __init__(self, lr):
        self.lr = per_network(lr)

    def step(self, params: Params, grads: Params) -> None:
        for name, g in grads.items():
            params[name] -= self.lr * g


@OPTIMIZERS.register("momentum")
class Momentum:
    """Heavy-ball momentum, ``v <- mu * v + g``, with Nesterov's look-ahead as an option."""

    def __init__(self, lr, momentum, nesterov: bool = False):
        self.lr, self.mu, self.nesterov = per_network(lr), per_network(momentum), nesterov
        self.velocity: Params = {}

    def step(self, params: Params, grads: Params) -> None:
        for name, g in grads.items():
            v = self.velocity.get(name, 0.0)
            v = self.mu * v + g
            self.velocity[name] = v
            params[name] -= self.lr * (g + self.mu * v if self.nesterov else v)


@OPTIMIZERS.register("rmsprop")
class RMSProp:
    """Scale each step by a running root mean square of the gradient."""

    def __init__(self, lr, rho, eps):
        self.lr, self.rho, self.eps = per_network(lr), per_network(rho), per_network(eps)
        self.mean_square: Params = {}

    def step(self, params: Params, grads: Params) -> None:
        for name, g in grads.items():
            s = self.rho * self.mean_square.get(name, 0.0) + (1.0 - self.rho) * g * g
            self.mean_square[name] = s
            params[name] -= self.lr * g / (np.sqrt(s) + self.eps)


@OPTIMIZERS.register("adam")
class Adam:
    """Adam: bias-corrected running means of ``g`` and ``g**2``."""

    def __init__(self, lr, beta1, beta2, eps):
        self.lr, self.beta1, self.beta2, self.eps = (per_network(v) for v in (lr, beta1, beta2, eps))
        self.m: Params = {}
        self.v: Params = {}
        self.t = 0

    def step(self, params: Params, grads: Params) -> None:
        self.t += 1
        correction1 = 1.0 - self.beta1**self.t
        correction2 = 1.0 - self.beta2**self.t
        for name, g in grads.items():
            m = self.beta1 * self.m.get(name, 0.0) + (1.0 - self.beta1) * g
            v = self.beta2 * self.v.get(name, 0.0) + (1.0 - self.beta2) * g * g
            self.m[name], self.v[name] = m, v
            params[name] -= self.lr * (m / correction1) / (np.sqrt(v / correction2) + self.eps)
