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
from .metrics import METRICS as METRICS  # re-exported: the metrics that metrics_of computes
from .nn.losses import Loss
from .nn.network import Architecture, Buffers, Params, backward, forward, weights_side_by_side
from .nn.summation import total_over_samples

ROW_BUFFERS_FROM = 256  # populations at least this large run their epochs with NumPy's buffers one row long
CHUNK_VALUES = 2**20  # at most this many recorded outputs per chunk (8 MB): memory stays warm and bounded
METRICS_BLOCK_VALUES = 2**17  # metrics are computed over this many outputs at a time (1 MB: in the cache)


@dataclass
class Chunk:
    """What a stretch of epochs produced: ``epochs[e]``, ``outputs[e, n, k, p]``, ``metrics[name][e, p]``.

    ``outputs`` is the loop's own buffer: read it before asking for the next chunk.
    """

    epochs: np.ndarray
    outputs: np.ndarray
    metrics: dict[str, np.ndarray]


def metrics_of(outputs: np.ndarray, y: np.ndarray, loss: Loss) -> dict[str, np.ndarray]:
    """Per-epoch, per-network metrics ``m[e, p]`` of recorded outputs ``o[e, n, k, p]`` against ``y[n, k, 0]``.

    * ``loss``: the training objective ``L(o, y)``
    * ``mae``: ``mean(|y - o|)``, the article's printed "Loss"
    * ``mse``: ``mean((y - o)**2)``
    * ``accuracy``: share of outputs on the right side of 0.5, ``mean((o > 0.5) == (y > 0.5))``
    """
    error = y - outputs
    count = outputs.shape[-3] * outputs.shape[-2]  # samples times outputs
    mse = total_over_samples(error * error) / count
    right = np.equal(outputs > 0.5, y > 0.5)
    return {
        "loss": loss.value(outputs, y),
        "mae": total_over_samples(np.abs(error, out=error)) / count,  # |y - o| where y - o was: the last use of it
        "mse": mse,
        "accuracy": np.count_nonzero(right, axis=(-3, -2)) / count,  # a count of whole numbers: exact in any order
    }


