"""The run directory's one owner, ``src.rundir``: formats old and new stay readable, summaries stay
small and truthful, and whatever is read from disk is treated as untrusted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

import src.report.tables
from src.jobs import to_config
from src.population import run_population
from src.report.tables import load_sweeps
from src.rundir.layout import FORMAT, PREDICTIONS_FILE, STATUSES
from src.rundir.reader import completed_summary, latest_sweep, read_config, read_predictions, read_run

from .conftest import CONF, REPO, make_config, run_cli

SHORT = ("epochs=50",)


def train_into(run_dir: Path, *overrides: str) -> dict:
    """A run as the entry point leaves it: ``.hydra/config.yaml``, then the training's files."""
    with initialize_config_dir(config_dir=CONF, version_base="1.3"):
        cfg = compose(config_name="config", overrides=list(overrides))
    (run_dir / ".hydra").mkdir(parents=True)
    (run_dir / ".hydra" / "config.yaml").write_text(OmegaConf.to_yaml(cfg))
    [result] = run_population([to_config(cfg)], [run_dir])
    return result.summary


def rewrite_columns(run_dir: Path, keep: list[str], extra: dict[str, float] | None = None) -> None:
    """Rewrite ``metrics.csv`` as a harness with other metrics would have written it."""
    lines = (run_dir / "metrics.csv").read_text().splitlines()
    header = lines[0].split(",")
    positions = [header.index(name) for name in keep]
    rows = [",".join([name for name in keep] + list(extra or {}))]
    for line in lines[1:]:
        fields = line.split(",")
        rows.append(",".join([fields[i] for i in positions] + [repr(v) for v in (extra or {}).values()]))
    (run_dir / "metrics.csv").write_text("\n".join(rows) + "\n")


def test_runs_with_fewer_or_more_metric_columns_stay_readable(tmp_path):
    for name in ("older", "newer", "today"):
        train_into(tmp_path / name, *SHORT)
    rewrite_columns(tmp_path / "older", ["epoch", "loss", "mae"])
    rewrite_columns(tmp_path / "newer", ["epoch", "loss", "mae", "mse", "accuracy"], {"grad_norm": 0.5})
    sweep = load_sweeps([tmp_path])
    assert list(sweep.runs["status"]) == ["completed"] * 3, sweep.runs["problem"].tolist()
    curves = sweep.curves
    per_metric = curves.groupby("metric", observed=True)["run"].nunique()
    assert per_metric["loss"] == 3 and per_metric["mse"] == 2  # the older run never recorded mse
    assert not curves["value"].isna().any()


def test_a_metric_added_to_the_harness_does_not_orphan_older_runs(tmp_path, monkeypatch):
    train_into(tmp_path / "old", *SHORT)
    summary = json.loads((tmp_path / "old" / "summary.json").read_text())
    monkeypatch.setattr(src.report.tables, "METRICS", (*src.report.tables.METRICS, "grad_norm"))
    sweep = load_sweeps([tmp_path], metrics=("loss", "grad_norm"))
    assert sweep.runs["status"].tolist() == ["completed"]
    assert set(sweep.curves["metric"].unique()) == {"loss"}
    assert completed_summary(tmp_path / "old", summary["config_sha"]) is not None  # resume keeps it


def test_summary_records_its_format_and_whether_the_task_was_solved(tmp_path):
    summary = train_into(tmp_path / "run")
    on_disk = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert on_disk["format"] == FORMAT and on_disk["solved"] is True
    assert summary["predictions"]["targets"] == [[0.0], [1.0], [1.0], [0.0]]


def test_a_large_dataset_keeps_its_predictions_out_of_the_summary(tmp_path):
    summary = train_into(tmp_path / "run", "dataset=parity", "dataset.bits=9", "hidden=8", "epochs=3")
    assert summary["predictions"] is None and summary["predictions_file"] == PREDICTIONS_FILE
    assert (tmp_path / "run" / "summary.json").stat().st_size < 8000
    table = read_predictions(tmp_path / "run", summary)
    assert table["inputs"].shape == (512, 9) and table["outputs"].shape == table["targets"].shape == (512, 1)
    runs = load_sweeps([tmp_path]).runs
    assert len(runs.at[0, "predictions"]["inputs"]) == 512


