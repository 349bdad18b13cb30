"""The Python API ``from src.report import load_runs, load_curves`` on sweeps written by hand."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from src.report import load_curves, load_runs
from src.report.tables import ReportInputError

from .conftest import REPO
from .test_report import two_settings, write_run


@pytest.fixture
def sweep_dir(tmp_path):
    return two_settings(tmp_path / "sweep")


def test_runs_one_row_per_run_with_status_seed_config_finals_and_epochs_to_target(sweep_dir):
    runs = load_runs(str(sweep_dir))  # a string is one path
    assert list(runs.index) == list(range(7)) and runs.index.name == "run"
    assert list(runs.columns[:4]) == ["path", "status", "setting", "seed"]
    assert list(runs["path"]) == [str(sweep_dir / str(i)) for i in range(7)]
    assert list(runs["status"]) == [
        "completed", "completed", "completed", "diverged", "failed", "completed", "unfinished",
    ]  # fmt: skip
    assert list(runs["seed"]) == [0, 1, 2, 0, 1, 2, 3]
    # every config value is a column, under its dotted name; seed appears once
    for key in ("lr", "hidden", "epochs", "model.activation", "optimizer.lr", "init.seed", "loss.name"):
        assert key in runs.columns, key
    assert list(runs.columns).count("seed") == 1
    assert list(runs["lr"]) == [0.5, 0.5, 0.5, 5.0, 5.0, 5.0, 5.0]
    assert list(runs["optimizer.lr"]) == list(runs["lr"])  # ${lr} resolved
    assert (runs["model.activation"] == "sigmoid").all()
    assert list(runs["setting"]) == ["lr=0.5"] * 3 + ["lr=5.0"] * 4
    # final metrics: the summary's; the unfinished run's last row on disk; none for the failed run
    assert runs["final_loss"].tolist()[:3] == [0.02, 0.1, 0.01]
    assert runs.at[5, "final_loss"] == 0.03 and runs.at[6, "final_loss"] == 0.5
    assert pd.isna(runs.at[4, "final_loss"])
    assert runs.at[0, "final_mae"] == 0.01  # write_run's mae is loss / 2
    # epochs to loss < 0.05 (the default target): 2, never, 1 | never (diverged), none (failed), 2, never
    assert runs["epochs_to_target"].tolist() == [2, pd.NA, 1, pd.NA, pd.NA, 2, pd.NA]
    assert runs["solved"].tolist() == [True, False, True, False, False, True, True]
    assert runs["epochs_run"].tolist() == [4, 4, 4, 2, 0, 4, 2]
    assert runs.at[4, "problem"] == "RuntimeError: boom"
    assert "predictions" not in runs.columns


def test_target_and_metric_are_chosen(sweep_dir):
    runs = load_runs(sweep_dir, metric="loss", target=0.5)
    assert runs["epochs_to_target"].tolist()[:3] == [1, 2, 1]  # first epoch with loss < 0.5
    with pytest.raises(ReportInputError, match="Unknown metric 'lost'"):
        load_runs(sweep_dir, metric="lost")


def test_curves_long_table(sweep_dir):
    curves = load_curves(str(sweep_dir))
    assert list(curves.columns) == ["run", "epoch", "metric", "value"]
    loss = curves[curves["metric"] == "loss"]
    assert loss[loss["run"] == 2]["value"].tolist() == [0.6, 0.04, 0.03, 0.01]
    assert loss[loss["run"] == 2]["epoch"].tolist() == [0, 1, 2, 3]
    assert set(curves["run"]) == {0, 1, 2, 3, 5, 6}  # the failed run wrote no rows
    assert len(curves) == (4 + 4 + 4 + 2 + 4 + 2) * 4  # rows x metrics
    only_mae = load_curves(sweep_dir, metrics=["mae"])
    assert set(only_mae["metric"]) == {"mae"} and len(only_mae) == len(curves) // 4


def test_a_list_of_sweeps_is_read_together_and_runs_join_curves(tmp_path):
    write_run(tmp_path / "A" / "0", values={"lr": 0.1, "seed": 0}, loss=[0.5, 0.4, 0.3, 0.2])
    write_run(tmp_path / "B" / "0", values={"lr": 1.0, "seed": 0, "hidden": 8}, loss=[0.5, 0.1, 0.04, 0.01])
    write_run(tmp_path / "B" / "1", values={"lr": 1.0, "seed": 1, "hidden": 8}, loss=[0.5, 0.2, 0.1, 0.02])
    sweeps = [str(tmp_path / "A"), tmp_path / "B"]
    runs = load_runs(sweeps)
    assert runs["path"].tolist() == [str(tmp_path / p) for p in ("A/0", "B/0", "B/1")]
    assert runs["hidden"].tolist() == [4, 8, 8] and runs["lr"].tolist() == [0.1, 1.0, 1.0]
    assert runs["setting"].tolist() == ["lr=0.1, hidden=4", "lr=1.0, hidden=8", "lr=1.0, hidden=8"]
    curves = load_curves(sweeps, metrics=["loss"])
    final = curves.groupby("run")["value"].last()
    assert final.tolist() == runs["final_loss"].tolist()
    joined = curves.merge(runs[["lr"]], left_on="run", right_index=True)
    assert joined.groupby("lr")["run"].nunique().to_dict() == {0.1: 1, 1.0: 2}


def test_missing_directory_is_one_paragraph(tmp_path):
    with pytest.raises(ReportInputError, match=r"No such directory: .*nowhere\."):
        load_runs(str(tmp_path / "nowhere"))


def test_importing_the_package_does_not_import_pandas():
    code = "import sys, src.report; assert 'pandas' not in sys.modules; print(src.report.load_runs.__name__)"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "load_runs"
