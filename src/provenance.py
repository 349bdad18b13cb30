"""Where a result came from: code version, library versions, machine and command line."""

from __future__ import annotations

import functools
import os
import platform
import re
import shlex
import socket
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LIBRARIES = ("numpy", "hydra-core", "omegaconf", "pandas", "matplotlib")


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _code_version() -> tuple[str | None, bool | None]:
    """(the commit checked out, whether tracked files differ from it), or (None, None) outside a git checkout.

    One ``git status --porcelain=v2 --branch``: its header names the commit (``# branch.oid <sha>``, or
    ``(initial)`` before the first), and every other line is a changed file.
    """
    status = _git("status", "--porcelain=v2", "--branch", "--untracked-files=no")
    if status is None:
        return None, None
    lines = status.splitlines()
    commit = next((line.split()[2] for line in lines if line.startswith("# branch.oid ")), None)
    if commit is None or commit == "(initial)":
        return None, None
    return commit, any(not line.startswith("#") for line in lines)


def _version(distribution: str) -> str | None:
    """The installed version of ``distribution`` (``hydra-core``), or None when it is not installed.

    pip installs a distribution with a directory ``<name>-<version>.dist-info`` (``hydra_core-1.3.8.dist-info``)
    beside its package, so the version is in the name of the first such directory on ``sys.path``, the one
    ``importlib.metadata`` would read too. Only an install of another kind is asked of ``importlib.metadata``
    itself, which costs more: importing it alone takes about 12 ms, more than the rest of the provenance.
    """
    wanted = _normalized(distribution)
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:  # a zip file, an import hook, a directory gone
            continue
        for name in names:
            stem = name.removesuffix(".dist-info")
            if stem != name and "-" in stem and _normalized(stem.split("-")[0]) == wanted:
                return stem.split("-", 1)[1]
    from importlib import metadata

    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def _normalized(name: str) -> str:
    """A distribution's name as packaging compares them: ``Hydra_Core``, ``hydra-core`` -> ``hydra-core``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def command_line() -> str:
    """How this process was started, as typed: ``python -m src.run ...``, ``python -m src.rerun ...``."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    program = ["-m", spec.name.removesuffix(".__main__")] if spec is not None and spec.name else sys.argv[:1]
    return shlex.join(["python", *program, *sys.argv[1:]])


@functools.lru_cache(maxsize=1)
def code_and_machine() -> dict:
    """The part of provenance shared by every run of this process (computed once)."""
    commit, dirty = _code_version()
    return {
        "git_commit": commit,
        "git_dirty": dirty,
        "python": platform.python_version(),
        "versions": {name: _version(name) for name in LIBRARIES},
        "host": socket.gethostname(),
        "platform": platform.platform(),
        "command": command_line(),
        "cpu_features": cpu_features(),
    }


def cpu_features() -> list[str] | None:
    """The CPU features NumPy uses here (``AVX512F``, ...): its ``exp`` rounds by them."""
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as features
    except ImportError:  # NumPy without this table
        return None
    return sorted(name for name, enabled in features.items() if enabled)
