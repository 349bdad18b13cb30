"""The ``batched`` launcher: a sweep's jobs trained as populations, when the task function can.

See the package's docstring and ``protocol`` for the contract; ``_compose`` and ``_launch`` do the work.
"""

import logging
from pathlib import Path

from hydra.core.utils import JobReturn, configure_log, setup_globals
from hydra.plugins.launcher import Launcher
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig

from .protocol import population_function

log = logging.getLogger(__name__)


class BatchedLauncher(Launcher):
    def __init__(self, fast_compose: bool = True, **shards) -> None:
        self.fast_compose = fast_compose
        self.shards = {key: value for key, value in shards.items()}  # engine, workers, shard_size, ... (config.py)
        for key in ("workers", "shard_size"):
            value = self.shards.get(key)
            if value is not None and value < 1:
                raise ValueError(
                    f"hydra.launcher.{key}={value} is not allowed: it is null (chosen for you) or a positive integer"
                )
        self.config: DictConfig | None = None
        self.hydra_context: HydraContext | None = None
        self.task_function: TaskFunction | None = None
        self.composes_every_job = False

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig) -> None:
        self.config, self.hydra_context, self.task_function = config, hydra_context, task_function
        self.composes_every_job = population_function(task_function) is not None
        if self.composes_every_job:
            spare_composed_jobs_a_second_composition()

    def launch(self, job_overrides, initial_job_idx: int) -> list[JobReturn]:
        from ._launch import launch_one_by_one, launch_populations

        setup_globals()
        configure_log(self.config.hydra.hydra_logging, self.config.hydra.verbose)
        Path(str(self.config.hydra.sweep.dir)).mkdir(parents=True, exist_ok=True)
        if not self.composes_every_job:
            log.info(f"Launching {len(job_overrides)} jobs one by one")
            return launch_one_by_one(self, job_overrides, initial_job_idx)
        log.info(f"Launching {len(job_overrides)} jobs as populations")
        return launch_populations(self, job_overrides, initial_job_idx)


def spare_composed_jobs_a_second_composition() -> None:
    """Let a sweeper skip ``validate_batch_is_legal`` for a batched launcher that trains populations.

    Before launching a batch, Hydra's sweepers compose every job once to catch errors early
    (about 50 ms a job, most of a 1,000-seed study's time). For a population task the batched
    launcher composes every job itself before anything runs, and a job whose values do not fit
    is handed to the task as failed while the others go on; so for such a launcher that pass
    is skipped. Any other sweeper (another launcher, or this one launching job by job) validates
    as before. Installed once, the first time a batched launcher is set up for a population task.
    """
    validate = Sweeper.validate_batch_is_legal
    if getattr(validate, "spares_composed_jobs", False):
        return

    def validate_batch_is_legal(sweeper, batch):
        if not getattr(getattr(sweeper, "launcher", None), "composes_every_job", False):
            validate(sweeper, batch)

    validate_batch_is_legal.spares_composed_jobs = True
    Sweeper.validate_batch_is_legal = validate_batch_is_legal
