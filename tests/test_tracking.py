"""The run directory you can trust: provenance, a status lifecycle that is always true, resume's
test of a completed run, the catalog's ``unfinished``, and re-running one run from its directory.
"""

from __future__ import annotations

import io
import json
import os
import platform
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import hydra
import numpy as np
import omegaconf
import pandas as pd
import pytest
from omegaconf import OmegaConf

import src.population
from src import provenance
from src.config import fingerprint
from src.errors import ConfigError
from src.population import run_population
from src.rerun import main as rerun_main
from src.rerun import rerun
from src.rundir.reader import completed_summary
from src.rundir.writer import RunDirectories, record_error, write_json_atomically
from src.runs import main as catalog_main
from src.train import METRICS

from .conftest import CONF, REPO, make_config, run_cli

HEADER = "epoch," + ",".join(METRICS) + "\n"

SHORT = ("epochs=50",)


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=test", "-c", "user.email=test@example.org", *args],
        cwd=repo, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout.strip()


@pytest.fixture
def code_repo(tmp_path, monkeypatch):
    """A git checkout standing in for the code's: ``provenance.REPO`` points at it."""
    repo = tmp_path / "code"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "model.py").write_text("weights = 1\n")
    git(repo, "add", "model.py")
    git(repo, "commit", "-q", "-m", "first")
    monkeypatch.setattr(provenance, "REPO", repo)
    provenance.code_and_machine.cache_clear()
    yield repo
    provenance.code_and_machine.cache_clear()


def train_with_provenance(run_dir: Path, *overrides: str) -> dict:
    extra = {**provenance.code_and_machine(), "overrides": list(overrides)}
    [result] = run_population([make_config(*overrides)], [run_dir], provenance=[extra])
    return json.loads((run_dir / "summary.json").read_text())


