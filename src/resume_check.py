"""A resumed sweep must find its own runs: ``resume=true`` into runs of another config stops, naming the difference.

Resuming keeps the completed runs of the same config and trains the others again in their
directories. A run directory that holds a run of *another* config (the sweep resumed with
another ``lr``, say) would be overwritten, so the sweep stops before anything is written, with
one paragraph naming the job, its directory and the values that differ (from the run's saved
``.hydra/config.yaml``).
"""

from __future__ import annotations

from pathlib import Path

from omegaconf import OmegaConf

from .config import fingerprint
from .jobs import TypedConfigs
from .rundir.claim import SweepRefused
from .rundir.layout import Unreadable
from .rundir.reader import flatten, read_config_tree, recorded_config_sha

SHOWN = 4  # differences named in the paragraph
NOT_THE_RUNS = ("resume",)  # keys that change nothing in a run (left out of its fingerprint too)


class ResumedWithAnotherConfig(SweepRefused):
    """A resumed sweep's run directory holds a run of another config."""


def differences(before: dict, now: dict) -> list[str]:
    """``key: before -> now`` for every leaf that differs between two configs."""
    old, new = flatten(before), flatten(now)
    for key in NOT_THE_RUNS:
        old.pop(key, None), new.pop(key, None)
    return [f"{key}: {old.get(key, '(absent)')} -> {new.get(key, '(absent)')}" for key in sorted(old.keys() | new.keys())
            if old.get(key, object()) != new.get(key, object())]  # fmt: skip


def check_resumed_runs(jobs) -> None:
    """Stop (``ResumedWithAnotherConfig``) when a resumed job's run directory holds a run of another config.

    ``jobs`` are the batched launcher's ``PopulationJob``s (``cfg``, ``run_dir``, ``num``); a job
    whose config is not valid, that does not resume, or whose directory holds no run is passed.
    """
    typed = TypedConfigs()
    for job in jobs:
        sha = recorded_config_sha(Path(job.run_dir))
        if sha is None:  # nothing there to overwrite (a new sweep's jobs): no config needed
            continue
        try:
            config = typed.of(job)
            if not config.resume:
                continue
        except Exception:  # a bad config: the job is recorded failed when it runs
            continue
        if sha == fingerprint(config):
            continue
        try:
            before = read_config_tree(Path(job.run_dir))
        except Unreadable:
            before = None
        now = OmegaConf.to_container(job.cfg, resolve=False, enum_to_str=True)
        changed = differences(before, now) if isinstance(before, dict) else []
        named = "; ".join(changed[:SHOWN]) + (f"; and {len(changed) - SHOWN} more" if len(changed) > SHOWN else "")
        what = f"its config differs: {named}" if changed else "its config fingerprint (config_sha) differs"
        raise ResumedWithAnotherConfig(
            f"resume=true, but the run directory of job #{job.num} ({' '.join(job.overrides) or 'no overrides'}), "
            f"{job.run_dir}, holds a run made with another config: {what}. Resuming would overwrite it, so "
            f"nothing was run. Resume with the sweep's original settings, or sweep into a new directory "
            f"(hydra.sweep.dir=...)."
        )
