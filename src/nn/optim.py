"""Optimisers: turn gradients ``g = dL/dp`` into updates of the parameters ``p``.

Hyperparameters hold one value per network, ``lr[p]``, so that a population can mix learning
rates; each is written out once in the shape of every parameter, ``lr[i, j, p] = lr[p]``
(``LaidOut``), since NumPy multiplies two arrays of one shape faster than it broadcasts one over
the other (the products are the same). Each update is written out one NumPy operation at a time
into arrays kept from step to step (``out=``), in the order of the formula below, so it rounds
exactly as the formula written in one line.

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
    """A hyperparameter for each network, shaped ``(P,)``."""
    return np.asarray(values, dtype=np.float64).reshape(-1)


class LaidOut(dict):
    """A hyperparameter ``h[p]`` written out like the parameter ``name``: ``of(name, g)[i, j, p] = h[p]``, made once."""

    def __init__(self, values):
        super().__init__()
        self.values = per_network(values)

    def of(self, name: str, g: np.ndarray) -> np.ndarray:
        array = self.get(name)
        if array is None:
            array = self[name] = np.broadcast_to(self.values, g.shape).copy()
        return array


class State(dict):
    """Arrays an optimiser keeps from step to step, one per parameter name, shaped like it.

    ``of(name, g)`` is the array of ``name``, zeros before the first step: a running mean that
    starts at 0, or scratch space that every step overwrites. Allocated once, reused every epoch.
    """

    def of(self, name: str, g: np.ndarray) -> np.ndarray:
        array = self.get(name)
        if array is None:
            array = self[name] = np.zeros_like(g)
        return array


@OPTIMIZERS.register("sgd")
class SGD:
    """Plain gradient descent: ``p <- p - lr * g``."""

    def __init__(self, lr):
        self.lr, self.step_size = LaidOut(lr), State()

    def step(self, params: Params, grads: Params) -> None:
        for name, g in grads.items():
            step = np.multiply(self.lr.of(name, g), g, out=self.step_size.of(name, g))
            np.subtract(params[name], step, out=params[name])


@OPTIMIZERS.register("momentum")
class Momentum:
    """Heavy-ball momentum, ``v <- mu * v + g``, with Nesterov's look-ahead as an option."""

    def __init__(self, lr, momentum, nesterov: bool = False):
        self.lr, self.mu, self.nesterov = LaidOut(lr), LaidOut(momentum), nesterov
        self.velocity, self.step_size = State(), State()

    def step(self, params: Params, grads: Params) -> None:
        for name, g in grads.items():
            v, step = self.velocity.of(name, g), self.step_size.of(name, g)
            lr, mu = self.lr.of(name, g), self.mu.of(name, g)
            np.multiply(mu, v, out=v)  # v <- mu * v + g
            np.add(v, g, out=v)
            if self.nesterov:  # step = lr * (g + mu * v)
                np.multiply(mu, v, out=step)
                np.add(g, step, out=step)
                np.multiply(step, lr, out=step)
            else:  # step = lr * v
                np.multiply(lr, v, out=step)
            np.subtract(params[name], step, out=params[name])


@OPTIMIZERS.register("rmsprop")
class RMSProp:
    """Scale each step by a running root mean square of the gradient."""

    def __init__(self, lr, rho, eps):
        self.lr, self.rho, self.eps = LaidOut(lr), LaidOut(rho), LaidOut(eps)
        self.one_minus_rho = LaidOut(1.0 - self.rho.values)
        self.mean_square, self.step_size, self.scale = State(), State(), State()

    def step(self, params: Params, grads: Params) -> None:
        for name, g in grads.items():
            s, step, scale = self.mean_square.of(name, g), self.step_size.of(name, g), self.scale.of(name, g)
            np.multiply(self.one_minus_rho.of(name, g), g, out=step)  # s <- rho * s + (1 - rho) * g * g
            np.multiply(step, g, out=step)
            np.multiply(s, self.rho.of(name, g), out=s)
            np.add(s, step, out=s)
            np.multiply(self.lr.of(name, g), g, out=step)  # step = lr * g / (sqrt(s) + eps)
            np.sqrt(s, out=scale)
            np.add(scale, self.eps.of(name, g), out=scale)
            np.divide(step, scale, out=step)
            np.subtract(params[name], step, out=params[name])


@OPTIMIZERS.register("adam")
class Adam:
    """Adam: bias-corrected running means of ``g`` and ``g**2``."""

    def __init__(self, lr, beta1, beta2, eps):
        self.lr, self.beta1, self.beta2, self.eps = (LaidOut(v) for v in (lr, beta1, beta2, eps))
        self.one_minus_beta1 = LaidOut(1.0 - self.beta1.values)
        self.one_minus_beta2 = LaidOut(1.0 - self.beta2.values)
        self.m, self.v, self.step_size, self.scale = State(), State(), State(), State()
        self.t = 0

    def step(self, params: Params, grads: Params) -> None:
        self.t += 1
        correction1 = 1.0 - self.beta1.values**self.t  # (P,): changes every step, so broadcast
        correction2 = 1.0 - self.beta2.values**self.t
        for name, g in grads.items():
            m, v = self.m.of(name, g), self.v.of(name, g)
            step, scale = self.step_size.of(name, g), self.scale.of(name, g)
            np.multiply(self.one_minus_beta1.of(name, g), g, out=step)  # m <- beta1 * m + (1 - beta1) * g
            np.multiply(m, self.beta1.of(name, g), out=m)
            np.add(m, step, out=m)
            np.multiply(self.one_minus_beta2.of(name, g), g, out=step)  # v <- beta2 * v + (1 - beta2) * g * g
            np.multiply(step, g, out=step)
            np.multiply(v, self.beta2.of(name, g), out=v)
            np.add(v, step, out=v)
            np.divide(m, correction1, out=step)  # step = lr * (m / c1) / (sqrt(v / c2) + eps)
            np.multiply(self.lr.of(name, g), step, out=step)
            np.divide(v, correction2, out=scale)
            np.sqrt(scale, out=scale)
            np.add(scale, self.eps.of(name, g), out=scale)
            np.divide(step, scale, out=step)
            np.subtract(params[name], step, out=params[name])
