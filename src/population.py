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
from .interruption import stop_if_signalled
from .metrics import HIGHER_IS_BETTER
from .nn.losses import Loss
from .nn.network import Architecture, init_params, network
from .nn.optim import OPTIMIZERS
from .rundir.metrics_csv import RowWriter
from .rundir.signals import signals_held
from .rundir.writer import (
    RunDirectories,
    error_message,
    record_error,
    save_params,
    status_of_error,
    write_traceback,
)
from .train import METRICS, MiniBatches, train


def population_key(config: Config) -> tuple:
    """What must be equal for two runs to train side by side in one population."""
    m, o, t = config.model, config.optimizer, config.train
    return (
        hidden_widths(m.hidden), value(m.activation), value(m.output_activation), m.bias,
        value(o.name), *shared_hyperparameters(o), value(config.loss.name), value(config.loss.reduction),
        repr(asdict(config.dataset)), t.epochs, t.batch_size, config.log.every, config.log.chunk_epochs,
    )  # fmt: skip


def shared_hyperparameters(o) -> tuple:
    """The optimiser's switches (``nesterov``): one value for a whole population, unlike its numbers."""
    return tuple(getattr(o, key) for key in OPTIMIZERS.keys_read(o.name) if isinstance(getattr(o, key), bool))


def build_optimizer(configs: list[Config]):
    """One optimiser for the population: each network's own numbers (``lr[p]``), its switches shared.

    The registered optimiser ``optimizer.name`` is given the keys its constructor names.
    """
    name = configs[0].optimizer.name
    settings = {}
    for key in OPTIMIZERS.keys_read(name):
        values = [getattr(c.optimizer, key) for c in configs]
        settings[key] = values[0] if isinstance(values[0], bool) else values
    return OPTIMIZERS[name](**settings)


@dataclass
class RunResult:
    run_dir: Path
    summary: dict
    error: BaseException | None = None  # why the run could not start (its summary says ``failed``)


ProgressCallback = Callable[[np.ndarray, dict], None]
WRITER_LANES = 2  # worker processes formatting metrics.csv rows while the population trains
LANES_FROM_POPULATION = 32  # smaller populations write inline: starting a lane costs more than it saves


def set_up_networks(arch: Architecture, configs: list[Config]):
    """(the networks that can start, {network: error} for those whose own set-up fails, and the
    starting networks' parameters and optimiser).

    A network's own set-up is drawing its weights and taking its optimiser hyperparameters
    (``init.low`` and ``init.high`` too far apart for a generator, say). The whole population is
    tried first; only when that fails is each network tried alone, so one bad network fails alone.
    """
    try:
        params, optimizer = init_params(arch, [c.init for c in configs]), build_optimizer(configs)
        return list(range(len(configs))), {}, params, optimizer
    except Exception as error:
        whole_population = error
    failed = {}
    for p, config in enumerate(configs):
        try:
            init_params(arch, [config.init])
            build_optimizer([config])
        except Exception as error:
            failed[p] = error
    if not failed:  # no network fails alone: the population does, as a whole
        raise whole_population
    starting = [p for p in range(len(configs)) if p not in failed]
    if not starting:
        return starting, failed, None, None
    kept = [configs[p] for p in starting]
    return starting, failed, init_params(arch, [c.init for c in kept]), build_optimizer(kept)


