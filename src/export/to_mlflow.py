"""Runs as a local MLflow file store: one MLflow run per run directory.

    <out>/<experiment id>/<run id>/params/...    every config value
                                   metrics/...   loss, mae, mse, accuracy per epoch (step = epoch)
                                   tags/...      the harness's status and directory, the run's tags
                                   meta.yaml     its name, status, start and end

``mlflow ui --backend-store-uri <out>`` shows it (the full ``mlflow`` package has the UI); ``mlflow.search_runs`` reads it with the
tracking URI ``file://<out>``. MLflow 3 keeps its file store in maintenance mode and opens one
only with the environment variable ``MLFLOW_ALLOW_FILE_STORE=true`` (set here for the writing;
a reader sets it too, or moves the store into a database with ``mlflow migrate-filestore``). Metrics keep their full 64-bit values. MLflow has fewer
statuses than the harness: ``completed`` is ``FINISHED``, ``diverged``, ``failed`` and
``unreadable`` are ``FAILED``, ``running`` is ``RUNNING``, ``interrupted`` and ``unfinished``
are ``KILLED``; the harness's own word is the tag ``status``. A run's ``notes`` become its
MLflow description (the tag ``mlflow.note.content``), each of its ``tags`` a tag with an
empty value.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from mlflow.entities import Metric, Param
from mlflow.tracking import MlflowClient

from .runs import ExportedRun

RUN_STATUS = {
    "completed": "FINISHED",
    "diverged": "FAILED",
    "failed": "FAILED",
    "unreadable": "FAILED",
    "running": "RUNNING",
    "interrupted": "KILLED",
    "unfinished": "KILLED",
}
BATCH = 1000  # MLflow takes at most 1,000 metrics, 100 params and 100 tags per call


def store_uri(out: Path) -> str:
    return out.resolve().as_uri()


def param_text(value) -> str:
    """A config value as MLflow keeps params: text (``true``, ``0.5``, ``[8, 4]``, ``sigmoid``)."""
    return json.dumps(value) if isinstance(value, bool) else str(value)


def write_mlflow(runs: list[ExportedRun], out: Path, experiment: str) -> None:
    """Write ``runs`` into the file store at ``out``, in the experiment named ``experiment``."""
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"  # MLflow 3 opens a file store only when told to
    client = MlflowClient(tracking_uri=store_uri(out))
    found = client.get_experiment_by_name(experiment)
    experiment_id = found.experiment_id if found else client.create_experiment(experiment)
    for run in runs:
        start_ms = int((run.started_at or 0.0) * 1000)
        tags = {"status": run.status, "path": str(run.path), **{tag: "" for tag in run.tags}}
        if run.notes:
            tags["mlflow.note.content"] = run.notes
        created = client.create_run(experiment_id, start_time=start_ms, tags=tags, run_name=run.name)
        run_id = created.info.run_id
        params = [Param(key, param_text(value)) for key, value in run.params.items()]
        for i in range(0, len(params), 100):
            client.log_batch(run_id, params=params[i : i + 100])
        metrics = [
            Metric(metric, value, start_ms, epoch)
            for metric, (epochs, values) in run.curves.items()
            for epoch, value in zip(epochs.tolist(), values.tolist())
        ]
        for i in range(0, len(metrics), BATCH):
            client.log_batch(run_id, metrics=metrics[i : i + BATCH])
        status = RUN_STATUS.get(run.status, "FAILED")
        if status != "RUNNING":
            client.set_terminated(run_id, status=status, end_time=start_ms + int((run.wall_time_s or 0.0) * 1000))
