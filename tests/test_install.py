"""A regular install (``pip install .``, not editable) into a fresh virtual environment.

Hydra scans the ``hydra_plugins`` namespace of the environment for plugins, in every Hydra app
there: the batched launcher installed must neither break that scan for another app nor be
missing from it, and the entry point must find ``conf/`` and ``experiments/`` without the
checkout. Slow: the install takes about a minute (dependencies from pip's cache).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO

pytestmark = pytest.mark.slow

APP = """\
import hydra
@hydra.main(version_base=None, config_path=None, config_name=None)
def main(cfg):
    print(f"job ran with x={cfg.x}")
main()
"""
LEFT_OUT = shutil.ignore_patterns(".venv", ".git", "outputs", "build", "*.egg-info", "__pycache__", ".*cache")


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The python of a fresh venv with the project installed from a copy of the checkout, not editable."""
    work = tmp_path_factory.mktemp("install")
    shutil.copytree(REPO, work / "project", ignore=LEFT_OUT)
    subprocess.run([sys.executable, "-m", "venv", work / "venv"], check=True)
    python = work / "venv" / "bin" / "python"
    done = subprocess.run(
        [python, "-m", "pip", "install", "-q", str(work / "project")], capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stderr
    shutil.rmtree(work / "project")  # nothing of the checkout is left to lean on
    return python


def run(python: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(python), *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_a_plain_hydra_app_runs_and_can_choose_the_batched_launcher(installed, tmp_path):
    (tmp_path / "app.py").write_text(APP)
    single = run(installed, tmp_path, "app.py", "+x=1")
    assert single.returncode == 0 and "job ran with x=1" in single.stdout, single.stderr
    sweep = run(installed, tmp_path, "app.py", "-m", "+x=1,2", f"hydra.sweep.dir={tmp_path / 'basic'}")
    assert sweep.returncode == 0 and "job ran with x=2" in sweep.stdout, sweep.stderr
    batched = run(
        installed, tmp_path, "app.py", "-m", "+x=1,2", "hydra/launcher=batched", f"hydra.sweep.dir={tmp_path / 'b'}"
    )
    assert batched.returncode == 0, batched.stderr
    assert "job ran with x=1" in batched.stdout and "job ran with x=2" in batched.stdout  # its task, job by job
    assert sorted(p.name for p in (tmp_path / "b").iterdir() if p.is_dir()) == ["0", "1"]
    assert (tmp_path / "b" / "1" / ".hydra" / "overrides.yaml").read_text() == "- +x=2\n"


def test_the_entry_point_finds_its_configs_and_studies_when_installed(installed, tmp_path):
    single = run(installed, tmp_path, "-m", "src.run", "epochs=3")
    assert single.returncode == 0 and "| Input | Predicted Output | Expected Value |" in single.stdout, single.stderr
    sweep = run(
        installed, tmp_path, "-m", "src.run", "-m", "experiment=lr_hidden", "seed=0", "epochs=3", "report.auto=false",
        f"hydra.sweep.dir={tmp_path / 'sweep'}",
    )  # fmt: skip
    assert sweep.returncode == 0, sweep.stderr
    assert "population of 3" in sweep.stdout  # the study from experiments/, trained as populations
    assert len([p for p in (tmp_path / "sweep").iterdir() if p.is_dir()]) == 9
