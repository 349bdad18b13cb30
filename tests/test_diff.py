"""``python -m src.runs diff``: the config keys and results that differ, for two runs or two settings."""

from __future__ import annotations

import subprocess
import sys

import pytest

from src.runs import main

from .conftest import REPO
from .test_report import two_settings


@pytest.fixture
def sweep(tmp_path):
    return two_settings(tmp_path / "sweep")


def rows(out: str, heading: str) -> dict[str, list[str]]:
    """The rows of one table of the output: first cell -> the other cells (split on two spaces)."""
    block = out.split(f"\n{heading} ", 1)[1].split("\n\n")[0]
    cells = [[c.strip() for c in line.split("  ") if c.strip()] for line in block.splitlines()[1:]]
    return {c[0]: c[1:] for c in cells}


def test_two_runs(sweep, capsys):
    assert main(["diff", str(sweep / "0"), str(sweep / "3")]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"A: {sweep / '0'}: 1 run\nB: {sweep / '3'}: 1 run\n")
    assert rows(out, "config") == {"lr": ["0.5", "5.0"], "optimizer.lr": ["0.5", "5.0"]}  # seeds equal: not shown
    assert rows(out, "results") == {
        "status": ["completed", "diverged"],
        "final_loss": ["0.02", "0.9"],
        "final_mae": ["0.01", "0.45"],
        "final_mse": ["0.005", "0.225"],
        "final_accuracy": ["1", "0.5"],
        "epochs_to_target": ["2", "–"],
        "epochs_run": ["4", "2"],
        "solved": ["yes", "no"],
    }


def test_two_settings_of_a_sweep(sweep, capsys):
    assert main(["diff", str(sweep), "--a", "lr=0.5", "--b", "optimizer.lr=5.0"]) == 0
    out = capsys.readouterr().out
    assert "A: " + str(sweep) + " where lr=0.5: 3 runs" in out
    seeds = ["(3 values: 0, 1, 2)", "(4 values: 0, 1, 2, ...)"]  # B has a fourth seed: a difference
    assert rows(out, "config") == {
        "lr": ["0.5", "5.0"], "optimizer.lr": ["0.5", "5.0"], "seed": seeds, "init.seed": seeds,
        "train.shuffle_seed": seeds,
    }  # fmt: skip
    results = rows(out, "results")
    assert results["status"] == ["3 completed", "1 completed, 1 diverged, 1 failed, 1 unfinished"]
    assert results["final_loss (median)"] == ["0.02", "inf"]  # finished: 0.03 and a diverged run
    assert results["success rate"] == ["2/3", "1/2"]
    assert results["epochs_to_target (median)"] == ["1.5", "2"]  # A: epochs 2 and 1; B: the completed run's 2


def test_a_key_over_the_same_values_on_both_sides_is_no_difference_and_over_others_is(sweep, capsys):
    assert main(["diff", str(sweep), "--a", "lr=0.5", "--b", "lr=5.0", "--b", "seed=0,1,2"]) == 0
    assert rows(capsys.readouterr().out, "config") == {"lr": ["0.5", "5.0"], "optimizer.lr": ["0.5", "5.0"]}
    assert main(["diff", str(sweep), "--a", "seed=0,1", "--b", "seed=2,3"]) == 0
    config = rows(capsys.readouterr().out, "config")
    assert config["seed"] == ["(2 values: 0, 1)", "(2 values: 2, 3)"]  # two sweeps over other seeds differ


def test_same_runs_show_no_difference(sweep, capsys):
    assert main(["diff", str(sweep / "2"), str(sweep / "2")]) == 0
    out = capsys.readouterr().out
    assert "config: no difference" in out and "results: no difference" in out


@pytest.mark.parametrize(
    "args, message",
    [
        (["{sweep}/nowhere", "{sweep}/0"], "No such directory"),
        (["{sweep}", "--a", "lr=7"], "No run below {sweep} matches lr=7 (side A)"),
        (["{sweep}", "--b", "colour=red"], "Unknown key 'colour'."),
        (["{sweep}", "--a", "lr"], "--a wants key=value"),
    ],
)
def test_mistakes_are_one_paragraph_and_exit_2(sweep, capsys, args, message):
    assert main(["diff", *[a.format(sweep=sweep) for a in args]]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Error: ") and err.count("\n") == 1 and message.format(sweep=sweep) in err


def test_the_catalog_still_lists_runs_and_diff_runs_from_the_command_line(sweep):
    listed = subprocess.run([sys.executable, "-m", "src.runs", str(sweep)], cwd=REPO, capture_output=True, text=True)
    assert listed.returncode == 0 and listed.stdout.splitlines()[-1].startswith("7 of 7 runs")
    compared = subprocess.run([sys.executable, "-m", "src.runs", "diff", str(sweep / "0"), str(sweep / "1")],
                              cwd=REPO, capture_output=True, text=True)  # fmt: skip
    assert compared.returncode == 0 and "final_loss" in compared.stdout
