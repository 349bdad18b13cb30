"""The run catalog ``python -m src.runs``: one line per run, filters, sort, CSV export, clear errors."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pandas as pd
import pytest

from src.runs import main

from .conftest import REPO
from .test_report import two_settings, write_run


@pytest.fixture
def sweep_dir(tmp_path):
    return two_settings(tmp_path / "sweep")


def catalog(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_one_line_per_run_with_status_varying_values_and_final_loss(sweep_dir, capsys):
    code, out, _ = catalog(capsys, str(sweep_dir))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["path", "status", "lr", "seed", "final_loss", "epochs", "problem"]
    assert lines[1].split() == [str(sweep_dir / "0"), "completed", "0.5", "0", "0.02", "4/4"]
    assert lines[5].split()[:6] == [str(sweep_dir / "4"), "failed", "5.0", "1", "–", "0/4"]
    assert "RuntimeError: boom" in lines[5]
    assert lines[7].split()[:2] == [str(sweep_dir / "6"), "unfinished"]
    assert lines[-1] == "7 of 7 runs: 4 completed, 1 diverged, 1 failed, 1 unfinished."


def test_filters_by_status_and_by_config_value(sweep_dir, capsys):
    _, out, _ = catalog(capsys, str(sweep_dir), "--status", "failed,diverged")
    assert [line.split()[1] for line in out.splitlines()[1:-2]] == ["diverged", "failed"]
    _, out, _ = catalog(capsys, str(sweep_dir), "--where", "lr=5.0", "--status", "completed")
    assert [line.split()[0] for line in out.splitlines()[1:-2]] == [str(sweep_dir / "5")]
    _, out, _ = catalog(capsys, str(sweep_dir), "--where", "seed=0,2", "--where", "optimizer.lr=0.5")
    assert [line.split()[0] for line in out.splitlines()[1:-2]] == [str(sweep_dir / "0"), str(sweep_dir / "2")]
    _, out, _ = catalog(capsys, str(sweep_dir), "--where", "activation=sigmoid")  # a key's last part
    assert out.splitlines()[-1].startswith("7 of 7 runs")
    code, out, err = catalog(capsys, str(sweep_dir), "--where", "lr=7")
    assert code == 0 and out == "" and "No run matches" in err


def test_sort_and_reverse(sweep_dir, capsys):
    _, out, _ = catalog(capsys, str(sweep_dir), "--sort", "final_loss")
    paths = [line.split()[0].rsplit("/", 1)[1] for line in out.splitlines()[1:-2]]
    assert paths == ["2", "0", "5", "1", "6", "3", "4"]  # 0.01, 0.02, 0.03, 0.1, 0.5 (last row), 0.9; none last
    _, out, _ = catalog(capsys, str(sweep_dir), "--sort", "seed", "--reverse", "--where", "lr=0.5")
    assert [line.split()[3] for line in out.splitlines()[1:-2]] == ["2", "1", "0"]


def test_csv_export_holds_every_column_of_the_selected_runs(sweep_dir, capsys):
    code, out, _ = catalog(capsys, str(sweep_dir), "--csv", "--status", "completed", "--sort", "final_loss")
    assert code == 0
    table = pd.read_csv(io.StringIO(out))
    assert list(table["final_loss"]) == [0.01, 0.02, 0.03, 0.1]
    for column in ("path", "status", "setting", "lr", "seed", "final_mae", "epochs_run", "wall_time_s", "problem"):
        assert column in table.columns


@pytest.mark.parametrize(
    "args, message",
    [
        (["{missing}"], "No such directory"),
        (["{empty}"], "is empty"),
        (["{sweep}", "--status", "done"], "Unknown status 'done'. Allowed: completed"),
        (["{sweep}", "--where", "nothing=1"], "Unknown key 'nothing'"),
        (["{sweep}", "--where", "lr"], "--where wants key=value"),
        (["{sweep}", "--sort", "colour"], "Unknown key 'colour'"),
    ],
)
def test_bad_input_is_one_paragraph_and_exit_code_2(sweep_dir, tmp_path, capsys, args, message):
    (tmp_path / "empty").mkdir()
    paths = {"missing": tmp_path / "missing", "empty": tmp_path / "empty", "sweep": sweep_dir}
    code, out, err = catalog(capsys, *[a.format(**paths) for a in args])
    assert code == 2 and out == ""
    assert err.startswith("Error: ") and message in err and len(err.strip().splitlines()) == 1


def test_a_corrupt_run_is_listed_as_unreadable(sweep_dir, capsys):
    run = write_run(sweep_dir / "7", values={"lr": 0.5, "seed": 7}, loss=[0.6, 0.5, 0.4, 0.3])
    (run / "metrics.csv").write_bytes((run / "metrics.csv").read_bytes()[:-4])
    _, out, _ = catalog(capsys, str(sweep_dir), "--status", "unreadable")
    assert str(run) in out and "metrics.csv is truncated" in out


def test_defaults_to_the_latest_sweep_and_survives_a_closed_pipe(tmp_path):
    older, newer = two_settings(tmp_path / "outputs" / "sweeps" / "a"), tmp_path / "outputs" / "sweeps" / "b"
    (older / "multirun.yaml").write_text("{}\n")
    write_run(newer / "0", values={"lr": 0.5}, loss=[0.6, 0.5, 0.4, 0.3])
    (newer / "multirun.yaml").write_text("{}\n")
    os.utime(older / "multirun.yaml", (1, 1))
    environment = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-m", "src.runs"], cwd=tmp_path, env=environment, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "outputs/sweeps/b/0" in done.stdout and "1 of 1 runs" in done.stdout
    piped = subprocess.run(
        f"{sys.executable} -m src.runs {older} | head -1", shell=True, cwd=tmp_path, env=environment,
        capture_output=True, text=True,
    )  # fmt: skip
    assert "Traceback" not in piped.stderr and piped.stdout.startswith("path")
