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

import os
import pickle
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .config import Config
from .errors import ConfigError
from .interruption import stop_if_signalled
from .population import RunResult, run_population


@dataclass
class Shard:
    """Networks of one population that train together: their configs, run directories, provenance."""

    configs: list[Config]
    run_dirs: list[Path]
    provenance: list[dict]
    writer_lanes: int | None = None


def train_shard(shard: Shard, on_epochs: Callable[[int], None] | None = None) -> list[RunResult]:
    """Train one shard (in whatever process or machine the engine chose); ``on_epochs(done)`` hears its progress."""
    on_chunk = None if on_epochs is None else (lambda epochs, metrics: on_epochs(int(epochs[-1]) + 1))
    return run_population(
        shard.configs, shard.run_dirs, on_chunk=on_chunk, provenance=shard.provenance, writer_lanes=shard.writer_lanes
    )


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
    """Shards as forked processes of this machine, at most ``workers`` at once.

    ``on_epochs(done)``, when given, hears the epochs that every shard has finished (a shard
    yet to start counts none), as the shards report them. When this process is interrupted,
    the shards are told (SIGTERM: their runs are marked interrupted) and their answers read
    before the interruption goes on.
    """

    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    on_epochs: Callable[[int], None] | None = None

    def run(self, shards: list[Shard]) -> list[list[RunResult] | BaseException]:
        if self.workers <= 1 or len(shards) <= 1:
            return [_attempt(shard, self.on_epochs) for shard in shards]
        import multiprocessing  # here: a single run needs none of it

        context = multiprocessing.get_context("fork")
        outcomes: list = [None] * len(shards)
        done = [0] * len(shards)  # epochs each shard has reported
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
                for index, message in self._answers(running, done).items():
                    process, receiver = running.pop(index)
                    outcomes[index] = _outcome(message, process)
                    done[index] = max(done[index], _planned(shards[index]))
                stop_if_signalled()
        except BaseException:  # Ctrl-C or SIGTERM here: the shards stop too, and say how they stopped
            for process, _ in running.values():
                if process.is_alive():
                    process.terminate()
            for process, receiver in running.values():
                _last_word(receiver, process)
                process.join(5)
                if process.is_alive():
                    process.kill()
            raise
        return outcomes

    def _answers(self, running: dict, done: list[int]) -> dict[int, bytes]:
        """Wait for the shards; pass on the epochs they report; the outcomes of those that ended, by shard."""
        from multiprocessing.connection import wait

        ready = wait([receiver for _, receiver in running.values()])
        answers = {}
        for index, (_, receiver) in running.items():
            while receiver in ready and index not in answers and receiver.poll():
                try:
                    message = receiver.recv_bytes()
                except EOFError:  # the shard's process died before it could answer
                    answers[index] = b""
                    break
                if message[:1] != PROGRESS:
                    answers[index] = message
                    break
                done[index] = int(message[1:])
                if self.on_epochs is not None and min(done) > 0:
                    self.on_epochs(min(done))
        return answers


PROGRESS = b"e"  # a shard's message that tells its epochs done (an outcome is a pickle, which never starts so)


def _planned(shard: Shard) -> int:
    return shard.configs[0].train.epochs


def _attempt(shard: Shard, on_epochs: Callable[[int], None] | None = None) -> list[RunResult] | BaseException:
    try:
        return train_shard(shard, on_epochs)
    except Exception as error:  # its runs are recorded failed; the other shards go on
        return error


def _train_and_send(shard: Shard, sender) -> None:
    try:
        outcome = _attempt(shard, lambda done: sender.send_bytes(PROGRESS + str(done).encode()))
    except BaseException as interruption:  # Ctrl-C or SIGTERM: the shard's runs are marked; say so quietly
        outcome = interruption
    try:
        sender.send_bytes(pickle.dumps(outcome))
    except (pickle.PicklingError, TypeError, AttributeError):  # an error that cannot travel: its text can
        sender.send_bytes(pickle.dumps(RuntimeError(str(outcome))))
    sender.close()


def _outcome(message: bytes, process) -> list[RunResult] | BaseException:
    """A shard's outcome from its last message (empty: its process ended without one)."""
    process.join()
    if not message:  # killed, out of memory
        return RuntimeError(f"the shard's process ended with exit code {process.exitcode} before it could answer")
    return pickle.loads(message)


def _last_word(receiver, process, seconds: float = 60) -> None:
    """Read what a stopping shard still says (its progress, its outcome), so that it can end."""
    try:
        while receiver.poll(seconds) and receiver.recv_bytes()[:1] == PROGRESS:
            pass
    except (EOFError, OSError):
        pass


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


def writer_lanes(settings: dict) -> int | None:
    """Processes writing ``metrics.csv`` beside a population trained whole: none when the launcher is
    given one worker (one process does everything, on one core), else as ``run_population`` decides."""
    workers = settings.get("workers") or os.cpu_count() or 1
    return 0 if settings and workers == 1 else None


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
    configs: list[Config],
    run_dirs: list[Path],
    provenance: list[dict],
    settings: dict,
    sweep_dir: Path | None,
    on_epochs: Callable[[int], None] | None = None,
) -> list[RunResult]:
    """Train one population as the launcher's settings say: one ``RunResult`` per network, in order.

    A shard that failed or was lost gives each of its networks a result with that error (a
    network that trained has its files and summary on disk all the same). ``on_epochs(done)``
    hears the epochs every shard has finished (shards in processes of this machine)."""
    size = shard_size(len(configs), settings)
    engine = engine_for(settings, sweep_dir)
    if isinstance(engine, Processes):
        engine.on_epochs = on_epochs
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
