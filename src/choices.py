"""The config groups' options, the components they choose, and the help page that lists them.

An option of a group is a YAML file, ``conf/<group>/<option>.yaml``; the key ``GROUPS`` names
in it (``name`` for an optimiser, ``scheme`` for an initialisation) chooses a component of
the group's registry: ``conf/loss/mse.yaml`` says ``name: squared_error``. ``options`` reads
that link, ``tests/test_registry.py`` checks that every option chooses a registered component
and every component has an option, and ``help_page`` shows them all on ``--help``.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from .data import DATASETS
from .nn.activations import ACTIVATIONS
from .nn.init import DISTRIBUTIONS, GENERATORS, SCHEMES
from .nn.losses import LOSSES, REDUCTIONS
from .nn.optim import OPTIMIZERS
from .registry import Registry

CONF_DIR = Path(__file__).resolve().parent.parent / "conf"
GROUPS: dict[str, tuple[str, Registry]] = {  # group: (the key of its options that names a component, its registry)
    "init": ("scheme", SCHEMES),
    "optimizer": ("name", OPTIMIZERS),
    "loss": ("name", LOSSES),
    "dataset": ("name", DATASETS),
}


def options(group: str, conf_dir: Path = CONF_DIR) -> dict[str, str]:
    """Each option of ``group`` (its YAML file's name) and the name of the component it chooses.

    The files are read as plain YAML by libyaml (the key is a plain string; nothing is resolved), not
    by ``OmegaConf.load``: Hydra evaluates the help page while composing every command's config, not only
    ``--help`` (a merge over ``hydra.help.template`` resolves it), so reading them must cost little.
    """
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when PyYAML was built with it
    key, _ = GROUPS[group]
    return {
        path.stem: (yaml.load(path.read_text(), Loader=loader) or {}).get(key)
        for path in sorted((conf_dir / group).glob("*.yaml"))
    }


def _option_line(group: str) -> str:
    _, registry = GROUPS[group]
    shown = []
    for option, name in options(group).items():
        keys = registry.keys_read(name) if name in registry else ()
        shown.append(f"{option} ({', '.join(keys)})" if keys else option)
    return ", ".join(shown)


def _launchers() -> str:
    from hydra.core.config_store import ConfigStore

    stored = {name.removesuffix(".yaml") for name in ConfigStore.instance().list("hydra/launcher")}
    files = {path.stem for path in (CONF_DIR / "hydra" / "launcher").glob("*.yaml")}
    return ", ".join(sorted(stored | files))


def help_page() -> str:
    """The groups, their options and the keys each option reads, from the registries (for ``--help``)."""
    experiments = sorted(path.stem for path in (CONF_DIR.parent / "experiments").glob("*.yaml"))
    rows = [
        ("model", f"mlp; model.activation, model.output_activation: {', '.join(ACTIVATIONS)}"),
        ("init", f"{_option_line('init')}; init.generator: {', '.join(GENERATORS)}; "
                 f"init.distribution: {', '.join(DISTRIBUTIONS)}"),
        ("optimizer", _option_line("optimizer")),
        ("loss", f"{_option_line('loss')}; loss.reduction: {', '.join(REDUCTIONS)}"),
        ("dataset", _option_line("dataset")),
        ("experiment", ", ".join(experiments)),
        ("hydra/launcher", _launchers()),
    ]  # fmt: skip
    return "\n".join(
        textwrap.fill(text, width=100, initial_indent=f"  {group + ':':<16}", subsequent_indent=" " * 18)
        for group, text in rows
    )
