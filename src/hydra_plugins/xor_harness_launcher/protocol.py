"""The population capability: how a task function lets the batched launcher train its jobs together.

A Hydra task function trains one job: ``task(cfg)``. A task function that can also train many
jobs at once declares it, with the function that does so::

    def train_jobs(jobs: list[PopulationJob]) -> list:      # one outcome per job, in order
        ...

    @hydra.main(...)
    @trains_populations(train_jobs)
    def main(cfg): ...

(``trains_populations`` goes *under* ``@hydra.main``: Hydra hands the launcher the function it
decorates.) The batched launcher then composes every job of a batch, writes each one's
``.hydra/`` files, fires ``on_job_start`` for each, calls ``train_jobs`` once for every group of
jobs that share their ``hydra.job.env_set`` (set while it runs), fires ``on_job_end`` for each
and returns one complete ``JobReturn`` per job. ``train_jobs(jobs)[i]`` is job ``i``'s return
value, or, when it is an exception (a ``BaseException`` instance), the error that failed the
job: its ``JobReturn`` says ``FAILED`` with that error, as ``run_job`` says for a task that raised.

The function is called in the launching process, from Hydra's original working directory
(``hydra.runtime.cwd``), so it must write each job's files under ``job.run_dir`` (absolute).
``job.shards`` are the launcher's settings for splitting a population into shards (``engine``,
``workers``, ``shard_size``, ...; see ``config.py``), for a population function that can.
``job.working_dir`` is where the job would run with the basic launcher: ``run_dir`` when
``hydra.job.chdir=true``, else the original directory; job callbacks are called from there.

``check_jobs``, when given, is called with all the batch's jobs after composition and before
anything is written; an exception it raises stops the sweep with nothing changed on disk (for
example, a resumed sweep whose runs were made with another config).

Any task function without the capability is launched job by job, as Hydra's basic launcher does.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

POPULATION_CAPABILITY = "train_population"  # the attribute a capable task function carries
CHECK_CAPABILITY = "check_population"


@dataclass
class Variant:
    """A job told as its sweep's common config with some values changed: ``template`` is a config
    shared by the jobs of one composition (the same object for all of them, never changed by the
    launcher between calls), and ``changes`` maps dotted keys to this job's resolved values. Any leaf
    not in ``changes`` resolves in the job as in ``template``."""

    template: Any
    changes: dict[str, Any]


@dataclass
class PopulationJob:
    """One job of a sweep, as the population function sees it.

    ``cfg`` is the job's config without the ``hydra`` node, as a task function receives it
    (made when first read); ``run_dir`` its output directory (``hydra.runtime.output_dir``), inside
    ``sweep_dir`` (``hydra.sweep.dir``).
    """

    num: int
    overrides: list[str]
    run_dir: Path
    working_dir: Path
    make_cfg: Callable[[], Any] = field(repr=False)
    sweep_dir: Path | None = None  # hydra.sweep.dir, absolute
    shards: dict = field(default_factory=dict)  # how the launcher's settings split a population (config.py)
    make_converted: Callable[[Callable], Any] | None = field(default=None, repr=False)
    make_variant: Callable[[], Variant | None] | None = field(default=None, repr=False)
    _cfg: Any = field(default=None, repr=False)

    @property
    def cfg(self) -> Any:
        """The job's config (a ``DictConfig``); raises the composition's error when its values do not fit."""
        if self._cfg is None:
            self._cfg = self.make_cfg()
        return self._cfg

    def converted(self, convert: Callable[[Any], Any]) -> Any:
        """``convert(self.cfg)`` (a typed config, say), without a copy of the job's config when the
        launcher can lend its own for the call; ``convert`` must not keep what it is given."""
        if self.make_converted is None or self._cfg is not None:
            return convert(self.cfg)
        return self.make_converted(convert)

    def variant(self) -> Variant | None:
        """This job as a ``Variant`` of a config it shares with other jobs, when the launcher can tell
        it so (a task that converts configs can convert the template once); else ``None``."""
        return self.make_variant() if self.make_variant is not None else None

    def forget_cfg(self) -> None:
        """Drop the config made for ``cfg`` (made again if read): a large sweep need not hold them all."""
        self._cfg = None


def trains_populations(train_population: Callable[[list[PopulationJob]], list], check_jobs=None):
    """Declare that the decorated task function's jobs may be trained together by ``train_population``."""

    def declare(task_function):
        setattr(task_function, POPULATION_CAPABILITY, train_population)
        setattr(task_function, CHECK_CAPABILITY, check_jobs)
        return task_function

    return declare


def population_function(task_function) -> Callable[[list[PopulationJob]], list] | None:
    """The task function's population function, or ``None`` when it has not declared one."""
    return getattr(task_function, POPULATION_CAPABILITY, None)


def check_function(task_function) -> Callable[[list[PopulationJob]], None] | None:
    return getattr(task_function, CHECK_CAPABILITY, None)
