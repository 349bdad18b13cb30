"""Where a result came from: code version, library versions, machine and command line."""

from __future__ import annotations

import functools
import platform
import shlex
import socket
import subprocess
import sys
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LIBRARIES = ("numpy", "hydra-core", "omegaconf", "pandas", "matplotlib")


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def command_line() -> str:
    """How this process was started, as typed: ``python -m src.run ...``, ``python -m src.rerun ...``."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    program = ["-m", spec.name.removesuffix(".__main__")] if spec is not None and spec.name else sys.argv[:1]
    return shlex.join(["python", *program, *sys.argv[1:]])


@functools.lru_cache(maxsize=1)
def code_and_machine() -> dict:
    """The part of provenance shared by every run of this process (computed once)."""
    commit = _git("rev-parse", "HEAD")
    status = _git("status", "--porcelain", "--untracked-files=no") if commit else None
    return {
        "git_commit": commit,
        "git_dirty": None if status is None else bool(status),
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
