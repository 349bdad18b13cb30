"""Named studies: every ``experiments/NAME.yaml`` becomes ``experiment=NAME``.

The files live at the top of the repository, beside ``conf/``, so Hydra does not find them
on its own; they are read once and put in Hydra's ConfigStore as the ``experiment`` group,
at the global package, where they can override groups (``override /optimizer: adam``),
set any value, and declare their own sweep in ``hydra.sweeper.params``.

Reading and storing them costs a command about 10 ms, so the entry point does it only when its
command line may choose a study (``may_choose_one``); Hydra composes ``experiment: null`` of the
defaults list the same with the group stored or not (the run's files are the same bytes).
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


def may_choose_one(arguments: list[str], config_file: Path | None = None) -> bool:
    """Could a command line with these ``arguments`` choose a study? Only by naming the group
    (``experiment=seeds``, ``+experiment=...``, ``--shell-completion query=experiment=``), by a
    flag that changes what is composed or shown (``--config-name``, ``--info``, ...): any flag but
    ``-m``; or when the primary ``config_file`` names the group anywhere but ``experiment: null``
    (a user's edit choosing a study by default, or sweeping over studies)."""
    names_the_group = any("experiment" in argument for argument in arguments)
    other_flags = [argument for argument in arguments if argument.startswith("-") and argument not in ("-m", "--multirun")]
    return names_the_group or bool(other_flags) or (config_file is not None and config_names_one(config_file))


def config_names_one(config_file: Path) -> bool:
    """Does the YAML file mention the ``experiment`` group other than as ``experiment: null`` (comments aside)?"""
    try:
        lines = config_file.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return True  # cannot tell: register them
    code = [line.split("#", 1)[0] for line in lines]
    return any("experiment" in line and "experiment: null" not in line for line in code)
