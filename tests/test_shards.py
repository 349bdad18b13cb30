"""Shards of a population: byte-identical files whatever runs them, and a failed or killed shard
costs only its own runs."""

from __future__ import annotations

import json
import os
import signal
import socket
from pathlib import Path

import pytest

import src.shards
from src.config import fingerprint
from src.population import run_population
from src.rundir.reader import completed_summary, read_summary, status_of
from src.shards import Processes, RayTasks, SubmititJobs, cut

from .conftest import make_config, run_cli

CONFIGS = [("epochs=300", f"seed={seed}", f"lr={lr}") for seed in range(3) for lr in (0.1, 0.5, 2.0)]  # 9 networks


def population(tmp_path: Path, name: str):
    configs = [make_config(*overrides) for overrides in CONFIGS]
    run_dirs = [tmp_path / name / str(p) for p in range(len(configs))]
    return configs, run_dirs, [{} for _ in configs]


@pytest.fixture(scope="module")
def whole(tmp_path_factory) -> Path:
    """The population trained in one piece, in this process: the files every engine must give."""
    tmp_path = tmp_path_factory.mktemp("whole")
    configs, run_dirs, _ = population(tmp_path, "whole")
    run_population(configs, run_dirs)
    return tmp_path / "whole"


def assert_same_files(ours: Path, reference: Path) -> None:
    for job in sorted(p.name for p in reference.iterdir()):
        for name in ("metrics.csv", "params.npz"):
            assert (ours / job / name).read_bytes() == (reference / job / name).read_bytes(), f"{job}/{name}"
        a, b = (json.loads((d / job / "summary.json").read_text()) for d in (ours, reference))
        for key in ("status", "final", "epochs_run", "metrics_rows", "config_sha", "predictions", "solved"):
            assert a[key] == b[key], (job, key)


@pytest.mark.parametrize("workers, size", [(1, 9), (2, 4), (2, 1), (3, 2)])
def test_shards_in_processes_give_the_files_of_one_population(tmp_path, whole, workers, size):
    configs, run_dirs, provenance = population(tmp_path, "sharded")
    outcomes = Processes(workers).run(cut(configs, run_dirs, provenance, size, lanes=0))
    assert all(isinstance(outcome, list) for outcome in outcomes), outcomes
    assert [r.run_dir for outcome in outcomes for r in outcome] == run_dirs
    assert_same_files(tmp_path / "sharded", whole)


def test_a_failed_shard_costs_only_its_runs(tmp_path):
    configs, run_dirs, provenance = population(tmp_path, "sweep")
    broken = make_config("epochs=300", "dataset=csv", f"dataset.path={tmp_path / 'missing.csv'}")
    configs[3:6] = [broken] * 3
    outcomes = Processes(2).run(cut(configs, run_dirs, provenance, 3, lanes=0))
    assert [isinstance(o, BaseException) for o in outcomes] == [False, True, False]
    statuses = [read_summary(d)["status"] for d in run_dirs]
    assert statuses == ["completed"] * 3 + ["failed"] * 3 + ["completed"] * 3


def test_a_killed_shard_leaves_its_runs_unfinished_and_resume_finishes_them(tmp_path, whole, monkeypatch):
    train_shard = src.shards.train_shard

    def killed_in_the_second_shard(shard, on_epochs=None):
        results = train_shard(shard, on_epochs)
        if shard.run_dirs[0].name == "3":
            os.kill(os.getpid(), signal.SIGKILL)  # after its files, before its answer: as if lost at the end
        return results

    def dies_while_training(shard, on_epochs=None):
        if shard.run_dirs[0].name == "6":
            config = shard.configs[0]
            run_population([config], shard.run_dirs[:1], on_chunk=lambda *_: os.kill(os.getpid(), signal.SIGKILL))
        return killed_in_the_second_shard(shard, on_epochs)

    monkeypatch.setattr(src.shards, "train_shard", dies_while_training)
    configs, run_dirs, provenance = population(tmp_path, "sweep")
    outcomes = Processes(2).run(cut(configs, run_dirs, provenance, 3, lanes=0))
    assert [isinstance(o, BaseException) for o in outcomes] == [False, True, True]
    assert "exit code -9" in str(outcomes[2])
    assert status_of(read_summary(run_dirs[6]), socket.gethostname()) == "unfinished"  # its process is gone
    assert read_summary(run_dirs[0])["status"] == "completed"
    monkeypatch.undo()
    again = [p for p, d in enumerate(run_dirs) if completed_summary(d, fingerprint(configs[p])) is None]
    assert 6 in again
    run_population([configs[p] for p in again], [run_dirs[p] for p in again])
    assert_same_files(tmp_path / "sweep", whole)


@pytest.mark.slow
@pytest.mark.ray
def test_shards_as_ray_tasks_give_the_same_files(tmp_path, whole):
    pytest.importorskip("ray", reason="the ray extra is not installed")
    configs, run_dirs, provenance = population(tmp_path, "ray")
    outcomes = RayTasks().run(cut(configs, run_dirs, provenance, 4, lanes=0))
    assert all(isinstance(outcome, list) for outcome in outcomes), outcomes
    assert_same_files(tmp_path / "ray", whole)


