"""What an exporter writes for each run: a name, its status, its parameters, its curves.

The runs come from the Python API (``load_runs``, ``load_curves``), so an export holds
exactly what the report and the catalog show. A run's *name* is its directory relative to
the folder that holds the sweeps given (``10-00-00/3`` for job 3 of the sweep
``outputs/sweeps/<date>/10-00-00``), unique and readable in any tool's run list.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from ..report.api import FIRST, LAST, Paths, as_roots, load_curves, load_runs
from ..tags import tags_of
from ..train import METRICS

# Columns of ``load_runs`` that are not config values (the seed is one).
RESULT_COLUMNS = {*FIRST, *LAST} - {"seed"}


@dataclass
class ExportedRun:
    name: str
    path: Path
    status: str  # the harness's: completed, diverged, failed, interrupted, unfinished, running, unreadable
    params: dict  # every config value: a number, a bool or a text (lists as their JSON text); no missing ones
    curves: dict[str, tuple[np.ndarray, np.ndarray]]  # metric -> (epochs, values)
    started_at: float | None  # seconds since 1970, when the summary says
    wall_time_s: float | None
    tags: list[str]
    notes: str


def present(value) -> bool:
    """Not a missing cell (``None``, NaN, ``pd.NA``)."""
    return not pd.isna(value)


def plain(value):
    """A table cell as a plain Python value: NumPy numbers to int/float/bool."""
    return value.item() if isinstance(value, np.generic) else value


def seconds(text) -> float | None:
    try:
        return datetime.fromisoformat(text).timestamp()
    except (TypeError, ValueError):
        return None


def exported_runs(paths: Paths, every: int = 1) -> list[ExportedRun]:
    """Every run below ``paths``, with its curves (every ``every``-th logged epoch and the last one).

    Raises ``ReportInputError`` as the API does.
    """
    roots = as_roots(paths)
    runs = load_runs(roots)
    curves = load_curves(roots)
    base = Path(os.path.commonpath([str(root.resolve().parent) for root in roots]))
    by_run = {run: block for run, block in curves.groupby("run", sort=False)}
    exported = []
    for run, row in runs.iterrows():
        path = Path(row["path"])
        params = {key: plain(value) for key, value in row.items() if key not in RESULT_COLUMNS and present(value)}
        params.pop("tags", None), params.pop("notes", None)
        block = by_run.get(run)
        series = {}
        if block is not None:
            for metric in METRICS:
                rows = block[block["metric"] == metric]
                epochs, values = rows["epoch"].to_numpy(), rows["value"].to_numpy()
                kept = (np.arange(len(epochs)) % every == 0) | (np.arange(len(epochs)) == len(epochs) - 1)
                series[metric] = (epochs[kept], values[kept])
        exported.append(
            ExportedRun(
                name=str(path.resolve().relative_to(base)),
                path=path,
                status=row["status"],
                params=params,
                curves=series,
                started_at=seconds(row["started_at"]),
                wall_time_s=float(row["wall_time_s"]) if present(row["wall_time_s"]) else None,
                tags=tags_of(row.get("tags")),
                notes=str(row["notes"]) if present(row.get("notes")) else "",
            )
        )
    return exported