def test_a_large_dataset_prints_a_short_table(tmp_path):
    done = run_cli("dataset=parity", "dataset.bits=8", "hidden=8", "epochs=5", f"hydra.run.dir={tmp_path}")
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) < 30 and "... and 240 more rows" in done.stdout


def test_configs_are_never_resolved_against_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_TOKEN", "hunter2")
    train_into(tmp_path / "run", *SHORT)
    path = tmp_path / "run" / ".hydra" / "config.yaml"
    path.write_text("lr: 0.1\nnotes: ${oc.env:SECRET_TOKEN}\noptimizer:\n  lr: ${lr}\n")
    config = read_config(tmp_path / "run")
    assert config["notes"] == "${oc.env:SECRET_TOKEN}" and config["optimizer.lr"] == 0.1
    runs = load_sweeps([tmp_path]).runs
    assert "hunter2" not in runs.to_csv()


def test_yaml_built_from_aliases_is_refused_quickly(tmp_path):
    train_into(tmp_path / "run", *SHORT)
    bomb = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    bomb += [f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]"
             for i in range(12)]  # fmt: skip
    (tmp_path / "run" / ".hydra").mkdir(exist_ok=True)
    (tmp_path / "run" / ".hydra" / "config.yaml").write_text("\n".join(bomb) + "\n")
    started = time.perf_counter()
    record = read_run(tmp_path / "run", ("loss",), "host")
    assert time.perf_counter() - started < 2.0
    assert record.status == "unreadable" and "aliases" in record.problem


def test_a_quoted_star_or_ampersand_is_not_taken_for_an_alias(tmp_path):
    train_into(tmp_path / "run", *SHORT)
    path = tmp_path / "run" / ".hydra" / "config.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text('lr: 0.1\nnotes: "a *b and &c"\n')
    assert read_config(tmp_path / "run")["notes"] == "a *b and &c"


@pytest.mark.parametrize(
    "predictions",
    [
        {"inputs": [[0, 0]], "outputs": [[0.1]]},  # no targets
        {"inputs": "abc", "outputs": [[0.1]], "targets": [[0]]},
        {"inputs": [[0, 0], [1]], "outputs": [[0.1], [0.2]], "targets": [[0], [1]]},  # ragged
        {"inputs": [[0, 0]], "outputs": [[0.1, 0.2]], "targets": [[0]]},  # shapes disagree
    ],
)
def test_damaged_predictions_read_as_none_and_the_run_stays_readable(tmp_path, predictions):
    train_into(tmp_path / "run", *SHORT)
    path = tmp_path / "run" / "summary.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "predictions": predictions}))
    assert read_predictions(tmp_path / "run", json.loads(path.read_text())) is None
    assert load_sweeps([tmp_path]).runs.at[0, "status"] == "completed"


def test_a_sweep_stopped_before_its_first_job_is_not_the_latest(tmp_path):
    base = tmp_path / "sweeps"
    real, stub = base / "a", base / "b"
    train_into(real / "0", *SHORT)
    (real / "multirun.yaml").write_text("hydra: {}\n")
    stub.mkdir(parents=True)
    (stub / "multirun.yaml").write_text("hydra: {}\n")
    os.utime(real / "multirun.yaml", (1, 1))
    assert latest_sweep(base) == real