def utc(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    assert moment.utcoffset().total_seconds() == 0, text
    return moment


# --------------------------------------------------------------------------- provenance


def test_summary_records_code_libraries_machine_command_and_utc_times(tmp_path, code_repo):
    before = datetime.now(UTC)
    summary = train_with_provenance(tmp_path / "run", *SHORT, "lr=0.5")
    after = datetime.now(UTC)
    assert summary["git_commit"] == git(code_repo, "rev-parse", "HEAD") and len(summary["git_commit"]) == 40
    assert summary["git_dirty"] is False
    assert summary["python"] == platform.python_version()
    assert summary["versions"]["numpy"] == np.__version__
    assert summary["versions"]["hydra-core"] == hydra.__version__
    assert summary["versions"]["omegaconf"] == omegaconf.__version__
    assert summary["versions"]["pandas"] == pd.__version__
    assert summary["host"] == socket.gethostname() and summary["platform"] == platform.platform()
    assert summary["command"].startswith("python ") and summary["overrides"] == ["epochs=50", "lr=0.5"]
    started, ended = utc(summary["started_at"]), utc(summary["ended_at"])
    assert before <= started <= ended <= after
    assert summary["config_sha"] == fingerprint(make_config(*SHORT, "lr=0.5"))


def test_a_dirty_work_tree_shows_as_dirty(tmp_path, code_repo):
    (code_repo / "notes.txt").write_text("untracked files do not make the code differ\n")
    assert train_with_provenance(tmp_path / "untracked", *SHORT)["git_dirty"] is False
    provenance.code_and_machine.cache_clear()
    (code_repo / "model.py").write_text("weights = 2\n")  # the code that ran is not the commit's
    summary = train_with_provenance(tmp_path / "dirty", *SHORT)
    assert summary["git_dirty"] is True and summary["git_commit"] == git(code_repo, "rev-parse", "HEAD")


def test_outside_a_git_checkout_commit_and_dirty_are_null(tmp_path, monkeypatch):
    monkeypatch.setattr(provenance, "REPO", tmp_path)
    provenance.code_and_machine.cache_clear()
    try:
        summary = train_with_provenance(tmp_path / "run", *SHORT)
    finally:
        provenance.code_and_machine.cache_clear()
    assert summary["git_commit"] is None and summary["git_dirty"] is None


@pytest.mark.slow
def test_the_entry_point_records_its_command_line_and_overrides(tmp_path):
    done = run_cli("epochs=20", "lr=0.3", f"hydra.run.dir={tmp_path}/run")
    assert done.returncode == 0, done.stderr
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["command"] == f"python -m src.run epochs=20 lr=0.3 hydra.run.dir={tmp_path}/run"
    assert summary["overrides"] == ["epochs=20", "lr=0.3"]
    assert (
        summary["git_commit"]
        == subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    )
    assert isinstance(summary["git_dirty"], bool)


# --------------------------------------------------------------------------- status lifecycle


def summaries_seen_while_training(run_dirs: list[Path]):
    seen = []

    def on_chunk(epochs, metrics):
        seen.append([json.loads((d / "summary.json").read_text()) for d in run_dirs])

    return seen, on_chunk


def test_running_while_training_then_completed_or_diverged(tmp_path):
    common = ["model.activation=tanh", "model.output_activation=identity", "epochs=2000", "log.chunk_epochs=200"]
    dirs = [tmp_path / "bad", tmp_path / "good"]
    seen, on_chunk = summaries_seen_while_training(dirs)
    run_population([make_config(*common, "lr=10"), make_config(*common, "lr=0.05")], dirs, on_chunk=on_chunk)
    assert len(seen) == 10
    for summaries in seen:
        for summary in summaries:
            assert summary["status"] == "running" and summary["pid"] == os.getpid()
            assert "ended_at" not in summary and utc(summary["started_at"])
    final = [json.loads((d / "summary.json").read_text()) for d in dirs]
    assert [s["status"] for s in final] == ["diverged", "completed"]
    assert not any((d / "traceback.txt").exists() for d in dirs)


@pytest.mark.parametrize(
    "error, status, message",
    [
        (RuntimeError("boom"), "failed", "RuntimeError: boom"),
        (KeyboardInterrupt(), "interrupted", "KeyboardInterrupt"),
        (KeyboardInterrupt("signal SIGTERM"), "interrupted", "KeyboardInterrupt: signal SIGTERM"),
    ],
)
def test_a_run_stopped_by_an_error_or_a_signal_says_so(tmp_path, error, status, message):
    dirs = [tmp_path / "0", tmp_path / "1"]

    def on_chunk(epochs, metrics):
        if epochs[0] >= 400:
            raise error

    configs = [make_config("epochs=2000", "log.chunk_epochs=200", f"seed={s}") for s in (0, 1)]
    with pytest.raises(type(error)):
        run_population(configs, dirs, on_chunk=on_chunk)
    for run_dir in dirs:
        summary = json.loads((run_dir / "summary.json").read_text())
        assert summary["status"] == status and summary["error"] == message
        assert summary["epochs_run"] == 600 and utc(summary["ended_at"])
        assert message.split(":")[0] in (run_dir / "traceback.txt").read_text()
        rows = pd.read_csv(run_dir / "metrics.csv")
        assert list(rows["epoch"]) == list(range(600))  # every chunk handed over is on disk, whole
        assert not (run_dir / "params.npz").exists()


def test_a_signal_while_the_summaries_are_written_still_marks_every_run(tmp_path, monkeypatch):
    saved = []
    save_params = src.population.save_params

    def save_then_interrupt(run_dir, initial, final):
        save_params(run_dir, initial, final)
        saved.append(run_dir)
        if len(saved) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(src.population, "save_params", save_then_interrupt)
    dirs = [tmp_path / str(p) for p in range(4)]
    with pytest.raises(KeyboardInterrupt):
        run_population([make_config(*SHORT, f"seed={p}") for p in range(4)], dirs)
    statuses = [json.loads((d / "summary.json").read_text())["status"] for d in dirs]
    assert "running" not in statuses, statuses


def test_a_config_error_before_training_is_recorded_as_failed(tmp_path):
    error = ConfigError("lr", -1, "a number greater than 0")
    record_error(tmp_path / "run", error, summary={"overrides": ["lr=-1"]})
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["status"] == "failed" and summary["overrides"] == ["lr=-1"]
    assert summary["error"] == f"ConfigError: {error}" and utc(summary["ended_at"])
    assert "ConfigError" in (tmp_path / "run" / "traceback.txt").read_text()


def test_summary_is_replaced_whole_or_not_at_all(tmp_path):
    path = tmp_path / "summary.json"
    write_json_atomically(path, {"status": "running"})
    with pytest.raises(ValueError):
        write_json_atomically(path, {"status": "completed", "final": {"loss": float("nan")}})
    assert json.loads(path.read_text()) == {"status": "running"}
    write_json_atomically(path, {"status": "completed"})
    assert json.loads(path.read_text()) == {"status": "completed"}
    assert [p.name for p in tmp_path.iterdir() if p.name != "summary.json"] in ([], [".summary.json.tmp"])


def test_a_run_started_again_drops_the_files_of_its_earlier_attempt(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "traceback.txt").write_text("KeyboardInterrupt\n")
    (run_dir / "params.npz").write_bytes(b"of another config")
    (run_dir / "metrics.csv").write_text(HEADER + "0,1,1,1,0\n1,1,1,1,0\n2,1")
    RunDirectories([run_dir], [{"seed": 0}], METRICS, every=1, last_epoch=9)
    assert sorted(p.name for p in run_dir.iterdir()) == ["metrics.csv", "summary.json"]
    assert (run_dir / "metrics.csv").read_text() == HEADER


# --------------------------------------------------------------------------- resume's test


def test_completed_summary_only_for_a_whole_completed_run_of_the_same_config(tmp_path):
    config = make_config(*SHORT)
    sha = fingerprint(config)
    run_population([config], [tmp_path / "run"])
    run = tmp_path / "run"
    assert completed_summary(run, sha)["status"] == "completed"
    assert completed_summary(run, fingerprint(make_config(*SHORT, "lr=0.2"))) is None
    metrics, params = (run / "metrics.csv").read_bytes(), (run / "params.npz").read_bytes()
    (run / "metrics.csv").write_bytes(metrics[:-3])
    assert completed_summary(run, sha) is None
    (run / "metrics.csv").write_bytes(metrics)
    (run / "params.npz").unlink()
    assert completed_summary(run, sha) is None
    (run / "params.npz").write_bytes(params)
    summary = (run / "summary.json").read_text()
    for damaged in ('{"status": "compl', "[1, 2]", json.dumps({**json.loads(summary), "status": "running"})):
        (run / "summary.json").write_text(damaged)
        assert completed_summary(run, sha) is None
    (run / "summary.json").unlink()
    assert completed_summary(run, sha) is None


# --------------------------------------------------------------------------- the catalog's unfinished


def write_job(run_dir: Path, *overrides: str) -> None:
    """``.hydra/config.yaml`` of a job, as the launchers write it (nothing else yet)."""
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=CONF, version_base="1.3"):
        cfg = compose(config_name="config", overrides=list(overrides))
    (run_dir / ".hydra").mkdir(parents=True)
    (run_dir / ".hydra" / "config.yaml").write_text(OmegaConf.to_yaml(cfg))


