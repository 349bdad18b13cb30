"""The runs below some directories as two tidy tables, ``runs`` and ``curves``, for the report,
the catalog and the Python API. Run directories are read by ``src.rundir.reader``.

* ``runs``: one row per run (index ``run``): its path, status, the config values that vary
  between the runs, its seed, final metrics, epochs run and planned, wall time, and for a
  run that cannot be read, ``problem`` (what is wrong, with the file's name).
* ``curves``: long format, one row per (metric, run, epoch): columns ``run, epoch,
  metric, value``, sorted in that order of metric, run, epoch.

A *setting* is a group of runs that differ only in their seed: every run gets a ``setting``
label such as ``lr=0.5, hidden=4`` made of the varying values other than the seed.
"""

from __future__ import annotations

import math
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..metrics import METRICS
from ..rundir.every_core import read_runs_on_every_core
from ..rundir.layout import STATUSES
from ..rundir.reader import NothingToRead, RunRecord, find_run_dirs, latest_sweep, read_predictions

__all__ = ["STATUSES", "ReportInputError", "Sweep", "latest_sweep", "load_sweeps"]

SEED_KEYS = ("seed", "init.seed", "train.shuffle_seed")
# Keys that change what is printed or when it is written, or label a run, never what is learned.
NOT_RESULT_KEYS = (
    "report.auto", "log.print_every", "log.print_metric", "log.decimals", "log.chunk_epochs", "tags", "notes",
)  # fmt: skip


# The directories or the metric asked for give nothing to report: one paragraph, no traceback.
ReportInputError = NothingToRead


# --------------------------------------------------------------------------- all runs together


@dataclass
class Sweep:
    """The runs found below ``roots``, as tables (see the module's docstring)."""

    roots: list[Path]
    runs: pd.DataFrame
    curves: pd.DataFrame
    config: pd.DataFrame  # every config key, one row per run (same index as ``runs``)
    varying: list[str]  # config keys whose values differ between runs, seed keys included
    setting_keys: list[str]  # the varying keys that make a setting: all but the seeds

    def run_dir(self, run: int) -> Path:
        return Path(self.runs.at[run, "path"])

    def values_of(self, run: int) -> dict:
        """The full config of one run, as a flat dict."""
        return {key: value for key, value in self.config.loc[run].items() if not _missing(value)}


def _missing(value) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def varying_keys(config: pd.DataFrame) -> list[str]:
    """Config keys whose value is not the same in every run, without duplicates.

    A key whose column equals an earlier one's (``optimizer.lr`` follows ``lr``) adds
    nothing and is left out; top-level shorthands come first, so they are the ones kept.
    """
    keys: list[str] = []
    columns = sorted(config.columns, key=lambda key: (key.count("."), list(config.columns).index(key)))
    for key in columns:
        if key in NOT_RESULT_KEYS:
            continue
        column = config[key].astype(str)
        if column.nunique(dropna=False) > 1 and not any(column.equals(config[k].astype(str)) for k in keys):
            keys.append(key)
    return keys


def format_value(value) -> str:
    if _missing(value):
        return "null"
    return str(value)


def sort_key(value) -> tuple:
    """Order numbers by value, then text, with missing values last."""
    if _missing(value):
        return (2, 0, "")
    if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
        return (0, float(value), "")
    return (1, 0, str(value))


def setting_labels(config: pd.DataFrame, keys: list[str]) -> pd.Series:
    """``lr=0.5, hidden=4`` per run; ``all runs`` when the runs differ only in seed."""
    if not keys:
        return pd.Series("all runs", index=config.index)
    parts = [key + "=" + config[key].map(format_value) for key in keys]
    label = parts[0]
    for part in parts[1:]:
        label = label + ", " + part
    return label