@pytest.mark.slow
def test_shards_as_local_submitit_jobs_give_the_same_files(tmp_path, whole):
    pytest.importorskip("submitit", reason="the slurm extra is not installed")
    configs, run_dirs, provenance = population(tmp_path, "submitit")
    engine = SubmititJobs(tmp_path / ".submitit", cluster="local", parameters={"timeout_min": 10})
    outcomes = engine.run(cut(configs, run_dirs, provenance, 4, lanes=0))
    assert all(isinstance(outcome, list) for outcome in outcomes), outcomes
    assert_same_files(tmp_path / "submitit", whole)


def sweep_files(sweep_dir: Path) -> dict[str, bytes]:
    """Every run's metrics.csv, params.npz and .hydra/config.yaml, by job."""
    return {
        f"{run.name}/{name}": (run / name).read_bytes()
        for run in sorted(sweep_dir.iterdir()) if (run / "metrics.csv").is_file()
        for name in ("metrics.csv", "params.npz", ".hydra/config.yaml")
    }  # fmt: skip


@pytest.mark.slow
def test_a_sweep_gives_the_same_files_with_one_worker_two_workers_and_submitit(tmp_path):
    pytest.importorskip("submitit", reason="the slurm extra is not installed: pip install -e '.[slurm]'")
    sweep = ["-m", "seed=range(0,70)", "lr=0.5,1.0", "epochs=400", "report.auto=false"]
    files = {}
    for name, launcher in {
        "one": ["hydra.launcher.workers=1"],
        "two": ["hydra.launcher.workers=2"],
        "small shards": ["hydra.launcher.workers=2", "hydra.launcher.shard_size=9"],
        "submitit": ["hydra/launcher=batched_submitit_local", "hydra.launcher.shard_size=50"],
    }.items():
        done = run_cli(*sweep, *launcher, f"hydra.sweep.dir={tmp_path / name}")
        assert done.returncode == 0, done.stderr
        files[name] = sweep_files(tmp_path / name)
    assert len(files["one"]) == 140 * 3
    for name in ("two", "small shards", "submitit"):
        assert files[name] == files["one"], name


@pytest.mark.slow
@pytest.mark.ray
def test_a_sweep_on_ray_gives_the_same_files(tmp_path):
    pytest.importorskip("ray", reason="the ray extra is not installed")
    sweep = ["-m", "seed=range(0,40)", "epochs=400", "report.auto=false"]
    for name, launcher in {"one": ["hydra.launcher.workers=1"], "ray": ["hydra/launcher=batched_ray"]}.items():
        done = run_cli(*sweep, *launcher, f"hydra.sweep.dir={tmp_path / name}")
        assert done.returncode == 0, done.stderr
    assert sweep_files(tmp_path / "ray") == sweep_files(tmp_path / "one")


MEASURE = (  # runs the command in a fresh process of its own, so no earlier child counts
    "import json, resource, subprocess, sys; done = subprocess.run(json.loads(sys.argv[1]));"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss if done.returncode == 0 else -1)"
)


def peak_memory(argv: list[str], cwd: Path) -> int:
    """Peak resident memory (bytes) of a command's largest process, by the operating system's account."""
    import subprocess
    import sys

    command = json.dumps([sys.executable, *argv])
    done = subprocess.run([sys.executable, "-c", MEASURE, command], cwd=cwd, capture_output=True, text=True)
    kilobytes = int(done.stdout.strip().splitlines()[-1])
    assert kilobytes > 0, done.stderr
    return kilobytes * 1024


@pytest.mark.slow
def test_memory_stays_bounded_as_the_number_of_jobs_grows(tmp_path):
    """A few thousand tiny jobs: the sweep's process holds each job's typed config, not its composed one."""
    from .conftest import REPO

    def sweep(jobs: int) -> int:
        return peak_memory(["-m", "src.run", "-m", f"seed=range(0,{jobs})", "epochs=5", "report.auto=false",
                            f"hydra.sweep.dir={tmp_path / str(jobs)}"], REPO)  # fmt: skip

    small, large = sweep(500), sweep(3000)
    assert large < 300 * 2**20, f"{large / 2**20:.0f} MB for 3,000 jobs"
    assert (large - small) / 2500 < 40 * 2**10, f"{(large - small) / 2500 / 2**10:.0f} KB a job"


@pytest.mark.slow
@pytest.mark.parametrize("name", ["SIGTERM", "SIGINT"])
def test_a_signal_to_the_main_process_alone_stops_the_shards_too(tmp_path, name):
    """``kill PID``, ``timeout`` or a job manager signals the main process only: its shards stop with it."""
    import subprocess
    import sys
    import time

    from .conftest import REPO

    command = [sys.executable, "-m", "src.run", "-m", "seed=range(0,200)", "epochs=40000", "report.auto=false",
               "hydra.launcher.workers=2", f"hydra.sweep.dir={tmp_path}"]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while len(list(tmp_path.glob("*/summary.json"))) < 200 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1)
    os.kill(process.pid, getattr(signal, name))
    try:
        _, err = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        raise AssertionError("the sweep did not end after its main process was signalled") from None
    assert process.returncode == 128 + getattr(signal, name) and "Traceback" not in err
    statuses = {json.loads(p.read_text())["status"] for p in tmp_path.glob("*/summary.json")}
    assert statuses <= {"interrupted", "completed"} and "interrupted" in statuses
