"""Running a batch of jobs: as populations for a task function that declares it can, else one by one.

Both ways, before anything is written: every job's run directory is resolved with that job's
own values, and two jobs given one directory stop the sweep (``SharedRunDirectory``); then the
sweep directory is claimed for the batch (``src.rundir.claim``), so that a second sweep into it
stops instead of mixing its runs with this one's.
"""

import copy
import logging
import os
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from hydra.core.utils import JobReturn, JobStatus, configure_log, env_override, filter_overrides, run_job
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf, open_dict, read_write

from src.rundir.claim import SweepRefused

from ._compose import ComposedJob, Composer, write_hydra_files
from .protocol import PopulationJob, check_function, population_function

log = logging.getLogger(__name__)


class SharedRunDirectory(SweepRefused):
    """Two jobs of a sweep would write the same run directory."""


def stop_if_shared(jobs: list[tuple[int, list[str], Path]], pattern: str) -> None:
    """Stop, naming them, when two jobs ``(num, overrides, run_dir)`` have one run directory."""
    by_dir = defaultdict(list)
    for num, overrides, run_dir in jobs:
        by_dir[os.path.normpath(os.path.abspath(run_dir))].append(f"#{num} ({' '.join(overrides) or 'no overrides'})")
    shared = {run_dir: names for run_dir, names in by_dir.items() if len(names) > 1}
    if not shared:
        return
    listed = "; ".join(f"{run_dir}: {', '.join(names)}" for run_dir, names in list(shared.items())[:3])
    more = f"; and {len(shared) - 3} more directories" if len(shared) > 3 else ""
    raise SharedRunDirectory(
        f"hydra.sweep.subdir '{pattern}' gives several jobs the same run directory, where their runs would "
        f"overwrite each other: {listed}{more}. Nothing was run. Make the subdir tell every job apart, for "
        f"example with ${{hydra.job.num}} or ${{hydra.job.override_dirname}}, or with every swept value."
    )


def subdir_pattern(config: DictConfig) -> str:
    """``hydra.sweep.subdir`` as written (``lr${lr}_s${seed}``), not resolved."""
    return str(OmegaConf.to_container(config.hydra.sweep, resolve=False)["subdir"])


def has_job_hooks(callbacks) -> bool:
    """Whether any callback does something on a job's start or end (the others need no job config)."""
    return any(
        type(c).on_job_start is not Callback.on_job_start or type(c).on_job_end is not Callback.on_job_end
        for c in getattr(callbacks, "callbacks", [])
    )


class PopulationJobReturn(JobReturn):
    """A ``JobReturn`` whose ``cfg`` and ``hydra_cfg`` are made when first read (a few ms each; most sweepers read neither)."""

    def __init__(self, job: ComposedJob, **fields):
        self._job, self._cfg, self._hydra_cfg = job, None, None
        super().__init__(**fields)

    @property
    def cfg(self) -> DictConfig | None:
        if self._cfg is None and self._job.error is None:
            self._cfg = self._job.cfg()
        return self._cfg

    @cfg.setter
    def cfg(self, value) -> None:
        self._cfg = value

    @property
    def hydra_cfg(self) -> DictConfig | None:
        if self._hydra_cfg is None:
            self._hydra_cfg = self._job.hydra_cfg()
        return self._hydra_cfg

    @hydra_cfg.setter
    def hydra_cfg(self, value) -> None:
        self._hydra_cfg = value


def full_config(job: ComposedJob) -> DictConfig:
    """The job's whole config (``hydra`` node included), as callbacks receive it from ``run_job``."""
    template = job.template
    with template.values_set([] if job.error else job.values):
        full = copy.deepcopy(template.full)
    with read_write(full.hydra), open_dict(full.hydra):
        full.hydra.job.update(id=job.num, num=job.num, override_dirname=job.dirname)
        full.hydra.overrides.task = list(job.overrides)
        full.hydra.runtime.output_dir = job.output_dir
    return full


class JobHooks:
    """``on_job_start`` and ``on_job_end`` for population members, as ``run_job`` calls them: with the
    job's whole config, ``HydraConfig`` set to it, from the job's working directory (``on_job_start``
    with the job's ``hydra.job.env_set`` set). Nothing is made when no callback has these hooks."""

    def __init__(self, hydra_context, task_function, original_cwd: str):
        self.callbacks = hydra_context.callbacks
        self.active = has_job_hooks(self.callbacks)
        self.task_function, self.original_cwd = task_function, original_cwd

    def _call(self, job: ComposedJob, hook: str, **arguments) -> None:
        if not self.active:
            return
        config = full_config(job)
        previous = HydraConfig.instance().cfg
        HydraConfig.instance().set_config(config)
        os.chdir(job.working_dir(self.original_cwd))
        try:
            getattr(self.callbacks, hook)(config=config, **arguments)
        finally:
            os.chdir(self.original_cwd)
            HydraConfig.instance().cfg = previous

    def start(self, job: ComposedJob) -> None:
        with env_override(job.template.env_set):  # as run_job: the job's hydra.job.env_set, already set
            self._call(job, "on_job_start", task_function=self.task_function)

    def end(self, job: ComposedJob, job_return: JobReturn) -> None:
        self._call(job, "on_job_end", job_return=job_return)


FILE_THREADS = 4  # at most: creating files is the kernel's work, which threads can share out over the cores


