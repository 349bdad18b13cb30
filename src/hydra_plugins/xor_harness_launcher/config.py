"""The batched launcher's settings, stored in Hydra's ConfigStore as ``hydra/launcher=batched``.

Hydra's plugin scan imports this module (no ``from __future__ import annotations`` here: the scan
runs a module before it is in ``sys.modules``, where ``dataclass`` looks up string annotations).
"""

from dataclasses import dataclass

from hydra.core.config_store import ConfigStore


@dataclass
class BatchedLauncherConf:
    _target_: str = "hydra_plugins.xor_harness_launcher.batched_launcher.BatchedLauncher"
    # true: compose once per distinct set of group choices and set each job's values in it;
    # false: compose every job from scratch, as the basic launcher does
    fast_compose: bool = True


ConfigStore.instance().store(group="hydra/launcher", name="batched", node=BatchedLauncherConf, provider="xor_harness")
