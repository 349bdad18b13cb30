"""The entry point: ``python -m src.run [key=value ...]``, or ``-m`` for a sweep.

Hydra composes the config from ``conf/`` (and ``experiments/``) plus the overrides; this
file turns it into the typed ``Config``, trains, writes the run directory, and prints the
article's view of the run: the loss every ``log.print_every`` epochs, then the predictions.
Hydra's ``DictConfig`` is seen only here, in ``jobs`` and in the batched launcher.
"""

from __future__ import annotations

import signal
import sys


def _quit_quietly(signum, frame):
    sys.exit(128 + signum)


if __name__ == "__main__" and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
    signal.signal(signal.SIGINT, _quit_quietly)  # Ctrl-C while starting up: nothing begun, nothing to mark

if __name__ == "__main__":
    from . import collector
    from .blas_threads import one_blas_thread

    one_blas_thread()  # before NumPy's import: no BLAS thread pool spinning beside the training
    collector.pause()  # the imports below make no garbage: no collections until they are done

import itertools
import logging
from collections import defaultdict
from pathlib import Path

import hydra
import numpy as np
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig
from omegaconf.errors import OmegaConfBaseException

from hydra_plugins.xor_harness_launcher.protocol import PopulationJob, trains_populations

from .config import Config, fingerprint, register
from .config import value_of as value
from .errors import ConfigError
from .experiments import may_choose_one, register_experiments
from .hydra_mode import answer_the_mode_without_composing
from .jobs import FAILED_RUNS, TypedConfigs, job_failed, objective, report_job, say, to_config
from .population import RunResult, population_key, run_population
from .progress import SweepProgress, population_line
from .provenance import code_and_machine
from .resume_check import check_resumed_runs
from .rundir.place import refuse_the_working_directory
from .rundir.reader import completed_summary, read_predictions
from .rundir.writer import record_error
from .shards import shard_size, train_in_shards, writer_lanes
from .user_errors import cli, describe, note_sweep, stop_for

log = logging.getLogger(__name__)
SRC = Path(__file__).resolve().parent


def shipped(name: str) -> Path:
    """``conf`` or ``experiments``: inside the package when installed from a wheel (``src/_conf``), else
    beside ``src/`` in the checkout (a clone, or an editable install)."""
    installed = SRC / f"_{name}"
    return installed if installed.is_dir() else SRC.parent / name


register()
if __name__ != "__main__" or may_choose_one(sys.argv[1:], shipped("conf") / "config.yaml"):
    register_experiments(shipped("experiments"))  # the group experiment=NAME, when it can be chosen
answer_the_mode_without_composing()  # Hydra's first composition, spared when nothing can set hydra.mode
if __name__ == "__main__":
    collector.freeze_and_resume()  # what the imports made lives as long as the process: never walked again


def print_progress(config: Config):
    """A callback that prints ``Epoch e: Loss = x`` the article's way, every ``print_every`` epochs."""
    metric, every, decimals = value(config.log.print_metric), config.log.print_every, config.log.decimals

    def on_chunk(epochs, metrics):
        for epoch, loss in zip(epochs, metrics[metric][:, 0]):
            if epoch % every == 0:
                say(f"Epoch {epoch}: Loss = {loss:.{decimals}f}")  # ``| head``: the run trains on, unprinted

    return on_chunk


def number(x: float) -> str:
    return f"{x:g}"


PRINTED_ROWS = 16  # a larger table is summed up, and kept whole in the run directory


def print_predictions(result: RunResult, decimals: int) -> None:
    """The article's table: input, predicted output, expected value (its first rows, when long)."""
    summary = result.summary
    predictions = read_predictions(result.run_dir, summary)
    if predictions is None or predictions["outputs"] is None:
        print(f"Diverged at epoch {summary['diverged_at_epoch']}: no predictions.")
        return
    print("| Input | Predicted Output | Expected Value |")
    print("|---|---|---|")
    rows = zip(predictions["inputs"], predictions["outputs"], predictions["targets"])
    for inputs, outputs, targets in itertools.islice(rows, PRINTED_ROWS):
        shown = ", ".join(f"{o:.{decimals}f}" for o in outputs)
        print(f"| [{','.join(map(number, inputs))}] | {shown} | {', '.join(map(number, targets))} |")
    if len(predictions["inputs"]) > PRINTED_ROWS:
        print(f"... and {len(predictions['inputs']) - PRINTED_ROWS} more rows (solved: {summary.get('solved')}).")


