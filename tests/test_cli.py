"""The entry point as a user types it: sweeps, named studies, and a clear error for every bad input."""

import json
import subprocess
import sys

import pytest

from .conftest import REPO, run_cli

BAD_INPUTS = {
    "lr=abc": ["'lr'", "abc"],
    "hidden=0": ["hidden", "0", "positive integer"],
    "hidden=-3": ["hidden", "-3", "positive integer"],
    "epochs=0": ["epochs", "0", "at least 1"],
    "lr=-1": ["lr", "-1", "greater than 0"],
    "optimizer=nonexistent": ["'optimizer'", "nonexistent", "adam, momentum, rmsprop, sgd"],
    "model.activation=foo": ["model.activation", "foo", "sigmoid, tanh, relu, identity"],
    "foo=1": ["Unknown key 'foo'"],
    "experiment=nope": ["'experiment'", "nope", "article", "lr_hidden", "seeds"],
    "dataset.name=nor": ["dataset.name", "nor", "xor"],
    "loss=bce model.output_activation=identity": ["model.output_activation", "identity", "sigmoid"],
}


@pytest.mark.parametrize("override", BAD_INPUTS)
def test_bad_input_stops_with_one_clear_paragraph(tmp_path, override):
    done = run_cli(*override.split(), f"hydra.run.dir={tmp_path}/run")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    message = [line for line in done.stderr.splitlines() if line.startswith("Error: ")]
    assert len(message) == 1, done.stderr
    for fragment in BAD_INPUTS[override]:
        assert fragment in message[0]


CSV_CASES = {
    "ragged.csv": ("0,0,0\n0,1,1\n1,0\n1,1,0\n", "data row 3 has 2 cells"),
    "words.csv": ("0,0,0\n0,one,1\n", "data row 2, column 2 is 'one'"),
    "nan.csv": ("0,0,0\n0,nan,1\n", "column 2 is 'nan'"),
    "empty.csv": ("", "at least one row"),
    "wide.csv": ("a,b,c,y\n0,0,0,0\n1,1,1,1\n", "dataset.n_inputs=2"),
}


@pytest.mark.parametrize("name", CSV_CASES)
def test_bad_dataset_file_names_the_problem(tmp_path, name):
    content, fragment = CSV_CASES[name]
    path = tmp_path / name
    path.write_text(content)
    done = run_cli("dataset=csv", f"dataset.path={path}", "dataset.n_inputs=2", f"hydra.run.dir={tmp_path}/run")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "dataset.path" in done.stderr and fragment in done.stderr, done.stderr


def test_own_table_from_csv_trains(tmp_path):
    path = tmp_path / "or3.csv"
    path.write_text(
        "a,b,c,target\n" + "".join(f"{a},{b},{c},{int(a or b or c)}\n" for a in (0, 1) for b in (0, 1) for c in (0, 1))
    )
    done = run_cli("dataset=csv", f"dataset.path={path}", "epochs=300", "lr=1", f"hydra.run.dir={tmp_path}/run")
    assert done.returncode == 0, done.stderr
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["status"] == "completed" and len(summary["predictions"]["inputs"]) == 8


def test_inline_table_and_override_of_any_value(tmp_path):
    done = run_cli(
        "dataset=table",
        "dataset.targets=[0,1,1,1]",
        "lr=0.5",
        "hidden=8",
        "seed=3",
        "epochs=200",
        f"hydra.run.dir={tmp_path}",
    )
    assert done.returncode == 0, done.stderr
    config = (tmp_path / ".hydra" / "config.yaml").read_text()
    assert "lr: 0.5" in config and "hidden: 8" in config and "seed: 3" in config


def test_diverging_run_is_an_outcome_not_a_crash(tmp_path):
    done = run_cli("model.activation=tanh", "model.output_activation=identity", "lr=10", f"hydra.run.dir={tmp_path}")
    assert done.returncode == 0, done.stderr
    assert "Diverged at epoch" in done.stdout
    assert "RuntimeWarning" not in done.stderr and "overflow" not in done.stderr
    assert json.loads((tmp_path / "summary.json").read_text())["status"] == "diverged"


@pytest.mark.slow
def test_the_nine_job_sweep_exactly_as_typed(tmp_path):
    done = run_cli("-m", "lr=0.1,0.5,1.0", "hidden=2,4,8", f"hydra.sweep.dir={tmp_path}", "report.auto=false")
    assert done.returncode == 0, done.stderr
    runs = sorted(p for p in tmp_path.iterdir() if p.is_dir())
    assert [p.name for p in runs] == [str(i) for i in range(9)]
    seen = set()
    for run in runs:
        for name in ("metrics.csv", "summary.json", "params.npz", ".hydra/config.yaml", ".hydra/overrides.yaml"):
            assert (run / name).is_file(), (run, name)
        summary = json.loads((run / "summary.json").read_text())
        assert summary["status"] == "completed" and summary["epochs_run"] == 10000
        assert len((run / "metrics.csv").read_text().splitlines()) == 10001
        seen.add(tuple(summary["overrides"]))
    assert len(seen) == 9


@pytest.mark.slow
def test_named_study_declares_its_own_sweep(tmp_path):
    done = run_cli("-m", "experiment=lr_hidden", "epochs=20", f"hydra.sweep.dir={tmp_path}", "report.auto=false")
    assert done.returncode == 0, done.stderr
    assert len([p for p in tmp_path.iterdir() if p.is_dir()]) == 90


def test_help_lists_the_groups():
    done = run_cli("--help")
    assert done.returncode == 0
    for group in ("model", "init", "optimizer", "loss", "dataset", "experiment"):
        assert f"{group}:" in done.stdout


@pytest.mark.slow
def test_a_sweep_piped_into_head_trains_every_run(tmp_path):
    """``python -m src.run -m ... | head -2``: the reader goes away, the sweep goes on unprinted."""
    command = [sys.executable, "-m", "src.run", "-m", "hidden=2,4", "seed=0,1", "epochs=3000",
               f"hydra.sweep.dir={tmp_path}", "report.auto=false"]  # fmt: skip
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    process.stdout.readline()
    process.stdout.close()  # as head does after its lines
    _, err = process.communicate(timeout=120)
    assert "Traceback" not in err and "Logging error" not in err, err
    statuses = [json.loads(p.read_text())["status"] for p in sorted(tmp_path.glob("*/summary.json"))]
    assert statuses == ["completed"] * 4
