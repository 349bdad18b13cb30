"""The batched launcher's settings, stored in Hydra's ConfigStore as ``hydra/launcher=batched`` and
its variants that ship shards of each population to a distributed engine:

* ``batched``: shards as processes of this machine, ``workers`` at a time (default: every core);
* ``batched_ray``: shards as Ray tasks, on a local Ray instance or the cluster at ``address``;
* ``batched_slurm``: shards as the jobs of a SLURM job array (submitit), ``submitit`` their settings;
* ``batched_submitit_local``: the same through submitit's local executor, to try it without a cluster.

Hydra's plugin scan imports this module (no ``from __future__ import annotations`` here: the scan
runs a module before it is in ``sys.modules``, where ``dataclass`` looks up string annotations).
"""

from dataclasses import dataclass, field
from typing import Any, Dict, Optional  # noqa: UP035  (plain names: OmegaConf reads these annotations)

from hydra.core.config_store import ConfigStore


@dataclass
class BatchedLauncherConf:
    _target_: str = "hydra_plugins.xor_harness_launcher.batched_launcher.BatchedLauncher"
    # true: compose once per distinct set of group choices and set each job's values in it;
    # false: compose every job from scratch, as the basic launcher does
    fast_compose: bool = True
    # what trains the shards of a population: processes (this machine), ray, or submitit
    engine: str = "processes"
    # shards trained side by side (processes) or asked for (ray, submitit); null: every core here;
    # 1: one process trains and writes everything
    workers: Optional[int] = None  # noqa: UP045
    # networks per shard; null: each population split evenly over the workers (at least 32 a shard
    # with processes, where a smaller population trains in one piece)
    shard_size: Optional[int] = None  # noqa: UP045
    # ray: the cluster to join (null: start a local Ray instance and stop it at the end)
    address: Optional[str] = None  # noqa: UP045
    # submitit: "slurm", or "local" to try without a cluster
    cluster: str = "slurm"
    # submitit: the executor's parameters (timeout_min, slurm_partition, cpus_per_task, mem_gb, ...)
    submitit: Dict[str, Any] = field(default_factory=lambda: {"timeout_min": 60, "cpus_per_task": 1})  # noqa: UP006


store = ConfigStore.instance()
store.store(group="hydra/launcher", name="batched", node=BatchedLauncherConf, provider="xor_harness")
store.store(group="hydra/launcher", name="batched_ray", node=BatchedLauncherConf(engine="ray"), provider="xor_harness")
store.store(
    group="hydra/launcher", name="batched_slurm", node=BatchedLauncherConf(engine="submitit"), provider="xor_harness"
)
store.store(
    group="hydra/launcher",
    name="batched_submitit_local",
    node=BatchedLauncherConf(engine="submitit", cluster="local"),
    provider="xor_harness",
)
