"""Shared test helpers: compose the real Hydra config and run it into a temporary directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

import src.run  # noqa: F401  (registers the schema and the experiments)
from src.config import Config
from src.jobs import to_config
from src.population import run_population

REPO = Path(__file__).resolve().parent.parent
CONF = str(REPO / "conf")


def make_config(*overrides: str) -> Config:
    """The typed config that ``python -m src.run OVERRIDES`` would use."""
    with initialize_config_dir(config_dir=CONF, version_base="1.3"):
        return to_config(compose(config_name="config", overrides=list(overrides)))


def train_into(run_dir: Path, *overrides: str) -> dict:
    """Train one run of ``overrides`` into ``run_dir``; its summary."""
    [result] = run_population([make_config(*overrides)], [run_dir])
    return result.summary


def run_cli(*args: str, cwd: Path = REPO, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """``python -m src.run ARGS`` as a user types it."""
    environment = {**os.environ, **(env or {})}
    environment.pop("HYDRA_FULL_ERROR", None)
    return subprocess.run(
        [sys.executable, "-m", "src.run", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def compose_config():
    return make_config
