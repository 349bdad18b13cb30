"""A fully connected network, written for a whole population of networks at once.

Layer ``l`` (1-indexed, as in the article) has weights ``W<l>`` and, when the model
has biases, ``b<l>``. Every array carries the population axis ``P`` first:

    W<l>: (P, n_{l-1}, n_l)        b<l>: (P, 1, n_l)

Forward pass, for inputs ``a0 = X`` of shape ``(N, n_0)`` (shared by all networks) or
``(P, N, n_0)`` (one batch per network)::

    z<l> = a<l-1> @ W<l> + b<l>
    a<l> = f_l(z<l>)            f_l = hidden activation, or the output one for the last layer

Backward pass, from ``dL/da<L>`` given by the loss::

    delta<L>   = dL/da<L> * f_L'(a<L>)
    dL/dW<l>   = a<l-1>^T @ delta<l>
    dL/db<l>   = sum over samples of delta<l>
    delta<l-1> = (delta<l> @ W<l>^T) * f_{l-1}'(a<l-1>)

For the article's 2-4-1 network with no bias and half squared error this is exactly
``delta2 = (o - y) * o * (1 - o)`` and ``delta1 = (delta2 @ W2.T) * h * (1 - h)``.
``matmul`` broadcasts over the leading axis, so the same lines serve one network or many,
and every network only ever touches its own slice: members never mix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .activations import ACTIVATIONS
from .init import InitSpec, draw_weights, make_generator

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
        params[f"W{l}"] = np.stack([weights[l - 1] for weights in per_network])
        if arch.bias:
            params[f"b{l}"] = np.zeros((len(specs), 1, arch.sizes[l]))
    return params


def forward(arch: Architecture, params: Params, X: np.ndarray) -> list[np.ndarray]:
    """All activations ``[a0, a1, ..., aL]``; ``aL`` is the output ``o`` of shape ``(P, N, n_out)``."""
    activations = [X]
    a = X
    for l in range(1, arch.n_layers + 1):
        z = a @ params[f"W{l}"]
        if arch.bias:
            z = z + params[f"b{l}"]
        a = arch.activation_of(l).forward(z)
        activations.append(a)
    return activations


def backward(arch: Architecture, params: Params, activations: list[np.ndarray], dL_do: np.ndarray) -> Params:
    """Gradients ``dL/dW<l>`` (and ``dL/db<l>``) of every network, by the chain rule."""
    grads: Params = {}
    delta = dL_do * arch.activation_of(arch.n_layers).derivative(activations[-1])
    for l in range(arch.n_layers, 0, -1):
        a_prev = activations[l - 1]
        grads[f"W{l}"] = np.swapaxes(a_prev, -1, -2) @ delta
        if arch.bias:
            grads[f"b{l}"] = delta.sum(axis=-2, keepdims=True)
        if l > 1:
            delta = (delta @ np.swapaxes(params[f"W{l}"], -1, -2)) * arch.activation_of(l - 1).derivative(a_prev)
    return grads
