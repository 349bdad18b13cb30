"""The run directory: what one run leaves on disk, written so that nothing is ever half-written.

    metrics.csv    one row per logged epoch: epoch,loss,mae,mse,accuracy (floats read back exactly)
    summary.json   status, final metrics, predictions, seed, epochs run, times, provenance
    params.npz     W1_initial, W1_final, ... (and b1_... when the model has biases)

``metrics.csv`` grows a chunk of rows at a time, each chunk one ``write`` of whole lines
(``metrics_file``), so a killed run keeps every chunk it finished (after kill -9, perhaps
part of a line after them, which the loader drops). ``summary.json`` is
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

from .metrics_file import ChunkRows
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


class RunDirectories:
    """The run directories of a population, written as it trains: rows chunk by chunk, then summaries.

    Bookkeeping is done for all networks at once: ``diverged_at[p]`` (-1 while finite),
    ``epochs_run[p]`` and ``final[c, p]`` (the last finite value of metric ``c``).
    """

    def __init__(
        self, run_dirs: list[Path], summaries: list[dict], every: int, last_epoch: int, targets: list | None = None
    ):
        self.run_dirs = [Path(d) for d in run_dirs]
        self.paths = [d / METRICS_FILE for d in self.run_dirs]
        self.every, self.last_epoch = every, last_epoch
        self.summaries = []
        for run_dir, path, summary in zip(self.run_dirs, self.paths, summaries):
            run_dir.mkdir(parents=True, exist_ok=True)
            started = {"status": "running", "started_at": utc_now(), "pid": os.getpid(), **summary}
            write_json_atomically(run_dir / SUMMARY_FILE, started)
            for stale in (TRACEBACK_FILE, PARAMS_FILE):  # an earlier attempt's (a resumed sweep): not this run's
                (run_dir / stale).unlink(missing_ok=True)
            path.write_text(HEADER)
            self.summaries.append(started)
        population = len(self.run_dirs)
        self.diverged_at = np.full(population, -1)
        self.epochs_run = np.zeros(population, dtype=np.int64)
        self.final = np.full((len(METRICS), population), np.nan)
        self.finished = np.zeros(population, dtype=bool)
        self.rows_written = np.zeros(population, dtype=np.int64)
        # targets[p] = (metric, value) or None: run p's epochs to reach it, epochs_to_target[p] (-1: not yet)
        self.targets = targets or [None] * population
        self.epochs_to_target = np.full(population, -1)

    def rows_of_chunk(self, epochs: np.ndarray, metrics: dict[str, np.ndarray]) -> ChunkRows:
        """The rows one chunk adds to every ``metrics.csv`` (``metrics[name][e, p]``).

        A network's rows stop at its first epoch with a metric that is not finite: it diverged there.
        """
        values = np.stack([metrics[name] for name in METRICS])  # values[c, e, p]
        finite = np.isfinite(values).all(axis=0)  # finite[e, p]
        first_bad = np.where(finite.all(axis=0), len(epochs), np.argmin(finite, axis=0))
        alive = self.diverged_at < 0
        rows_kept = np.where(alive, first_bad, 0)
        newly_diverged = alive & (first_bad < len(epochs))
        self.diverged_at[newly_diverged] = epochs[first_bad[newly_diverged]]
        grew = np.flatnonzero(rows_kept > 0)
        self.epochs_run[grew] = epochs[rows_kept[grew] - 1] + 1
        self.final[:, grew] = values[:, rows_kept[grew] - 1, grew]
        self._note_targets(epochs, values, rows_kept)
        logged = (epochs % self.every == 0) | (epochs == self.last_epoch)
        kept = logged[None, :] & (np.arange(len(epochs))[None, :] < rows_kept[:, None])  # kept[p, e]
        self.rows_written += kept.sum(axis=1)
        return ChunkRows(self.paths, epochs, values, kept)

    def _note_targets(self, epochs: np.ndarray, values: np.ndarray, rows_kept: np.ndarray) -> None:
        """The first epoch at which each run's metric reached its target (below it; accuracy: at or above)."""
        for p, target in enumerate(self.targets):
            if target is None or self.epochs_to_target[p] >= 0 or rows_kept[p] == 0:
                continue
            metric, goal = target
            series = values[METRICS.index(metric), : rows_kept[p], p]
            reached = series >= goal if metric == "accuracy" else series < goal
            if reached.any():
                self.epochs_to_target[p] = epochs[int(np.argmax(reached))]

    def finish(self, p: int, status: str | None = None, **extra) -> dict:
        """Write run ``p``'s final summary; its status is ``diverged`` or ``completed`` unless given."""
        if self.finished[p]:
            return self.summaries[p]
        self.finished[p] = True
        diverged_at = int(self.diverged_at[p]) if self.diverged_at[p] >= 0 else None
        if status is None:
            status = "diverged" if diverged_at is not None else "completed"
        final = (
            {} if self.epochs_run[p] == 0 else {n: finite_or_none(float(v)) for n, v in zip(METRICS, self.final[:, p])}
        )
        self.summaries[p].update(
            status=status,
            epochs_run=int(self.epochs_run[p]),
            metrics_rows=int(self.rows_written[p]),
            epochs_to_target=int(self.epochs_to_target[p]) if self.epochs_to_target[p] >= 0 else None,
            diverged_at_epoch=diverged_at,
            final=final,
            ended_at=utc_now(),
            **extra,
        )
        write_json_atomically(self.run_dirs[p] / SUMMARY_FILE, self.summaries[p])
        return self.summaries[p]


def completed_summary(run_dir: Path, config_sha: str) -> dict | None:
    """The summary of a completed run of the config ``config_sha`` in ``run_dir``, or ``None``.

    Completed means ``summary.json`` says so for the same config fingerprint, ``params.npz``
    is there, and ``metrics.csv`` is the header and the ``metrics_rows`` whole lines promised.
    """
    try:
        summary = json.loads((Path(run_dir) / SUMMARY_FILE).read_text())
        if summary.get("status") != "completed" or summary.get("config_sha") != config_sha:
            return None
        if not (Path(run_dir) / PARAMS_FILE).is_file():
            return None
        text = (Path(run_dir) / METRICS_FILE).read_bytes()
        if not text.startswith(HEADER.encode()) or not text.endswith(b"\n"):
            return None
        if text.count(b"\n") != summary.get("metrics_rows", -1) + 1:
            return None
    except (OSError, ValueError, AttributeError, TypeError):
        return None
    return summary


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
