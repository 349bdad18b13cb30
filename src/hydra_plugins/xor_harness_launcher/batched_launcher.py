"""``hydra/launcher=batched``: a whole sweep trained as a few populations, one run directory per job.

Hydra's basic launcher composes the config from scratch for every job (about 50 ms), sets up
logging, writes ``.hydra/`` and calls the task, which trains one network. This launcher:

1. composes once per distinct set of *group* overrides (``optimizer=adam``) and applies the
   *value* overrides (``lr=0.5``, ``seed=3``) to a copy, exactly as Hydra applies them after
   composition; anything else (``+key``, ``~key``, ``hydra.*``) is composed the slow way;
2. writes each job's ``.hydra/config.yaml`` and ``overrides.yaml`` as Hydra would (``hydra.yaml``
   too, in the fast YAML writer), and its empty job log;
3. groups the jobs that can train side by side (``population_key``) and trains each group as
   one population, so each network still writes its own run directory, with the same values
   as when the basic launcher runs it alone;
4. returns one ``JobReturn`` per job, in order, so sweepers (Optuna, ...) keep working.

The code lives in the ``hydra_plugins`` namespace because Hydra instantiates launchers only
from there; the training itself is ``src.population``'s.
"""

from __future__ import annotations

import copy
import logging
import math
import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import yaml
from hydra._internal.config_loader_impl import get_overrides_dirname
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override, OverrideType
from hydra.core.utils import JobReturn, JobStatus, configure_log, filter_overrides, setup_globals
from hydra.plugins.launcher import Launcher
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, OmegaConf, open_dict, read_write

log = logging.getLogger(__name__)
_ABSENT = object()


@dataclass
class Job:
    """One job of the sweep: its number, overrides, composed config and run directory."""

    num: int
    overrides: list[str]
    cfg: DictConfig  # the job's config, without the hydra node
    run_dir: Path
    hydra_yaml: str


