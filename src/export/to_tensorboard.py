"""Runs as TensorBoard event files: scalars per epoch, and the config for the HParams view.

    <out>/<run name>/events.out.tfevents...   per epoch: loss, mae, mse, accuracy (step = epoch);
                                              the run's config values (session start) and its end
    <out>/events.out.tfevents...              the experiment: which config values and metrics
                                              the HParams view lays out as columns

Written with TensorBoard's own event writer and protocol buffers (no TensorFlow needed), so
``tensorboard --logdir <out>`` and its ``EventAccumulator`` read it as they read their own.
TensorBoard keeps scalars as 32-bit floats: the exact values stay in each run's ``metrics.csv``.
A run's status becomes the HParams session status: ``completed`` a success, ``diverged``,
``failed`` and ``unreadable`` a failure, ``running`` running, the others unknown.
"""

from __future__ import annotations

from pathlib import Path

from tensorboard.compat.proto.event_pb2 import Event
from tensorboard.compat.proto.summary_pb2 import Summary
from tensorboard.plugins.hparams import api_pb2, metadata, plugin_data_pb2
from tensorboard.summary.writer.event_file_writer import EventFileWriter

from ..train import METRICS
from .runs import ExportedRun

QUEUE = 100_000  # events the writer's thread may hold: a short queue makes each event wait for the disk

SESSION_STATUS = {
    "completed": api_pb2.STATUS_SUCCESS,
    "diverged": api_pb2.STATUS_FAILURE,
    "failed": api_pb2.STATUS_FAILURE,
    "unreadable": api_pb2.STATUS_FAILURE,
    "running": api_pb2.STATUS_RUNNING,
}


def hparams_event(tag: str, wall_time: float, **data) -> Event:
    """One of the HParams plugin's summaries (experiment, session start or end) as an event."""
    content = plugin_data_pb2.HParamsPluginData(**data)
    value = Summary.Value(tag=tag, metadata=metadata.create_summary_metadata(content))
    value.tensor.CopyFrom(metadata.NULL_TENSOR)
    return Event(wall_time=wall_time, summary=Summary(value=[value]))


def data_type(values: list) -> int:
    """The HParams type of a config key: bool, number, or text when its runs disagree."""
    if all(isinstance(v, bool) for v in values):
        return api_pb2.DATA_TYPE_BOOL
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return api_pb2.DATA_TYPE_FLOAT64
    return api_pb2.DATA_TYPE_STRING


def differs(runs: list[ExportedRun], key: str) -> bool:
    """Whether ``key`` has more than one value across ``runs`` (the HParams view shows those first)."""
    return len({repr(run.params.get(key)) for run in runs}) > 1


def set_value(hparams, key: str, value, kind: int) -> None:
    if kind == api_pb2.DATA_TYPE_BOOL:
        hparams[key].bool_value = value
    elif kind == api_pb2.DATA_TYPE_FLOAT64:
        hparams[key].number_value = float(value)
    else:
        hparams[key].string_value = str(value)


def write_tensorboard(runs: list[ExportedRun], out: Path) -> None:
    """Write ``runs`` below ``out`` (see the module's docstring)."""
    keys = list(dict.fromkeys(key for run in runs for key in run.params))
    kinds = {key: data_type([run.params[key] for run in runs if key in run.params]) for key in keys}
    created = min((run.started_at for run in runs if run.started_at is not None), default=0.0)
    experiment = api_pb2.Experiment(
        time_created_secs=created,
        hparam_infos=[api_pb2.HParamInfo(name=key, type=kinds[key], differs=differs(runs, key)) for key in keys],
        metric_infos=[api_pb2.MetricInfo(name=api_pb2.MetricName(tag=metric)) for metric in METRICS],
    )
    writer = EventFileWriter(str(out))
    writer.add_event(hparams_event(metadata.EXPERIMENT_TAG, created, experiment=experiment))
    writer.close()
    for run in runs:
        start = run.started_at or 0.0
        writer = EventFileWriter(str(out / run.name), max_queue_size=QUEUE, flush_secs=3600)
        session = plugin_data_pb2.SessionStartInfo(group_name=run.name, start_time_secs=start)
        for key, value in run.params.items():
            set_value(session.hparams, key, value, kinds[key])
        writer.add_event(hparams_event(metadata.SESSION_START_INFO_TAG, start, session_start_info=session))
        if run.curves:  # one event per epoch, holding every metric
            epochs = next(iter(run.curves.values()))[0].tolist()
            columns = [(metric, values.tolist()) for metric, (_, values) in run.curves.items()]
            for i, epoch in enumerate(epochs):
                when = start + (run.wall_time_s or 0.0) * epoch / max(epochs[-1], 1)
                summary = Summary(value=[Summary.Value(tag=metric, simple_value=values[i]) for metric, values in columns])
                writer.add_event(Event(wall_time=when, step=epoch, summary=summary))
        end = plugin_data_pb2.SessionEndInfo(
            status=SESSION_STATUS.get(run.status, api_pb2.STATUS_UNKNOWN),
            end_time_secs=start + (run.wall_time_s or 0.0),
        )
        writer.add_event(hparams_event(metadata.SESSION_END_INFO_TAG, end.end_time_secs, session_end_info=end))
        writer.close()
