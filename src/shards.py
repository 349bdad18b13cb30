"""A population split into shards, trained side by side: in processes here, or as tasks of Ray or SLURM.

A network trains to the same numbers alone or in any population (its sums are added in a
fixed order), so a population can be cut anywhere: shard ``s`` trains networks
``[s * size, (s + 1) * size)`` with ``run_population`` and writes their run directories, and
every file comes out byte-identical to the unsharded run's on the same CPU. What runs a
shard is an *engine*:

* ``Processes(workers)``: forked processes on this machine, ``workers`` at a time. Each shard
  is a process of its own, so one that fails or is killed costs only its own runs (they are
  ``failed``, or ``running`` on disk and shown ``unfinished``, and ``resume=true`` trains them).
* ``RayTasks(address)``: one Ray task per shard, on a cluster that shares the filesystem
  (``address=None``: a local Ray instance, started and stopped here).
* ``SubmititJobs(folder, cluster, parameters)``: one SLURM job per shard, as a job array
  (``cluster="local"``: submitit's local executor, to try it without a cluster).

An engine's ``run(shards)`` returns, per shard, its ``RunResult`` list or the error that
stopped it.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path

from .config import Config
from .errors import ConfigError
from .population import RunResult, run_population


@dataclass
class Shard:
    """Networks of one population that train together: their configs, run directories, provenance."""

    configs: list[Config]
    run_dirs: list[Path]
    provenance: list[dict]
    writer_lanes: int | None = None


def train_shard(shard: Shard) -> list[RunResult]:
    """Train one shard (in whatever process or machine the engine chose)."""
    return run_population(shard.configs, shard.run_dirs, provenance=shard.provenance, writer_lanes=shard.writer_lanes)


def cut(
    configs: list[Config], run_dirs: list[Path], provenance: list[dict], size: int, lanes: int | None
) -> list[Shard]:
    """The population in shards of ``size`` networks (the last may be smaller), in order."""
    return [
        Shard(configs[i : i + size], run_dirs[i : i + size], provenance[i : i + size], lanes)
        for i in range(0, len(configs), size)
    ]


@dataclass
class Processes:
    """Shards as forked processes of this machine, at most ``workers`` at once."""

    workers: int = field(default_factory=lambda: os.cpu_count() or 1)

    def run(self, shards: list[Shard]) -> list[list[RunResult] | BaseException]:
        if self.workers <= 1 or len(shards) <= 1:
            return [_attempt(shard) for shard in shards]
        context = multiprocessing.get_context("fork")
        outcomes: list = [None] * len(shards)
        waiting, running = list(enumerate(shards)), {}
        try:
            while waiting or running:
                while waiting and len(running) < self.workers:
                    index, shard = waiting.pop(0)
                    receiver, sender = context.Pipe(duplex=False)
                    process = context.Process(target=_train_and_send, args=(shard, sender), daemon=False)
                    process.start()
                    sender.close()
                    running[index] = (process, receiver)
                ready = multiprocessing.connection.wait([receiver for _, receiver in running.values()])
                for index in [i for i, (_, receiver) in running.items() if receiver in ready]:
                    process, receiver = running.pop(index)
                    outcomes[index] = _receive(receiver, process)
        finally:  # an interruption reaches the shards too (same process group): wait for them to record it
            for process, _ in running.values():
                process.join()
        return outcomes


def _attempt(shard: Shard) -> list[RunResult] | BaseException:
    try:
        return train_shard(shard)
    except Exception as error:  # its runs are recorded failed; the other shards go on
        return error


def _train_and_send(shard: Shard, sender) -> None:
    try:
        outcome = _attempt(shard)
    except BaseException as interruption:  # Ctrl-C or SIGTERM: the shard's runs are marked; say so quietly
        outcome = interruption
    try:
        sender.send_bytes(pickle.dumps(outcome))
    except (pickle.PicklingError, TypeError, AttributeError):  # an error that cannot travel: its text can
        sender.send_bytes(pickle.dumps(RuntimeError(str(outcome))))
    sender.close()


def _receive(receiver, process) -> list[RunResult] | BaseException:
    try:
        outcome = pickle.loads(receiver.recv_bytes())
    except EOFError:  # the shard's process died before it could answer (killed, out of memory)
        process.join()
        return RuntimeError(f"the shard's process ended with exit code {process.exitcode} before it could answer")
    process.join()
    return outcome


@dataclass
class RayTasks:
    """Shards as Ray tasks, on the cluster at ``address`` or on a local Ray instance."""

    address: str | None = None
    num_cpus: int = 1

    def run(self, shards: list[Shard]) -> list[list[RunResult] | BaseException]:
        import ray

        started_here = not ray.is_initialized()
        if started_here:
            ray.init(address=self.address, include_dashboard=False, log_to_driver=False)
        try:
            task = ray.remote(num_cpus=self.num_cpus, max_retries=0)(_attempt)
            return ray.get([task.remote(shard) for shard in shards])
        finally:
            if started_here:
                ray.shutdown()


@dataclass
class SubmititJobs:
    """Shards as the jobs of a submitit job array: on SLURM, or ``cluster="local"`` to try it here."""

    folder: Path
    cluster: str | None = None  # None: SLURM when sbatch is there; "local": processes on this machine
    parameters: dict = field(default_factory=dict)  # timeout_min, slurm_partition, cpus_per_task, ...

    def run(self, shards: list[Shard]) -> list[list[RunResult] | BaseException]:
        import submitit

        executor = submitit.AutoExecutor(folder=str(self.folder), cluster=self.cluster)
        executor.update_parameters(**self.parameters)
        jobs = executor.map_array(_attempt, shards)
        outcomes = []
        for job in jobs:
            try:
                outcomes.append(job.result())
            except Exception as error:  # the job itself failed (killed, timed out, node lost)
                outcomes.append(error)
        return outcomes


MIN_SHARD = 32  # networks: a smaller population trains in one piece here (forking costs more than it saves)


def engine_for(settings: dict, sweep_dir: Path | None):
    """The engine that the launcher's settings name (``hydra/launcher=batched``, ``batched_ray``, ...)."""
    engine, workers = settings.get("engine", "processes"), settings.get("workers")
    if engine == "ray":
        return RayTasks(address=settings.get("address"))
    if engine == "submitit":
        folder = Path(sweep_dir or ".") / ".submitit"
        return SubmititJobs(folder, cluster=settings.get("cluster"), parameters=dict(settings.get("submitit") or {}))
    if engine == "processes":
        return Processes(workers or os.cpu_count() or 1)
    raise ConfigError("hydra.launcher.engine", engine, "processes, ray or submitit")