class BatchedLauncher(Launcher):
    def __init__(self, fast_compose: bool = True) -> None:
        self.fast_compose = fast_compose
        self.config: DictConfig | None = None
        self.hydra_context: HydraContext | None = None
        self.task_function: TaskFunction | None = None

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig) -> None:
        self.config, self.hydra_context, self.task_function = config, hydra_context, task_function

    # -- composing -------------------------------------------------------------------------

    def _split(self, overrides: list[str], base: DictConfig) -> tuple[tuple[str, ...], list[Override]]:
        """(overrides that change the composition, parsed overrides that only set a value in ``base``)."""
        structural, values = [], []
        for override in OverridesParser.create().parse_overrides(overrides):
            key = override.key_or_group
            node = OmegaConf.select(base, key, default=_ABSENT, throw_on_missing=False)
            sets_a_value = (
                self.fast_compose
                and override.type == OverrideType.CHANGE  # not +key, ++key or ~key
                and override.package is None
                and not key.startswith("hydra")
                and node is not _ABSENT
                and not isinstance(node, DictConfig)  # a whole node is a group's choice
            )
            if sets_a_value:
                values.append(override)
            else:
                structural.append(override.input_line)
        return tuple(structural), values

    def _template(self, cache: dict, structural: tuple[str, ...]) -> DictConfig:
        if structural not in cache:
            cache[structural] = self.hydra_context.config_loader.load_sweep_config(self.config, list(structural))
        return cache[structural]

    def compose(self, job_overrides: list[list[str]], first_num: int) -> list[Job]:
        """Every job's config and run directory, composing as few times as the sweep allows."""
        cache: dict[tuple[str, ...], DictConfig] = {}
        sweep_dir = Path(str(self.config.hydra.sweep.dir))
        jobs = []
        for offset, overrides in enumerate(job_overrides):
            num = first_num + offset
            structural, values = self._split(list(overrides), self.config)
            cfg = copy.deepcopy(self._template(cache, structural))
            with read_write(cfg), open_dict(cfg):
                for override in values:
                    OmegaConf.update(cfg, override.key_or_group, override.value(), merge=True)
                cfg.hydra.overrides.task = list(overrides)
                parsed = OverridesParser.create().parse_overrides(list(overrides))
                names = cfg.hydra.job.config.override_dirname
                cfg.hydra.job.override_dirname = get_overrides_dirname(
                    overrides=parsed, kv_sep=names.kv_sep, item_sep=names.item_sep, exclude_keys=names.exclude_keys
                )
                cfg.hydra.job.id = num
                cfg.hydra.job.num = num
                OmegaConf.copy_cache(from_config=self.config, to_config=cfg)
                run_dir = sweep_dir / str(OmegaConf.select(cfg, "hydra.sweep.subdir"))
                cfg.hydra.runtime.output_dir = os.path.abspath(run_dir)
                hydra_node = OmegaConf.to_container(cfg.hydra, resolve=False, enum_to_str=True)
                del cfg["hydra"]
            hydra_yaml = yaml.dump({"hydra": hydra_node}, Dumper=yaml.CSafeDumper, sort_keys=False, allow_unicode=True)
            jobs.append(Job(num, list(overrides), cfg, run_dir, hydra_yaml))
        return jobs

    # -- running ---------------------------------------------------------------------------

    def launch(self, job_overrides, initial_job_idx: int) -> list[JobReturn]:
        from src.config import fingerprint
        from src.errors import ConfigError
        from src.jobs import job_failed, objective, report_job, to_config
        from src.population import population_key, run_population
        from src.provenance import code_and_machine
        from src.tracking import completed_summary, record_error

        setup_globals()
        configure_log(self.config.hydra.hydra_logging, self.config.hydra.verbose)
        Path(str(self.config.hydra.sweep.dir)).mkdir(parents=True, exist_ok=True)
        log.info(f"Launching {len(job_overrides)} jobs as populations")
        jobs = self.compose([list(o) for o in job_overrides], initial_job_idx)

        configs, summaries = {}, {}
        for job in jobs:
            write_hydra_files(job, self.config.hydra.output_subdir, self.config.hydra.job.name)
            try:
                configs[job.num] = to_config(job.cfg)
            except ConfigError as error:  # this job is failed; the others go on
                record_error(job.run_dir, error, summary={**code_and_machine(), "overrides": job.overrides})
                job_failed(job.num, job.overrides, job.run_dir, error)
                continue
            if configs[job.num].resume:
                summaries[job.num] = completed_summary(job.run_dir, fingerprint(configs[job.num]))

        groups = defaultdict(list)
        for job in jobs:
            if job.num in configs and summaries.get(job.num) is None:
                groups[population_key(configs[job.num])].append(job)
        for group in groups.values():
            log.info(f"\tpopulation of {len(group)}: #{', #'.join(str(j.num) for j in group)}")
            provenance = [{**code_and_machine(), "overrides": job.overrides} for job in group]
            try:
                results = run_population(
                    [configs[j.num] for j in group], [j.run_dir for j in group], provenance=provenance
                )
            except Exception as error:  # every run of the group is already recorded as failed
                for job in group:
                    job_failed(job.num, job.overrides, job.run_dir, error)
                continue
            for job, result in zip(group, results):
                summaries[job.num] = result.summary

        returns = []
        for job in jobs:
            summary = summaries.get(job.num)
            ret = JobReturn(
                overrides=job.overrides, cfg=job.cfg, working_dir=os.getcwd(), task_name=self.config.hydra.job.name
            )
            ret.status = JobStatus.COMPLETED
            ret.return_value = objective(summary, configs[job.num].objective) if summary else math.inf
            if summary:
                report_job(job.num, job.overrides, summary)
            log.debug(" ".join(filter_overrides(job.overrides)))
            returns.append(ret)
        return returns


def write_hydra_files(job: Job, output_subdir: str | None, job_name: str) -> None:
    """``.hydra/config.yaml``, ``hydra.yaml``, ``overrides.yaml`` and the job log, as a Hydra job has them."""
    job.run_dir.mkdir(parents=True, exist_ok=True)
    (job.run_dir / f"{job_name}.log").touch()
    if output_subdir is None:
        return
    hydra_dir = job.run_dir / output_subdir
    hydra_dir.mkdir(parents=True, exist_ok=True)
    (hydra_dir / "config.yaml").write_text(OmegaConf.to_yaml(job.cfg), encoding="utf-8")
    (hydra_dir / "hydra.yaml").write_text(job.hydra_yaml, encoding="utf-8")
    (hydra_dir / "overrides.yaml").write_text(OmegaConf.to_yaml(OmegaConf.create(job.overrides)), encoding="utf-8")
