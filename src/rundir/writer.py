"""Writing run directories, so that nothing is ever half-written and no status overstates.

``summary.json`` is written to a temporary file and renamed over the old one, so it is always
complete: it says ``running`` from the start, then ``completed``, ``diverged``, ``failed`` or
``interrupted``. What it says of the metrics (epochs run, final values, rows) counts only
rows already on disk: the bookkeeping of a chunk is applied when the ``RowWriter`` reports
its rows written, never when they are handed over. Final summaries are written with Ctrl-C
and SIGTERM held back (``signals.signals_held``), so a signal cannot stop a run between being marked
and being written; it arrives once they are all on disk.
"""

from __future__ import annotations

import io
import json
import math
import os
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from .files import write_file
from .layout import (
    FORMAT,
    METRICS_FILE,
    PARAMS_FILE,
    PREDICTIONS_FILE,
    PREDICTIONS_IN_SUMMARY,
    SUMMARY_FILE,
    TRACEBACK_FILE,
    Unreadable,
)
from .metrics_csv import ChunkRows, header_line, parse_last_row


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def write_json_atomically(path: Path, data: dict) -> None:
    """Replace ``path`` by ``data`` in one rename: readers see the old file or the new, never half."""
    temporary = path.with_name(f".{path.name}.tmp")
    write_file(temporary, json_text(data).encode())
    os.replace(temporary, path)


def json_text(data: dict) -> str:
    """``data`` as JSON, one top-level key a line (each value on its line as compact JSON): easy to
    read and to diff, and written by the json module's C encoder, which ``indent=`` would not use."""
    lines = [f"  {json.dumps(key)}: {json.dumps(value, allow_nan=False)}" for key, value in data.items()]
    return "{\n" + ",\n".join(lines) + "\n}\n"


def finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


class RunDirectories:
    """The run directories of a population, written as it trains: rows chunk by chunk, then summaries.

    Bookkeeping is done for all networks at once. While training: ``diverged_at[p]`` (-1 while
    finite). Of the rows on disk: ``epochs_run[p]``, ``rows_written[p]``, ``final[c, p]`` (the
    last value of metric ``c``), ``epochs_to_target[p]`` and ``diverged_on_disk[p]``.
    """

    def __init__(
        self,
        run_dirs: list[Path],
        summaries: list[dict],
        metrics: tuple[str, ...],
        every: int,
        last_epoch: int,
        targets: list | None = None,
    ):
        self.run_dirs = [Path(d) for d in run_dirs]
        self.paths = [d / METRICS_FILE for d in self.run_dirs]
        self.metrics, self.every, self.last_epoch = tuple(metrics), every, last_epoch
        self.summaries = []
        header = header_line(self.metrics)
        for run_dir, path, summary in zip(self.run_dirs, self.paths, summaries):
            run_dir.mkdir(parents=True, exist_ok=True)
            started = {"format": FORMAT, "status": "running", "started_at": utc_now(), "pid": os.getpid(), **summary}
            write_json_atomically(run_dir / SUMMARY_FILE, started)
            for stale in (TRACEBACK_FILE, PARAMS_FILE, PREDICTIONS_FILE):  # an earlier attempt's (resume)
                (run_dir / stale).unlink(missing_ok=True)
            write_file(path, header)
            self.summaries.append(started)
        population = len(self.run_dirs)
        self.diverged_at = np.full(population, -1)
        self.diverged_on_disk = np.full(population, -1)
        self.epochs_run = np.zeros(population, dtype=np.int64)
        self.final = np.full((len(self.metrics), population), np.nan)
        self.finished = np.zeros(population, dtype=bool)
        self.rows_written = np.zeros(population, dtype=np.int64)
        # targets[p] = (metric, value, higher_is_better) or None: run p's epochs to reach it (-1: not yet)
        self.targets = targets or [None] * population
        self.epochs_to_target = np.full(population, -1)

    def rows_of_chunk(self, epochs: np.ndarray, metrics: dict[str, np.ndarray]) -> tuple[ChunkRows, Callable]:
        """The rows one chunk adds to every ``metrics.csv`` (``metrics[name][e, p]``), and what to
        call once they are on disk (it counts them).

        A network's rows stop at its first epoch with a metric that is not finite: it diverged there.
        """
        values = np.stack([metrics[name] for name in self.metrics])  # values[c, e, p]
        finite = np.isfinite(values).all(axis=0)  # finite[e, p]
        first_bad = np.where(finite.all(axis=0), len(epochs), np.argmin(finite, axis=0))
        alive = self.diverged_at < 0
        rows_kept = np.where(alive, first_bad, 0)
        newly_diverged = alive & (first_bad < len(epochs))
        self.diverged_at[newly_diverged] = epochs[first_bad[newly_diverged]]
        diverged_at = self.diverged_at.copy()
        logged = (epochs % self.every == 0) | (epochs == self.last_epoch)
        kept = logged[None, :] & (np.arange(len(epochs))[None, :] < rows_kept[:, None])  # kept[p, e]

        def written() -> None:
            grew = np.flatnonzero(rows_kept > 0)
            self.epochs_run[grew] = epochs[rows_kept[grew] - 1] + 1
            self.final[:, grew] = values[:, rows_kept[grew] - 1, grew]
            self.rows_written += kept.sum(axis=1)
            self.diverged_on_disk[newly_diverged] = diverged_at[newly_diverged]
            self._note_targets(epochs, values, rows_kept)

        return ChunkRows(epochs, values, kept), written

    def count_from_disk(self, p: int) -> None:
        """Run ``p``'s bookkeeping from its ``metrics.csv`` as it is (whole lines), when the writer could
        not say which chunks reached the disk (a writer lane was lost)."""
        try:
            data = self.paths[p].read_bytes()
            data = data[: data.rfind(b"\n") + 1]
            last = parse_last_row(data)
        except (OSError, Unreadable):
            return
        self.rows_written[p] = max(0, data.count(b"\n") - 1)
        if last is None:
            self.epochs_run[p] = 0
            return
        self.epochs_run[p] = int(last["epoch"]) + 1
        self.final[:, p] = [last.get(name, np.nan) for name in self.metrics]

    def _note_targets(self, epochs: np.ndarray, values: np.ndarray, rows_kept: np.ndarray) -> None:
        """The first epoch at which each run's metric reached its target."""
        for p, target in enumerate(self.targets):
            if target is None or self.epochs_to_target[p] >= 0 or rows_kept[p] == 0:
                continue
            metric, goal, higher_is_better = target
            series = values[self.metrics.index(metric), : rows_kept[p], p]
            reached = series >= goal if higher_is_better else series < goal
            if reached.any():
                self.epochs_to_target[p] = epochs[int(np.argmax(reached))]

    def finish(self, p: int, status: str | None = None, predictions: dict | None = None, **extra) -> dict:
        """Write run ``p``'s final summary; its status is ``diverged`` or ``completed`` unless given.

        ``predictions`` (inputs, outputs, targets) go into the summary when small, else into
        ``predictions.npz``. The run counts as finished once its summary is on disk.
        """
        if self.finished[p]:
            return self.summaries[p]
        diverged_at = int(self.diverged_on_disk[p]) if self.diverged_on_disk[p] >= 0 else None
        if status is None:
            status = "diverged" if diverged_at is not None else "completed"
        final = (
            {}
            if self.epochs_run[p] == 0
            else {n: finite_or_none(float(v)) for n, v in zip(self.metrics, self.final[:, p])}
        )
        if predictions is not None:
            extra.update(prediction_fields(self.run_dirs[p], predictions))
        summary = {
            **self.summaries[p],
            "status": status,
            "epochs_run": int(self.epochs_run[p]),
            "metrics_rows": int(self.rows_written[p]),
            "epochs_to_target": int(self.epochs_to_target[p]) if self.epochs_to_target[p] >= 0 else None,
            "diverged_at_epoch": diverged_at,
            "final": final,
            "ended_at": utc_now(),
            **extra,
        }
        write_json_atomically(self.run_dirs[p] / SUMMARY_FILE, summary)
        self.summaries[p] = summary
        self.finished[p] = True
        return summary


