"""Hydra's launcher and sweeper plugins, for real: joblib, Ray, submitit and Optuna.

Each launcher runs the same small sweep as a user types it (``python -m src.run -m ...``), and
its run directories must equal the basic launcher's: the same files, byte-identical
``metrics.csv`` and job config, equal parameters, and the same status and final values in
``summary.json`` (one run of the sweep diverges on purpose). The plugins come with the extras
``parallel``, ``ray``, ``slurm`` and ``optuna``; without them these tests are skipped, except
under CI (``CI=true``), which installs them, so that a missing install fails loudly there.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from .conftest import run_cli

pytestmark = pytest.mark.slow

# Four jobs, two of which diverge (identity output, lr 30), 300 epochs each: a few seconds.
SWEEP = ("lr=0.5,30", "hidden=2,4", "model.output_activation=identity", "epochs=300", "report.auto=false")
STATUSES = ["completed", "completed", "diverged", "diverged"]
# What a run directory's summary must agree on across launchers (times, pids, hosts may differ).
SAME_IN_SUMMARY = (
    "status", "seed", "overrides", "epochs_run", "epochs_planned", "diverged_at_epoch", "final", "predictions",
)  # fmt: skip


def installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # not even the parent package (hydra_plugins) is there
        return False


def needs(module: str, extra: str) -> pytest.MarkDecorator:
    """Skip unless the plugin ``module`` is installed; not under CI, which installs the extras, so it fails there."""
    missing = not installed(module) and not os.environ.get("CI")
    return pytest.mark.skipif(missing, reason=f'needs the extra: pip install -e ".[{extra}]"')


def sweep(sweep_dir: Path, *launcher: str, env: dict | None = None, timeout: float = 300) -> Path:
    done = run_cli("-m", *launcher, *SWEEP, f"hydra.sweep.dir={sweep_dir}", env=env, timeout=timeout)
    assert done.returncode == 0, done.stdout + done.stderr
    return sweep_dir


def run_dirs(sweep_dir: Path) -> dict[str, Path]:
    """The sweep's run directories by name (job number); the launcher's own hidden folders are left out."""
    return {p.name: p for p in sweep_dir.iterdir() if p.is_dir() and not p.name.startswith(".")}


def files_of(run_dir: Path) -> set[str]:
    return {str(p.relative_to(run_dir)) for p in run_dir.rglob("*") if p.is_file()}


def assert_same_runs(sweep_dir: Path, reference: Path) -> None:
    """``sweep_dir`` holds the same run directories as ``reference``, file by file."""
    runs, expected = run_dirs(sweep_dir), run_dirs(reference)
    assert sorted(runs) == sorted(expected) == [str(i) for i in range(len(STATUSES))]
    assert (sweep_dir / "multirun.yaml").is_file()
    for name, run in sorted(runs.items()):
        other = expected[name]
        assert files_of(run) == files_of(other), name
        for exact in ("metrics.csv", ".hydra/config.yaml", ".hydra/overrides.yaml"):
            assert (run / exact).read_bytes() == (other / exact).read_bytes(), (name, exact)
        with np.load(run / "params.npz") as got, np.load(other / "params.npz") as want:
            assert sorted(got.files) == sorted(want.files)
            for key in want.files:
                np.testing.assert_array_equal(got[key], want[key], err_msg=f"{name}: {key}")
        summary = json.loads((run / "summary.json").read_text())
        wanted = json.loads((other / "summary.json").read_text())
        assert summary.keys() == wanted.keys(), name
        for key in SAME_IN_SUMMARY:
            assert summary[key] == wanted[key], (name, key)
    statuses = [json.loads((runs[str(i)] / "summary.json").read_text())["status"] for i in range(len(STATUSES))]
    assert statuses == STATUSES


@pytest.fixture(scope="module")
def basic_sweep(tmp_path_factory) -> Path:
    """The reference: the sweep on Hydra's basic launcher, one job after another in this process."""
    return sweep(tmp_path_factory.mktemp("basic"), "hydra/launcher=basic")


