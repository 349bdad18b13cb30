"""Train a population of configured runs together and write each one's run directory.

A single run is a population of one. Runs can share a population when everything that
shapes the arrays or the loop is equal (``population_key``); seeds, learning rates and
the other optimiser hyperparameters, and the initialisation, may differ per network.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from . import data as datasets
from .config import Config, fingerprint, hidden_widths
from .config import value_of as value
from .metrics_file import RowWriter
from .nn.init import InitSpec
from .nn.losses import Loss
from .nn.network import Architecture, init_params, network
from .nn.optim import SGD, Adam, Momentum, RMSProp
from .tracking import RunDirectories, error_message, record_error, save_params, status_of_error, write_traceback
from .train import MiniBatches, train


def population_key(config: Config) -> tuple:
    """What must be equal for two runs to train side by side in one population."""
    m, o, t = config.model, config.optimizer, config.train
    return (
        hidden_widths(m.hidden), value(m.activation), value(m.output_activation), m.bias,
        value(o.name), o.nesterov, value(config.loss.name), value(config.loss.reduction),
        repr(asdict(config.dataset)), t.epochs, t.batch_size, config.log.every, config.log.chunk_epochs,
    )  # fmt: skip


def build_optimizer(configs: list[Config]):
    """One optimiser for the population, with each network's own hyperparameters."""
    o = [c.optimizer for c in configs]
    name = value(o[0].name)
    lr = [c.lr for c in o]
    if name == "sgd":
        return SGD(lr)
    if name == "momentum":
        return Momentum(lr, [c.momentum for c in o], nesterov=o[0].nesterov)
    if name == "rmsprop":
        return RMSProp(lr, [c.rho for c in o], [c.eps for c in o])
    return Adam(lr, [c.beta1 for c in o], [c.beta2 for c in o], [c.eps for c in o])


def init_spec(config: Config) -> InitSpec:
    i = config.init
    return InitSpec(
        seed=i.seed, scheme=value(i.scheme), generator=value(i.generator), distribution=value(i.distribution),
        low=i.low, high=i.high, mean=i.mean, std=i.std, gain=i.gain,
    )  # fmt: skip


@dataclass
class RunResult:
    run_dir: Path
    summary: dict


ProgressCallback = Callable[[np.ndarray, dict], None]
WRITER_LANES = 2  # worker processes formatting metrics.csv rows while the population trains
LANES_FROM_POPULATION = 32  # smaller populations write inline: starting a lane costs more than it saves


def run_population(
    configs: list[Config],
    run_dirs: list[Path],
    on_chunk: ProgressCallback | None = None,
    provenance: list[dict] | None = None,
) -> list[RunResult]:
    """Train ``configs`` as one population; network ``p`` writes ``run_dirs[p]``.

    ``provenance[p]`` is added to run ``p``'s summary (where it came from: code, machine, command).
    ``on_chunk(epochs, metrics)`` sees every chunk (metrics shaped ``(E, P)``), to print progress.
    """
    keys = {population_key(c) for c in configs}
    if len(keys) != 1:
        raise ValueError("these runs differ in shape or kind and cannot share a population")
    provenance = provenance or [{} for _ in configs]
    try:
        first = configs[0]
        data = datasets.load(first.dataset)
        sizes = (data.X.shape[1], *hidden_widths(first.model.hidden), data.y.shape[1])
        arch = Architecture(
            sizes, value(first.model.activation), value(first.model.output_activation), first.model.bias
        )
        params = init_params(arch, [init_spec(c) for c in configs])
        optimizer = build_optimizer(configs)
        loss = Loss(value(first.loss.name), value(first.loss.reduction))
        epochs = first.train.epochs
        batches = None
        if first.train.batch_size is not None and first.train.batch_size < len(data.X):
            batches = MiniBatches(first.train.batch_size, [c.train.shuffle_seed for c in configs])
    except BaseException as error:  # nothing trained yet: each run is failed, with the reason
        for run_dir, extra in zip(run_dirs, provenance):
            record_error(run_dir, error, summary=extra)
        raise

    initial = {name: array.copy() for name, array in params.items()}
    started = time.perf_counter()
    summaries = [
        {"seed": c.init.seed, "config_sha": fingerprint(c), "tags": list(c.tags), "notes": c.notes, **extra}
        for c, extra in zip(configs, provenance)
    ]
    targets = [None if c.objective.target is None else (value(c.objective.metric), c.objective.target) for c in configs]
    directories = RunDirectories(run_dirs, summaries, first.log.every, epochs - 1, targets)
    rows = RowWriter(lanes=WRITER_LANES if len(configs) >= LANES_FROM_POPULATION else 0)
    try:
        last_outputs = None
        for chunk in train(arch, params, optimizer, loss, data, epochs, first.log.chunk_epochs, batches):
            rows.write(directories.rows_of_chunk(chunk.epochs, chunk.metrics))
            last_outputs = chunk.outputs[-1].copy()
            if on_chunk is not None:
                on_chunk(chunk.epochs, chunk.metrics)
        rows.close()
        wall_time = (time.perf_counter() - started) / len(configs)
        results = []
        for p, run_dir in enumerate(directories.run_dirs):
            save_params(run_dir, network(initial, p), network(params, p))
            diverged = directories.diverged_at[p] >= 0
            predictions = None if diverged else last_outputs[:, :, p].tolist()
            summary = directories.finish(
                p,
                epochs_planned=epochs,
                predictions={"inputs": data.X.tolist(), "outputs": predictions, "targets": data.y.tolist()},
                wall_time_s=wall_time,
                population_size=len(configs),
            )
            results.append(RunResult(run_dir, summary))
    except BaseException as error:  # keep the rows handed over, record every unfinished run's end, re-raise
        rows.close()
        for p, run_dir in enumerate(directories.run_dirs):
            if not directories.finished[p]:
                write_traceback(run_dir, error)
                directories.finish(p, status_of_error(error), error=error_message(error))
        raise
    return results
