"""Exporters (the ``export`` extra): each export read back by the tool's own reader.

TensorBoard's ``EventAccumulator`` and MLflow's client must find every run, every epoch's
loss, and its params; skipped, with the reason, where the extra is not installed.
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

from src.export.__main__ import main

from .test_report import two_settings, write_run


@pytest.fixture
def sweeps(tmp_path):
    """Two sweeps: ``two_settings`` (seven runs of every status) and one more run with tags and notes."""
    first = two_settings(tmp_path / "sweeps" / "first")
    second = tmp_path / "sweeps" / "second"
    write_run(second / "0", values={"lr": 1.0, "hidden": 8, "seed": 4, "model.bias": True, "tags": ["best"],
                                    "notes": "the one to beat"}, loss=[0.7, 0.2, 0.01])  # fmt: skip
    return first, second


EXPECTED = {  # run name -> (status, lr, hidden, seed, loss per epoch)
    "first/0": ("completed", 0.5, 4, 0, [0.6, 0.3, 0.04, 0.02]),
    "first/1": ("completed", 0.5, 4, 1, [0.6, 0.5, 0.2, 0.1]),
    "first/2": ("completed", 0.5, 4, 2, [0.6, 0.04, 0.03, 0.01]),
    "first/3": ("diverged", 5.0, 4, 0, [0.6, 0.9]),
    "first/4": ("failed", 5.0, 4, 1, []),
    "first/5": ("completed", 5.0, 4, 2, [0.6, 0.2, 0.04, 0.03]),
    "first/6": ("unfinished", 5.0, 4, 3, [0.6, 0.5]),
    "second/0": ("completed", 1.0, 8, 4, [0.7, 0.2, 0.01]),
}


def export(capsys, fmt, sweeps, out) -> None:
    assert main([fmt, *map(str, sweeps), "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == f"Exported 8 runs as {fmt} to {out}"


def test_tensorboard_round_trip(sweeps, tmp_path, capsys):
    pytest.importorskip("tensorboard", reason="the export extra is not installed: pip install -e '.[export]'")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams import api_pb2, metadata

    out = tmp_path / "tb"
    export(capsys, "tensorboard", sweeps, out)
    experiment = EventAccumulator(str(out)).Reload()
    content = experiment.PluginTagToContent(metadata.PLUGIN_NAME)[metadata.EXPERIMENT_TAG]
    infos = metadata.parse_experiment_plugin_data(content).hparam_infos
    columns = {info.name: info.type for info in infos}
    assert {info.name for info in infos if info.differs} == {"lr", "hidden", "seed", "model.bias", "init.seed",
                                                              "optimizer.lr", "model.hidden", "train.shuffle_seed"}
    assert columns["lr"] == api_pb2.DATA_TYPE_FLOAT64 and columns["model.bias"] == api_pb2.DATA_TYPE_BOOL
    assert columns["model.activation"] == api_pb2.DATA_TYPE_STRING
    for name, (status, lr, hidden, seed, loss) in EXPECTED.items():
        run = EventAccumulator(str(out / name)).Reload()
        if loss:
            scalars = run.Scalars("loss")
            assert [s.step for s in scalars] == list(range(len(loss)))
            assert [s.value for s in scalars] == pytest.approx(np.float32(loss).tolist(), rel=0, abs=0)
            assert len(run.Scalars("accuracy")) == len(loss)
        else:
            assert "loss" not in run.Tags()["scalars"]
        plugin = run.PluginTagToContent(metadata.PLUGIN_NAME)
        start = metadata.parse_session_start_info_plugin_data(plugin[metadata.SESSION_START_INFO_TAG])
        assert start.hparams["lr"].number_value == lr
        assert start.hparams["hidden"].number_value == hidden
        assert start.hparams["seed"].number_value == seed
        assert start.hparams["model.activation"].string_value == "sigmoid"
        end = metadata.parse_session_end_info_plugin_data(plugin[metadata.SESSION_END_INFO_TAG])
        wanted = {"completed": "STATUS_SUCCESS", "diverged": "STATUS_FAILURE", "failed": "STATUS_FAILURE"}
        assert api_pb2.Status.Name(end.status) == wanted.get(status, "STATUS_UNKNOWN")
    assert sorted(str(p.parent.relative_to(out)) for p in out.rglob("events.out.tfevents.*")) == [".", *EXPECTED]


def test_mlflow_round_trip(sweeps, tmp_path, capsys, monkeypatch):
    pytest.importorskip("mlflow", reason="the export extra is not installed: pip install -e '.[export]'")
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # as a reader of an MLflow 3 file store must
    import mlflow
    from mlflow.tracking import MlflowClient

    out = tmp_path / "mlruns"
    export(capsys, "mlflow", sweeps, out)
    mlflow.set_tracking_uri(out.as_uri())
    table = mlflow.search_runs(experiment_names=["xor-harness"])
    assert sorted(table["tags.mlflow.runName"]) == sorted(EXPECTED)
    client = MlflowClient(tracking_uri=out.as_uri())
    mlflow_status = {"completed": "FINISHED", "diverged": "FAILED", "failed": "FAILED", "unfinished": "KILLED"}
    for _, row in table.iterrows():
        status, lr, hidden, seed, loss = EXPECTED[row["tags.mlflow.runName"]]
        assert row["status"] == mlflow_status[status] and row["tags.status"] == status
        assert (row["params.lr"], row["params.hidden"], row["params.seed"]) == (str(lr), str(hidden), str(seed))
        assert row["params.model.activation"] == "sigmoid"
        history = sorted(client.get_metric_history(row["run_id"], "loss"), key=lambda m: m.step)
        assert [m.step for m in history] == list(range(len(loss)))
        assert [m.value for m in history] == loss  # 64-bit floats, exactly
        if loss:
            assert row["metrics.loss"] == loss[-1]
    bias = table.set_index("tags.mlflow.runName")["params.model.bias"]
    assert bias["second/0"] == "true" and bias["first/0"] == "false"
    assert pd.notna(table["start_time"]).all()
    labelled = table.set_index("tags.mlflow.runName").loc["second/0"]
    assert labelled["tags.best"] == "" and labelled["tags.mlflow.note.content"] == "the one to beat"
    assert "params.tags" not in table.columns and "params.notes" not in table.columns


@pytest.mark.parametrize(
    "args, message",
    [
        (["parquet", "{sweep}", "--out", "{tmp}/o"], "Unknown format 'parquet'. Allowed: tensorboard, mlflow."),
        (["tensorboard", "{tmp}/nowhere", "--out", "{tmp}/o"], "No such directory: {tmp}/nowhere."),
        (["mlflow", "{sweep}", "--out", "{sweep}"], "already holds files"),
        (["mlflow", "{sweep}", "--out", "{sweep}/0/summary.json"], "is a file"),
        (["tensorboard", "{sweep}", "--out", "{tmp}/o", "--every", "0"], "--every 0: give a positive integer"),
    ],
)
def test_bad_input_is_one_paragraph_and_exit_2(sweeps, tmp_path, capsys, args, message):
    sweep = str(sweeps[1])
    code = main([a.format(sweep=sweep, tmp=tmp_path) for a in args])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("Error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert message.format(tmp=tmp_path) in err
    assert not (tmp_path / "o").exists()


def test_every_nth_epoch_and_the_last(sweeps, tmp_path, capsys):
    pytest.importorskip("tensorboard", reason="the export extra is not installed: pip install -e '.[export]'")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    assert main(["tensorboard", str(sweeps[0]), "--out", str(tmp_path / "tb"), "--every", "2"]) == 0
    run = EventAccumulator(str(tmp_path / "tb" / "first" / "0")).Reload()
    assert [s.step for s in run.Scalars("loss")] == [0, 2, 3]  # epochs 0 and 2, and the last
    assert [s.step for s in run.Scalars("mse")] == [0, 2, 3]


@pytest.mark.parametrize("fmt, module", [("tensorboard", "tensorboard"), ("mlflow", "mlflow")])
def test_without_the_extra_the_command_says_how_to_install_it(sweeps, tmp_path, capsys, monkeypatch, fmt, module):
    for name in [name for name in sys.modules if name.startswith(module + ".")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, module, None)  # as if not installed
    monkeypatch.delitem(sys.modules, f"src.export.to_{fmt}", raising=False)
    assert main([fmt, str(sweeps[1]), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"The {fmt} exporter needs the export extra" in err
    assert "pip install -e '.[export]'" in err and not (tmp_path / "o").exists()
