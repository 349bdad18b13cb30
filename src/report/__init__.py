"""Reports on sweeps: read run directories from disk, measure, draw, write one HTML page.

    python -m src.report [DIRS...] [--metric M] [--target T] [--out DIR]

or from Python, ``make_report(sweep_dirs, out_dir=None, metric="loss", target=None)``, and the
runs and curves as pandas tables: ``load_runs(dirs)``, ``load_curves(dirs)`` (see ``api``).
The modules, in the order the data flows: ``load`` (disk -> tables), ``measures``,
``surfaces`` and ``article`` (what is computed from the tables), ``figures`` and ``html``
(how it is shown), ``make`` (all of it together), ``callback`` (at the end of a sweep),
``api`` (the tables for a user's own analysis).

Importing this package is cheap: pandas and matplotlib load only when a report is made,
so the Hydra callback costs a single run nothing.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def make_report(
    sweep_dirs: list[str | Path] | str | Path,
    out_dir: str | Path | None = None,
    metric: str = "loss",
    target: float | None = None,
) -> Path:
    """Write the report of the runs below ``sweep_dirs``; returns the path of ``report.html``.

    See ``src.report.make.make_report``.
    """
    with fewer_collections():
        from .make import make_report as make

        return make(sweep_dirs, out_dir=out_dir, metric=metric, target=target)


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Python's cycle collector, run less often while a report is made, which saves a tenth of its CPU time.

    The collector runs every 700 new objects, and every so often looks at all of them. A report
    makes millions (pandas and matplotlib imported, a record per run, a figure's artists), nearly
    all freed by reference counting alone; and at the end of a sweep, the sweep's own objects are
    there too. So the objects alive when the report starts are set aside (``gc.freeze``: they are
    never looked at again while it runs), and the collector runs every 10,000 new objects instead
    of 700. Both are undone at the end: the collector then runs as before.
    """
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(10_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def process_ends_next() -> None:
    """For the two callers after which the process only exits (``python -m src.report``, and the sweep's
    report callback): every object is set aside (``gc.freeze``), so that the collections Python runs
    while it shuts down do not walk them all once more, for memory the system takes back anyway (after
    the headline sweep and its report, 0.2-0.3 s of CPU here). Not for a report made from Python: the
    objects set aside would never be collected for the rest of the session."""
    gc.freeze()


def __getattr__(name: str):
    """``load_runs`` and ``load_curves``, imported (with pandas) on first use."""
    if name in ("load_runs", "load_curves"):
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["make_report", "load_runs", "load_curves"]
