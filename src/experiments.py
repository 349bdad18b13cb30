"""Named studies: every ``experiments/NAME.yaml`` becomes ``experiment=NAME``.

The files live at the top of the repository, beside ``conf/``, so Hydra does not find them
on its own; they are read once and put in Hydra's ConfigStore as the ``experiment`` group,
at the global package, where they can override groups (``override /optimizer: adam``),
set any value, and declare their own sweep in ``hydra.sweeper.params``.
"""

from __future__ import annotations

from pathlib import Path

EXPERIMENTS_DIR = Path(__file__).resolve().parent.parent / "experiments"


def register_experiments(directory: Path = EXPERIMENTS_DIR) -> list[str]:
    """Store each YAML file of ``directory`` as an option of the ``experiment`` group."""
    from hydra.core.config_store import ConfigStore
    from omegaconf import OmegaConf

    store = ConfigStore.instance()
    names = []
    for path in sorted(directory.glob("*.yaml")):
        store.store(group="experiment", name=path.stem, node=OmegaConf.load(path), package="_global_")
        names.append(path.stem)
    return names