@pytest.mark.slow
def test_a_job_given_a_value_of_the_wrong_type_reads_as_failed_with_its_message(tmp_path):
    done = run_cli("-m", "lr=0.1,abc", "hidden=2,4", "epochs=20", f"hydra.sweep.dir={tmp_path}", "report.auto=false")
    assert done.returncode == 1
    runs = load_sweeps([tmp_path]).runs.set_index("path")
    failed = runs[runs["status"] == "failed"]
    assert len(failed) == 2 and all("abc" in problem for problem in failed["problem"])
    assert set(runs["status"]) == {"completed", "failed"}
    assert sorted(runs.loc[runs["status"] == "completed", "setting"]) == ["hidden=2", "hidden=4"]
    assert set(runs["status"]) <= set(STATUSES)


@pytest.mark.slow
def test_a_run_with_an_added_key_can_be_run_again(tmp_path):
    done = run_cli("+newkey=1", "epochs=30", f"hydra.run.dir={tmp_path / 'run'}")
    assert done.returncode == 0, done.stderr
    again = subprocess.run(
        [sys.executable, "-m", "src.rerun", str(tmp_path / "run"), "--out", str(tmp_path / "again")],
        capture_output=True, text=True, cwd=REPO,
    )  # fmt: skip
    assert again.returncode == 0, again.stdout + again.stderr
    assert "byte-identical" in again.stdout


def test_a_population_member_is_bit_identical_in_its_run_directory(tmp_path):
    """The writer's bookkeeping after a chunk is written: summary and file agree, alone and together."""
    configs = [make_config(*SHORT, f"seed={s}", "log.chunk_epochs=7") for s in range(3)]
    results = run_population(configs, [tmp_path / str(s) for s in range(3)])
    for result in results:
        rows = np.loadtxt(result.run_dir / "metrics.csv", delimiter=",", skiprows=1)
        assert result.summary["metrics_rows"] == len(rows) == 50
        assert result.summary["final"]["loss"] == rows[-1, 1]


@pytest.mark.slow
@pytest.mark.parametrize("override", ["hydra.run.dir=''", "hydra.run.dir=.", "-m hydra.sweep.dir=''"])
def test_the_working_directory_itself_is_refused_as_a_run_directory(tmp_path, override):
    done = run_cli(*override.split(), "epochs=10", cwd=tmp_path)
    assert done.returncode == 2 and "a directory of its own" in done.stderr and "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_report_keeps_few_rows_of_long_curves_and_finds_the_target_in_every_row(tmp_path):
    train_into(tmp_path / "run", "epochs=3000", "lr=0.5")
    rows = np.loadtxt(tmp_path / "run" / "metrics.csv", delimiter=",", skiprows=1)
    exact = int(rows[np.argmax(rows[:, 1] < 0.05), 0])
    assert exact % 30 != 0  # not on the kept grid: found in the whole curve, or not at all
    sweep = load_sweeps([tmp_path], metrics=("loss",), points=100, reach=("loss", 0.05, False))
    assert sweep.runs.at[0, "reached_target_at"] == exact
    epochs = sweep.curves["epoch"].to_numpy()
    assert len(epochs) == 101 and (epochs[:-1] % 30 == 0).all() and epochs[-1] == 2999


def test_when_a_writer_lane_is_lost_the_summary_counts_what_is_on_disk(tmp_path, monkeypatch):
    """A lane that dies with an interruption cannot say which rows it wrote: they are counted from disk."""
    from src.rundir.metrics_csv import RowWriter

    def lost(self):  # the rows reach the disk, but the writer cannot say so
        self.inline.close()
        raise RuntimeError("a writer lane was lost")

    def interrupt(epochs, metrics):
        if epochs[0] >= 200:
            raise KeyboardInterrupt

    monkeypatch.setattr(RowWriter, "close", lost)
    dirs = [tmp_path / str(s) for s in range(2)]
    configs = [make_config("epochs=1000", "log.chunk_epochs=100", f"seed={s}") for s in range(2)]
    with pytest.raises(KeyboardInterrupt):
        run_population(configs, dirs, on_chunk=interrupt)
    for run_dir in dirs:
        summary = json.loads((run_dir / "summary.json").read_text())
        rows = np.loadtxt(run_dir / "metrics.csv", delimiter=",", skiprows=1)
        assert summary["status"] == "interrupted" and summary["metrics_rows"] == len(rows) == 300
        assert summary["epochs_run"] == 300 and summary["final"]["loss"] == rows[-1, 1]