def shown_path(path: Path) -> Path:
    """``path`` relative to the working directory when it lies inside it (``outputs/runs/...``)."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


JOB_LINES_UP_TO = 20  # a larger batch prints no line per completed job: its progress and last line say it


def sharded(population: int, settings: dict) -> bool:
    """Does the launcher ask for this population in shards (another engine, or more than one shard)?"""
    if not settings:
        return False
    return settings.get("engine", "processes") != "processes" or shard_size(population, settings) < population


def train_jobs(jobs: list[PopulationJob], announce: bool = True) -> list[float]:
    """The jobs of a sweep, trained as few populations as their configs allow; each job's objective.

    This is ``main``'s population capability (``trains_populations``): the batched launcher hands
    it a batch of jobs, and any other launcher one job at a time (through ``main``). A job whose
    config is wrong, or whose own set-up fails, is recorded ``failed`` in its run directory and
    returns ``inf``, as ``main`` does for it alone; with ``resume=true`` a job whose directory holds
    a completed run of the same config is kept and skipped. A population is cut into shards when
    the launcher's settings ask for it (``src.shards``: processes, Ray tasks or SLURM jobs); each
    shard writes its own runs' directories. ``announce``: print each population and its progress,
    and the sweep's last line (the batched launcher's batches).
    """
    if jobs:
        note_sweep(jobs[0].sweep_dir)  # for the resume command that an interruption prints
    outcomes: list = [None] * len(jobs)
    statuses: list = [None] * len(jobs)
    groups = defaultdict(list)
    typed = TypedConfigs()
    for i, job in enumerate(jobs):
        provenance = {**code_and_machine(), "overrides": job.overrides}
        try:
            config = typed.of(job)  # the typed config is all that training needs
        except (ConfigError, OmegaConfBaseException) as error:  # this job is wrong, not the sweep
            record_error(job.run_dir, error, summary=provenance)
            outcomes[i] = job_failed(job.num, job.overrides, job.run_dir, describe(error) or error)
            continue
        done = completed_summary(job.run_dir, fingerprint(config)) if config.resume else None
        if done is not None:
            report_job(job.num, job.overrides, done)
            outcomes[i], statuses[i] = objective(done, config.objective), done["status"]
        else:
            groups[population_key(config)].append((i, config, provenance))
    kept = len(jobs) - statuses.count(None)
    progress = SweepProgress(len(groups)) if announce else None
    for group in groups.values():
        members = [jobs[i] for i, _, _ in group]
        if progress is not None:
            log.info(f"\t{population_line([job.num for job in members])}")
            progress.start(len(group), group[0][1].train.epochs)
        configs, run_dirs, provenance = (
            [c for _, c, _ in group],
            [job.run_dir for job in members],
            [p for *_, p in group],
        )
        try:
            if sharded(len(group), members[0].shards):
                on_epochs = None if progress is None else (lambda done: progress.on_chunk(np.array([done - 1]), {}))
                results = train_in_shards(
                    configs, run_dirs, provenance, members[0].shards, members[0].sweep_dir, on_epochs
                )
            else:
                on_chunk = None if progress is None else progress.on_chunk
                lanes = writer_lanes(members[0].shards)
                results = run_population(configs, run_dirs, provenance=provenance, on_chunk=on_chunk, writer_lanes=lanes)
        except Exception as error:  # every run of the group is already recorded as failed
            results = [RunResult(job.run_dir, {}, error) for job in members]
        for (i, config, _), job, result in zip(group, members, results):
            if result.error is not None:
                outcomes[i] = job_failed(job.num, job.overrides, job.run_dir, result.error)
            else:
                if len(jobs) <= JOB_LINES_UP_TO:
                    report_job(job.num, job.overrides, result.summary)
                outcomes[i], statuses[i] = objective(result.summary, config.objective), result.summary["status"]
    if progress is not None:
        say(progress.summary(statuses, kept))
    return outcomes


def train_one_run(cfg: DictConfig, run_dir: Path) -> float:
    """``python -m src.run``: one run, its progress printed the article's way, then its predictions."""
    provenance = {**code_and_machine(), "overrides": list(HydraConfig.get().overrides.task)}
    try:
        config = to_config(cfg)
    except ConfigError as error:
        record_error(run_dir, error, summary=provenance)
        stop_for(error)
    try:
        [result] = run_population([config], [run_dir], on_chunk=print_progress(config), provenance=[provenance])
    except Exception as error:  # already recorded as failed in the run directory
        stop_for(error)
    if result.error is not None:
        stop_for(result.error)
    print_predictions(result, config.log.decimals)
    print(f"Run directory: {shown_path(run_dir)}")
    return objective(result.summary, config.objective)


@hydra.main(version_base="1.3", config_path=str(shipped("conf")), config_name="config")
@trains_populations(train_jobs, check_jobs=check_resumed_runs)
def main(cfg: DictConfig) -> float:
    hydra_config = HydraConfig.get()
    run_dir = Path(hydra_config.runtime.output_dir)
    if hydra_config.mode == RunMode.RUN:
        return train_one_run(cfg, run_dir)
    # a job of a sweep, launched alone (launchers other than batched): a population of one
    job = PopulationJob(
        hydra_config.job.num, list(hydra_config.overrides.task), run_dir, Path.cwd(), lambda: cfg,
        Path(hydra_config.sweep.dir).absolute(),
    )  # fmt: skip
    check_resumed_runs([job])
    [outcome] = train_jobs([job], announce=False)
    return outcome


def entry_point() -> None:
    """``main`` as the command line runs it: a run's files never go into the working directory itself."""
    refuse_the_working_directory(sys.argv[1:])
    main()


if __name__ == "__main__":
    cli(entry_point)
    if FAILED_RUNS:
        print(f"{len(FAILED_RUNS)} run(s) failed; see traceback.txt in: {', '.join(map(str, FAILED_RUNS))}")
        sys.exit(1)