def write_all_hydra_files(jobs: list[ComposedJob], output_subdir: str | None) -> None:
    """Every job's run directory and ``.hydra/`` files, written by a few threads at once (thousands of
    small files: most of the time goes into the kernel creating them, where threads run side by side)."""
    threads = min(FILE_THREADS, os.cpu_count() or 1, max(1, len(jobs) // 64))

    def write(job: ComposedJob) -> None:
        write_hydra_files(job, output_subdir, job.name)

    if threads == 1:
        for job in jobs:
            write(job)
        return
    pool = ThreadPoolExecutor(threads)
    try:
        for _ in pool.map(write, jobs):  # the first error stops the sweep, as one by one
            pass
    finally:  # an error or Ctrl-C: the files not begun are not written (their jobs never start)
        pool.shutdown(wait=True, cancel_futures=True)


def launch_populations(launcher, job_overrides, initial_job_idx: int) -> list[JobReturn]:
    """The batch as populations: composed, checked, written, handed to the task's population function."""
    from src.rundir.claim import claim_sweep_dir

    config, task_function = launcher.config, launcher.task_function
    train_population = population_function(task_function)
    composer = Composer(config, launcher.hydra_context.config_loader, fast=launcher.fast_compose)
    jobs = [composer.compose(initial_job_idx + i, list(o)) for i, o in enumerate(job_overrides)]
    stop_if_shared([(j.num, j.overrides, j.run_dir) for j in jobs], subdir_pattern(config))
    original_cwd = os.getcwd()
    sweep_dir = Path(os.path.abspath(composer.sweep_dir))
    shards = OmegaConf.to_container(OmegaConf.create(launcher.shards)) if launcher.shards else {}
    members = [
        PopulationJob(
            j.num,
            j.overrides,
            Path(os.path.abspath(j.run_dir)),
            j.working_dir(original_cwd),
            j.cfg,
            sweep_dir,
            shards=shards,
            make_converted=j.converted,
            make_variant=j.variant,
        )  # fmt: skip
        for j in jobs
    ]
    hooks = JobHooks(launcher.hydra_context, task_function, original_cwd)
    outcomes: list = [None] * len(jobs)
    with claim_sweep_dir(composer.sweep_dir):
        check = check_function(task_function)
        if check is not None:
            check(members)  # may stop the sweep: nothing is written yet
        write_all_hydra_files(jobs, config.hydra.output_subdir)
        by_environment = defaultdict(list)
        for i, job in enumerate(jobs):
            hooks.start(job)
            by_environment[tuple(sorted(job.template.env_set.items()))].append(i)
        for environment, indices in by_environment.items():
            with env_override(dict(environment)):
                try:
                    results = train_population([members[i] for i in indices])
                    if len(results) != len(indices):
                        raise ValueError(f"{len(results)} outcomes for {len(indices)} jobs from {train_population}")
                except Exception as error:  # the population function failed: so did each of its jobs
                    log.exception("the population function failed")
                    results = [error] * len(indices)
            for i, outcome in zip(indices, results):
                outcomes[i] = outcome
    returns = []
    for job, member, outcome in zip(jobs, members, outcomes):
        job_return = PopulationJobReturn(
            job, overrides=job.overrides, working_dir=str(member.working_dir), task_name=job.name
        )
        failed = isinstance(outcome, BaseException)
        job_return.status = JobStatus.FAILED if failed else JobStatus.COMPLETED
        job_return.return_value = outcome
        hooks.end(job, job_return)
        returns.append(job_return)
    return returns


def launch_one_by_one(launcher, job_overrides, initial_job_idx: int) -> list[JobReturn]:
    """The batch job by job, as Hydra's basic launcher runs it (``run_job``), after the same checks."""
    from src.rundir.claim import claim_sweep_dir

    config, context = launcher.config, launcher.hydra_context
    sweep_configs = []
    for num, overrides in enumerate(job_overrides, start=initial_job_idx):
        sweep_config = context.config_loader.load_sweep_config(config, list(overrides))
        with open_dict(sweep_config):
            sweep_config.hydra.job.id = num
            sweep_config.hydra.job.num = num
        sweep_configs.append((num, list(overrides), sweep_config))
    previous = HydraConfig.instance().cfg
    try:
        run_dirs = []
        for num, overrides, sweep_config in sweep_configs:
            HydraConfig.instance().set_config(sweep_config)
            subdir = OmegaConf.select(sweep_config, "hydra.sweep.subdir")
            run_dirs.append((num, overrides, Path(str(sweep_config.hydra.sweep.dir)) / str(subdir)))
    finally:
        HydraConfig.instance().cfg = previous
    stop_if_shared(run_dirs, subdir_pattern(config))
    returns = []
    with claim_sweep_dir(Path(str(config.hydra.sweep.dir))):
        for num, overrides, sweep_config in sweep_configs:
            log.info(f"\t#{num} : {' '.join(filter_overrides(overrides))}")
            returns.append(
                run_job(
                    hydra_context=context,
                    task_function=launcher.task_function,
                    config=sweep_config,
                    job_dir_key="hydra.sweep.dir",
                    job_subdir_key="hydra.sweep.subdir",
                )
            )
            configure_log(config.hydra.hydra_logging, config.hydra.verbose)
    return returns