def test_many_curves_parsed_together_read_as_each_alone():
    """``parse_many`` gives each file the table, or the error, that ``parse_rows`` gives it alone."""
    from src.rundir.metrics_csv import SMALL_FILE, parse_many, parse_rows

    header = b"epoch,loss,mae,mse,accuracy\n"
    rows = b"".join(b"%d,%.17e,0.25,1e-01,5e-01\n" % (e, 1 / (e + 3)) for e in range(0, 200, 10))
    long_rows = b"".join(b"%d,%.17e,0.25,1e-01,5e-01\n" % (e, 1 / (e + 3)) for e in range(SMALL_FILE // 40))
    datas = [
        header + rows,
        header + rows.replace(b"0.25", b"0.5"),
        header + rows + b"300,zz,1,1,1\n",  # not a number where it is converted
        header + rows + b"300,1,1,1\n",  # a row short
        header + rows + b"\n",  # a blank line
        header + b"20,0.1,1,1,1\n10,0.2,1,1,1\n",  # epochs out of order
        header + b"0,1e999,1,1,1\n",  # not finite
        header,  # nothing written yet
        b"epoch,loss\n" + b"0,0.5\n1,0.25\n",  # another header, without mae
        b"epoch,loss\n" + b"0,0.5\n1,0.25,3\n",
        header + long_rows,
        b"a,b\n1,2\n",
    ]
    for wanted in (["epoch", "loss"], ["epoch", "mae", "accuracy"], ["epoch", "loss", "mae", "mse", "accuracy"]):
        for data, got in zip(datas, parse_many(datas, wanted)):
            try:
                expected = parse_rows(data, wanted)
            except Exception as error:  # Unreadable, mostly
                assert type(got) is type(error) and str(got) == str(error)
            else:
                assert isinstance(got, np.ndarray) and got.shape == expected.shape
                np.testing.assert_array_equal(got, expected)


def test_files_are_read_whole_or_up_to_one_byte_past_their_limit(tmp_path):
    from src.rundir.files import read_at_most

    path = tmp_path / "f"
    path.write_bytes(b"x" * 5000)
    assert len(read_at_most(path)) == 5000
    assert len(read_at_most(path, 5000)) == 5000
    assert len(read_at_most(path, 100)) == 101  # one byte more than allowed: too large
    path.write_bytes(b"")
    assert read_at_most(path) == b"" and read_at_most(path, 10) == b""
    if Path("/proc/self/status").exists():  # a file that does not know its size is read to its end
        assert read_at_most(Path("/proc/self/status")).endswith(b"\n")
    with pytest.raises(IsADirectoryError):
        read_at_most(tmp_path)


def test_the_catalog_reads_only_the_ends_of_a_long_metrics_csv_and_still_sees_a_cut_off_end(tmp_path):
    """A long file is read at its ends (its header and last lines); what that finds is what reading it
    whole finds: the last row, and a last line cut off."""
    from src.rundir.metrics_csv import ENDS_BYTES, read_ends

    run = tmp_path / "run"
    train_into(run, "epochs=4000")
    path = run / "metrics.csv"
    data = path.read_bytes()
    assert len(data) > 2 * ENDS_BYTES  # long enough to be read at its ends
    ends = read_ends(path)
    assert (
        len(ends) < len(data)
        and ends.startswith(data[: data.find(b"\n") + 1])
        and data.endswith(ends[-ENDS_BYTES // 2 :])
    )
    whole = read_run(run, ("loss",), "host")
    at_ends = read_run(run, (), "host")
    assert at_ends.status == whole.status == "completed" and at_ends.last == whole.last
    path.write_bytes(data[:-3])  # the last line cut off, in a run that says it completed
    assert read_run(run, (), "host").status == "unreadable"
    assert "truncated" in read_run(run, (), "host").problem