def ordered_settings(runs: pd.DataFrame, keys: list[str]) -> list[str]:
    """Setting labels in the order of their values (numbers numerically)."""
    first = runs.drop_duplicates("setting")
    order = sorted(first.index, key=lambda run: [sort_key(first.at[run, key]) for key in keys])
    return [first.at[run, "setting"] for run in order]


FEWEST_POINTS = 200  # rows of a run's curve kept however many runs there are


def load_sweeps(
    roots: list[Path] | str | Path,
    metrics: tuple[str, ...] = METRICS,
    points: int | None = None,
    reach: tuple[str, float, bool] | None = None,
    all_points: int | None = None,
    meanwhile: Callable[[], object] | None = None,
) -> Sweep:
    """Read every run below ``roots`` (one directory or a list); ``curves`` holds ``metrics``
    (none: only the last rows are checked).

    ``points``: keep at most about this many rows of each run's curve (every ``k``-th epoch of
    its planned epochs, and its last row), so that a study of many long runs fits in memory; the
    curves are read whole all the same; ``all_points``: fewer rows each when there are so many
    runs that they would hold more than this many rows in all (but at least ``FEWEST_POINTS``).
    ``reach = (metric, target, higher_is_better)``: the first epoch of each whole curve at the
    target, as ``runs["reached_target_at"]``. ``meanwhile()``: something to do while other
    processes read the runs (the report imports matplotlib).
    """
    roots = [Path(roots)] if isinstance(roots, (str, Path)) else [Path(root) for root in roots]
    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise ReportInputError(f"Unknown metric {unknown[0]!r}. Allowed: {', '.join(METRICS)}.")
    host = socket.gethostname()
    run_dirs = find_run_dirs(roots)
    if points and all_points:
        points = max(FEWEST_POINTS, min(points, all_points // len(run_dirs)))
    keep = CurveKeeper(list(metrics), points, reach) if points or reach else None
    records = read_runs_on_every_core(run_dirs, tuple(metrics), host, keep, meanwhile=meanwhile)
    config = config_table(records)
    varying = varying_keys(config[config.notna().any(axis=1)])  # runs whose config could be read
    setting_keys = [key for key in varying if key not in SEED_KEYS]
    runs = runs_table(records, config, varying, setting_keys)
    if reach is not None:
        runs["reached_target_at"] = pd.array([r.seen.get("reached_target_at") for r in records], dtype="Int64")
    return Sweep(roots, runs, curves_table(records, metrics), config, varying, setting_keys)


class CurveKeeper:
    """What of each run's curve a large report keeps: the first epoch at the target (from the whole
    curve), then every ``k``-th epoch and the last row, ``k`` = planned epochs / ``points``."""

    def __init__(self, metrics: list[str], points: int | None, reach: tuple[str, float, bool] | None):
        self.metrics, self.points, self.reach = metrics, points, reach

    def __call__(self, record: RunRecord, curve: np.ndarray) -> np.ndarray:
        if self.reach is not None and self.reach[0] in self.metrics:
            metric, target, higher = self.reach
            values = curve[:, 1 + self.metrics.index(metric)]
            hit = np.flatnonzero(values >= target if higher else values < target)
            record.seen["reached_target_at"] = int(curve[hit[0], 0]) if len(hit) else None
        if not self.points or len(curve) <= self.points:
            return curve
        planned = record.summary.get("epochs_planned") or int(curve[-1, 0]) + 1
        step = max(1, -(-int(planned) // self.points))
        epochs = curve[:, 0].astype(np.int64)
        kept = (epochs % step == 0) | (np.arange(len(curve)) == len(curve) - 1)
        return curve[kept]


def config_table(records: list[RunRecord]) -> pd.DataFrame:
    """Every config key, one row per run. A run without a config (unreadable, or a job whose
    config could not be composed) has missing values, and does not turn the others' integers
    into floats (``hidden`` stays ``2``, not ``2.0``)."""
    config = pd.DataFrame([r.config for r in records])
    config.index.name = "run"
    for key in config.columns:
        if config[key].dtype.kind != "f":
            continue
        present = [r.config[key] for r in records if key in r.config]
        if all(type(v) is int for v in present):
            config[key] = pd.Series([r.config.get(key) for r in records], index=config.index, dtype=object)
    return config


def runs_table(records: list[RunRecord], config: pd.DataFrame, varying, setting_keys) -> pd.DataFrame:
    def final(record: RunRecord, name: str) -> float:
        value = (record.summary.get("final") or {}).get(name)
        if value is None and record.last is not None and record.status in ("running", "unfinished"):
            value = record.last.get(name)  # not yet written to the summary: the last row on disk
        return np.nan if value is None else float(value)

    def epochs_run(record: RunRecord):
        value = record.summary.get("epochs_run")
        if value is None and record.last is not None:
            value = int(record.last["epoch"]) + 1
        return value

    rows = []
    for record in records:
        s = record.summary
        rows.append(
            {
                "path": str(record.path),
                "status": record.status,
                "seed": s.get("seed", record.config.get("seed")),
                **{f"final_{name}": final(record, name) for name in METRICS},
                "epochs_run": epochs_run(record),
                "epochs_planned": s.get("epochs_planned", record.config.get("train.epochs")),
                "diverged_at_epoch": s.get("diverged_at_epoch"),
                "wall_time_s": s.get("wall_time_s"),
                "started_at": s.get("started_at"),
                "host": s.get("host"),
                "problem": record.problem,
                "solved": s.get("solved"),
                "predictions": predictions_of(record),
            }
        )
    runs = pd.DataFrame(rows, index=config.index)
    for name in ("epochs_run", "epochs_planned", "diverged_at_epoch", "seed"):
        runs[name] = pd.to_numeric(runs[name], errors="coerce").astype("Int64")
    for key in reversed([k for k in varying if k != "seed"]):
        runs.insert(2, key, config[key])
    labels = setting_labels(config, setting_keys).where(config.notna().any(axis=1), "(config unreadable)")
    runs.insert(2, "setting", labels)
    return runs


def predictions_of(record: RunRecord) -> dict | None:
    """The run's final predictions as the summary holds them (the report checks they make a table),
    or as lists from ``predictions.npz`` when they were too large for the summary."""
    table = record.summary.get("predictions")
    if table is None and record.summary.get("predictions_file"):
        arrays = read_predictions(record.path, record.summary)
        table = None if arrays is None else {k: None if v is None else v.tolist() for k, v in arrays.items()}
    return table


def curves_table(records: list[RunRecord], metrics: tuple[str, ...]) -> pd.DataFrame:
    """The long table ``run, epoch, metric, value``, sorted by metric, run, epoch; built in one piece."""
    with_curves = [(run, r.curve) for run, r in enumerate(records) if r.curve is not None and len(r.curve)]
    if not with_curves or not metrics:
        return pd.DataFrame(
            {
                "run": pd.Series(dtype="int32"),
                "epoch": pd.Series(dtype="int32"),
                "metric": pd.Categorical([], categories=list(metrics)),
                "value": pd.Series(dtype="float64"),
            }
        )
    lengths = np.array([len(curve) for _, curve in with_curves])
    rows = np.concatenate([curve for _, curve in with_curves])  # (total, 1 + len(metrics))
    run = np.repeat(np.array([run for run, _ in with_curves], dtype=np.int32), lengths)
    k = len(metrics)
    curves = pd.DataFrame(
        {
            "run": np.tile(run, k),
            "epoch": np.tile(rows[:, 0].astype(np.int32), k),
            "metric": pd.Categorical.from_codes(np.repeat(np.arange(k, dtype=np.int8), len(rows)), list(metrics)),
            "value": rows[:, 1:].T.ravel(),
        }
    )
    recorded = ~np.isnan(curves["value"].to_numpy())  # a run written before a metric existed has none of it
    return curves if recorded.all() else curves[recorded].reset_index(drop=True)