@needs("hydra_plugins.hydra_joblib_launcher", "parallel")
def test_joblib_with_two_workers_writes_what_the_basic_launcher_writes(tmp_path, basic_sweep):
    sweep(tmp_path, "hydra/launcher=joblib", "hydra.launcher.n_jobs=2")
    assert_same_runs(tmp_path, basic_sweep)


@needs("hydra_plugins.hydra_submitit_launcher", "slurm")
def test_submitit_local_executor_writes_what_the_basic_launcher_writes(tmp_path, basic_sweep):
    sweep(tmp_path, "hydra/launcher=submitit_local", "hydra.launcher.timeout_min=5")
    assert_same_runs(tmp_path, basic_sweep)
    assert (tmp_path / ".submitit").is_dir()  # submitit's own logs and pickles, beside the runs


# Ray, on this machine and its loopback address only: outside Windows and macOS Ray advertises
# and binds the machine's network address unless told that this is no cluster. No usage
# statistics, no dashboard. Its session files, and the token that Ray's clients must show, in a
# folder of ours rather than in /tmp/ray and ~/.ray (a short path: Ray puts Unix sockets there,
# whose paths are limited to about 100 characters).
@pytest.fixture
def ray_env():
    """``(environment, folder)`` for the Ray processes of a test."""
    folder = Path(tempfile.mkdtemp(prefix="ray-"))
    token = folder / "auth_token"
    token.write_text(secrets.token_hex(32))
    token.chmod(0o600)
    environment = {
        "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
        "RAY_USAGE_STATS_ENABLED": "0",
        "RAY_AUTH_MODE": "token",
        "RAY_AUTH_TOKEN_PATH": str(token),
    }
    yield environment, folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.ray
@needs("hydra_plugins.hydra_ray_launcher", "ray")
def test_ray_on_a_local_instance_writes_what_the_basic_launcher_writes(tmp_path, basic_sweep, ray_env):
    """``hydra/launcher=ray`` alone: the sweep starts a Ray instance of its own, and stops it at the end."""
    environment, folder = ray_env
    local_ray = (
        "hydra/launcher=ray",
        "+hydra.launcher.ray.init.num_cpus=2",
        "+hydra.launcher.ray.init.include_dashboard=false",
        f"+hydra.launcher.ray.init._temp_dir={folder}",
    )
    sweep(tmp_path, *local_ray, env=environment, timeout=600)
    assert_same_runs(tmp_path, basic_sweep)


def free_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def ray_head(ray_env):
    """A one-machine Ray cluster as a user starts one on a head node (``ray start --head``), on loopback.

    ``--block`` keeps ``ray start`` in the foreground, in a process group of its own with the
    processes it starts, so that the fixture can end them all.
    """
    environment, folder = ray_env
    port = free_loopback_port()
    command = [
        str(Path(sys.executable).with_name("ray")), "start", "--head", "--block", f"--port={port}",
        "--node-ip-address=127.0.0.1", "--num-cpus=2", "--include-dashboard=false", "--disable-usage-stats",
        f"--temp-dir={folder}",
    ]  # fmt: skip
    log = folder / "ray-start.log"
    with open(log, "w") as output:
        head = subprocess.Popen(
            command, env={**os.environ, **environment}, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 120
        while "Ray runtime started" not in log.read_text():  # what `ray start` prints once the head is up
            assert head.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.5)
        yield f"127.0.0.1:{port}"
    finally:  # `ray start` drains the node and stops its processes on SIGTERM; then any straggler of its group
        head.terminate()
        try:
            head.wait(timeout=60)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(head.pid, signal.SIGKILL)
            head.wait()


