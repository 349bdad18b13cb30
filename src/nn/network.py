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
from functools import cached_property

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

    @cached_property
    def activations(self) -> tuple:
        """``f_1, ..., f_L``: the activation of every layer, in order."""
        return tuple(self.activation_of(l) for l in range(1, self.n_layers + 1))

    @cached_property
    def weights(self) -> tuple[str, ...]:
        """The names of the weights, ``weights[l] == "W<l>"`` (``weights[0]`` unused)."""
        return tuple(f"W{l}" for l in range(self.n_layers + 1))

    @cached_property
    def biases(self) -> tuple[str, ...]:
        """The names of the biases, ``biases[l] == "b<l>"``."""
        return tuple(f"b{l}" for l in range(self.n_layers + 1))


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


class Products:
    """The products of one layer's sums over units, each laid out so that every term of its sum is one block.

    NumPy adds contiguous blocks fastest, so each sum gets the products ``terms[n, i, j, p]`` in an
    order of its own, the summed index first (one memory serves both, one sum after the other)::

        for_z[i][n, j, p] = a[n, i, p] * W[i, j, p]           z = sum_i for_z[i]
        for_e[j][n, i, p] = delta[n, j, p] * W[i, j, p]       e = sum_j for_e[j]

    ``z`` and ``e`` are added up in the memory of their first term, ``for_z[0]`` and ``for_e[0]``, and
    stay there until the next sum of the layer (a sum of one term is then that term, with no copy).

    ``terms_for_z`` and ``terms_for_e`` are the same two arrays seen as ``terms[n, i, j, p]``, for the one
    multiply that writes all the products of a sum. (The sums over samples, of the weight gradients, are
    ``WeightGradients``.)
    """

    def __init__(self, samples: int, n_in: int, n_out: int, population: int):
        memory = np.empty(samples * n_in * n_out * population)
        for_z = memory.reshape(n_in, samples, n_out, population)
        for_e = memory.reshape(n_out, samples, n_in, population)
        self.terms_for_z, self.for_z = for_z.transpose(1, 0, 2, 3), list(for_z)
        self.terms_for_e, self.for_e = for_e.transpose(1, 2, 0, 3), list(for_e)


class WeightGradients:
    """``dL/dW<l>[i, j, p] = sum_n a<l-1>[n, i, p] * delta<l>[n, j, p]`` for every layer, added up in one go.

    The products of every layer are kept side by side, sample by sample, so that each term of the sums
    over samples is one block holding every layer's products (``w`` runs over ``W1``'s entries, then
    ``W2``'s, ...), and one sum over ``n`` adds up all the gradients at once::

        for_g[n][w, p]       the products of sample n, terms[l][n, i, j, p] = a<l-1>[n, i, p] * delta<l>[n, j, p]
        total[w, p]          = sum_n for_g[n][w, p], seen layer by layer as grads[l][i, j, p]

    Each number is the same sum as layer by layer, in the same order: only fewer NumPy calls add them.
    """

    def __init__(self, arch: Architecture, samples: int, population: int):
        shapes = [arch.sizes[l - 1 : l + 1] for l in range(1, arch.n_layers + 1)]
        ends = np.cumsum([0, *(n_in * n_out for n_in, n_out in shapes)])
        memory = np.empty((samples, ends[-1], population))
        self.for_g, self.total = list(memory), np.empty((ends[-1], population))
        self.terms = [None] + [
            memory[:, start:end].reshape(samples, *shape, population)
            for start, end, shape in zip(ends, ends[1:], shapes)
        ]
        self.grads = [None] + [
            self.total[start:end].reshape(*shape, population) for start, end, shape in zip(ends, ends[1:], shapes)
        ]


