"""``hydra/launcher=batched``: a whole sweep trained as a few populations, one run directory per job.

Hydra's basic launcher composes the config from scratch for every job (about 50 ms), sets up
logging, writes ``.hydra/`` and calls the task, which trains one network. This launcher:

1. composes once per distinct set of *group* overrides (``optimizer=adam``) and sets each
   job's *value* overrides (``lr=0.5``, ``seed=3``) in that composition, as Hydra sets them
   after composing, reads the job's typed config out and sets the values back; anything else
   (``+key``, ``~key``, ``hydra.*``) changes the composition, so it is composed Hydra's way;
2. writes each job's ``.hydra/config.yaml``, ``hydra.yaml`` and ``overrides.yaml`` with the
   text Hydra would write (libyaml does the writing), and its empty job log;
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
from typing import Any

import yaml
from hydra._internal.config_loader_impl import get_overrides_dirname
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override, OverrideType
from hydra.core.utils import JobReturn, JobStatus, configure_log, setup_globals
from hydra.plugins.launcher import Launcher
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, OmegaConf, open_dict, read_write
from omegaconf._utils import OmegaConfDumper
from omegaconf.errors import OmegaConfBaseException

log = logging.getLogger(__name__)
_ABSENT = object()


@dataclass
class Job:
    """One job of the sweep: its number, overrides, run directory, and what ``.hydra/`` holds."""

    num: int
    overrides: list[str]
    run_dir: Path
    config: Any  # the typed Config, or the error that made the job's config invalid
    config_yaml: str
    hydra_yaml: str


class YamlWriter(yaml.CDumper if hasattr(yaml, "CDumper") else yaml.Dumper):
    """OmegaConf's YAML style (strings that read as numbers or booleans are quoted), in libyaml's speed."""


YamlWriter.add_representer(str, OmegaConfDumper.str_representer)


def to_yaml(container) -> str:
    """What ``OmegaConf.to_yaml`` writes for a config, given as a plain container."""
    return yaml.dump(container, Dumper=YamlWriter, default_flow_style=False, allow_unicode=True, sort_keys=False)


class Template:
    """One composition, shared by every job that differs from it only in values.

    ``job`` is the job config alone (no hydra node): a job's values are set in it, read out
    (typed config, YAML) and set back to the composed ones, so no job pays for a copy.
    ``hydra`` is the hydra node as a plain container, in which a job's own fields are set.
    """

    def __init__(self, full: DictConfig):
        self.full = full
        self.job = copy.deepcopy(full)
        with read_write(self.job), open_dict(self.job):
            del self.job["hydra"]
        self.composed = OmegaConf.to_container(self.job, resolve=False)
        self.hydra = OmegaConf.to_container(full.hydra, resolve=False, enum_to_str=True)

    def job_config(self, values: list[Override], to_config) -> tuple[Any, str]:
        """(typed config or the error it raised, ``.hydra/config.yaml`` text) with ``values`` set."""
        try:
            for override in values:
                OmegaConf.update(self.job, override.key_or_group, override.value(), merge=True)
            text = to_yaml(OmegaConf.to_container(self.job, resolve=False, enum_to_str=True))
            try:
                return to_config(self.job), text
            except Exception as error:  # ConfigError: this job is wrong, not the sweep
                return error, text
        except OmegaConfBaseException as error:  # a value of the wrong type, such as lr=abc
            return error, ""
        finally:
            for override in values:
                OmegaConf.update(
                    self.job, override.key_or_group, _raw(self.composed, override.key_or_group), merge=False
                )

    def hydra_yaml(self, num: int, overrides: list[str], parsed: list[Override], sweep_dir: Path) -> tuple[Path, str]:
        """(run directory, ``.hydra/hydra.yaml`` text) of job ``num``."""
        names = self.hydra["job"]["config"]["override_dirname"]
        dirname = get_overrides_dirname(
            overrides=parsed, kv_sep=names["kv_sep"], item_sep=names["item_sep"], exclude_keys=names["exclude_keys"]
        )
        job = {**self.hydra["job"], "id": num, "num": num, "override_dirname": dirname}
        subdir = self.hydra["sweep"]["subdir"]
        if subdir == "${hydra.job.num}":
            subdir = str(num)
        else:  # any other pattern: let OmegaConf resolve it for this job
            with read_write(self.full.hydra), open_dict(self.full.hydra):
                self.full.hydra.job.update(id=num, num=num, override_dirname=dirname)
                self.full.hydra.overrides.task = list(overrides)
                subdir = str(self.full.hydra.sweep.subdir)
        run_dir = sweep_dir / subdir
        hydra = {
            **self.hydra,
            "overrides": {**self.hydra["overrides"], "task": list(overrides)},
            "job": job,
            "runtime": {**self.hydra["runtime"], "output_dir": os.path.abspath(run_dir)},
        }
        return run_dir, to_yaml({"hydra": hydra})


def _raw(container: dict, key: str):
    """The value at dotted ``key`` of a plain container, as composed (interpolations kept)."""
    for part in key.split("."):
        container = container[int(part)] if isinstance(container, list) else container[part]
    return container


class BatchedLauncher(Launcher):
    def __init__(self, fast_compose: bool = True) -> None:
        self.fast_compose = fast_compose
        self.config: DictConfig | None = None
        self.hydra_context: HydraContext | None = None
        self.task_function: TaskFunction | None = None

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig) -> None:
        self.config, self.hydra_context, self.task_function = config, hydra_context, task_function

    # -- composing -------------------------------------------------------------------------

    def _split(self, overrides: list[str]) -> tuple[tuple[str, ...], list[Override], list[Override]]:
        """(overrides that change the composition, those that only set a value, all of them parsed)."""
        structural, values = [], []
        parsed = OverridesParser.create().parse_overrides(overrides)
        for override in parsed:
            key = override.key_or_group
            node = OmegaConf.select(self.config, key, default=_ABSENT, throw_on_missing=False)
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
        return tuple(structural), values, parsed

    def compose(self, job_overrides: list[list[str]], first_num: int, to_config) -> list[Job]:
        """Every job's typed config, ``.hydra/`` texts and run directory, composing as few times as possible."""
        templates: dict[tuple[str, ...], Template] = {}
        sweep_dir = Path(str(self.config.hydra.sweep.dir))
        jobs = []
        for offset, overrides in enumerate(job_overrides):
            structural, values, parsed = self._split(overrides)
            if structural not in templates:
                full = self.hydra_context.config_loader.load_sweep_config(self.config, list(structural))
                OmegaConf.copy_cache(from_config=self.config, to_config=full)
                templates[structural] = Template(full)
            template = templates[structural]
            config, config_yaml = template.job_config(values, to_config)
            run_dir, hydra_yaml = template.hydra_yaml(first_num + offset, overrides, parsed, sweep_dir)
            jobs.append(Job(first_num + offset, overrides, run_dir, config, config_yaml, hydra_yaml))
        return jobs

    # -- running ---------------------------------------------------------------------------

    def launch(self, job_overrides, initial_job_idx: int) -> list[JobReturn]:
        from src.config import fingerprint
        from src.jobs import job_failed, objective, report_job, to_config
        from src.population import population_key, run_population
        from src.progress import SweepProgress, population_line
        from src.provenance import code_and_machine
        from src.rundir.reader import completed_summary
        from src.rundir.writer import record_error
        from src.user_errors import describe, note_sweep

        setup_globals()
        configure_log(self.config.hydra.hydra_logging, self.config.hydra.verbose)
        Path(str(self.config.hydra.sweep.dir)).mkdir(parents=True, exist_ok=True)
        note_sweep(self.config.hydra.sweep.dir)
        log.info(f"Launching {len(job_overrides)} jobs as populations")
        jobs = self.compose([list(o) for o in job_overrides], initial_job_idx, to_config)

        configs, summaries = {}, {}
        for job in jobs:
            write_hydra_files(job, self.config.hydra.output_subdir, self.config.hydra.job.name)
            if isinstance(job.config, Exception):  # this job is failed; the others go on
                record_error(job.run_dir, job.config, summary={**code_and_machine(), "overrides": job.overrides})
                job_failed(job.num, job.overrides, job.run_dir, describe(job.config) or job.config)
                continue
            configs[job.num] = job.config
            if job.config.resume:
                summaries[job.num] = completed_summary(job.run_dir, fingerprint(job.config))

        groups = defaultdict(list)
        for job in jobs:
            if job.num in configs and summaries.get(job.num) is None:
                groups[population_key(configs[job.num])].append(job)
        kept, progress = len(summaries) - list(summaries.values()).count(None), SweepProgress(len(groups))
        for group in groups.values():
            log.info(f"\t{population_line([j.num for j in group])}")
            provenance = [{**code_and_machine(), "overrides": job.overrides} for job in group]
            progress.start(len(group), configs[group[0].num].train.epochs)
            try:
                results = run_population(
                    [configs[j.num] for j in group], [j.run_dir for j in group], provenance=provenance,
                    on_chunk=progress.on_chunk,
                )  # fmt: skip
            except Exception as error:  # every run of the group is already recorded as failed
                for job in group:
                    job_failed(job.num, job.overrides, job.run_dir, error)
                continue
            for job, result in zip(group, results):
                summaries[job.num] = result.summary

        returns = []
        for job in jobs:
            summary = summaries.get(job.num)
            ret = JobReturn(overrides=job.overrides, working_dir=os.getcwd(), task_name=self.config.hydra.job.name)
            ret.status = JobStatus.COMPLETED
            ret.return_value = objective(summary, configs[job.num].objective) if summary else math.inf
            if summary:
                report_job(job.num, job.overrides, summary)
            returns.append(ret)
        print(progress.summary([(summaries.get(job.num) or {}).get("status") for job in jobs], kept), flush=True)
        return returns


def write_hydra_files(job: Job, output_subdir: str | None, job_name: str) -> None:
    """``.hydra/config.yaml``, ``hydra.yaml``, ``overrides.yaml`` and the job log, as a Hydra job has them."""
    job.run_dir.mkdir(parents=True, exist_ok=True)
    (job.run_dir / f"{job_name}.log").touch()
    if output_subdir is None:
        return
    hydra_dir = job.run_dir / output_subdir
    hydra_dir.mkdir(parents=True, exist_ok=True)
    (hydra_dir / "config.yaml").write_text(job.config_yaml, encoding="utf-8")
    (hydra_dir / "hydra.yaml").write_text(job.hydra_yaml, encoding="utf-8")
    (hydra_dir / "overrides.yaml").write_text(to_yaml(job.overrides), encoding="utf-8")