@pytest.mark.ray
@needs("hydra_plugins.hydra_ray_launcher", "ray")
def test_ray_on_a_running_cluster_writes_what_the_basic_launcher_writes(tmp_path, basic_sweep, ray_env, ray_head):
    """``ray start --head`` first, as on a cluster's head node; the sweep connects to its address."""
    # hydra-ray-launcher 1.2.2 always passes object_store_memory to ray.init, which Ray refuses when
    # connecting to a running cluster ("When connecting to an existing cluster, object_store_memory
    # must not be provided"; Hydra issue 2893): null takes it out again.
    cluster = (f"hydra.launcher.ray.init.address={ray_head}", "+hydra.launcher.ray.init.object_store_memory=null")
    sweep(tmp_path, "hydra/launcher=ray", *cluster, env=ray_env[0], timeout=600)
    assert_same_runs(tmp_path, basic_sweep)


# Optuna: a short search of experiments/optuna_lr.yaml, its study in a SQLite file of ours.
def optuna_search(sweep_dir: Path, storage: Path, n_trials: int, *overrides: str):
    return run_cli(
        "-m", "experiment=optuna_lr", "epochs=200", "report.auto=false", f"hydra.sweep.dir={sweep_dir}",
        f"hydra.sweeper.storage=sqlite:///{storage}", f"hydra.sweeper.n_trials={n_trials}", *overrides,
    )  # fmt: skip


def trials_in(storage: Path) -> list[tuple[int, str, float, float]]:
    """(number, state, value, lr) of every trial of the study, read from the SQLite file itself."""
    with sqlite3.connect(storage) as db:
        return db.execute(
            "SELECT t.number, t.state, v.value, p.param_value FROM trials t"
            " JOIN studies s ON s.study_id = t.study_id"
            " LEFT JOIN trial_values v ON v.trial_id = t.trial_id"
            " LEFT JOIN trial_params p ON p.trial_id = t.trial_id AND p.param_name = 'lr'"
            " WHERE s.study_name = 'optuna_lr' ORDER BY t.number"
        ).fetchall()


@needs("hydra_plugins.hydra_optuna_sweeper", "optuna")
def test_optuna_search_persists_its_study_and_a_second_run_continues_it(tmp_path):
    storage = tmp_path / "study.db"

    first = optuna_search(tmp_path / "first", storage, 3)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "alembic" not in first.stdout + first.stderr  # creating the SQLite study logs no plugin set-up
    best = yaml.safe_load((tmp_path / "first" / "optimization_results.yaml").read_text())
    assert set(best["best_params"]) == {"lr", "hidden", "optimizer"}
    assert 0.001 <= best["best_params"]["lr"] <= 10.0 and 2 <= best["best_params"]["hidden"] <= 8
    assert best["best_params"]["optimizer"] in {"sgd", "momentum", "rmsprop", "adam"}
    trials = trials_in(storage)
    assert [(n, state) for n, state, _, _ in trials] == [(n, "COMPLETE") for n in range(3)]
    assert best["best_value"] == min(value for _, _, value, _ in trials)
    for run in run_dirs(tmp_path / "first").values():  # each trial is an ordinary run directory
        summary = json.loads((run / "summary.json").read_text())
        assert summary["status"] in ("completed", "diverged")
        assert "experiment=optuna_lr" in summary["overrides"]

    second = optuna_search(tmp_path / "second", storage, 2)
    assert second.returncode == 0, second.stdout + second.stderr
    trials = trials_in(storage)
    assert [(n, state) for n, state, _, _ in trials] == [(n, "COMPLETE") for n in range(5)]
    assert len({lr for _, _, _, lr in trials}) == 5  # new trials, not the first invocation's drawn again
    best = yaml.safe_load((tmp_path / "second" / "optimization_results.yaml").read_text())
    assert best["best_value"] == min(value for _, _, value, _ in trials)  # the best of both invocations
    assert len(run_dirs(tmp_path / "second")) == 2

    # Past its random start-up trials, TPE models the objective from all the trials so far.
    third = optuna_search(tmp_path / "third", storage, 2, "hydra.sweeper.sampler.n_startup_trials=3")
    assert third.returncode == 0, third.stdout + third.stderr
    assert [(n, state) for n, state, _, _ in trials_in(storage)] == [(n, "COMPLETE") for n in range(7)]