def metrics_in_blocks(outputs: np.ndarray, y: np.ndarray, loss: Loss) -> dict[str, np.ndarray]:
    """``metrics_of`` a chunk's outputs, a block of epochs at a time, so that each block's arrays stay in
    the CPU's cache (for a large population, a whole chunk's do not); the same numbers, sooner."""
    step = max(1, METRICS_BLOCK_VALUES // outputs[0].size)
    metrics = {name: np.empty((len(outputs), outputs.shape[-1])) for name in METRICS}  # m[e, p]
    for first in range(0, len(outputs), step):  # each block's numbers copied in as they come (few arrays alive)
        for name, values in metrics_of(outputs[first : first + step], y, loss).items():
            metrics[name][first : first + step] = values
    return metrics


def row_buffers(population: int) -> None:
    """NumPy's ufunc buffers made no longer than a row of ``P`` values (``np.setbufsize``), for a large population.

    A multiply that broadcasts, such as ``a[n, i, 0, p] * W[i, j, p]`` into ``terms[n, i, j, p]``, cannot run as
    one loop over the memory; by default NumPy then copies its operands through buffers of 8,192 values to run
    longer loops. With buffers no longer than the rows, it runs row by row on the arrays themselves: the same
    products, about 1.5 times as fast at P = 1,000 (12.1 -> 7.9 us for the products of W1, measured here).
    (It holds until the enclosing ``np.errstate`` ends.)
    """
    if population >= ROW_BUFFERS_FROM:
        np.setbufsize(min(np.getbufsize(), population // 16 * 16))  # NumPy's sizes are multiples of 16


def update(
    arch: Architecture, params: Params, stepped: Params, optimizer, loss: Loss, X, y, buffers: Buffers
) -> np.ndarray:
    """Forward pass, backward pass and one update on the samples ``X``; returns the outputs ``o`` before it.

    ``stepped`` are ``params`` as the optimiser steps them, every layer's weights in one array
    (``weights_side_by_side``), and ``buffers.stepped`` their gradients."""
    activations = forward(arch, params, X, buffers)
    o = activations[-1]
    backward(arch, params, activations, loss.gradient(o, y), buffers)
    optimizer.step(stepped, buffers.stepped)
    return o


class FullBatch:
    """Every epoch, one update on all samples at once."""

    def __init__(self, arch: Architecture, samples: int, population: int):
        self.buffers = Buffers(arch, samples, population)

    def epoch(
        self, arch: Architecture, params: Params, stepped: Params, optimizer, loss: Loss, X, y, outputs: np.ndarray
    ) -> None:
        """One epoch; writes the outputs ``o[n, k, p]`` before the update into ``outputs``."""
        np.copyto(outputs, update(arch, params, stepped, optimizer, loss, X, y, self.buffers))


class MiniBatches:
    """Mini-batches in a fresh order every epoch, shuffled by each network's own generator."""

    def __init__(self, batch_size: int, shuffle_seeds: list[int]):
        self.batch_size = batch_size
        self.generators = [np.random.default_rng(seed) for seed in shuffle_seeds]
        self.buffers: dict[int, Buffers] = {}  # by batch length (the last batch may be shorter)

    def epoch(
        self, arch: Architecture, params: Params, stepped: Params, optimizer, loss: Loss, X, y, outputs: np.ndarray
    ) -> None:
        """One epoch of updates, one per batch; writes each sample's output ``o[n, k, p]``, as its batch
        saw it, into ``outputs``."""
        n = len(X)
        order = np.stack([rng.permutation(n) for rng in self.generators])  # order[p, position]
        members = np.arange(len(order))
        for start in range(0, n, self.batch_size):
            rows = order[:, start : start + self.batch_size].T  # rows[b, p]: sample of network p
            X_batch = X[rows].transpose(0, 2, 1)  # X_batch[b, i, p]
            y_batch = y[rows, :, 0].transpose(0, 2, 1)  # y_batch[b, k, p]
            if len(rows) not in self.buffers:
                self.buffers[len(rows)] = Buffers(arch, len(rows), len(members))
            o = update(arch, params, stepped, optimizer, loss, X_batch, y_batch, self.buffers[len(rows)])
            outputs[rows, :, members] = o.transpose(0, 2, 1)


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
    X, y = data.X, data.y[:, :, None]  # y[n, k, 0] broadcasts over the networks
    population = params["W1"].shape[-1]
    chunk_epochs = max(1, min(chunk_epochs, CHUNK_VALUES // (y.size * population)))
    # outputs[e, n, k, p], kept sample by sample: each sample's run of epochs is one block of memory, so that the
    # metrics' sums over samples add whole blocks, which NumPy does fastest
    samples, n_out = y.shape[:2]
    outputs = np.empty((samples, min(chunk_epochs, epochs), n_out, population)).transpose(1, 0, 2, 3)
    stepped = weights_side_by_side(arch, params)  # params' W<l> become views of one array, which the optimiser steps
    if batches is None:
        batches = FullBatch(arch, len(X), population)
        X = X[:, :, None]  # X[n, i, 0]: shared by every network, the same array every epoch
    for first in range(0, epochs, chunk_epochs):
        count = min(chunk_epochs, epochs - first)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            with np.errstate():  # the buffers' size holds for the epochs, not the metrics
                row_buffers(population)
                for i in range(count):
                    batches.epoch(arch, params, stepped, optimizer, loss, X, y, outputs[i])
            recorded = outputs[:count]
            metrics = metrics_in_blocks(recorded, y, loss)
        yield Chunk(np.arange(first, first + count), recorded, metrics)
        still_finite = np.isfinite(recorded[-1]).all(axis=(0, 1))
        if not still_finite.any():
            return
