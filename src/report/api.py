"""The Python API: a sweep's runs and curves as tidy pandas tables, in one line each.

    from src.report import load_runs, load_curves
    runs = load_runs("outputs/sweeps/2026-01-01/10-00-00")      # one row per run
    curves = load_curves(["outputs/sweeps/A", "outputs/sweeps/B"])   # run, epoch, metric, value

Each takes one or more sweep or run directories: a path (a ``str`` is one path) or a list of
them, searched at any depth like ``python -m src.report`` and ``python -m src.runs`` do, with
the same loader (``load_sweeps``), so the three agree on every run and every status.

``load_runs`` gives one row per run, index ``run`` (0, 1, ... in the loader's order, the same
numbers as ``load_curves``' ``run`` column for the same directories):

* ``path``, ``status``, ``setting`` (the varying values other than the seed), ``seed``;
* every config value as a column under its dotted name (``lr``, ``model.activation``,
  ``optimizer.lr``, ...; a list such as ``hidden: [8, 4]`` as its text ``[8, 4]``, so
  ``tags`` reads ``["baseline", "wide"]``: ``runs[runs["tags"].str.contains('"wide"', na=False)]``);
* ``final_loss``, ``final_mae``, ``final_mse``, ``final_accuracy`` (the summary's, or the last
  row on disk for a run that has not ended), ``solved`` (every final prediction on the right
  side of 0.5), ``epochs_to_target`` (the first epoch with ``metric`` below ``target``;
  missing when never reached), ``epochs_run``, ``epochs_planned``, ``diverged_at_epoch``;
* ``wall_time_s``, ``started_at``, ``host``, ``problem`` (why a run failed or cannot be read).

``load_curves`` gives the long table ``run, epoch, metric, value`` (one row per logged epoch
and metric), ready for ``groupby`` or ``pivot``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from ..metrics import METRICS
from .measures import DEFAULT_TARGETS, run_measures
from .tables import load_sweeps

Paths = str | os.PathLike | Iterable[str | os.PathLike]

# The columns of the runs table, before and after the config values.
FIRST = ["path", "status", "setting", "seed"]
LAST = [
    *(f"final_{name}" for name in METRICS),
    "solved", "epochs_to_target", "epochs_run", "epochs_planned", "diverged_at_epoch",
    "wall_time_s", "started_at", "host", "problem",
]  # fmt: skip


def as_roots(paths: Paths) -> list[Path]:
    """One path or many, as a list: a bare ``str`` is one path, never a sequence of letters."""
    if isinstance(paths, (str, os.PathLike)):
        return [Path(paths)]
    return [Path(path) for path in paths]


def load_runs(paths: Paths, metric: str = "loss", target: float | None = None) -> pd.DataFrame:
    """One row per run below ``paths``: status, seed, every config value, final metrics, epochs to target.

    ``epochs_to_target`` is the first epoch where ``metric`` is below ``target`` (at or above it
    for ``accuracy``); ``target`` defaults as in the report (loss 0.05, mae 0.1, mse 0.025,
    accuracy 1). Raises ``ReportInputError`` (one paragraph) for a missing directory or one
    without runs, or an unknown metric.
    """
    if metric not in DEFAULT_TARGETS:
        from .tables import ReportInputError

        raise ReportInputError(f"Unknown metric {metric!r}. Allowed: {', '.join(DEFAULT_TARGETS)}.")
    sweep = load_sweeps(as_roots(paths), metrics=(metric,))
    measured = run_measures(sweep, metric, DEFAULT_TARGETS[metric] if target is None else float(target))
    config = sweep.config.drop(columns=[key for key in sweep.config.columns if key in FIRST])
    return pd.concat([measured[FIRST], config, measured[LAST]], axis=1)


def load_curves(paths: Paths, metrics: Iterable[str] = METRICS) -> pd.DataFrame:
    """Every logged epoch of every run below ``paths``: columns ``run, epoch, metric, value``.

    ``metrics`` chooses which of ``loss, mae, mse, accuracy`` to read (all by default);
    ``run`` is the row of ``load_runs`` on the same directories.
    """
    return load_sweeps(as_roots(paths), metrics=tuple(metrics)).curves


__all__ = ["load_runs", "load_curves"]
