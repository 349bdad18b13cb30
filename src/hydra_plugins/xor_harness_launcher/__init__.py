"""``hydra/launcher=batched``: Hydra's launcher for sweeps whose jobs can train together.

Hydra finds it like any launcher plugin, by scanning the ``hydra_plugins`` namespace; its config
is stored in Hydra's ConfigStore by ``config.py`` (imported by that scan), so any Hydra app in the
environment can choose it. What it does with a task function:

* a task function that declares the *population capability* (``protocol.trains_populations``)
  gets its jobs handed over together, to train them as populations;
* any other task function is launched job by job with Hydra's ``run_job``, as Hydra's basic
  launcher does.

The modules: ``protocol`` (the capability, for task functions), ``config`` (the launcher's
settings), ``batched_launcher`` (the plugin class), ``_compose`` (each job's config, run directory
and ``.hydra/`` texts, composed as few times as possible) and ``_jobs`` (running them). The scan
skips modules whose names begin with ``_``; they are imported when a sweep launches.
"""

from .protocol import POPULATION_CAPABILITY, PopulationJob, trains_populations

__all__ = ["POPULATION_CAPABILITY", "PopulationJob", "trains_populations"]