def run_population(
    configs: list[Config],
    run_dirs: list[Path],
    on_chunk: ProgressCallback | None = None,
    provenance: list[dict] | None = None,
    writer_lanes: int | None = None,
) -> list[RunResult]:
    """Train ``configs`` as one population; network ``p`` writes ``run_dirs[p]``.

    ``provenance[p]`` is added to run ``p``'s summary (where it came from: code, machine, command).
    ``on_chunk(epochs, metrics)`` sees every chunk (metrics shaped ``(E, P)``), to print progress.
    A network whose own set-up fails is recorded ``failed`` with its reason (``RunResult.error``)
    and the others train; what the whole population shares (the dataset, the shapes) failing
    fails every run, and is raised.
    ``writer_lanes``: processes formatting ``metrics.csv`` beside the training (default: two for a
    population of 32 or more, none below; a shard among others on the same cores takes none).
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
        starting, failed, params, optimizer = set_up_networks(arch, configs)
    except BaseException as error:  # nothing trained yet: each run is failed, with the reason
        with signals_held():
            for run_dir, extra in zip(run_dirs, provenance):
                record_error(run_dir, error, summary=extra)
        raise
    results = {}
    with signals_held():
        for p, error in failed.items():
            summary = record_error(run_dirs[p], error, summary={"config_sha": fingerprint(configs[p]), **provenance[p]})
            results[p] = RunResult(Path(run_dirs[p]), summary, error)
    if starting:
        trained = train_population(
            data, arch, params, optimizer, [configs[p] for p in starting], [run_dirs[p] for p in starting],
            on_chunk, [provenance[p] for p in starting], writer_lanes,
        )  # fmt: skip
        results.update(zip(starting, trained))
    return [results[p] for p in range(len(configs))]


def train_population(
    data, arch, params, optimizer, configs, run_dirs, on_chunk, provenance, writer_lanes=None
) -> list[RunResult]:
    """Train networks whose weights (``params``) and ``optimizer`` are set up, writing their run directories."""
    first = configs[0]
    loss = Loss(value(first.loss.name), value(first.loss.reduction))
    epochs = first.train.epochs
    batches = None
    if first.train.batch_size is not None and first.train.batch_size < len(data.X):
        batches = MiniBatches(first.train.batch_size, [c.train.shuffle_seed for c in configs])

    initial = {name: array.copy() for name, array in params.items()}
    started = time.perf_counter()
    summaries = [
        {"seed": c.init.seed, "config_sha": fingerprint(c), "tags": list(c.tags), "notes": c.notes, **extra}
        for c, extra in zip(configs, provenance)
    ]
    targets = [
        None
        if c.objective.target is None
        else (value(c.objective.metric), c.objective.target, value(c.objective.metric) in HIGHER_IS_BETTER)
        for c in configs
    ]
    if writer_lanes is None:
        writer_lanes = WRITER_LANES if len(configs) >= LANES_FROM_POPULATION else 0
    directories = rows = None
    try:
        with signals_held():  # every run marked running, or none: a signal waits until they all are
            directories = RunDirectories(run_dirs, summaries, METRICS, first.log.every, epochs - 1, targets)
        rows = RowWriter(directories.paths, lanes=writer_lanes)  # a signal held above may arrive here
        last_outputs = None
        for chunk in train(arch, params, optimizer, loss, data, epochs, first.log.chunk_epochs, batches):
            rows.write(*directories.rows_of_chunk(chunk.epochs, chunk.metrics))
            last_outputs = chunk.outputs[-1].copy()
            if on_chunk is not None:
                on_chunk(chunk.epochs, chunk.metrics)
            stop_if_signalled()
        rows.close()
        wall_time = (time.perf_counter() - started) / len(configs)
        results = []
        with signals_held():  # a signal now would leave a run marked but not written: it waits
            for p, run_dir in enumerate(directories.run_dirs):
                save_params(run_dir, network(initial, p), network(params, p))
                diverged = directories.diverged_on_disk[p] >= 0
                summary = directories.finish(
                    p,
                    predictions={
                        "inputs": data.X,
                        "outputs": None if diverged else last_outputs[:, :, p],
                        "targets": data.y,
                    },
                    epochs_planned=epochs,
                    wall_time_s=wall_time,
                    population_size=len(configs),
                )
                results.append(RunResult(run_dir, summary))
    except BaseException as error:  # keep the rows on disk, record every unfinished run's end, re-raise
        if directories is None:  # stopped before any run was marked running: nothing to record
            raise
        with signals_held():
            counted = True
            try:
                if rows is not None:
                    rows.close()
            except BaseException:  # a writer lane was lost too: what it wrote is read from disk
                counted = False
            for p, run_dir in enumerate(directories.run_dirs):
                if not directories.finished[p]:
                    if not counted:
                        directories.count_from_disk(p)
                    write_traceback(run_dir, error)
                    directories.finish(p, status_of_error(error), error=error_message(error))
        raise
    return results
