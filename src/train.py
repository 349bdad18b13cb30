"""The training loop: per epoch, forward pass, backward pass, update, for a whole population.

Only what every epoch needs happens inside the loop. The outputs ``o`` of each epoch's
forward pass are recorded; every ``chunk_epochs`` epochs the metrics of the whole chunk
are derived from them in one vectorized step (``metrics_of``) and handed to the caller
as a ``Chunk``, which writes them to disk. Memory therefore stays bounded by one chunk,
however long the run.

Metrics describe the network *before* that epoch's update: epoch 0 is the untrained
network, and the last row shows the outputs the network had going into its last update.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from .data import Dataset
from .nn.losses import Loss
from .nn.network import Architecture, Params, backward, forward

METRICS = ("loss", "mae", "mse", "accuracy")


@dataclass
class Chunk:
    """What a stretch of epochs produced: ``epochs (E,)``, ``outputs (E, P, N, k)``, ``metrics[name] (E, P)``.

    ``outputs`` is the loop's own buffer: read it before asking for the next chunk.
    """

    epochs: np.ndarray
    outputs: np.ndarray
    metrics: dict[str, np.ndarray]


def metrics_of(outputs: np.ndarray, y: np.ndarray, loss: Loss) -> dict[str, np.ndarray]:
    """Per-epoch, per-network metrics of recorded outputs ``o`` against targets ``y``.

    * ``loss``: the training objective ``L(o, y)``
    * ``mae``: ``mean(|y - o|)``, the article's printed "Loss"
    * ``mse``: ``mean((y - o)**2)``
    * ``accuracy``: share of outputs on the right side of 0.5, ``mean((o > 0.5) == (y > 0.5))``
    """
    error = y - outputs
    return {
        "loss": loss.value(outputs, y),
        "mae": np.abs(error).mean(axis=(-2, -1)),
        "mse": (error * error).mean(axis=(-2, -1)),
        "accuracy": ((outputs > 0.5) == (y > 0.5)).mean(axis=(-2, -1)),
    }


def full_batch_epoch(arch: Architecture, params: Params, optimizer, loss: Loss, data: Dataset) -> np.ndarray:
    """One epoch on all samples at once; returns the outputs ``o`` before the update."""
    activations = forward(arch, params, data.X)
    o = activations[-1]
    optimizer.step(params, backward(arch, params, activations, loss.gradient(o, data.y)))
    return o


class MiniBatches:
    """Mini-batches in a fresh order every epoch, shuffled by each network's own generator."""

    def __init__(self, batch_size: int, shuffle_seeds: list[int]):
        self.batch_size = batch_size
        self.generators = [np.random.default_rng(seed) for seed in shuffle_seeds]

    def epoch(self, arch: Architecture, params: Params, optimizer, loss: Loss, data: Dataset) -> np.ndarray:
        """One epoch of updates, one per batch; returns each sample's output as its batch saw it."""
        n = len(data.X)
        order = np.stack([rng.permutation(n) for rng in self.generators])  # (P, N)
        outputs = np.empty((len(order), n, data.y.shape[1]))
        for start in range(0, n, self.batch_size):
            rows = order[:, start : start + self.batch_size]  # (P, B)
            X, y = data.X[rows], data.y[rows]  # (P, B, n_in), (P, B, n_out)
            activations = forward(arch, params, X)
            o = activations[-1]
            np.put_along_axis(outputs, rows[:, :, None], o, axis=1)
            optimizer.step(params, backward(arch, params, activations, loss.gradient(o, y)))
        return outputs


def train(
    arch: Architecture,
    params: Params,
    optimizer,
    loss: Loss,
    data: Dataset,
    epochs: int,
    chunk_epochs: int = 1000,
    batches: MiniBatches | None = None,
) -> Iterator[Chunk]:
    """Train every network of the population for ``epochs`` epochs, updating ``params`` in place.

    Yields one ``Chunk`` every ``chunk_epochs`` epochs. A network whose outputs stop being
    finite has diverged; it keeps computing NaNs in its own slice, which disturbs no other
    network, and training stops early once every network has diverged.
    """
    population = params["W1"].shape[0]
    outputs = np.empty((min(chunk_epochs, epochs), population, *data.y.shape))
    for first in range(0, epochs, chunk_epochs):
        count = min(chunk_epochs, epochs - first)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            for i in range(count):
                if batches is None:
                    outputs[i] = full_batch_epoch(arch, params, optimizer, loss, data)
                else:
                    outputs[i] = batches.epoch(arch, params, optimizer, loss, data)
            recorded = outputs[:count]
            metrics = metrics_of(recorded, data.y, loss)
        yield Chunk(np.arange(first, first + count), recorded, metrics)
        still_finite = np.isfinite(recorded[-1]).all(axis=(-2, -1))
        if not still_finite.any():
            return
