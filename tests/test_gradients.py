"""Backpropagation against central finite differences, for every activation, loss and bias setting."""

import itertools

import numpy as np
import pytest

from src.nn.init import InitSpec
from src.nn.losses import Loss
from src.nn.network import Architecture, backward, forward, init_params

ACTIVATIONS = ["sigmoid", "tanh", "relu", "identity"]
LOSSES = [
    ("half_squared_error", "sum"),
    ("squared_error", "mean"),
    ("binary_cross_entropy", "mean"),
    ("binary_cross_entropy", "sum"),
]


def total_loss(arch, params, loss, X, y):
    return loss.value(forward(arch, params, X)[-1], y).sum()


def numerical_gradient(arch, params, loss, X, y, name, h=1e-5):
    grad = np.zeros_like(params[name])
    for index in np.ndindex(params[name].shape):
        original = params[name][index]
        params[name][index] = original + h
        plus = total_loss(arch, params, loss, X, y)
        params[name][index] = original - h
        minus = total_loss(arch, params, loss, X, y)
        params[name][index] = original
        grad[index] = (plus - minus) / (2 * h)
    return grad


CASES = [
    (hidden, output, loss, bias)
    for hidden, output, loss, bias in itertools.product(ACTIVATIONS, ACTIVATIONS, LOSSES, [False, True])
    if loss[0] != "binary_cross_entropy" or output == "sigmoid"  # cross entropy needs outputs in (0, 1)
]


@pytest.mark.parametrize("hidden,output,loss_spec,bias", CASES)
def test_backward_matches_finite_differences(hidden, output, loss_spec, bias):
    rng = np.random.default_rng(7)
    arch = Architecture((3, 5, 4, 2), hidden, output, bias)
    specs = [InitSpec(seed=s, scheme="normal", generator="pcg64", std=0.8) for s in (1, 2)]
    params = init_params(arch, specs)
    if bias:
        for name in params:
            if name.startswith("b"):
                params[name] = rng.normal(size=params[name].shape)
    X = rng.normal(size=(6, 3))
    y = rng.uniform(0.05, 0.95, size=(6, 2, 1))
    loss = Loss(*loss_spec)
    activations = forward(arch, params, X)
    grads = backward(arch, params, activations, loss.gradient(activations[-1], y))
    assert set(grads) == set(params)
    for name in params:
        expected = numerical_gradient(arch, params, loss, X, y, name)
        # the usual gradient-check measure: |g - g_num| / (|g| + |g_num|), norms over the array
        size = np.linalg.norm(grads[name]) + np.linalg.norm(expected)
        relative = np.linalg.norm(grads[name] - expected) / size if size > 0 else 0.0
        assert relative < 1e-6, (name, relative)


def test_article_deltas_are_the_textbook_formulas():
    """For 2-4-1 sigmoid, no bias, half SSE: delta2 = (o - y) o (1 - o), delta1 = (delta2 W2^T) h (1 - h)."""
    arch = Architecture((2, 4, 1))
    params = init_params(arch, [InitSpec(seed=42)])
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], float)
    y = np.array([[0], [1], [1], [0]], float)
    activations = forward(arch, params, X)
    grads = backward(arch, params, activations, Loss("half_squared_error").gradient(activations[-1], y[:, :, None]))
    W1, W2 = params["W1"][..., 0], params["W2"][..., 0]  # network 0 in the textbook's shapes
    h = 1 / (1 + np.exp(-(X @ W1)))
    o = 1 / (1 + np.exp(-(h @ W2)))
    delta2 = (o - y) * o * (1 - o)
    delta1 = (delta2 @ W2.T) * h * (1 - h)
    np.testing.assert_allclose(grads["W2"][..., 0], h.T @ delta2, rtol=1e-13)
    np.testing.assert_allclose(grads["W1"][..., 0], X.T @ delta1, rtol=1e-13)