def shard_size(population: int, settings: dict) -> int:
    """Networks per shard: ``shard_size`` when set, else the population split evenly over the workers
    (with processes, into shards of at least ``MIN_SHARD``: a small population is one shard)."""
    if settings.get("shard_size"):
        return int(settings["shard_size"])
    workers = settings.get("workers") or os.cpu_count() or 1
    if settings.get("engine", "processes") == "processes":
        workers = max(1, min(workers, population // MIN_SHARD))
    return -(-population // workers)


def train_in_shards(
    configs: list[Config], run_dirs: list[Path], provenance: list[dict], settings: dict, sweep_dir: Path | None
) -> list[RunResult]:
    """Train one population as the launcher's settings say: one ``RunResult`` per network, in order.

    A shard that failed or was lost gives each of its networks a result with that error (a
    network that trained has its files and summary on disk all the same)."""
    size = shard_size(len(configs), settings)
    engine = engine_for(settings, sweep_dir)
    lanes = None if isinstance(engine, Processes) and size >= len(configs) else 0
    shards = cut(configs, run_dirs, provenance, size, lanes)
    results = []
    for shard, outcome in zip(shards, engine.run(shards)):
        if isinstance(outcome, KeyboardInterrupt):
            raise outcome
        if isinstance(outcome, BaseException):
            results += [RunResult(run_dir, {}, outcome) for run_dir in shard.run_dirs]
        else:
            results += outcome
    return results