def weights_side_by_side(arch: Architecture, params: Params) -> Params:
    """Every ``W<l>`` moved into one array ``W[w, p]``, laid out as ``WeightGradients.total`` (``w`` runs over
    ``W1``'s entries, then ``W2``'s, ...), ``params[W<l>]`` becoming views of it.

    Returns what an optimiser steps: ``{"W": W}`` and the biases, so that each of its operations updates
    every layer's weights in one NumPy call (element by element, the same numbers); see ``Buffers.stepped``.
    """
    population = params[arch.weights[1]].shape[-1]
    weights = np.concatenate([params[name].reshape(-1, population) for name in arch.weights[1:]])
    start = 0
    for name in arch.weights[1:]:
        shape = params[name].shape
        params[name] = weights[start : start + shape[0] * shape[1]].reshape(shape)
        start += shape[0] * shape[1]
    return {"W": weights, **{name: params[name] for name in arch.biases[1:] if name in params}}


class Buffers:
    """Every array of one forward and backward pass, for ``P`` networks on ``N`` samples, allocated once.

    A training loop makes one and hands it to ``forward`` and ``backward`` every epoch, which
    write into it (NumPy's ``out=``) instead of allocating new arrays: the same operations on
    the same numbers, so the same bits, without the cost of fresh memory::

        a[l]          (N, n_l, P)    activations; a[0] is the input, set by ``forward``
        delta[l]      (N, n_l, P)    dL/dz<l>, written first with f_l'(a<l>) and then multiplied in place
        products[l]   (N, n_{l-1}, n_l, P), see ``Products``; the weighted inputs z<l> are added up there
        weight_grads  the products and sums of every dL/dW<l>, see ``WeightGradients``
        grads         dL/dW<l> (n_{l-1}, n_l, P) (views of ``weight_grads``) and dL/db<l> (1, n_l, P), by name
        stepped       the same gradients as an optimiser steps them: "W" (``weight_grads.total``) and dL/db<l>,
                      beside the parameters of ``weights_side_by_side``

    and, made once too, the views that line ``a`` and ``delta`` up with ``terms[n, i, j, p]``:
    ``a_by_j[l] = a[l][:, :, None, :]`` (``a[n, i, 0, p]``) and ``delta_by_i[l] = delta[l][:, None, :, :]``.
    """

    def __init__(self, arch: Architecture, samples: int, population: int):
        layers = range(1, arch.n_layers + 1)

        def per_unit() -> list:
            return [None, *(np.empty((samples, arch.sizes[l], population)) for l in layers)]

        self.a, self.delta = per_unit(), per_unit()
        self.a_by_j = [None if a is None else a[:, :, None, :] for a in self.a]
        self.delta_by_i = [None if delta is None else delta[:, None, :, :] for delta in self.delta]
        self.products = [None, *(Products(samples, *arch.sizes[l - 1 : l + 1], population) for l in layers)]
        self.weight_grads = WeightGradients(arch, samples, population)
        self.grads: Params = {}
        for l in layers:
            self.grads[f"W{l}"] = self.weight_grads.grads[l]
            if arch.bias:
                self.grads[f"b{l}"] = np.empty((1, arch.sizes[l], population))
        self.stepped = {"W": self.weight_grads.total, **{name: g for name, g in self.grads.items() if name[0] == "b"}}


def weighted_inputs(a_by_j: np.ndarray, W: np.ndarray, products: Products) -> np.ndarray:
    """``z[n, j, p] = sum_i a[n, i, p] * W[i, j, p]``, in ``products.for_z[0]``; ``a_by_j`` is ``a[:, :, None, :]``."""
    if a_by_j.shape[1] > SEQUENTIAL_UP_TO:
        return np.einsum("nip,ijp->njp", a_by_j[:, :, 0], W, out=products.for_z[0])
    np.multiply(a_by_j, W, out=products.terms_for_z)  # all products in one pass
    return sum_in_order(products.for_z, out=products.for_z[0])


def errors_back(delta_by_i: np.ndarray, W: np.ndarray, products: Products) -> np.ndarray:
    """``e[n, i, p] = sum_j delta[n, j, p] * W[i, j, p]``, in ``products.for_e[0]``; ``delta_by_i`` is
    ``delta[:, None, :, :]``."""
    if delta_by_i.shape[2] > SEQUENTIAL_UP_TO:
        return np.einsum("njp,ijp->nip", delta_by_i[:, 0], W, out=products.for_e[0])
    np.multiply(delta_by_i, W, out=products.terms_for_e)
    return sum_in_order(products.for_e, out=products.for_e[0])


