"""The run directory: what one run leaves on disk, written so that nothing is ever half-written.

    metrics.csv    one row per logged epoch: epoch,loss,mae,mse,accuracy (floats exact, repr)
    summary.json   status, final metrics, predictions, seed, epochs run, times, provenance
    params.npz     W1_initial, W1_final, ... (and b1_... when the model has biases)

``metrics.csv`` grows a chunk of rows at a time, each chunk one ``write`` of whole lines
(``metrics_file``), so a killed run keeps every chunk it finished. ``summary.json`` is
written to a temporary file and renamed over the old one, so it is always complete: it says
``running`` from the start, then ``completed``, ``diverged``, ``failed`` or ``interrupted``.
"""

from __future__ import annotations

import json
import math
import os
import traceback
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from .metrics_file import Rows
from .train import METRICS

METRICS_FILE, SUMMARY_FILE, PARAMS_FILE = "metrics.csv", "summary.json", "params.npz"
TRACEBACK_FILE = "traceback.txt"
HEADER = "epoch," + ",".join(METRICS) + "\n"


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def write_json_atomically(path: Path, data: dict) -> None:
    """Replace ``path`` by ``data`` in one rename: readers see the old file or the new, never half."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(data, indent=2, allow_nan=False) + "\n")
    os.replace(temporary, path)


def finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


class RunWriter:
    """Writes one run's directory as training goes: rows chunk by chunk, then the summary."""

    def __init__(self, run_dir: Path, summary: dict, every: int, last_epoch: int):
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.every, self.last_epoch = every, last_epoch
        self.summary = {"status": "running", "started_at": utc_now(), "pid": os.getpid(), **summary}
        self.final: dict[str, float] | None = None
        self.epochs_run = 0
        self.diverged_at: int | None = None
        write_json_atomically(self.run_dir / SUMMARY_FILE, self.summary)
        self.metrics_path = self.run_dir / METRICS_FILE
        self.metrics_path.write_text(HEADER)
        self.finished = False

    def rows_of_chunk(self, epochs: np.ndarray, metrics: dict[str, np.ndarray]) -> Rows:
        """The rows of one chunk to append to ``metrics.csv`` (``metrics[name]`` shaped like ``epochs``).

        Rows stop at the first epoch whose metrics are not finite: the run has diverged there.
        """
        if self.diverged_at is not None:
            return self.metrics_path, epochs[:0], []
        columns = [metrics[name] for name in METRICS]
        finite = np.logical_and.reduce([np.isfinite(c) for c in columns])
        if not finite.all():
            first_bad = int(np.argmin(finite))
            self.diverged_at = int(epochs[first_bad])
            epochs, columns = epochs[:first_bad], [c[:first_bad] for c in columns]
        if len(epochs) == 0:
            return self.metrics_path, epochs, []
        self.epochs_run = int(epochs[-1]) + 1
        self.final = {name: float(c[-1]) for name, c in zip(METRICS, columns)}
        logged = (epochs % self.every == 0) | (epochs == self.last_epoch)
        return self.metrics_path, epochs[logged], [c[logged] for c in columns]

    def finish(self, status: str | None = None, **extra) -> dict:
        """Close the CSV and write the final summary; status is ``diverged`` or ``completed`` unless given."""
        if self.finished:
            return self.summary
        self.finished = True
        if status is None:
            status = "diverged" if self.diverged_at is not None else "completed"
        self.summary.update(
            status=status,
            epochs_run=self.epochs_run,
            diverged_at_epoch=self.diverged_at,
            final={name: finite_or_none(v) for name, v in (self.final or {}).items()},
            ended_at=utc_now(),
            **extra,
        )
        write_json_atomically(self.run_dir / SUMMARY_FILE, self.summary)
        return self.summary


def status_of_error(error: BaseException) -> str:
    """``interrupted`` for Ctrl-C and SIGTERM (both raise ``KeyboardInterrupt`` here), else ``failed``."""
    return "interrupted" if isinstance(error, KeyboardInterrupt) else "failed"


def record_error(
    run_dir: Path, error: BaseException, writer: RunWriter | None = None, summary: dict | None = None
) -> dict:
    """Mark a run ``failed`` or ``interrupted``: the message in the summary, the traceback beside it."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / TRACEBACK_FILE).write_text("".join(traceback.format_exception(error)))
    details = {"error": f"{type(error).__name__}: {error}".rstrip(": ")}
    if writer is not None:
        return writer.finish(status_of_error(error), **details)
    stopped = {"status": status_of_error(error), "started_at": utc_now(), **(summary or {}), **details}
    write_json_atomically(run_dir / SUMMARY_FILE, {**stopped, "ended_at": utc_now()})
    return stopped


def save_params(run_dir: Path, initial: dict[str, np.ndarray], final: dict[str, np.ndarray]) -> None:
    """``params.npz`` with ``<name>_initial`` and ``<name>_final`` for every layer's array."""
    arrays = {f"{name}_initial": value for name, value in initial.items()}
    arrays.update({f"{name}_final": value for name, value in final.items()})
    temporary = Path(run_dir) / f".{PARAMS_FILE}.tmp.npz"
    np.savez(temporary, **arrays)
    os.replace(temporary, Path(run_dir) / PARAMS_FILE)
