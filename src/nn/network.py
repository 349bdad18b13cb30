"""A fully connected network, written for a whole population of networks at once.

Layer ``l`` (1-indexed, as in the article) has weights ``W<l>`` and, when the model has
biases, ``b<l>``. The population axis ``p`` comes *last*, so that NumPy's loops run along
the long axis (the networks) rather than the tiny ones (2 inputs, 4 hidden units)::

    W<l>[i, j, p]   weight from unit i of layer l-1 to unit j of layer l, in network p
    b<l>[0, j, p]   bias of unit j of layer l, in network p
    a<l>[n, j, p]   activation of unit j of layer l for sample n, in network p

Drop the ``p`` and these are the textbook's ``W1`` (2 x 4), ``h`` (4 x 4) and ``o`` (4 x 1).

Forward pass, from the inputs ``a0 = X`` (``X[n, i, 0]``: one batch shared by every network,
or ``X[n, i, p]``: a batch per network)::

    z<l>[n, j, p] = sum_i a<l-1>[n, i, p] * W<l>[i, j, p]  (+ b<l>[0, j, p])
    a<l>          = f_l(z<l>)         f_l: the hidden activation, or the output one for l = L

Backward pass, from ``dL/da<L>`` given by the loss::

    delta<L>   = dL/da<L> * f_L'(a<L>)
    dL/dW<l>[i, j, p] = sum_n a<l-1>[n, i, p] * delta<l>[n, j, p]
    dL/db<l>[0, j, p] = sum_n delta<l>[n, j, p]
    delta<l-1>[n, i, p] = (sum_j delta<l>[n, j, p] * W<l>[i, j, p]) * f_{l-1}'(a<l-1>)[n, i, p]

For the article's 2-4-1 network with no bias and half squared error, this is exactly
``delta2 = (o - y) * o * (1 - o)`` and ``delta1 = (delta2 @ W2.T) * h * (1 - h)``.

Every sum is added term by term in index order (``summation.sum_in_order``), for every network
alike, so a network gets bit for bit the same numbers alone or inside any population (a
library matmul or einsum may add in another order when the population's size changes).
Every network only ever touches its own slice ``[..., p]``: networks never mix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .activations import ACTIVATIONS
from .init import InitSpec, draw_weights, make_generator
from .summation import sum_in_order

Params = dict[str, np.ndarray]


@dataclass(frozen=True)
class Architecture:
    """Layer sizes ``(n_in, hidden..., n_out)``, activations by name, bias on or off."""

    sizes: tuple[int, ...]
    activation: str = "sigmoid"
    output_activation: str = "sigmoid"
    bias: bool = False

    @property
    def n_layers(self) -> int:
        return len(self.sizes) - 1

    def activation_of(self, layer: int):
        """The activation of layer ``layer`` (1-indexed)."""
        name = self.output_activation if layer == self.n_layers else self.activation
        return ACTIVATIONS[name]


def init_params(arch: Architecture, specs: list[InitSpec]) -> Params:
    """Draw the weights of ``len(specs)`` networks, each from its own seeded generator.

    Network ``p`` draws ``W1, W2, ...`` in layer order from ``make_generator(specs[p].seed)``,
    so it gets the same weights alone or inside any population.
    """
    per_network = []
    for spec in specs:
        rng = make_generator(spec.generator, spec.seed)
        per_network.append([draw_weights(spec, rng, n_in, n_out) for n_in, n_out in zip(arch.sizes, arch.sizes[1:])])
    params: Params = {}
    for l in range(1, arch.n_layers + 1):
        params[f"W{l}"] = np.stack([weights[l - 1] for weights in per_network], axis=-1)
        if arch.bias:
            params[f"b{l}"] = np.zeros((1, arch.sizes[l], len(specs)))
    return params


def network(params: Params, p: int) -> Params:
    """The parameters of network ``p`` alone, in the textbook's shapes (``W1``: ``(n_in, n_hidden)``)."""
    return {name: array[..., p] for name, array in params.items()}


SEQUENTIAL_UP_TO = 64  # longer sums go to np.einsum: faster, equal only within rounding (1e-12)


def weighted_inputs(a: np.ndarray, W: np.ndarray) -> np.ndarray:
    """``z[n, j, p] = sum_i a[n, i, p] * W[i, j, p]``."""
    if a.shape[1] > SEQUENTIAL_UP_TO:
        return np.einsum("nip,ijp->njp", a, W)
    terms = a[:, :, None, :] * W  # terms[n, i, j, p]: all products in one pass
    return sum_in_order(terms[:, i] for i in range(a.shape[1]))


def errors_back(delta: np.ndarray, W: np.ndarray) -> np.ndarray:
    """``e[n, i, p] = sum_j delta[n, j, p] * W[i, j, p]``."""
    if delta.shape[1] > SEQUENTIAL_UP_TO:
        return np.einsum("njp,ijp->nip", delta, W)
    terms = delta[:, None, :, :] * W  # terms[n, i, j, p]
    return sum_in_order(terms[:, :, j] for j in range(delta.shape[1]))


def weight_gradient(a: np.ndarray, delta: np.ndarray) -> np.ndarray:
    """``g[i, j, p] = sum_n a[n, i, p] * delta[n, j, p]``."""
    if a.shape[0] > SEQUENTIAL_UP_TO:
        return np.einsum("nip,njp->ijp", a, delta)
    terms = a[:, :, None, :] * delta[:, None, :, :]  # terms[n, i, j, p]
    return sum_in_order(terms[n] for n in range(a.shape[0]))


def forward(arch: Architecture, params: Params, X: np.ndarray) -> list[np.ndarray]:
    """All activations ``[a0, a1, ..., aL]``; ``aL`` is the output ``o[n, k, p]``.

    ``X`` is ``(N, n_in)`` (shared by every network) or ``(N, n_in, P)``.
    """
    a = X[:, :, None] if X.ndim == 2 else X
    activations = [a]
    for l in range(1, arch.n_layers + 1):
        z = weighted_inputs(a, params[f"W{l}"])
        if arch.bias:
            z += params[f"b{l}"]
        a = arch.activation_of(l).forward(z)
        activations.append(a)
    return activations


def backward(arch: Architecture, params: Params, activations: list[np.ndarray], dL_do: np.ndarray) -> Params:
    """Gradients ``dL/dW<l>`` (and ``dL/db<l>``) of every network, by the chain rule."""
    grads: Params = {}
    delta = dL_do * arch.activation_of(arch.n_layers).derivative(activations[-1])
    for l in range(arch.n_layers, 0, -1):
        a_prev = activations[l - 1]
        grads[f"W{l}"] = weight_gradient(a_prev, delta)
        if arch.bias:
            grads[f"b{l}"] = sum_in_order(delta[n] for n in range(len(delta)))[None]
        if l > 1:
            delta = errors_back(delta, params[f"W{l}"]) * arch.activation_of(l - 1).derivative(a_prev)
    return grads