def weight_gradient_terms(a_by_j: np.ndarray, delta_by_i: np.ndarray, weight_grads: WeightGradients, l: int) -> None:
    """The terms of ``g[i, j, p] = sum_n a[n, i, p] * delta[n, j, p]`` for layer ``l``; ``add_up`` adds them.

    (Over more than ``SEQUENTIAL_UP_TO`` samples, ``np.einsum`` writes the sum itself.)"""
    if a_by_j.shape[0] > SEQUENTIAL_UP_TO:
        np.einsum("nip,njp->ijp", a_by_j[:, :, 0], delta_by_i[:, 0], out=weight_grads.grads[l])
    else:
        np.multiply(a_by_j, delta_by_i, out=weight_grads.terms[l])


def add_up(weight_grads: WeightGradients) -> None:
    """``g = sum_n for_g[n]`` for every layer at once (nothing to add when ``np.einsum`` did)."""
    if len(weight_grads.for_g) <= SEQUENTIAL_UP_TO:
        sum_in_order(weight_grads.for_g, out=weight_grads.total)


def forward(arch: Architecture, params: Params, X: np.ndarray, buffers: Buffers | None = None) -> list[np.ndarray]:
    """All activations ``[a0, a1, ..., aL]``; ``aL`` is the output ``o[n, k, p]``.

    ``X`` is ``(N, n_in)`` (shared by every network) or ``(N, n_in, P)``. The activations are
    written into ``buffers`` (new ones when not given): they hold this pass's values until the next.
    """
    buffers = buffers or Buffers(arch, len(X), params["W1"].shape[-1])
    if buffers.a[0] is not X:  # new inputs (full batch: only the first time), lined up with the products
        buffers.a[0] = X[:, :, None] if X.ndim == 2 else X
        buffers.a_by_j[0] = buffers.a[0][:, :, None, :]
    for l, f in enumerate(arch.activations, start=1):
        z = weighted_inputs(buffers.a_by_j[l - 1], params[arch.weights[l]], buffers.products[l])
        if arch.bias:
            z += params[arch.biases[l]]
        f.forward(z, out=buffers.a[l])  # a<l> = f_l(z<l>)
    return buffers.a


def backward(
    arch: Architecture, params: Params, activations: list[np.ndarray], dL_do: np.ndarray, buffers: Buffers | None = None
) -> Params:
    """Gradients ``dL/dW<l>`` (and ``dL/db<l>``) of every network, by the chain rule.

    ``activations`` are ``forward``'s, in ``buffers`` (without ``buffers``, any list of them, and the
    gradients go to new arrays); the gradients are written into ``buffers.grads`` and hold until the next pass.
    """
    L = arch.n_layers
    if buffers is None or activations is not buffers.a:
        buffers = Buffers(arch, len(dL_do), params["W1"].shape[-1])
        buffers.a_by_j = [a[:, :, None, :] for a in activations]
    grads = buffers.grads
    delta = arch.activations[L - 1].derivative(activations[L], out=buffers.delta[L])
    np.multiply(dL_do, delta, out=delta)  # delta<L> = dL/da<L> * f_L'(a<L>)
    for l in range(L, 0, -1):
        weight_gradient_terms(buffers.a_by_j[l - 1], buffers.delta_by_i[l], buffers.weight_grads, l)
        if arch.bias:
            sum_in_order(list(delta), out=grads[arch.biases[l]][0])
        if l > 1:
            W = params[arch.weights[l]]
            e = errors_back(buffers.delta_by_i[l], W, buffers.products[l])
            delta = arch.activations[l - 2].derivative(activations[l - 1], out=buffers.delta[l - 1])
            np.multiply(e, delta, out=delta)  # delta<l-1> = e * f_{l-1}'(a<l-1>)
    add_up(buffers.weight_grads)  # dL/dW<l> = sum_n a<l-1>[n] * delta<l>[n], every layer at once
    return grads