def catalog_csv(capsys, *args: str) -> pd.DataFrame:
    capsys.readouterr()
    assert catalog_main([*args, "--csv"]) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out))
    table.index = [Path(p).name for p in table["path"]]
    return table


def test_catalog_tells_unfinished_from_running(tmp_path, capsys):
    sweep = tmp_path / "sweep"
    for job in range(5):
        write_job(sweep / str(job), *SHORT, f"seed={job}")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    run_population([make_config(*SHORT, "seed=0")], [sweep / "0"])  # completed

    def mark_running(job: str, **fields) -> None:
        path = sweep / job / "summary.json"
        (sweep / job / "metrics.csv").write_text(HEADER + "0,0.5,0.5,0.25,0.5\n1,0.4,0.4,0.2,0.5\n")
        write_json_atomically(path, {"status": "running", "started_at": datetime.now(UTC).isoformat(), **fields})

    mark_running("1", pid=dead.pid, host=socket.gethostname())  # killed with kill -9
    mark_running("2", pid=os.getpid(), host=socket.gethostname())  # this process: alive
    mark_running("3", pid=os.getpid(), host="another-host")  # cannot be checked from here: not trusted
    # job 4: config only, never started
    table = catalog_csv(capsys, str(sweep))
    assert dict(table["status"]) == {
        "0": "completed", "1": "unfinished", "2": "running", "3": "unfinished", "4": "unfinished"
    }  # fmt: skip
    assert table.at["1", "epochs_run"] == 2 and table.at["1", "final_loss"] == 0.4  # the last row on disk
    assert table.at["4", "problem"].startswith("not started")
    assert list(catalog_csv(capsys, str(sweep), "--status", "unfinished").index) == ["1", "3", "4"]
    capsys.readouterr()
    assert catalog_main([str(sweep)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "5 of 5 runs: 1 completed, 3 unfinished, 1 running."


def test_catalog_of_a_sweep_over_epochs(tmp_path, capsys):
    for job, epochs in enumerate((20, 30)):
        write_job(tmp_path / str(job), f"epochs={epochs}")
        run_population([make_config(f"epochs={epochs}")], [tmp_path / str(job)])
    capsys.readouterr()
    assert catalog_main([str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["path", "status", "epochs", "seed", "final_loss", "epochs_run", "problem"]
    assert lines[1].split()[2] == "20" and lines[1].split()[5] == "20/20"


# --------------------------------------------------------------------------- re-running one run


def job_dir(run_dir: Path, *overrides: str) -> Path:
    """A run directory as a sweep leaves it: its job config, then what training wrote."""
    write_job(run_dir, *overrides)
    run_population([make_config(*overrides)], [run_dir])
    return run_dir


def test_rerun_from_the_directory_alone_gives_identical_metrics(tmp_path, capsys):
    original = job_dir(tmp_path / "run", "epochs=300", "lr=0.7", "hidden=3", "optimizer=adam")
    files_before = {p: p.read_bytes() for p in original.rglob("*") if p.is_file()}
    assert rerun_main([str(original), "--out", str(tmp_path / "again")]) == 0
    out = capsys.readouterr().out
    assert f"into {tmp_path / 'again'} (completed)" in out and "byte-identical" in out
    assert (tmp_path / "again" / "metrics.csv").read_bytes() == (original / "metrics.csv").read_bytes()
    assert (tmp_path / "again" / "params.npz").read_bytes() == (original / "params.npz").read_bytes()
    assert {p: p.read_bytes() for p in original.rglob("*") if p.is_file()} == files_before
    summary = json.loads((tmp_path / "again" / "summary.json").read_text())
    assert summary["rerun_of"] == str(original.resolve()) and summary["status"] == "completed"
    # the new directory is a run of its own: it can be re-run in turn
    assert rerun(tmp_path / "again", tmp_path / "third") == tmp_path / "third"
    assert (tmp_path / "third" / "metrics.csv").read_bytes() == (original / "metrics.csv").read_bytes()


def test_rerun_goes_into_a_new_directory_inside_the_run_by_default(tmp_path, capsys):
    original = job_dir(tmp_path / "run", *SHORT)
    assert rerun_main([str(original)]) == 0
    [made] = [p for p in original.iterdir() if p.name.startswith("rerun-")]
    assert (made / "metrics.csv").read_bytes() == (original / "metrics.csv").read_bytes()
    assert str(made) in capsys.readouterr().out
    assert catalog_csv(capsys, str(original)).index.tolist() == ["run"]  # the sweep's catalog does not list it


@pytest.mark.parametrize("where", ["itself", "a full directory"])
def test_rerun_never_writes_over_a_run(tmp_path, where):
    original = job_dir(tmp_path / "run", *SHORT)
    other = job_dir(tmp_path / "other", *SHORT, "seed=3")
    target = original if where == "itself" else other
    before = {p: p.read_bytes() for d in (original, other) for p in d.rglob("*") if p.is_file()}
    with pytest.raises(ConfigError, match="--out"):
        rerun(original, target)
    assert {p: p.read_bytes() for d in (original, other) for p in d.rglob("*") if p.is_file()} == before


@pytest.mark.slow
@pytest.mark.parametrize("launcher", ["batched", "basic"])
def test_rerun_of_a_job_of_a_sweep_gives_identical_metrics(tmp_path, launcher):
    sweep = tmp_path / "sweep"
    done = run_cli(
        "-m", "seed=range(0,33)" if launcher == "batched" else "seed=range(0,18)", "hidden=2", "epochs=500",
        f"hydra/launcher={launcher}", f"hydra.sweep.dir={sweep}", "report.auto=false",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    job = sweep / "17"  # trained in a population of 33 (with writer lanes) by the batched launcher
    again = subprocess.run(
        [sys.executable, "-m", "src.rerun", str(job), "--out", str(tmp_path / "again")],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert "metrics.csv is byte-identical to the original's." in again.stdout
    assert (tmp_path / "again" / "metrics.csv").read_bytes() == (job / "metrics.csv").read_bytes()
    summary = json.loads((tmp_path / "again" / "summary.json").read_text())
    assert summary["command"].startswith("python -m src.rerun ") and summary["population_size"] == 1


def test_resume_reruns_a_completed_run_whose_metrics_file_was_damaged(tmp_path):

    from src.config import fingerprint

    config = make_config("epochs=30")
    run_population([config], [tmp_path])
    assert completed_summary(tmp_path, fingerprint(config))["metrics_rows"] == 30
    original = (tmp_path / "metrics.csv").read_bytes()
    for damaged in (b"garbage\n", original[: original.rindex(b"\n", 0, -1) + 1], original + b"30,1,1,1,1\n"):
        (tmp_path / "metrics.csv").write_bytes(damaged)  # whole lines, but not the ones promised
        assert completed_summary(tmp_path, fingerprint(config)) is None
