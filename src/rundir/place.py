"""Where run directories may go: a directory of their own, never the working directory itself.

``hydra.run.dir=''`` (or ``.``) would put ``.hydra/``, ``metrics.csv`` and the rest among the
user's own files, and ``hydra.sweep.dir=''`` every job's directory beside them. The entry
point refuses both overrides before Hydra writes anything.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import ConfigError

KEYS = ("hydra.run.dir", "hydra.sweep.dir")


def check_place(key: str, directory: str) -> None:
    """Refuse ``directory`` for ``key`` when it is empty or the working directory itself."""
    if not directory.strip() or Path(directory).resolve() == Path.cwd().resolve():
        raise ConfigError(key, directory, "a directory of its own for the run's files, not the working directory")


def refuse_the_working_directory(overrides: list[str]) -> None:
    """Check every ``hydra.run.dir=...`` and ``hydra.sweep.dir=...`` of the command line."""
    for override in overrides:
        key, sep, value = override.lstrip("+~").partition("=")
        if sep and key in KEYS:
            check_place(key, value.strip().strip("'\""))
