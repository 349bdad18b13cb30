"""What every job of a sweep does around its training, whichever launcher runs it.

``to_config`` turns Hydra's composed ``DictConfig`` into the typed, validated ``Config`` (and
``TypedConfigs`` a sweep's jobs, converting what they share once);
``objective`` is what the job returns to the sweeper; ``report_job`` prints its line;
``FAILED_RUNS`` collects the jobs of this process that failed, for the exit code.
"""

from __future__ import annotations

import math
from pathlib import Path

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from .config import Config, NotAValue, validate, with_changes
from .config import value_of as value
from .errors import ConfigError, silence_stdout
from .metrics import HIGHER_IS_BETTER

FAILED_RUNS: list[Path] = []  # run directories of this process's jobs that failed


def to_config(cfg: DictConfig) -> Config:
    """The typed, validated ``Config`` of a composed ``DictConfig``; raises ``ConfigError``."""
    try:
        config = OmegaConf.to_object(cfg)
    except OmegaConfBaseException as error:
        key = getattr(error, "full_key", None) or "config"
        raise ConfigError(key, getattr(error, "value", None), str(error).splitlines()[0]) from None
    return validate(config)


class TypedConfigs:
    """Each job's typed ``Config``, as ``to_config`` makes it, converting each composition that the
    launcher's jobs share only once: a job the launcher tells as a ``Variant`` (its composition and
    the values it changes) is that composition's ``Config`` with those values replaced, then
    validated. Any other job is converted whole.
    """

    def __init__(self):
        self.bases: dict[int, tuple[object, Config | None]] = {}  # id(template) -> (template, its Config)

    def _base(self, template) -> Config | None:
        if id(template) not in self.bases:
            try:
                base = OmegaConf.to_object(template)  # validated per job, with the job's values
            except OmegaConfBaseException:  # say a value every job sets (lr: ???): convert jobs whole
                base = None
            self.bases[id(template)] = (template, base)
        return self.bases[id(template)][1]

    def of(self, job) -> Config:
        """``to_config`` of the job's config; raises ``ConfigError`` (or the composition's error)."""
        variant = job.variant()
        base = None if variant is None else self._base(variant.template)
        if base is not None:
            try:
                changed = with_changes(base, variant.changes)
            except NotAValue:
                pass
            else:
                return validate(changed)
        return job.converted(to_config)


def objective(summary: dict, objective) -> float:
    """What a job returns to the sweeper: the run's final ``objective.metric``, or, with a
    ``objective.target``, its epochs to reach it; ``inf`` (``-inf`` for accuracy, where higher
    is better) when the run did not complete or never reached the target."""
    metric = value(objective.metric)
    worst = -math.inf if metric in HIGHER_IS_BETTER else math.inf
    if summary["status"] != "completed":
        return math.inf if objective.target is not None else worst
    if objective.target is not None:
        reached = summary.get("epochs_to_target")
        return math.inf if reached is None else reached
    final = summary["final"].get(metric)
    return worst if final is None else final


def say(line: str) -> None:
    """Print a line of a sweep's account; once its reader has gone (``| head``), the sweep goes on unprinted."""
    try:
        print(line, flush=True)
    except BrokenPipeError:
        silence_stdout()


def report_job(num: int, overrides: list[str], summary: dict) -> None:
    """One line per job of a sweep: its overrides, its status and final loss."""
    say(f"[{num}] {' '.join(overrides)}: {summary['status']}, loss={summary['final'].get('loss')}")


def job_failed(num: int, overrides: list[str], run_dir: Path, error: BaseException) -> float:
    """A sweep's job failed (already recorded in its run directory): say so, count it, go on."""
    FAILED_RUNS.append(run_dir)
    say(f"[{num}] {' '.join(overrides)}: failed: {error}")
    return math.inf
