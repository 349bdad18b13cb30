"""A single run is lean: it imports only what it uses, and Hydra composes its config once."""

import subprocess
import sys

from hydra import compose, initialize_config_dir
from hydra.errors import MissingConfigException

from src.experiments import register_experiments

from .conftest import CONF, REPO

SINGLE_RUN = """
import runpy, sys
sys.argv = ["src.run", "epochs=20", "hydra.run.dir={run_dir}"]
try:
    runpy.run_module("src.run", run_name="__main__", alter_sys=True)
finally:
    print("loaded:" + ",".join(name for name in ("pandas", "matplotlib") if name in sys.modules))
"""


def test_a_single_run_imports_neither_pandas_nor_matplotlib(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", SINGLE_RUN.format(run_dir=tmp_path / "run")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "Epoch 0: Loss = " in done.stdout and (tmp_path / "run" / "metrics.csv").is_file()
    assert done.stdout.splitlines()[-1] == "loaded:"


def test_no_config_of_the_project_sets_hydra_mode():
    """What lets src.hydra_mode answer Hydra's "run or multirun?" without composing: the answer is "not set"."""
    with initialize_config_dir(config_dir=CONF, version_base="1.3"):
        for overrides in ([], ["hydra/launcher=basic"], ["optimizer=adam", "loss=bce", "dataset=parity"]):
            assert compose("config", overrides, return_hydra_config=True).hydra.mode is None
        for study in register_experiments():  # Hydra composes for a study anyway; checked all the same
            try:
                composed = compose("config", [f"experiment={study}"], return_hydra_config=True)
            except MissingConfigException:  # a study whose sweeper's extra is not installed (optuna)
                continue
            assert composed.hydra.mode is None


def test_the_mode_is_still_read_from_the_command(tmp_path):
    """``hydra.mode=MULTIRUN`` on the command line still makes a multirun (Hydra composes for it)."""
    done = subprocess.run(
        [
            sys.executable, "-m", "src.run", "hydra.mode=MULTIRUN", "lr=0.1,0.5", "epochs=5", "report.auto=false",
            f"hydra.sweep.dir={tmp_path}",
        ],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert sorted(path.name for path in tmp_path.iterdir() if path.is_dir()) == ["0", "1"]


def test_the_experiments_are_registered_whenever_a_study_may_be_chosen(tmp_path):
    """Registering the studies is skipped only when nothing can choose one: not the command line,
    and not the primary config (a user's edit may choose a study by default)."""
    from src.experiments import may_choose_one

    shipped = REPO / "conf" / "config.yaml"
    assert not may_choose_one([], shipped)
    assert not may_choose_one(["-m", "lr=0.1,0.5", "seed=1"], shipped)
    for arguments in (["experiment=seeds"], ["-m", "+experiment=lr_hidden"], ["--info"], ["--cfg", "job"]):
        assert may_choose_one(arguments, shipped), arguments
    edited = tmp_path / "config.yaml"
    edited.write_text(shipped.read_text().replace("experiment: null", "experiment: seeds"))
    assert may_choose_one([], edited)