def prediction_fields(run_dir: Path, predictions: dict) -> dict:
    """The summary's account of the final predictions: ``solved`` (every output on the right
    side of 0.5) and the table itself, or the name of ``predictions.npz`` when it is large."""
    outputs, targets = predictions["outputs"], np.asarray(predictions["targets"], dtype=float)
    solved = outputs is not None and bool(np.all((np.asarray(outputs) > 0.5) == (targets > 0.5)))
    inputs = np.asarray(predictions["inputs"], dtype=float)
    if inputs.size + 2 * targets.size <= PREDICTIONS_IN_SUMMARY:
        as_lists = {k: None if v is None else np.asarray(v).tolist() for k, v in predictions.items()}
        return {"solved": solved, "predictions": as_lists}
    arrays = {k: np.asarray(v, dtype=float) for k, v in predictions.items() if v is not None}
    temporary = Path(run_dir) / f".{PREDICTIONS_FILE}.tmp.npz"
    np.savez(temporary, **arrays)
    os.replace(temporary, Path(run_dir) / PREDICTIONS_FILE)
    return {"solved": solved, "predictions": None, "predictions_file": PREDICTIONS_FILE}


def error_message(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}".rstrip(": ")


def write_traceback(run_dir: Path, error: BaseException) -> None:
    (Path(run_dir) / TRACEBACK_FILE).write_text("".join(traceback.format_exception(error)))


def status_of_error(error: BaseException) -> str:
    """``interrupted`` for Ctrl-C and SIGTERM (both raise ``KeyboardInterrupt`` here), else ``failed``."""
    return "interrupted" if isinstance(error, KeyboardInterrupt) else "failed"


def record_error(run_dir: Path, error: BaseException, summary: dict | None = None) -> dict:
    """Mark a run that never started training ``failed`` (or ``interrupted``), with the traceback beside it."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    write_traceback(run_dir, error)
    details = {"error": error_message(error)}
    stopped = {
        "format": FORMAT,
        "status": status_of_error(error),
        "started_at": utc_now(),
        **(summary or {}),
        **details,
    }
    write_json_atomically(run_dir / SUMMARY_FILE, {**stopped, "ended_at": utc_now()})
    return stopped


def save_params(run_dir: Path, initial: dict[str, np.ndarray], final: dict[str, np.ndarray]) -> None:
    """``params.npz`` with ``<name>_initial`` and ``<name>_final`` for every layer's array."""
    arrays = {f"{name}_initial": value for name, value in initial.items()}
    arrays.update({f"{name}_final": value for name, value in final.items()})
    archive = io.BytesIO()  # made in memory, written in one call: np.savez to a file writes piece by piece
    np.savez(archive, **arrays)
    temporary = Path(run_dir) / f".{PARAMS_FILE}.tmp.npz"
    write_file(temporary, archive.getbuffer())
    os.replace(temporary, Path(run_dir) / PARAMS_FILE)
