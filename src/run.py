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

import itertools
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from hydra_plugins.xor_harness_launcher import register as register_batched_launcher

from .config import Config, fingerprint, register
from .config import value_of as value
from .errors import ConfigError
from .experiments import register_experiments
from .hydra_mode import answer_the_mode_without_composing
from .jobs import FAILED_RUNS, job_failed, objective, report_job, to_config
from .population import RunResult, run_population
from .provenance import code_and_machine
from .rundir.place import refuse_the_working_directory
from .rundir.reader import completed_summary, read_predictions
from .rundir.writer import record_error
from .user_errors import cli, note_sweep, stop_for

register()
register_experiments()
register_batched_launcher()
answer_the_mode_without_composing()  # Hydra's first composition, spared when nothing can set hydra.mode


def print_progress(config: Config):
    """A callback that prints ``Epoch e: Loss = x`` the article's way, every ``print_every`` epochs."""
    metric, every, decimals = value(config.log.print_metric), config.log.print_every, config.log.decimals

    def on_chunk(epochs, metrics):
        for epoch, loss in zip(epochs, metrics[metric][:, 0]):
            if epoch % every == 0:
                print(f"Epoch {epoch}: Loss = {loss:.{decimals}f}", flush=True)

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


@hydra.main(version_base="1.3", config_path="../conf", config_name="config")
def main(cfg: DictConfig) -> float:
    hydra_config = HydraConfig.get()
    run_dir = Path(hydra_config.runtime.output_dir)
    single = hydra_config.mode == RunMode.RUN
    overrides = list(hydra_config.overrides.task)
    if not single:
        note_sweep(hydra_config.sweep.dir)
    provenance = {**code_and_machine(), "overrides": overrides}
    try:
        config = to_config(cfg)
    except ConfigError as error:
        record_error(run_dir, error, summary=provenance)
        if single:
            stop_for(error)
        return job_failed(hydra_config.job.num, overrides, run_dir, error)
    done = completed_summary(run_dir, fingerprint(config)) if config.resume and not single else None
    if done is not None:
        report_job(hydra_config.job.num, overrides, done)
        return objective(done, config.objective)
    try:
        on_chunk = print_progress(config) if single else None
        [result] = run_population([config], [run_dir], on_chunk=on_chunk, provenance=[provenance])
    except Exception as error:  # already recorded as failed in the run directory
        if single:
            stop_for(error)
        return job_failed(hydra_config.job.num, overrides, run_dir, error)
    if single:
        print_predictions(result, config.log.decimals)
        print(f"Run directory: {shown_path(run_dir)}")
    else:
        report_job(hydra_config.job.num, overrides, result.summary)
    return objective(result.summary, config.objective)


def entry_point() -> None:
    """``main`` as the command line runs it: a run's files never go into the working directory itself."""
    refuse_the_working_directory(sys.argv[1:])
    main()


if __name__ == "__main__":
    cli(entry_point)
    if FAILED_RUNS:
        print(f"{len(FAILED_RUNS)} run(s) failed; see traceback.txt in: {', '.join(map(str, FAILED_RUNS))}")
        sys.exit(1)
